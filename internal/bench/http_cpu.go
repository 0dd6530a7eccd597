package bench

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// cpuMeter measures the CPU time a phase costs: this process's (server and
// bench client together) and that of the PostgreSQL backends serving the
// server's connections, found by their application_name. On a shared
// machine a phase's throughput depends on what else runs; its CPU per
// request much less, so two versions of the code compare by it.
type cpuMeter struct {
	conn    *pgx.Conn // nil: PostgreSQL's share is not measured
	appName string
}

// newCPUMeter connects to dsn to look backends up; a failure only leaves
// PostgreSQL's share out.
func newCPUMeter(ctx context.Context, dsn, appName string) *cpuMeter {
	m := &cpuMeter{appName: appName}
	if c, err := pgx.Connect(ctx, dsn); err == nil {
		m.conn = c
	}
	return m
}

func (m *cpuMeter) close() {
	if m.conn != nil {
		_ = m.conn.Close(context.Background())
	}
}

// clockTick is USER_HZ, the unit of /proc/<pid>/stat times: 100 on every
// Linux this runs on.
const clockTick = 100

// postgres returns the CPU time of each backend with the meter's
// application_name, read from /proc (the server must be local); false when
// it cannot be measured.
func (m *cpuMeter) postgres(ctx context.Context) (map[int32]time.Duration, bool) {
	if m.conn == nil {
		return nil, false
	}
	rows, err := m.conn.Query(ctx, `SELECT pid FROM pg_stat_activity WHERE application_name = $1`, m.appName)
	if err != nil {
		return nil, false
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return nil, false
	}
	out := make(map[int32]time.Duration, len(pids))
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue // ended meanwhile, or not local
		}
		// Fields after the command name, which ends with the last ')':
		// utime and stime are the 12th and 13th of them.
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) < 13 {
			return nil, false
		}
		u, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		out[pid] = time.Duration(u+st) * time.Second / clockTick
	}
	return out, len(out) > 0
}

// used is the CPU backends used between two readings: a backend new since
// the first counts whole, one that ended before the second is missed.
func used(before, after map[int32]time.Duration) time.Duration {
	var d time.Duration
	for pid, t := range after {
		d += t - before[pid]
	}
	return d
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// start begins measuring a phase; the function it returns gives the CPU
// per request, in ms, of n requests since: this process's and PostgreSQL's
// backends' (0 when they cannot be measured).
func (m *cpuMeter) start(ctx context.Context) func(n int64) (process, postgres float64) {
	p0 := processCPU()
	g0, ok0 := m.postgres(ctx)
	return func(n int64) (float64, float64) {
		if n <= 0 {
			return 0, 0
		}
		per := func(d time.Duration) float64 { return Round(float64(d)/float64(time.Millisecond)/float64(n), 3) }
		process := per(processCPU() - p0)
		if g1, ok1 := m.postgres(ctx); ok0 && ok1 {
			return process, per(used(g0, g1))
		}
		return process, 0
	}
}
