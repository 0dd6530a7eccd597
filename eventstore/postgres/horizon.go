package postgres

import (
	"context"
	"fmt"
	"time"
)

// HorizonInfo says how far the read horizon lags behind the committed log.
type HorizonInfo struct {
	// Horizon is pg_snapshot_xmin(pg_current_snapshot()): readers see the
	// events of transactions below it.
	Horizon uint64
	// PendingEvents counts committed events not yet visible to readers
	// because an older transaction is still open.
	PendingEvents int64
	// OldestXactAge is how long the oldest transaction holding an xid (in
	// any database of the cluster) has been open; 0 when none is.
	OldestXactAge time.Duration
	// OldestPID, OldestDatabase, OldestState and OldestApplication describe
	// that transaction's backend (empty when none, or when a prepared
	// transaction holds the horizon).
	OldestPID         int32
	OldestDatabase    string
	OldestState       string
	OldestApplication string
}

// HorizonLag reports the horizon, the number of committed events it holds
// back and the oldest open writing transaction in the cluster, which is
// what holds it. It returns eventstore.ErrClosed after Close or the database
// error wrapped.
func (s *Store) HorizonLag(ctx context.Context) (HorizonInfo, error) {
	if err := s.checkOpen(); err != nil {
		return HorizonInfo{}, err
	}
	var h HorizonInfo
	err := s.pool.QueryRow(ctx, `SELECT `+horizon+`,
			(SELECT count(*) FROM events WHERE transaction_id >= `+horizon+`)`).Scan(&h.Horizon, &h.PendingEvents)
	if err != nil {
		return HorizonInfo{}, fmt.Errorf("horizon lag: %w", err)
	}
	// backend_xid is set for transactions that hold an xid, exactly those
	// that hold the horizon back; our own query has none. Prepared
	// transactions hold it too and show in pg_prepared_xacts.
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
				SELECT xact_start AS started, pid, datname::text, state, application_name
				FROM pg_stat_activity WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid()
				UNION ALL
				SELECT prepared, NULL, database::text, 'prepared', gid FROM pg_prepared_xacts
			) AS x ORDER BY started LIMIT 1
		) AS o ON true`).Scan(&age, &pid, &db, &state, &app)
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
