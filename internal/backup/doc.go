// Package backup copies a Réso store to a file and puts one back.
//
// The embedded store is one SQLite file holding the log, the read models,
// the contact keys, credentials and idempotency records: Backup copies it
// online with VACUUM INTO (one read transaction, so the copy is a
// consistent snapshot while the server keeps writing). On PostgreSQL the
// same things live in one database, and pg_dump takes the consistent
// snapshot: Backup runs it when it is installed and otherwise returns the
// command to run. Restore installs a file as the store of a stopped
// server; on PostgreSQL it runs pg_restore, then renumbers the log when
// the backup comes from a cluster whose transaction ids are ahead of this
// one's (see postgres.RebaseAfterRestore), and rebuilds the read models.
//
// docs/operations.md says when and how to run them.
package backup
