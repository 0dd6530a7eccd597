package postgres

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/reso-fr/reso/eventstore"
)

const eventColumns = `transaction_id, global_position, event_id, stream_id, stream_version, event_type, schema_version,
	data, actor_id, actor_role, correlation_id, causation_id, idempotency_key, recorded_at`

const (
	sqlReadAll = `SELECT ` + eventColumns + ` FROM events
		WHERE (transaction_id, global_position) > ($1::xid8, $2::bigint) AND transaction_id < $4::xid8
		ORDER BY transaction_id, global_position
		LIMIT $3`
	sqlReadStream = `SELECT ` + eventColumns + ` FROM events
		WHERE stream_id = $1 AND stream_version >= $2
		ORDER BY stream_version
		LIMIT $3`
	sqlHead = `SELECT transaction_id, global_position FROM events
		WHERE transaction_id < $1::xid8
		ORDER BY transaction_id DESC, global_position DESC
		LIMIT 1`
)

// ReadStream implements eventstore.Store. It returns eventstore.ErrNotFound
// when the stream has no event, eventstore.ErrClosed after Close, or the
// database error wrapped with the stream.
func (s *Store) ReadStream(ctx context.Context, stream string, from int64, limit int) ([]eventstore.Event, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	if stream == "" {
		return nil, invalid("stream", "empty stream id")
	}
	if !storableText(stream) {
		return nil, fmt.Errorf("read %s: %w", stream, eventstore.ErrNotFound)
	}
	events, err := s.query(ctx, sqlReadStream, capacityFor(limit), stream, from, limitArg(limit))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", stream, err)
	}
	if len(events) > 0 {
		// A caller that read the stream appends next with the version it
		// read: that append needs no existence check (known.go).
		s.known.record(stream, events[len(events)-1].Version)
	}
	if len(events) == 0 {
		v, err := s.streamVersion(ctx, stream)
		if err != nil {
			return nil, err
		}
		if v == 0 {
			return nil, fmt.Errorf("read %s: %w", stream, eventstore.ErrNotFound)
		}
	}
	return events, nil
}

// ReadAll implements eventstore.Store: up to limit events after position
// (limit <= 0: no limit), below the horizon, in global order. It returns
// eventstore.ErrClosed after Close or the database error wrapped.
func (s *Store) ReadAll(ctx context.Context, after eventstore.Position, limit int) ([]eventstore.Event, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	events, h, err := s.readAll(ctx, after, limit, capacityFor(limit))
	if err != nil {
		return nil, err
	}
	// A short page while committed events wait beyond the horizon: wait
	// a little for the transactions holding it, so that a caller reads its
	// own committed appends. Never skips: the reread starts from the same
	// position.
	if limit > 0 && len(events) >= limit {
		return events, nil
	}
	if waited, err := s.settle(ctx, h); err != nil || !waited {
		// Settling is best effort: the first page stands.
		return events, nil
	}
	events, _, err = s.readAll(ctx, after, limit, capacityFor(limit))
	return events, err
}

// settle waits, up to readWait, until every transaction that was running
// when it was called has ended, so that everything committed before the
// call is visible. read is the horizon the caller read with: the check for
// held-back events is made against it, not against a fresh horizon, which
// may already have passed them (the caller must then reread, not keep a
// short page). It reports whether the caller should reread: false when no
// committed event lay beyond read.
func (s *Store) settle(ctx context.Context, read uint64) (bool, error) {
	var target uint64
	if err := s.pool.QueryRow(ctx, `SELECT pg_snapshot_xmax(pg_current_snapshot())`).Scan(&target); err != nil {
		return false, err
	}
	if pending, err := s.pendingBeyond(ctx, read); err != nil || !pending {
		return false, err
	}
	deadline := time.Now().Add(s.opts.readWait)
	for {
		h, err := s.horizon(ctx)
		if err != nil {
			return true, err
		}
		if h >= target || !time.Now().Before(deadline) {
			return true, nil
		}
		select {
		case <-ctx.Done():
			return true, ctx.Err()
		case <-time.After(s.opts.fastPoll):
		}
	}
}

// readAll is one ReadAll query, with no waiting, into an array of
// capacity events. It also returns the horizon it read below.
func (s *Store) readAll(ctx context.Context, after eventstore.Position, limit, capacity int) ([]eventstore.Event, uint64, error) {
	h, err := s.horizon(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("read all after %s: %w", after, err)
	}
	events, err := s.query(ctx, sqlReadAll, capacity, after.Major, clampInt64(after.Minor), limitArg(limit), h)
	if err != nil {
		return nil, 0, fmt.Errorf("read all after %s: %w", after, err)
	}
	return events, h, nil
}

// Head implements eventstore.Store: the position of the last visible event,
// after waiting (up to the read wait) for transactions running at the call
// to end.
// It returns eventstore.ErrClosed after Close or the database error wrapped.
func (s *Store) Head(ctx context.Context) (eventstore.Position, error) {
	if err := s.checkOpen(); err != nil {
		return eventstore.Position{}, err
	}
	h, err := s.horizon(ctx)
	if err != nil {
		return eventstore.Position{}, fmt.Errorf("head: %w", err)
	}
	waited, err := s.settle(ctx, h)
	if err != nil {
		return eventstore.Position{}, fmt.Errorf("head: %w", err)
	}
	if waited {
		if h, err = s.horizon(ctx); err != nil {
			return eventstore.Position{}, fmt.Errorf("head: %w", err)
		}
	}
	var (
		xid uint64
		gp  int64
	)
	err = s.pool.QueryRow(ctx, sqlHead, h).Scan(&xid, &gp)
	if errors.Is(err, pgx.ErrNoRows) {
		return eventstore.Start, nil
	}
	if err != nil {
		return eventstore.Position{}, fmt.Errorf("head: %w", err)
	}
	return eventstore.Position{Major: xid, Minor: uint64(gp)}, nil
}

func limitArg(limit int) *int64 {
	if limit <= 0 {
		return nil // LIMIT NULL: no limit
	}
	l := int64(limit)
	return &l
}

// clampInt64 keeps a caller's position inside bigint: positions come from
// callers (checkpoints, the API), global_position never reaches 2^63.
func clampInt64(v uint64) int64 {
	if v > 1<<63-1 {
		return 1<<63 - 1
	}
	return int64(v)
}

// capacityFor is the array a read of up to limit events starts with: the
// whole page, when one is asked for (growing it by appending made reading
// the log 65 % slower, BenchmarkReadAll), or a need's stream.
func capacityFor(limit int) int {
	if limit > 0 {
		return min(limit, 8192)
	}
	return 16 // a need's stream; longer reads grow by appending
}

// query runs an event query and decodes its rows into an array of
// capacity events to start with.
func (s *Store) query(ctx context.Context, sql string, capacity int, args ...any) ([]eventstore.Event, error) {
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	d := decoder{events: make([]eventstore.Event, 0, capacity)}
	fast := binaryColumns(rows.FieldDescriptions())
	for rows.Next() {
		if fast {
			err = d.decodeRaw(rows.RawValues())
		} else {
			err = d.decodeScan(rows)
		}
		if err != nil {
			return nil, err
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return d.events, nil
}

// binaryColumns reports whether the fixed-width columns came in binary
// format, which decodeRaw reads directly. Text and json read the same in
// both formats. The simple protocol (text everywhere) takes decodeScan.
func binaryColumns(fds []pgconn.FieldDescription) bool {
	if len(fds) != 14 {
		return false
	}
	for _, i := range []int{0, 1, 2, 4, 6, 13} {
		if fds[i].Format != pgx.BinaryFormatCode {
			return false
		}
	}
	return true
}

// decoder turns rows into events with few allocations: data is carved out
// of shared slabs, and repeated stream ids and types share one string.
type decoder struct {
	events     []eventstore.Event
	slab       []byte
	lastStream string
	types      map[string]string
}

// pgEpoch is PostgreSQL's timestamp origin.
var pgEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

var errBadRow = errors.New("unexpected event row encoding")

func (d *decoder) decodeRaw(v [][]byte) error {
	if len(v[0]) != 8 || len(v[1]) != 8 || len(v[2]) != 16 || len(v[4]) != 8 || len(v[6]) != 4 || len(v[13]) != 8 {
		return errBadRow
	}
	var e eventstore.Event
	e.Position = eventstore.Position{Major: binary.BigEndian.Uint64(v[0]), Minor: binary.BigEndian.Uint64(v[1])}
	copy(e.ID[:], v[2])
	if string(v[3]) == d.lastStream {
		e.StreamID = d.lastStream
	} else {
		e.StreamID = string(v[3])
		d.lastStream = e.StreamID
	}
	e.Version = int64(binary.BigEndian.Uint64(v[4]))
	e.Type = d.intern(v[5])
	e.SchemaVersion = int(int32(binary.BigEndian.Uint32(v[6])))
	e.Data = d.carve(v[7])
	e.Metadata.ActorID = string(v[8])
	e.Metadata.ActorRole = string(v[9])
	e.Metadata.CorrelationID = string(v[10])
	e.Metadata.CausationID = string(v[11])
	e.Metadata.IdempotencyKey = string(v[12])
	us := int64(binary.BigEndian.Uint64(v[13]))
	e.RecordedAt = pgEpoch.Add(time.Duration(us) * time.Microsecond)
	d.events = append(d.events, e)
	return nil
}

func (d *decoder) decodeScan(rows pgx.Rows) error {
	var (
		e                        eventstore.Event
		xid                      uint64
		gp                       int64
		id                       [16]byte
		data                     []byte
		actor, role, corr, cause *string
		key                      *string
	)
	if err := rows.Scan(&xid, &gp, &id, &e.StreamID, &e.Version, &e.Type, &e.SchemaVersion,
		&data, &actor, &role, &corr, &cause, &key, &e.RecordedAt); err != nil {
		return err
	}
	e.Position = eventstore.Position{Major: xid, Minor: uint64(gp)}
	e.ID = id
	e.Data = d.carve(data)
	e.Metadata = eventstore.Metadata{ActorID: deref(actor), ActorRole: deref(role), CorrelationID: deref(corr), CausationID: deref(cause), IdempotencyKey: deref(key)}
	e.RecordedAt = e.RecordedAt.UTC()
	d.events = append(d.events, e)
	return nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// carve copies b into the current slab and returns it with its capacity
// capped, so that a caller appending to one event's data never overwrites
// the next one's.
func (d *decoder) carve(b []byte) json.RawMessage {
	const slabSize = 256 << 10
	if len(b) > slabSize/4 {
		return append(json.RawMessage(nil), b...)
	}
	if cap(d.slab)-len(d.slab) < len(b) {
		// Start small and double: a need's stream of a few events takes a
		// few KiB, and a 256 KiB slab per ReadStream (zeroed, then
		// scanned by the GC) cost more than the query's decoding.
		d.slab = make([]byte, 0, min(max(2*cap(d.slab), 4<<10, len(b)), slabSize))
	}
	start := len(d.slab)
	d.slab = append(d.slab, b...)
	return d.slab[start:len(d.slab):len(d.slab)]
}

func (d *decoder) intern(b []byte) string {
	if t, ok := d.types[string(b)]; ok {
		return t
	}
	if d.types == nil {
		d.types = map[string]string{}
	}
	t := string(b)
	d.types[t] = t
	return t
}
