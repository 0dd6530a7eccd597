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
// inject a delay, one implicit transaction: an INSERT … SELECT whose
// versions follow a base and whose WHERE clause is the expected-version
// check (no row inserted when an exact expectation names a version that
// does not exist); the unique (stream_id, stream_version) index refuses
// the insert when that version is not the stream's last, after waiting for
// a concurrent writer of the same slot to commit or roll back. RETURNING
// gives each row's version and position.
//
// Parameters: $1 the stream, $2..$10 the event columns (scalars for one
// event, arrays for several), for several events $11 their ordinals 1..n,
// and last the expected version (Exactly only).
//
// The shape was measured (8 writers, one-event appends; docs/benchmarks.md):
// a FROM unnest(…) of the nine arrays is a function scan that fills one
// tuplestore per array on every execution, and with the CTE and aggregate
// that read the RETURNING rows the server spent about 60% more CPU per
// append than on the plain insert. One event is therefore inserted from
// scalar parameters; several from arrays expanded in the select list
// (unnest in a target list streams its elements, no tuplestore), with the
// ordinals passed in rather than generated (generate_series over a
// parameter makes the planner expect 1000 rows and re-plan every call).
const (
	insertColumns = `INSERT INTO events (event_id, stream_id, stream_version, event_type, schema_version, data,
	actor_id, actor_role, correlation_id, causation_id, idempotency_key)
`
	// One event; empty metadata arrive as NULL parameters. %[1]s is the
	// version the event follows.
	selectOne = `SELECT $2::uuid, $1, %[1]s + 1, $3::text, $4::int4, $5::text::json, $6::text, $7::text, $8::text, $9::text, $10::text`
	// Several events, in the order of the arrays.
	selectMany = `SELECT u.id, $1, %[1]s + u.ord, u.typ, u.sv, u.data::json,
	NULLIF(u.actor, ''), NULLIF(u.role, ''), NULLIF(u.corr, ''), NULLIF(u.cause, ''), NULLIF(u.ikey, '')
FROM (SELECT unnest($2::uuid[]) AS id, unnest($3::text[]) AS typ, unnest($4::int4[]) AS sv, unnest($5::text[]) AS data,
	unnest($6::text[]) AS actor, unnest($7::text[]) AS role, unnest($8::text[]) AS corr, unnest($9::text[]) AS cause,
	unnest($10::text[]) AS ikey, unnest($11::int8[]) AS ord) u`
	// The base of AnyVersion: the stream's last version, from the index.
	baseAny = `(SELECT coalesce(max(stream_version), 0) FROM events WHERE stream_id = $1)`
	// The base and guard of Exactly; %[1]s is the expected version's
	// parameter.
	baseExactly  = `%[1]s::bigint`
	guardExactly = `
WHERE EXISTS (SELECT 1 FROM events WHERE stream_id = $1 AND stream_version = %[1]s::bigint)`
	returning = `
RETURNING stream_version, transaction_id, global_position`
)

// The statements: one or several events, times the kinds of expectation.
// NoStream's base is 0 and its guard the unique index alone; so is the
// guard of an Exactly(n) append to a stream known to have reached n
// (known.go).
var (
	sqlAppendOneAny      = insertColumns + fmt.Sprintf(selectOne, baseAny) + returning
	sqlAppendOneNew      = insertColumns + fmt.Sprintf(selectOne, "0") + returning
	sqlAppendOneExactly  = insertColumns + fmt.Sprintf(selectOne, fmt.Sprintf(baseExactly, "$11")) + fmt.Sprintf(guardExactly, "$11") + returning
	sqlAppendManyAny     = insertColumns + fmt.Sprintf(selectMany, baseAny) + returning
	sqlAppendManyNew     = insertColumns + fmt.Sprintf(selectMany, "0") + returning
	sqlAppendManyExactly = insertColumns + fmt.Sprintf(selectMany, fmt.Sprintf(baseExactly, "$12")) + fmt.Sprintf(guardExactly, "$12") + returning
	sqlAppendOneAt       = insertColumns + fmt.Sprintf(selectOne, fmt.Sprintf(baseExactly, "$11")) + returning
	sqlAppendManyAt      = insertColumns + fmt.Sprintf(selectMany, fmt.Sprintf(baseExactly, "$12")) + returning
)

// maxRetries bounds how often an append is run again after PostgreSQL
// aborted it for a serialization failure or deadlock.
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
	query, args := appendStatement(stream, expected, expected > 0 && s.known.reached(stream, int64(expected)), ids, events)

	for attempt := 0; ; attempt++ {
		res, err := s.appendOnce(ctx, stream, query, args, len(events))
		if err == nil {
			s.known.record(stream, res.LastVersion)
			s.committed()
			return res, nil
		}
		switch {
		case expected == eventstore.AnyVersion && classify(err) == errVersionTaken:
			// AnyVersion expects nothing, so it never conflicts: it takes
			// the next version again for as long as it loses its slot, or
			// until ctx ends. Each loss is another writer's success, so
			// this ends; a bound refused appends under contention
			// (TestAnyVersionNeverConflicts).
			if ctxErr := ctx.Err(); ctxErr != nil {
				return eventstore.AppendResult{}, fmt.Errorf("append to %s: %w", stream, ctxErr)
			}
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

// appendStatement returns the append statement for stream, expected and
// events, and its arguments. reached says the stream is known to have
// reached the expected version, so that Exactly needs no guard.
func appendStatement(stream string, expected eventstore.ExpectedVersion, reached bool, ids [][16]byte, events []eventstore.NewEvent) (string, []any) {
	args := make([]any, 0, 12)
	args = append(args, stream)
	if len(events) == 1 {
		e := &events[0]
		m := &e.Metadata
		args = append(args, ids[0], e.Type, int32(e.SchemaVersion), string(e.Data),
			nullable(m.ActorID), nullable(m.ActorRole), nullable(m.CorrelationID), nullable(m.CausationID), nullable(m.IdempotencyKey))
		return pick(expected, reached, sqlAppendOneAny, sqlAppendOneNew, sqlAppendOneAt, sqlAppendOneExactly), withExpected(args, expected)
	}
	n := len(events)
	types := make([]string, n)
	schemaVersions := make([]int32, n)
	data := make([]string, n)
	actors := make([]string, n)
	roles := make([]string, n)
	correlations := make([]string, n)
	causations := make([]string, n)
	keys := make([]string, n)
	ordinals := make([]int64, n)
	for i := range events {
		e := &events[i]
		types[i] = e.Type
		schemaVersions[i] = int32(e.SchemaVersion)
		data[i] = string(e.Data)
		actors[i] = e.Metadata.ActorID
		roles[i] = e.Metadata.ActorRole
		correlations[i] = e.Metadata.CorrelationID
		causations[i] = e.Metadata.CausationID
		keys[i] = e.Metadata.IdempotencyKey
		ordinals[i] = int64(i + 1)
	}
	args = append(args, ids, types, schemaVersions, data, actors, roles, correlations, causations, keys, ordinals)
	return pick(expected, reached, sqlAppendManyAny, sqlAppendManyNew, sqlAppendManyAt, sqlAppendManyExactly), withExpected(args, expected)
}

// pick chooses among the statements of one shape by expectation.
func pick(expected eventstore.ExpectedVersion, reached bool, anyVersion, noStream, at, exactly string) string {
	switch {
	case expected == eventstore.AnyVersion:
		return anyVersion
	case expected == eventstore.NoStream:
		return noStream
	case reached:
		return at
	default:
		return exactly
	}
}

// withExpected appends the expected version, the last parameter of the
// Exactly statements (the others do not take it).
func withExpected(args []any, expected eventstore.ExpectedVersion) []any {
	if expected > 0 {
		return append(args, int64(expected))
	}
	return args
}

// appendOnce runs the append statement for n events. Without an injected
// delay it runs in an implicit transaction (one round trip); with one, in
// an explicit transaction that sleeps before committing.
func (s *Store) appendOnce(ctx context.Context, stream, query string, args []any, n int) (eventstore.AppendResult, error) {
	var (
		version, last int64
		xid           uint64
	)
	run := func(q querier) error {
		rows, err := q.Query(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		inserted := 0
		for rows.Next() {
			var (
				v, gp int64
				x     uint64
			)
			if err := rows.Scan(&v, &x, &gp); err != nil {
				return err
			}
			inserted++
			if v > version {
				version, xid, last = v, x, gp
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if inserted == 0 {
			return errVersionMismatch // the guard refused: nothing inserted
		}
		return nil
	}
	var err error
	if delay := s.appendDelay.Load(); delay != nil {
		err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			if err := run(tx); err != nil {
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
		err = run(s.pool)
	}
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	return eventstore.AppendResult{
		StreamID:     stream,
		FirstVersion: version - int64(n) + 1,
		LastVersion:  version,
		Position:     eventstore.Position{Major: xid, Minor: uint64(last)},
	}, nil
}

// querier is what appendOnce runs its statement on: the pool or a
// transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
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
