// Package projections is the runtime that folds Réso's log into SQL read
// models: the engine and its runners, checkpoints, the shared log tail,
// rebuilds beside the live tables and their swap, bulk writes (multi-row
// upserts, COPY) and, on SQLite, relayed writes. It knows no read model:
// each one (projections/directory, needs, stats) declares its tables and
// its fold as a ReadModel, and projections/readmodels registers them with
// an Engine. Dependencies point from the read models to this package,
// never the reverse.
//
// Read models live in a *sql.DB, either the embedded SQLite file (sharing the
// log's handle) or PostgreSQL through pgx's database/sql driver, with one
// schema and, wherever the dialects allow, the same SQL. Each projection
// follows the log from its checkpoint and writes its rows and its new
// checkpoint in one transaction, so that its effects happen exactly once
// whatever crashes where. On PostgreSQL a session advisory lock makes exactly
// one process run each projection; the others wait in standby.
//
// Rebuild folds the whole log into tables beside the live ones and swaps
// them in one transaction; queries read the old tables until then.
package projections
