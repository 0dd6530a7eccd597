package postgres

import (
	"context"
	"fmt"
	"time"
)

// The read horizon. Readers return only events whose transaction id is
// below it, and it only ever moves forward; every transaction that wrote
// events below it has ended, so no event can appear below it any more.
//
// Two ways to compute it:
//
//   - cluster (DESIGN.md, the default): pg_snapshot_xmin(pg_current_snapshot()),
//     the oldest transaction with an xid in the whole server. Simple; any
//     writing transaction anywhere holds readers back while it is open.
//   - writers (WithWritersHorizon): the smallest xid among the transactions that
//     hold a RowExclusiveLock on this store's events table (from pg_locks),
//     or, when there is none, the xmax of the current snapshot. Only
//     transactions that write events hold readers back.
//
// Why the second is safe: every transaction that inserts events takes
// RowExclusiveLock on the table before it gets its xid (the lock is taken
// when the statement starts, the xid at its first row) and keeps it until
// it ends. Let X be the xmax of the snapshot taken when the horizon query
// starts, and L the xids of the lock holders seen next in pg_locks. A
// transaction T with xid t < min(X, L) got t before that snapshot, so it
// already held the lock; since t is not in L, T had ended when pg_locks was
// read. The events query runs as a later statement, with a later snapshot,
// so it sees T's commit. New transactions get xids >= X. Hence no event
// below the horizon is missing. The condition: only the store writes the
// events table, with statements whose first write is the insert into
// events (a transaction that took an xid earlier, then inserted events,
// could be passed).
//
// One more step closes a hole in that argument: a transaction's xid enters
// the proc array (and so the snapshots: X can pass it once a later xid
// ends) before its lock on that xid enters the lock table
// (AssignTransactionId, then XactLockTableInsert). A writer caught in
// between shows its RowExclusiveLock and no xid lock, so t was not in L
// while t < X: the horizon passed an open writer, whose events committed
// later below positions already delivered (a subscriber skipped them).
// Also, pg_locks reads each backend's fast-path locks (the relation lock)
// before the shared lock table (the xid lock), not atomically. So a
// writer seen without an xid lock bounds the horizon by the snapshot's
// xmin: an xid it got before the snapshot is running in it, hence >=
// xmin; one it gets later is >= X.
//
// Either way the horizon a reader uses is the largest computed so far by
// this store (Store.maxHorizon): a horizon stays valid once computed (every
// xid below it has ended and later xids are larger), and the writers
// horizon alone may step back (the xmin bound above), which would make Head
// go backwards.
const (
	sqlClusterHorizon = `SELECT pg_snapshot_xmin(pg_current_snapshot())`
	// $1: the events table's oid. pg_locks is read once (MATERIALIZED) so
	// that the relation locks and the xid locks come from one scan. xids
	// in pg_locks are 32-bit: they are widened against the snapshot's
	// xmax, which every running xid is within 2^31 of.
	sqlWritersHorizon = `WITH l AS MATERIALIZED (
		SELECT locktype, database, relation, mode, granted, transactionid, virtualtransaction FROM pg_locks
	), writers AS (
		SELECT DISTINCT virtualtransaction FROM l
		WHERE locktype = 'relation' AND relation = $1::oid AND mode = 'RowExclusiveLock' AND granted
		  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
	), xids AS (
		SELECT l.transactionid::text::bigint AS x FROM l JOIN writers USING (virtualtransaction)
		WHERE l.locktype = 'transactionid' AND l.mode = 'ExclusiveLock' AND l.granted
	), s AS (
		SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS r
	), unseen AS (
		-- writers whose xid lock is not (yet, or no longer) in the table
		SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS x FROM writers w
		WHERE NOT EXISTS (SELECT 1 FROM l WHERE l.virtualtransaction = w.virtualtransaction
		                  AND l.locktype = 'transactionid' AND l.mode = 'ExclusiveLock' AND l.granted)
		LIMIT 1
	), full8 AS (
		SELECT CASE WHEN f > r + 2147483648 THEN f - 4294967296
		            WHEN f < r - 2147483648 THEN f + 4294967296
		            ELSE f END AS x
		FROM s, LATERAL (SELECT (s.r & -4294967296) | xids.x AS f FROM xids) w
	)
	SELECT least((SELECT r FROM s), (SELECT min(x) FROM full8), (SELECT x FROM unseen))::text::xid8`
)

// horizon computes the read horizon; the events query must run as a later
// statement.
func (s *Store) horizon(ctx context.Context) (uint64, error) {
	var h uint64
	var err error
	if s.opts.clusterHorizon {
		err = s.pool.QueryRow(ctx, sqlClusterHorizon).Scan(&h)
	} else {
		err = s.pool.QueryRow(ctx, sqlWritersHorizon, s.eventsOID).Scan(&h)
	}
	if err != nil {
		return 0, fmt.Errorf("read horizon: %w", err)
	}
	for {
		prev := s.maxHorizon.Load()
		if h <= prev {
			return prev, nil
		}
		if s.maxHorizon.CompareAndSwap(prev, h) {
			return h, nil
		}
	}
}

// MaxPendingCounted caps HorizonInfo.PendingEvents.
const MaxPendingCounted = 10_000

// HorizonInfo says how far the read horizon lags behind the committed log.
type HorizonInfo struct {
	// Horizon is the transaction id below which readers see events.
	Horizon uint64
	// ClusterXmin is pg_snapshot_xmin(pg_current_snapshot()), the oldest
	// transaction with an xid in the server: the horizon with
	// WithClusterHorizon, a lower bound of it otherwise.
	ClusterXmin uint64
	// PendingEvents counts committed events not yet visible to readers
	// because a transaction holding the horizon is still open, up to
	// MaxPendingCounted (a count that reaches it means at least that many).
	PendingEvents int64
	// OldestXactAge is how long the oldest transaction that holds the
	// horizon has been open (0 when none does): with the default horizon,
	// the oldest open transaction writing events; with WithClusterHorizon,
	// the oldest transaction with an xid in any database of the server.
	OldestXactAge time.Duration
	// OldestPID, OldestDatabase, OldestState and OldestApplication describe
	// that transaction's backend (a prepared transaction shows state
	// "prepared", its gid as application and no pid).
	OldestPID         int32
	OldestDatabase    string
	OldestState       string
	OldestApplication string
}

// HorizonLag reports the horizon, the number of committed events it holds
// back and the oldest open transaction that holds it. It returns
// eventstore.ErrClosed after Close or the database error wrapped.
func (s *Store) HorizonLag(ctx context.Context) (HorizonInfo, error) {
	if err := s.checkOpen(); err != nil {
		return HorizonInfo{}, err
	}
	var h HorizonInfo
	var err error
	if h.Horizon, err = s.horizon(ctx); err != nil {
		return HorizonInfo{}, fmt.Errorf("horizon lag: %w", err)
	}
	// The count walks the primary key from the horizon and stops at the
	// cap: an open-ended count(*) was planned as a sequential scan of the
	// whole log whenever events had no planner statistics (autovacuum off,
	// a bulk load), seconds per call on millions of events.
	err = s.pool.QueryRow(ctx, `SELECT pg_snapshot_xmin(pg_current_snapshot()),
			(SELECT count(*) FROM (SELECT 1 FROM events WHERE transaction_id >= $1::xid8
				ORDER BY transaction_id, global_position LIMIT $2) pending)`,
		h.Horizon, MaxPendingCounted).Scan(&h.ClusterXmin, &h.PendingEvents)
	if err != nil {
		return HorizonInfo{}, fmt.Errorf("horizon lag: %w", err)
	}
	// The candidates: transactions with an xid (backend_xid), and prepared
	// ones; with the default horizon, only those holding RowExclusiveLock
	// on events. Our own query has no xid.
	var (
		age            float64
		pid            *int32
		db, state, app *string
	)
	err = s.pool.QueryRow(ctx, `
		SELECT coalesce(extract(epoch FROM now() - o.started), 0)::float8, o.pid, o.datname, o.state, o.application_name
		FROM (SELECT 1) AS one
		LEFT JOIN LATERAL (
			SELECT * FROM (
				SELECT a.xact_start AS started, a.pid, a.datname::text, a.state, a.application_name
				FROM pg_stat_activity a
				WHERE a.backend_xid IS NOT NULL AND a.pid <> pg_backend_pid()
				  AND ($1 OR EXISTS (SELECT 1 FROM pg_locks l WHERE l.pid = a.pid AND l.locktype = 'relation'
				                     AND l.relation = $2::oid AND l.mode = 'RowExclusiveLock' AND l.granted))
				UNION ALL
				SELECT p.prepared, NULL, p.database::text, 'prepared', p.gid
				FROM pg_prepared_xacts p
				WHERE $1 OR EXISTS (SELECT 1 FROM pg_locks l WHERE l.virtualtransaction LIKE '-1/%'
				                    AND l.locktype = 'relation' AND l.relation = $2::oid AND l.mode = 'RowExclusiveLock')
			) AS x ORDER BY started LIMIT 1
		) AS o ON true`, s.opts.clusterHorizon, s.eventsOID).Scan(&age, &pid, &db, &state, &app)
	if err != nil {
		return HorizonInfo{}, fmt.Errorf("horizon lag: oldest transaction: %w", err)
	}
	h.OldestXactAge = time.Duration(age * float64(time.Second))
	if pid != nil {
		h.OldestPID = *pid
	}
	h.OldestDatabase, h.OldestState, h.OldestApplication = deref(db), deref(state), deref(app)
	return h, nil
}
