package postgres

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/reso-fr/reso/eventstore"
)

// Batch is the content of one new stream for BulkAppend.
type Batch struct {
	Stream string
	Events []eventstore.NewEvent
}

// BulkAppend writes every batch as a new stream (versions 1..n) in one
// transaction, with COPY: for imports and seeding, several times faster
// than Append for large volumes. It returns a *eventstore.ValidationError
// for bad input, an error matching eventstore.ErrConcurrency when one of the
// streams already exists, eventstore.ErrDuplicateEvent when an id is already
// stored, eventstore.ErrClosed after Close, or the database error wrapped.
// On error nothing is written.
func (s *Store) BulkAppend(ctx context.Context, batches []Batch) (int64, error) {
	if err := s.checkOpen(); err != nil {
		return 0, err
	}
	batches = slices.Clone(batches) // ids are assigned in a copy
	var total int64
	for i := range batches {
		b := &batches[i]
		if err := eventstore.ValidateAppend(b.Stream, eventstore.NoStream, b.Events); err != nil {
			return 0, err
		}
		events, err := eventstore.AssignIDs(b.Events)
		if err != nil {
			return 0, fmt.Errorf("bulk append to %s: %w", b.Stream, err)
		}
		b.Events = events
		total += int64(len(events))
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"events"},
			[]string{"event_id", "stream_id", "stream_version", "event_type", "schema_version", "data",
				"actor_id", "actor_role", "correlation_id", "causation_id", "idempotency_key"},
			&bulkSource{batches: batches, event: -1})
		return err
	})
	switch classify(err) {
	case errOther:
	case errVersionTaken:
		return 0, fmt.Errorf("bulk append: %s: %w", pgDetail(err), eventstore.ErrConcurrency)
	case errDuplicateID:
		return 0, fmt.Errorf("bulk append: %s: %w", pgDetail(err), eventstore.ErrDuplicateEvent)
	case errInvalidInput:
		return 0, invalid("data", pgMessage(err))
	}
	if err != nil {
		return 0, fmt.Errorf("bulk append: %w", err)
	}
	s.committed()
	return total, nil
}

// bulkSource feeds COPY one event row at a time, without building every
// row up front.
type bulkSource struct {
	batches []Batch
	batch   int
	event   int
	row     [11]any
}

func (b *bulkSource) Next() bool {
	for b.batch < len(b.batches) {
		b.event++
		if b.event < len(b.batches[b.batch].Events) {
			return true
		}
		b.batch++
		b.event = -1
	}
	return false
}

func (b *bulkSource) Values() ([]any, error) {
	bt := &b.batches[b.batch]
	e := &bt.Events[b.event]
	m := &e.Metadata
	b.row = [11]any{[16]byte(e.ID), bt.Stream, int64(b.event + 1), e.Type, int32(e.SchemaVersion), string(e.Data),
		nullable(m.ActorID), nullable(m.ActorRole), nullable(m.CorrelationID), nullable(m.CausationID), nullable(m.IdempotencyKey)}
	return b.row[:], nil
}

func (b *bulkSource) Err() error { return nil }

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// Analyze refreshes the planner's statistics of the log. Call it after a
// large BulkAppend: until autovacuum gets to it, PostgreSQL may plan
// ReadAll over a freshly loaded table as a sort of the whole tail instead
// of the ordered index scan. It returns eventstore.ErrClosed after Close or
// the database error wrapped.
func (s *Store) Analyze(ctx context.Context) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	if _, err := s.pool.Exec(ctx, `ANALYZE events`); err != nil {
		return fmt.Errorf("analyze events: %w", err)
	}
	return nil
}
