-- One row per read model: the log position its live tables have folded,
-- the generation a rebuild's swap bumps (a runner whose generation moved
-- restarts), and the last error. Times are microseconds since the Unix
-- epoch (UTC) in BIGINT columns, like the read models'. IF NOT EXISTS:
-- installations made before numbered migrations created it when they
-- opened.
CREATE TABLE IF NOT EXISTS projection_checkpoints (
    name       TEXT PRIMARY KEY,
    position   TEXT NOT NULL,
    generation BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT ''
);
