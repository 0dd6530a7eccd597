-- The log. position is the rowid: SQLite serialises writers, so positions
-- are assigned in commit order and a reader never sees a later position
-- before an earlier one. Rows are never updated or deleted, so the rowid
-- never goes back.
CREATE TABLE eventstore_events (
    position        INTEGER PRIMARY KEY,
    event_id        BLOB    NOT NULL,
    stream_id       TEXT    NOT NULL,
    version         INTEGER NOT NULL,
    type            TEXT    NOT NULL,
    schema_version  INTEGER NOT NULL,
    data            TEXT    NOT NULL,
    actor_id        TEXT    NOT NULL DEFAULT '',
    actor_role      TEXT    NOT NULL DEFAULT '',
    correlation_id  TEXT    NOT NULL DEFAULT '',
    causation_id    TEXT    NOT NULL DEFAULT '',
    idempotency_key TEXT    NOT NULL DEFAULT '',
    recorded_at     INTEGER NOT NULL -- Unix nanoseconds, UTC
);

CREATE UNIQUE INDEX eventstore_events_event_id ON eventstore_events (event_id);
CREATE UNIQUE INDEX eventstore_events_stream_version ON eventstore_events (stream_id, version);
