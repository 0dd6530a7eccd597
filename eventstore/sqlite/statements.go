package sqlite

import (
	"context"
	"database/sql"
)

const eventColumns = `position, event_id, stream_id, version, type, schema_version, data,
	actor_id, actor_role, correlation_id, causation_id, idempotency_key, recorded_at`

// statements are the read statements, prepared once on the pool;
// database/sql re-prepares them on each pooled connection the first time
// it is used there. The write statements belong to the writer.
type statements struct {
	readStream, streamExists, readAll, head *sql.Stmt
}

func (st *statements) prepare(ctx context.Context, db *sql.DB) error {
	for _, p := range []struct {
		dst   **sql.Stmt
		query string
	}{
		{&st.readStream, `SELECT ` + eventColumns + ` FROM eventstore_events
			WHERE stream_id = ? AND version >= ? ORDER BY version LIMIT ?`},
		{&st.streamExists, `SELECT EXISTS (SELECT 1 FROM eventstore_events WHERE stream_id = ?)`},
		{&st.readAll, `SELECT ` + eventColumns + ` FROM eventstore_events
			WHERE position > ? ORDER BY position LIMIT ?`},
		{&st.head, `SELECT COALESCE(MAX(position), 0) FROM eventstore_events`},
	} {
		s, err := db.PrepareContext(ctx, p.query)
		if err != nil {
			return err
		}
		*p.dst = s
	}
	return nil
}

func (st *statements) close() {
	for _, s := range []*sql.Stmt{st.readStream, st.streamExists, st.readAll, st.head} {
		if s != nil {
			s.Close()
		}
	}
}
