package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/reso-fr/reso/eventstore"
)

// ReadStream implements eventstore.Store; limit <= 0 means no limit. It
// returns eventstore.ErrNotFound when the stream has no event,
// eventstore.ErrClosed after Close, and the driver's error otherwise.
func (s *Store) ReadStream(ctx context.Context, stream string, from int64, limit int) ([]eventstore.Event, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.leave()
	evs, err := s.query(ctx, s.stmts.readStream, stream, max(from, 1), sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", stream, err)
	}
	if len(evs) > 0 {
		return evs, nil
	}
	var exists bool
	if err := s.stmts.streamExists.QueryRowContext(ctx, stream).Scan(&exists); err != nil {
		return nil, fmt.Errorf("read %s: %w", stream, translate(err))
	}
	if !exists {
		return nil, fmt.Errorf("read %s: %w", stream, eventstore.ErrNotFound)
	}
	return evs, nil
}

// ReadAll implements eventstore.Store; limit <= 0 means no limit. A
// committed event is visible at once and positions are assigned in commit
// order, so nothing is held back. It returns eventstore.ErrClosed after
// Close and the driver's error otherwise.
func (s *Store) ReadAll(ctx context.Context, after eventstore.Position, limit int) ([]eventstore.Event, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.leave()
	return s.readAll(ctx, after, limit)
}

// readAll is ReadAll for a caller that has entered.
func (s *Store) readAll(ctx context.Context, after eventstore.Position, limit int) ([]eventstore.Event, error) {
	if after.Major > 0 { // past every position this adapter makes
		return []eventstore.Event{}, nil
	}
	evs, err := s.query(ctx, s.stmts.readAll, int64(after.Minor), sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("read all after %s: %w", after, err)
	}
	return evs, nil
}

// Head implements eventstore.Store. It returns eventstore.ErrClosed after
// Close and the driver's error otherwise.
func (s *Store) Head(ctx context.Context) (eventstore.Position, error) {
	if err := s.enter(); err != nil {
		return eventstore.Position{}, err
	}
	defer s.leave()
	var p int64
	if err := s.stmts.head.QueryRowContext(ctx).Scan(&p); err != nil {
		return eventstore.Position{}, fmt.Errorf("head: %w", translate(err))
	}
	return eventstore.Position{Minor: uint64(p)}, nil
}

// sqlLimit maps "no limit" to SQLite's -1.
func sqlLimit(limit int) int {
	if limit <= 0 {
		return -1
	}
	return limit
}

func (s *Store) query(ctx context.Context, stmt *sql.Stmt, args ...any) ([]eventstore.Event, error) {
	rows, err := stmt.QueryContext(ctx, args...)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	evs := []eventstore.Event{}
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, translate(err)
		}
		evs = append(evs, e)
	}
	return evs, translate(rows.Err())
}

type scanner interface{ Scan(dest ...any) error }

func scanEvent(r scanner) (eventstore.Event, error) {
	var (
		e        eventstore.Event
		pos, at  int64
		id, data []byte
	)
	m := &e.Metadata
	if err := r.Scan(&pos, &id, &e.StreamID, &e.Version, &e.Type, &e.SchemaVersion, &data,
		&m.ActorID, &m.ActorRole, &m.CorrelationID, &m.CausationID, &m.IdempotencyKey, &at); err != nil {
		return e, err
	}
	uid, err := uuid.FromBytes(id)
	if err != nil {
		return e, fmt.Errorf("event at %d: stored id: %w", pos, err)
	}
	e.ID = uid
	e.Position = eventstore.Position{Minor: uint64(pos)}
	e.Data = data
	e.RecordedAt = time.Unix(0, at).UTC()
	return e, nil
}
