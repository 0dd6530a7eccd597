-- The log. transaction_id is the writer's transaction id: readers only see
-- rows below pg_snapshot_xmin(pg_current_snapshot()), ordered by
-- (transaction_id, global_position), so a transaction that commits late can
-- never make a reader skip one of its events.
--
-- A stream is its rows: the unique (stream_id, stream_version) index is the
-- expected-version guard, and its last entry is the stream's version. (A
-- separate streams table updated by every append was measured: its few hot
-- pages fill with HOT chains that every writer contends for.)

CREATE TABLE events (
    global_position bigint GENERATED ALWAYS AS IDENTITY,
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
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT events_pkey PRIMARY KEY (transaction_id, global_position),
    CONSTRAINT events_event_id_key UNIQUE (event_id),
    CONSTRAINT events_stream_version_key UNIQUE (stream_id, stream_version)
);

-- ReadAll pages walk events_pkey in order; the planner picks that index
-- scan once it knows the table is large and correlated with the index.
-- Fresh statistics keep it from sorting the whole tail instead, so analyze
-- more often than the default (every 10% of growth).
ALTER TABLE events SET (autovacuum_analyze_scale_factor = 0.01, autovacuum_analyze_threshold = 1000);
