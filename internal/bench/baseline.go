package bench

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/reso-fr/reso/internal/pgschema"
)

// plainTable is the baseline: the same columns as the event store's events
// table, with a bigserial key and no other index or check (unless asked for
// the store's indexes), written with one INSERT (an implicit transaction)
// per batch.
type plainTable struct {
	pool *pgxpool.Pool
}

func openPlainTable(ctx context.Context, dsn string, conns int, sameIndexes bool) (*plainTable, error) {
	pool, err := pgxpool.New(ctx, pgschema.WithParam(dsn, "pool_max_conns", strconv.Itoa(conns)))
	if err != nil {
		return nil, fmt.Errorf("baseline pool: %w", err)
	}
	if _, err := pool.Exec(ctx, `CREATE TABLE bench_plain_events (
		global_position bigserial PRIMARY KEY,
		transaction_id  xid8 NOT NULL DEFAULT pg_current_xact_id(),
		event_id        uuid NOT NULL,
		stream_id       text NOT NULL,
		stream_version  bigint NOT NULL,
		event_type      text NOT NULL,
		schema_version  integer NOT NULL,
		data            json NOT NULL,
		actor_id        text,
		actor_role      text,
		correlation_id  text,
		causation_id    text,
		idempotency_key text,
		recorded_at     timestamptz NOT NULL DEFAULT now())`); err != nil {
		pool.Close()
		return nil, fmt.Errorf("baseline table: %w", err)
	}
	if sameIndexes {
		// The event store's other indexes, to tell their cost from the
		// rest of the append.
		if _, err := pool.Exec(ctx, `CREATE UNIQUE INDEX ON bench_plain_events (event_id);
			CREATE UNIQUE INDEX ON bench_plain_events (stream_id, stream_version);
			CREATE UNIQUE INDEX ON bench_plain_events (transaction_id, global_position)`); err != nil {
			pool.Close()
			return nil, fmt.Errorf("baseline indexes: %w", err)
		}
	}
	return &plainTable{pool: pool}, nil
}

func (p *plainTable) close() { p.pool.Close() }

const plainInsert = `INSERT INTO bench_plain_events (event_id, stream_id, stream_version, event_type, schema_version, data,
		actor_id, actor_role, correlation_id, causation_id, idempotency_key)
	SELECT u.id, $10, $11 + u.ord, u.typ, u.sv, u.data::json,
		NULLIF(u.actor, ''), NULLIF(u.role, ''), NULLIF(u.corr, ''), NULLIF(u.cause, ''), NULLIF(u.ikey, '')
	FROM unnest($1::uuid[], $2::text[], $3::int4[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
		WITH ORDINALITY AS u(id, typ, sv, data, actor, role, corr, cause, ikey, ord)`

// writer inserts what storeWriter would append to the writer's own
// streams, with the same generator.
func (p *plainTable) writer(cfg AppendConfig, w int) writerFunc {
	gen := newEventGen(w)
	stream, version := 0, int64(0)
	return func(ctx context.Context) (int, bool, time.Duration, error) {
		events, err := gen.batch(cfg.Batch)
		if err != nil {
			return 0, false, 0, err
		}
		t0 := time.Now() // like the store's Append, building the arrays counts
		n := len(events)
		ids := make([][16]byte, n)
		types, data := make([]string, n), make([]string, n)
		svs := make([]int32, n)
		actors, roles, corrs, causes, keys := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		for i, e := range events {
			ids[i], types[i], svs[i], data[i] = e.ID, e.Type, int32(e.SchemaVersion), string(e.Data)
			actors[i], roles[i], corrs[i], causes[i], keys[i] = e.Metadata.ActorID, e.Metadata.ActorRole,
				e.Metadata.CorrelationID, e.Metadata.CausationID, e.Metadata.IdempotencyKey
		}
		name := fmt.Sprintf("w%d-%d", w, stream)
		_, err = p.pool.Exec(ctx, plainInsert, ids, types, svs, data, actors, roles, corrs, causes, keys, name, version)
		took := time.Since(t0)
		if err != nil {
			return 0, false, took, fmt.Errorf("plain insert: %w", err)
		}
		version += int64(n)
		if version >= int64(cfg.StreamLength) {
			stream, version = stream+1, 0
		}
		return n, false, took, nil
	}
}
