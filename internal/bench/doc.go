// Package bench holds Réso's end-to-end benchmarks, run by `reso bench ...`:
// each one measures a real store or server and returns a report that the
// command prints as one JSON object. Shared helpers: latency percentiles,
// JSON output, progress lines on stderr, throw-away PostgreSQL schemas and
// opening a store by name.
package bench
