// Package e2e holds Réso's end-to-end tests: they start the real server
// (internal/server) on port 0, on SQLite and on PostgreSQL, and drive it
// over real HTTP as each role would. The package has no non-test code.
package e2e
