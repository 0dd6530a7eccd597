package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/reso-fr/reso/eventstore"
)

// Append implements eventstore.Store. It returns a *eventstore.ValidationError
// for bad input, a *eventstore.ConcurrencyError when expected does not hold,
// eventstore.ErrDuplicateEvent when an id is stored elsewhere or differently,
// eventstore.ErrClosed after Close, ctx.Err() when ctx ends while the
// append still waits for the writer (it is then withdrawn, not stored), and
// the driver's error otherwise (after retrying SQLITE_BUSY). Once the
// writer has taken the append, Append waits for its outcome.
//
// Concurrent appends are committed together (see commitGroup); each keeps
// its own expected version, result and error.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.ExpectedVersion, events ...eventstore.NewEvent) (eventstore.AppendResult, error) {
	if err := eventstore.ValidateAppend(stream, expected, events); err != nil {
		return eventstore.AppendResult{}, err
	}
	events, err := eventstore.AssignIDs(events)
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	if err := ctx.Err(); err != nil {
		return eventstore.AppendResult{}, err
	}
	if err := s.enter(); err != nil {
		return eventstore.AppendResult{}, err
	}
	defer s.leave()

	r := &appendRequest{stream: stream, expected: expected, events: events, done: make(chan struct{})}
	s.enqueue(r)
	select {
	case s.writer <- struct{}{}:
		// This goroutine is the writer until its own request is done,
		// committing what the others queued meanwhile.
		for !r.finished() {
			// Let runnable appenders queue first: on few cores they would
			// otherwise only get to run once this commit is over, and every
			// group would hold one append.
			runtime.Gosched()
			s.commitGroup(s.dequeue())
		}
		<-s.writer
	case <-r.done:
	case <-ctx.Done():
		if r.abandon() {
			return eventstore.AppendResult{}, ctx.Err()
		}
		<-r.done // already being written: its outcome is known soon
	}
	return r.res, r.err
}

// appendOne writes one request inside the group's transaction. appended is
// false when the events were already stored (an idempotent retry).
//
// The retry check runs only when the append cannot go through as is, so
// the common path makes no lookup by id: a retry shows up either as a
// conflict (the stream has moved past the expected version) or, with
// AnyVersion, as the first insert hitting the unique index on event_id.
func (s *Store) appendOne(ctx context.Context, st *writer, r *appendRequest) (res eventstore.AppendResult, appended bool, err error) {
	var current int64
	if err := st.version.QueryRowContext(ctx, r.stream).Scan(&current); err != nil {
		return res, false, translate(err)
	}
	if r.expected != eventstore.AnyVersion && int64(r.expected) != current {
		if res, retried, err := s.retried(ctx, st, r.stream, r.expected, r.events); retried || err != nil {
			return res, false, err
		}
		return res, false, &eventstore.ConcurrencyError{Stream: r.stream, Expected: r.expected, Actual: current}
	}
	at := time.Now().UTC().UnixNano()
	var last int64
	for i := range r.events {
		e := &r.events[i]
		m := &e.Metadata
		out, err := st.insert.ExecContext(ctx, e.ID[:], r.stream, current+int64(i)+1, e.Type, e.SchemaVersion, string(e.Data),
			m.ActorID, m.ActorRole, m.CorrelationID, m.CausationID, m.IdempotencyKey, at)
		if err != nil {
			err = translate(err)
			if i == 0 && errors.Is(err, eventstore.ErrDuplicateEvent) {
				// SQLite undid the failed statement only; nothing of this
				// append is written, so the lookup sees the stored events.
				if res, retried, rerr := s.retried(ctx, st, r.stream, r.expected, r.events); retried || rerr != nil {
					return res, false, rerr
				}
			}
			return res, false, err
		}
		if last, err = out.LastInsertId(); err != nil {
			return res, false, translate(err)
		}
	}
	return eventstore.AppendResult{
		StreamID:     r.stream,
		FirstVersion: current + 1,
		LastVersion:  current + int64(len(r.events)),
		Position:     eventstore.Position{Minor: uint64(last)},
	}, true, nil
}

// retried reports whether events are already stored: all of them, in
// stream, at contiguous versions that expected allows, with the same
// content; then it returns the original result. When the first id is not
// stored it reports false and no error: the caller's own error stands.
func (s *Store) retried(ctx context.Context, st *writer, stream string, expected eventstore.ExpectedVersion, events []eventstore.NewEvent) (eventstore.AppendResult, bool, error) {
	byID := st.byID
	var res eventstore.AppendResult
	for i := range events {
		e := &events[i]
		stored, err := scanEvent(byID.QueryRowContext(ctx, e.ID[:]))
		if errors.Is(err, sql.ErrNoRows) {
			if i == 0 {
				return res, false, nil
			}
			return res, false, duplicate(stream, "some events of the append are already stored")
		}
		if err != nil {
			return res, false, translate(err)
		}
		switch {
		case stored.StreamID != stream:
			return res, false, duplicate(stream, "event "+e.ID.String()+" is stored in another stream")
		case i == 0 && expected != eventstore.AnyVersion && int64(expected) != stored.Version-1,
			i > 0 && stored.Version != res.FirstVersion+int64(i):
			return res, false, duplicate(stream, "event "+e.ID.String()+" is stored at another version")
		case stored.Type != e.Type || stored.SchemaVersion != e.SchemaVersion ||
			!bytes.Equal(stored.Data, e.Data) || stored.Metadata != e.Metadata:
			return res, false, duplicate(stream, "event "+e.ID.String()+" is stored with other content")
		}
		if i == 0 {
			res = eventstore.AppendResult{StreamID: stream, FirstVersion: stored.Version}
		}
		res.LastVersion, res.Position = stored.Version, stored.Position
	}
	return res, true, nil
}

func duplicate(stream, reason string) error {
	return fmt.Errorf("%w: %s", eventstore.ErrDuplicateEvent, reason)
}
