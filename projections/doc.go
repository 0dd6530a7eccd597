// Package projections folds Réso's log into SQL read models: the directory
// (organisations, antennes, referents, users), needs and their matches (the
// referents' inboxes), and pre-aggregated statistics for funders.
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
