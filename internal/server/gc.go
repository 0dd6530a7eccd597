package server

import (
	"os"
	"runtime/debug"
)

// GCPercent is the Go collector's target in a server process when the
// GOGC environment variable does not set one: the heap may grow to five
// times what is live before a collection, not twice. A server's live heap
// is tens of megabytes (31 MB serving a million needs), so this costs
// about a hundred megabytes and saves most of the collector's share of
// the CPU, 8–10 % of the server's at the default 100 (docs/benchmarks.md,
// issue 21).
const GCPercent = 400

// TuneGC sets the process's collector target to GCPercent, unless GOGC is
// set, which the runtime already follows. It returns the target in force.
// GOMEMLIMIT, when set, still bounds the heap.
func TuneGC() int {
	if _, ok := os.LookupEnv("GOGC"); ok {
		old := debug.SetGCPercent(100)
		debug.SetGCPercent(old)
		return old
	}
	debug.SetGCPercent(GCPercent)
	return GCPercent
}
