package sqlite

import "sync"

// WriteGate returns the lock the store's writer holds for each of its write
// transactions. Other writers of the same file in this process (in the
// embedded deployment: read models, contact keys, credentials, idempotency
// records) take it around theirs too, before a connection: SQLite's
// own lock is not fair — a writer waiting in busy_timeout sleeps and
// polls, and one that commits and begins again at once keeps the lock
// from it for as long as it has work (a rebuild, for seconds) — whereas a
// sync.Mutex hands itself to a goroutine that has waited more than a
// millisecond, in arrival order. Holders must not take it twice.
func (s *Store) WriteGate() sync.Locker { return &s.gate }
