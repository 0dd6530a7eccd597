package kurrentdb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"

	kdb "github.com/kurrent-io/KurrentDB-Client-Go/kurrentdb"

	"github.com/reso-fr/reso/eventstore"
)

// ReadStream implements eventstore.Store. It returns a
// *eventstore.ValidationError for an empty stream id, eventstore.ErrNotFound
// when the stream has no event, eventstore.ErrClosed after Close, or the
// client's error wrapped.
func (s *Store) ReadStream(ctx context.Context, stream string, from int64, limit int) ([]eventstore.Event, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	if stream == "" {
		return nil, &eventstore.ValidationError{Field: "stream", Reason: "empty stream id"}
	}
	evs, err := s.readStream(ctx, s.opts.namespace+stream, from, limit, false)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", stream, err)
	}
	if len(evs) == 0 {
		// Past the end of a stream that exists is an empty page, not a
		// missing stream.
		v, err := s.streamVersion(ctx, s.opts.namespace+stream)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", stream, err)
		}
		if v == 0 {
			return nil, fmt.Errorf("read %s: %w", stream, eventstore.ErrNotFound)
		}
	}
	return evs, nil
}

// readStream reads up to limit (<= 0: all) events of the KurrentDB stream
// name from version from, from the leader when leader is set.
func (s *Store) readStream(ctx context.Context, name string, from int64, limit int, leader bool) ([]eventstore.Event, error) {
	count := uint64(math.MaxInt64)
	if limit > 0 {
		count = uint64(limit)
	}
	raws, err := s.readRaw(ctx, name, kdb.ReadStreamOptions{Direction: kdb.Forwards, From: streamFrom(from), RequiresLeader: leader}, count)
	if err != nil {
		return nil, err
	}
	out := make([]eventstore.Event, 0, len(raws))
	for _, r := range raws {
		e, err := toEvent(r, s.opts.namespace)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// readRaw reads one page of a stream. A missing or deleted stream is
// eventstore.ErrNotFound.
func (s *Store) readRaw(ctx context.Context, name string, opts kdb.ReadStreamOptions, count uint64) ([]*kdb.RecordedEvent, error) {
	opts.Deadline = &s.opts.readTimeout
	raws, err := s.drain(ctx, func(ctx context.Context, c *kdb.Client) (*kdb.ReadStream, error) {
		return c.ReadStream(ctx, name, opts, count)
	})
	return raws, translate(err, name, eventstore.AnyVersion)
}

// readAllRaw reads one page of $all, system events included.
func (s *Store) readAllRaw(ctx context.Context, opts kdb.ReadAllOptions, count uint64) ([]*kdb.RecordedEvent, error) {
	opts.Deadline = &s.opts.readTimeout
	raws, err := s.drain(ctx, func(ctx context.Context, c *kdb.Client) (*kdb.ReadStream, error) {
		return c.ReadAll(ctx, opts, count)
	})
	return raws, translate(err, "$all", eventstore.AnyVersion)
}

// drain runs a read to its end under the read timeout, again after a
// retryable error while attempts and ctx last.
func (s *Store) drain(ctx context.Context, open func(context.Context, *kdb.Client) (*kdb.ReadStream, error)) ([]*kdb.RecordedEvent, error) {
	var err error
	for attempt := range maxAttempts {
		if attempt > 0 {
			if werr := sleep(ctx, backoff(attempt, s.opts.backoffMin, s.opts.backoffMax)); werr != nil {
				return nil, err
			}
		}
		var raws []*kdb.RecordedEvent
		raws, err = call(s, func(c *kdb.Client) ([]*kdb.RecordedEvent, error) {
			rctx, cancel := context.WithTimeout(ctx, s.opts.readTimeout)
			defer cancel()
			rs, err := open(rctx, c)
			if err != nil {
				return nil, err
			}
			defer rs.Close()
			var out []*kdb.RecordedEvent
			for {
				ev, err := rs.Recv()
				if errors.Is(err, io.EOF) {
					return out, nil
				}
				if err != nil {
					return nil, err
				}
				out = append(out, ev.OriginalEvent())
			}
		})
		if err == nil {
			return raws, nil
		}
		if ctx.Err() != nil || !retryable(err, false, eventstore.AnyVersion) {
			return nil, err
		}
		s.log.Info("retrying read", "attempt", attempt+1, "err", err)
	}
	return nil, err
}

// ReadAll implements eventstore.Store: up to limit (<= 0: all) events after
// position, in the order of $all, without system events and outside the
// namespace's streams. It reads $all in pages and filters on the client:
// the client library offers server-side filters to subscriptions only. It
// returns eventstore.ErrClosed after Close or the client's error wrapped.
func (s *Store) ReadAll(ctx context.Context, after eventstore.Position, limit int) ([]eventstore.Event, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	out := []eventstore.Event{}
	cursor := after
	page := s.opts.pageSize
	if s.opts.namespace == "" && limit > 0 && limit+16 < page {
		// Outside a namespace few events are filtered out: a small
		// request usually fills a small page.
		page = limit + 16
	}
	for {
		raws, err := s.readAllRaw(ctx, kdb.ReadAllOptions{Direction: kdb.Forwards, From: allFrom(cursor)}, uint64(page))
		if err != nil {
			return nil, fmt.Errorf("read all after %s: %w", after, err)
		}
		for _, r := range raws {
			p := toPosition(r.Position)
			// Reading forward from a position includes the event there.
			if !cursor.Less(p) {
				continue
			}
			cursor = p
			if !visible(r.StreamID, r.EventType, s.opts.namespace) {
				continue
			}
			e, err := toEvent(r, s.opts.namespace)
			if err != nil {
				return nil, fmt.Errorf("read all after %s: %w", after, err)
			}
			out = append(out, e)
			if limit > 0 && len(out) == limit {
				return out, nil
			}
		}
		if len(raws) < page {
			return out, nil
		}
	}
}

// Head implements eventstore.Store: the position of the last event of $all
// that ReadAll would return, read backwards. It returns eventstore.ErrClosed
// after Close or the client's error wrapped.
func (s *Store) Head(ctx context.Context) (eventstore.Position, error) {
	if err := s.checkOpen(); err != nil {
		return eventstore.Position{}, err
	}
	var from kdb.AllPosition = kdb.End{}
	var cursor *eventstore.Position
	page := s.opts.pageSize
	if s.opts.namespace == "" {
		// System events are rare at the end of $all: a short first page
		// usually answers.
		page = 16
	}
	for {
		raws, err := s.readAllRaw(ctx, kdb.ReadAllOptions{Direction: kdb.Backwards, From: from}, uint64(page))
		if err != nil {
			return eventstore.Position{}, fmt.Errorf("head: %w", err)
		}
		for _, r := range raws {
			p := toPosition(r.Position)
			if cursor != nil && !p.Less(*cursor) {
				continue
			}
			cursor = &p
			if visible(r.StreamID, r.EventType, s.opts.namespace) {
				return p, nil
			}
		}
		if len(raws) < page || cursor == nil {
			return eventstore.Position{}, nil
		}
		from = fromPosition(*cursor)
		page = s.opts.pageSize
	}
}
