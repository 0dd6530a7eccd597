package readmodels

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Queries of the notifier (internal/notify). The digest's joins needs'
// matches with the directory's referents: this package, which knows every
// read model, holds it.

// WaitingNeedsForwardedBetween returns the needs still waiting for a
// referent (forwarded, none taking care or closed, not abandoned) whose
// first forward happened in (after, until]: the reminders' day 9 and day 21
// scans. It returns the database error.
func (e *Engine) WaitingNeedsForwardedBetween(ctx context.Context, after, until time.Time) ([]uuid.UUID, error) {
	return e.ids(ctx, `SELECT id FROM needs WHERE waiting = 1 AND forwarded_at > $1 AND forwarded_at <= $2 ORDER BY forwarded_at, id`,
		after.UnixMicro(), until.UnixMicro())
}

// ReferentsWithPending returns the active referents with a match still
// quo on a need that is not abandoned: who gets a weekly digest. (The
// directory's ids are text, the matches' uuid on PostgreSQL: the cast
// joins them; the directory is small.) It returns the database error.
func (e *Engine) ReferentsWithPending(ctx context.Context) ([]uuid.UUID, error) {
	return e.ids(ctx, `SELECT DISTINCT m.referent_id FROM matches m
		JOIN needs n ON n.id = m.need_id
		JOIN dir_referents r ON r.id = CAST(m.referent_id AS TEXT)
		WHERE m.status = 'quo' AND n.abandoned_at = 0 AND r.active = 1
		ORDER BY m.referent_id`)
}

func (e *Engine) ids(ctx context.Context, q string, args ...any) ([]uuid.UUID, error) {
	rows, err := e.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("query ids: %w", err)
	}
	defer rows.Close()
	var out []uuid.UUID
	for rows.Next() {
		var raw string
		if err := rows.Scan(&raw); err != nil {
			return nil, fmt.Errorf("query ids: %w", err)
		}
		id, err := uuid.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("query ids: %q: %w", raw, err)
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query ids: %w", err)
	}
	return out, nil
}
