// Package verify checks a Réso store end to end: the log (every event
// readable, every stream's versions contiguous from 1, the global order
// strictly increasing and holding each stream's events exactly once, every
// stream folding), then the read models (equal, row for row, to a rebuild
// from the log). `reso verify` runs it; operators run it after a restore and
// on a schedule (docs/operations.md).
//
// A check that finds a difference records a problem in the Report; an
// error means the check could not run (the store or the database failed).
package verify
