-- IF NOT EXISTS: installations made before numbered migrations created
-- this table when they opened.
CREATE TABLE IF NOT EXISTS reso_credentials (
    token_hash      TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL,
    name            TEXT NOT NULL,
    role            TEXT NOT NULL,
    organisation_id TEXT NOT NULL,
    referent_id     TEXT NOT NULL,
    territories     TEXT NOT NULL,
    created_at      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS reso_credentials_user ON reso_credentials (user_id);
