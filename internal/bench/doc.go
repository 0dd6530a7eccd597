// Package bench holds Réso's end-to-end benchmarks, run by the reso-bench
// command (cmd/reso-bench), never by the product binary reso: each one
// measures a real store, server or the pure domain and returns a report
// that the command prints as one JSON object. Shared helpers: latency
// percentiles, JSON output, progress lines on stderr, CPU profiles,
// throw-away PostgreSQL schemas (through internal/pgschema) and opening a
// store by name.
package bench
