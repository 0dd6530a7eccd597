package kurrentdb

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/google/uuid"
	kdb "github.com/kurrent-io/KurrentDB-Client-Go/kurrentdb"

	"github.com/reso-fr/reso/eventstore"
)

// maxAttempts bounds how often one call is sent when the server answers
// with a retryable error (a leader change, a node going away).
const maxAttempts = 4

// Append implements eventstore.Store.
//
// It returns a *eventstore.ValidationError for bad input (checked before
// any call), ErrDuplicateEvent when one append carries an id twice, when
// the server recognised the events as a retry but the stored content
// differs, or when stored ids are followed by new ones, a
// *eventstore.ConcurrencyError for a wrong expected version,
// eventstore.ErrClosed after Close, or the client's error wrapped.
//
// Unlike the SQL adapters it does not refuse an id already stored in
// another stream, or in this stream at a version the expectation does not
// point at: KurrentDB has no global index of event ids, and stores such
// events again.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.ExpectedVersion, events ...eventstore.NewEvent) (eventstore.AppendResult, error) {
	if err := s.checkOpen(); err != nil {
		return eventstore.AppendResult{}, err
	}
	if err := eventstore.ValidateAppend(stream, expected, events); err != nil {
		return eventstore.AppendResult{}, err
	}
	batch, err := withIDs(events)
	if err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("append to %s: %w", stream, err)
	}
	data := make([]kdb.EventData, len(batch))
	for i := range batch {
		if data[i], err = toEventData(&batch[i]); err != nil {
			return eventstore.AppendResult{}, fmt.Errorf("append to %s: %w", stream, err)
		}
	}
	name := s.opts.namespace + stream
	wr, err := s.write(ctx, name, expected, data)
	if err != nil {
		err = translate(err, stream, expected)
		var ce *eventstore.ConcurrencyError
		if errors.As(err, &ce) && ce.Actual == unknownActual {
			if v, verr := s.streamVersion(ctx, name); verr == nil {
				ce.Actual = v
			} else {
				ce.Actual = 0
				s.log.Warn("look up actual version after a conflict", "stream", stream, "err", verr)
			}
		}
		if ce != nil && s.partialRetry(ctx, name, expected, ce.Actual, batch) {
			return eventstore.AppendResult{}, fmt.Errorf("append to %s: %w: stored ids followed by new ones", stream, eventstore.ErrDuplicateEvent)
		}
		return eventstore.AppendResult{}, fmt.Errorf("append to %s: %w", stream, err)
	}
	last := versionOf(wr.NextExpectedVersion)
	res := eventstore.AppendResult{
		StreamID:     stream,
		FirstVersion: last - int64(len(batch)) + 1,
		LastVersion:  last,
		Position:     eventstore.Position{Major: wr.CommitPosition, Minor: wr.PreparePosition},
	}
	// The server answers a recognised retry without a position (older
	// servers) and without comparing content: both need the stored events.
	if s.opts.verify || res.Position.IsZero() {
		pos, err := s.checkStored(ctx, name, res.FirstVersion, batch)
		if err != nil {
			return eventstore.AppendResult{}, fmt.Errorf("append to %s: %w", stream, err)
		}
		res.Position = pos
	}
	return res, nil
}

// partialRetry tells a conflict caused by the batch itself from a
// concurrent writer. The server answers an append whose first events are
// already stored where the expectation points, but not all of them, with a
// wrong expected version. With AnyVersion that is the only cause; with an
// explicit expectation the first stored event at the target version is
// read (from the leader) and compared.
func (s *Store) partialRetry(ctx context.Context, name string, expected eventstore.ExpectedVersion, actual int64, batch []eventstore.NewEvent) bool {
	if expected == eventstore.AnyVersion {
		return true
	}
	first := int64(expected) + 1
	if actual < first {
		return false
	}
	stored, err := s.readStream(ctx, name, first, 1, true)
	if err != nil {
		s.log.Warn("read the target version after a conflict", "stream", name, "err", err)
		return false
	}
	return len(stored) == 1 && stored[0].ID == batch[0].ID
}

// withIDs copies events, giving a UUIDv7 to those without an id, and
// refuses an id that appears twice: the server would take the second as a
// retry of the first.
func withIDs(events []eventstore.NewEvent) ([]eventstore.NewEvent, error) {
	batch := make([]eventstore.NewEvent, len(events))
	copy(batch, events)
	seen := make(map[uuid.UUID]struct{}, len(batch))
	for i := range batch {
		if batch[i].ID == uuid.Nil {
			id, err := uuid.NewV7()
			if err != nil {
				return nil, fmt.Errorf("new event id: %w", err)
			}
			batch[i].ID = id
		}
		if _, dup := seen[batch[i].ID]; dup {
			return nil, fmt.Errorf("%w: %s appears twice in one append", eventstore.ErrDuplicateEvent, batch[i].ID)
		}
		seen[batch[i].ID] = struct{}{}
	}
	return batch, nil
}

// write sends the append, again after a retryable error while attempts and
// ctx last.
func (s *Store) write(ctx context.Context, name string, expected eventstore.ExpectedVersion, data []kdb.EventData) (*kdb.WriteResult, error) {
	opts := kdb.AppendToStreamOptions{StreamState: streamState(expected), Deadline: &s.opts.writeTimeout}
	var err error
	for attempt := range maxAttempts {
		if attempt > 0 {
			if werr := sleep(ctx, backoff(attempt, s.opts.backoffMin, s.opts.backoffMax)); werr != nil {
				return nil, err
			}
		}
		var wr *kdb.WriteResult
		wr, err = call(s, func(c *kdb.Client) (*kdb.WriteResult, error) {
			cctx, cancel := context.WithTimeout(ctx, s.opts.writeTimeout)
			defer cancel()
			return c.AppendToStream(cctx, name, opts, data...)
		})
		if err == nil {
			return wr, nil
		}
		if ctx.Err() != nil || !retryable(err, true, expected) {
			return nil, err
		}
		s.log.Info("retrying append", "stream", name, "attempt", attempt+1, "err", err)
	}
	return nil, err
}

// checkStored reads back the events an acknowledged append points at, from
// the leader, and compares them with what was sent. It returns the last
// event's position, or ErrDuplicateEvent when the ids are there but the
// content differs.
func (s *Store) checkStored(ctx context.Context, name string, first int64, batch []eventstore.NewEvent) (eventstore.Position, error) {
	stored, err := s.readStream(ctx, name, first, len(batch), true)
	if err != nil {
		return eventstore.Position{}, fmt.Errorf("read back: %w", err)
	}
	if len(stored) != len(batch) {
		return eventstore.Position{}, fmt.Errorf("read back: %d events at version %d, want %d", len(stored), first, len(batch))
	}
	for i := range batch {
		if !sameEvent(&stored[i], &batch[i]) {
			return eventstore.Position{}, fmt.Errorf("%w: %s is stored at version %d with other content", eventstore.ErrDuplicateEvent, batch[i].ID, stored[i].Version)
		}
	}
	return stored[len(stored)-1].Position, nil
}

// sameEvent reports whether a stored event is the one sent: same id, type,
// schema version, metadata and JSON value.
func sameEvent(got *eventstore.Event, want *eventstore.NewEvent) bool {
	if got.ID != want.ID || got.Type != want.Type || got.SchemaVersion != want.SchemaVersion || got.Metadata != want.Metadata {
		return false
	}
	if bytes.Equal(got.Data, want.Data) {
		return true
	}
	var g, w any
	if json.Unmarshal(got.Data, &g) != nil || json.Unmarshal(want.Data, &w) != nil {
		return false
	}
	return reflect.DeepEqual(g, w)
}

// streamVersion returns the current version of a stream (0 when it has no
// event), read from the leader.
func (s *Store) streamVersion(ctx context.Context, name string) (int64, error) {
	evs, err := s.readRaw(ctx, name, kdb.ReadStreamOptions{Direction: kdb.Backwards, From: kdb.End{}, RequiresLeader: true}, 1)
	if errors.Is(err, eventstore.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if len(evs) == 0 {
		return 0, nil
	}
	return versionOf(evs[0].EventNumber), nil
}

// backoff is min doubled attempt-1 times, capped at max.
func backoff(attempt int, min, max time.Duration) time.Duration {
	d := min
	for i := 1; i < attempt && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	return d
}

// sleep waits d or until ctx ends, returning ctx.Err() then.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
