// Package chaos runs Réso under the faults production meets and checks that
// nothing acknowledged is lost.
//
// Crash runs a real server process (any command: the reso binary's serve,
// or a test binary that serves), has 32 HTTP clients send need commands
// with idempotency keys, and kills the server with SIGKILL at random
// moments. After each restart every client repeats the commands it had no
// answer to, with the same key, until it gets one; then, with the clients
// paused, the suite checks that every command answered 2xx is in the log
// exactly once (by its key and user), that no key is there twice, and that
// the read models equal a rebuild (internal/verify). Outage does the same
// while the PostgreSQL server stops and starts under the load: the server
// must answer 503 problem+json (never 500, never hang) while the database
// is down and serve again within 5 s of its return.
//
// The Go tests run both (crash: with RESO_CHAOS=short or long); Figures are
// what docs/benchmarks.md reports.
package chaos
