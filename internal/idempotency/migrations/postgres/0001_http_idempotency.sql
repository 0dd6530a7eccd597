-- IF NOT EXISTS: installations made before numbered migrations created
-- this table when they opened.
CREATE TABLE IF NOT EXISTS http_idempotency (
    principal    TEXT    NOT NULL,
    idem_key     TEXT    NOT NULL,
    request_hash TEXT    NOT NULL,
    done         INTEGER NOT NULL DEFAULT 0,
    status       INTEGER NOT NULL DEFAULT 0,
    headers      TEXT    NOT NULL DEFAULT '{}',
    body         BYTEA,
    need_id      TEXT    NOT NULL DEFAULT '',
    created_ms   BIGINT  NOT NULL,
    PRIMARY KEY (principal, idem_key)
);
