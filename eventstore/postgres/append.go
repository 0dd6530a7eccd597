package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/reso-fr/reso/eventstore"
)

// The append is one statement, so one round trip and, outside tests that
// inject a delay, one implicit transaction. b yields the version the events
// follow (no row when an exact expectation names a version that does not
// exist); the unique (stream_id, stream_version) index refuses the insert
// when that version is not the stream's last, after waiting for a
// concurrent writer of the same slot to commit or roll back. Parameters:
// $1..$9 the event columns as arrays, $10 the stream, $11 the expected
// version (Exactly only).
const (
	baseAny     = `SELECT coalesce(max(stream_version), 0) AS base FROM events WHERE stream_id = $10`
	baseNew     = `SELECT 0::bigint AS base`
	baseExactly = `SELECT $11::bigint AS base
		WHERE EXISTS (SELECT 1 FROM events WHERE stream_id = $10 AND stream_version = $11::bigint)`
	insertEvents = `, e AS (
	INSERT INTO events (event_id, stream_id, stream_version, event_type, schema_version, data,
		actor_id, actor_role, correlation_id, causation_id, idempotency_key)
	SELECT u.id, $10, b.base + u.ord, u.typ, u.sv, u.data::json,
		NULLIF(u.actor, ''), NULLIF(u.role, ''), NULLIF(u.corr, ''), NULLIF(u.cause, ''), NULLIF(u.ikey, '')
	FROM b, unnest($1::uuid[], $2::text[], $3::int4[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
		WITH ORDINALITY AS u(id, typ, sv, data, actor, role, corr, cause, ikey, ord)
	ORDER BY u.ord
	RETURNING stream_version, global_position
)
SELECT max(stream_version), pg_current_xact_id_if_assigned(), max(global_position) FROM e`

	sqlAppendAny     = "WITH b AS (" + baseAny + ")" + insertEvents
	sqlAppendNew     = "WITH b AS (" + baseNew + ")" + insertEvents
	sqlAppendExactly = "WITH b AS (" + baseExactly + ")" + insertEvents
)

// maxRetries bounds how often an append is run again after PostgreSQL
// aborted it for a serialization failure or deadlock, or (AnyVersion only)
// after a concurrent writer took the versions it computed.
const maxRetries = 10

// errVersionMismatch is internal: the stream's version was not the
// expected one (or the version slot was taken by a concurrent writer).
var errVersionMismatch = errors.New("version mismatch")

// Append implements eventstore.Store. Errors: *eventstore.ConcurrencyError,
// *eventstore.ValidationError, eventstore.ErrDuplicateEvent,
// eventstore.ErrClosed, or the database error wrapped with the stream.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.ExpectedVersion, events ...eventstore.NewEvent) (eventstore.AppendResult, error) {
	if err := s.checkOpen(); err != nil {
		return eventstore.AppendResult{}, err
	}
	if err := eventstore.ValidateAppend(stream, expected, events); err != nil {
		return eventstore.AppendResult{}, err
	}
	events, err := eventstore.AssignIDs(events)
	if err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("append to %s: %w", stream, err)
	}
	ids := make([][16]byte, len(events))
	for i, e := range events {
		ids[i] = e.ID
	}
	query, args := appendStatement(stream, expected, ids, events)

	for attempt := 0; ; attempt++ {
		res, err := s.appendOnce(ctx, stream, query, args)
		if err == nil {
			s.committed()
			return res, nil
		}
		switch {
		case expected == eventstore.AnyVersion && classify(err) == errVersionTaken && attempt < maxRetries:
			continue
		case errors.Is(err, errVersionMismatch), classify(err) == errVersionTaken:
			return s.afterConflict(ctx, stream, expected, ids, events, nil)
		case classify(err) == errDuplicateID:
			return s.afterConflict(ctx, stream, expected, ids, events, eventstore.ErrDuplicateEvent)
		case classify(err) == errRetryable && attempt < maxRetries:
			continue
		case classify(err) == errInvalidInput:
			return eventstore.AppendResult{}, invalid("data", pgMessage(err))
		}
		if ctxErr := ctx.Err(); ctxErr != nil && errors.Is(err, ctxErr) {
			return eventstore.AppendResult{}, fmt.Errorf("append to %s: %w", stream, ctxErr)
		}
		return eventstore.AppendResult{}, fmt.Errorf("append to %s: %w", stream, err)
	}
}

func appendStatement(stream string, expected eventstore.ExpectedVersion, ids [][16]byte, events []eventstore.NewEvent) (string, []any) {
	n := len(events)
	types := make([]string, n)
	schemaVersions := make([]int32, n)
	data := make([]string, n)
	actors := make([]string, n)
	roles := make([]string, n)
	correlations := make([]string, n)
	causations := make([]string, n)
	keys := make([]string, n)
	for i, e := range events {
		types[i] = e.Type
		schemaVersions[i] = int32(e.SchemaVersion)
		data[i] = string(e.Data)
		actors[i] = e.Metadata.ActorID
		roles[i] = e.Metadata.ActorRole
		correlations[i] = e.Metadata.CorrelationID
		causations[i] = e.Metadata.CausationID
		keys[i] = e.Metadata.IdempotencyKey
	}
	args := []any{ids, types, schemaVersions, data, actors, roles, correlations, causations, keys, stream}
	switch expected {
	case eventstore.AnyVersion:
		return sqlAppendAny, args
	case eventstore.NoStream:
		return sqlAppendNew, args
	default:
		return sqlAppendExactly, append(args, int64(expected))
	}
}

// appendOnce runs the append statement. Without an injected delay it runs
// in an implicit transaction (one round trip); with one, in an explicit
// transaction that sleeps before committing.
func (s *Store) appendOnce(ctx context.Context, stream, query string, args []any) (eventstore.AppendResult, error) {
	var (
		version, last *int64
		xid           *uint64
	)
	scan := func(row pgx.Row) error {
		if err := row.Scan(&version, &xid, &last); err != nil {
			return err
		}
		if version == nil || xid == nil || last == nil {
			return errVersionMismatch // nothing inserted
		}
		return nil
	}
	var err error
	if delay := s.appendDelay.Load(); delay != nil {
		err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			if err := scan(tx.QueryRow(ctx, query, args...)); err != nil {
				return err
			}
			select {
			case <-time.After((*delay)()):
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	} else {
		err = scan(s.pool.QueryRow(ctx, query, args...))
	}
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	n := int64(len(args[0].([][16]byte)))
	return eventstore.AppendResult{
		StreamID:     stream,
		FirstVersion: *version - n + 1,
		LastVersion:  *version,
		Position:     eventstore.Position{Major: *xid, Minor: uint64(*last)},
	}, nil
}

// afterConflict decides what a refused append means. If every event is
// already stored in this stream, contiguously, at the versions this append
// would have given them, and with the same content, it is a retry of an
// append that succeeded: return its original result. If only some are, or
// elsewhere, or differently: ErrDuplicateEvent. Otherwise the stream's
// version was not the expected one: a ConcurrencyError with the actual
// version. dupErr is the error to return when the ids are not found
// (ErrDuplicateEvent after a unique violation on an id, nil otherwise).
func (s *Store) afterConflict(ctx context.Context, stream string, expected eventstore.ExpectedVersion, ids [][16]byte, events []eventstore.NewEvent, dupErr error) (eventstore.AppendResult, error) {
	rows, err := s.pool.Query(ctx, `SELECT event_id, stream_id, stream_version, event_type, schema_version, data::text,
			coalesce(actor_id, ''), coalesce(actor_role, ''), coalesce(correlation_id, ''), coalesce(causation_id, ''), coalesce(idempotency_key, ''),
			transaction_id, global_position
		FROM events WHERE event_id = ANY($1::uuid[])`, ids)
	if err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("append to %s: look up prior append: %w", stream, err)
	}
	type stored struct {
		stream        string
		version       int64
		typ           string
		schemaVersion int32
		data          string
		meta          eventstore.Metadata
		pos           eventstore.Position
	}
	found := map[[16]byte]stored{}
	for rows.Next() {
		var (
			id  [16]byte
			st  stored
			xid uint64
			gp  int64
		)
		m := &st.meta
		if err := rows.Scan(&id, &st.stream, &st.version, &st.typ, &st.schemaVersion, &st.data,
			&m.ActorID, &m.ActorRole, &m.CorrelationID, &m.CausationID, &m.IdempotencyKey, &xid, &gp); err != nil {
			rows.Close()
			return eventstore.AppendResult{}, fmt.Errorf("append to %s: look up prior append: %w", stream, err)
		}
		st.pos = eventstore.Position{Major: xid, Minor: uint64(gp)}
		found[id] = st
	}
	if err := rows.Err(); err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("append to %s: look up prior append: %w", stream, err)
	}
	if len(found) > 0 {
		same := len(found) == len(ids)
		var first stored
		for i, id := range ids {
			st, ok := found[id]
			if !ok {
				same = false
				break
			}
			if i == 0 {
				first = st
			}
			e := events[i]
			if st.stream != stream || st.version != first.version+int64(i) || st.typ != e.Type ||
				st.schemaVersion != int32(e.SchemaVersion) || !bytes.Equal([]byte(st.data), e.Data) || st.meta != e.Metadata {
				same = false
				break
			}
		}
		if same && expected >= 0 && first.version != int64(expected)+1 {
			same = false
		}
		if !same {
			return eventstore.AppendResult{}, fmt.Errorf("append to %s: %w", stream, eventstore.ErrDuplicateEvent)
		}
		lastSt := found[ids[len(ids)-1]]
		return eventstore.AppendResult{
			StreamID:     stream,
			FirstVersion: first.version,
			LastVersion:  lastSt.version,
			Position:     lastSt.pos,
		}, nil
	}
	if dupErr != nil {
		// The id was taken by a writer that has since rolled back, or
		// the rows are not visible yet: report the duplicate.
		return eventstore.AppendResult{}, fmt.Errorf("append to %s: %w", stream, dupErr)
	}
	actual, err := s.streamVersion(ctx, stream)
	if err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("append to %s: %w", stream, err)
	}
	return eventstore.AppendResult{}, &eventstore.ConcurrencyError{Stream: stream, Expected: expected, Actual: actual}
}

// streamVersion returns the stream's current version, 0 when it has none.
func (s *Store) streamVersion(ctx context.Context, stream string) (int64, error) {
	var v int64
	err := s.pool.QueryRow(ctx, `SELECT coalesce(max(stream_version), 0) FROM events WHERE stream_id = $1`, stream).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("read version of %s: %w", stream, err)
	}
	return v, nil
}
