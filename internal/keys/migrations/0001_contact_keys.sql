-- The same on SQLite and PostgreSQL: TEXT columns only, so that no
-- statement needs a dialect of its own. IF NOT EXISTS: installations made
-- before numbered migrations created these tables when they opened.
CREATE TABLE IF NOT EXISTS reso_settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS reso_contact_keys (
    key_id       TEXT PRIMARY KEY,
    siret        TEXT NOT NULL,
    subject_hash TEXT NOT NULL,
    key_hex      TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    UNIQUE (siret, subject_hash)
);
CREATE INDEX IF NOT EXISTS reso_contact_keys_subject ON reso_contact_keys (subject_hash);
-- key_needs outlives the keys: it holds no personal data and tells an
-- erasure which needs still lack their ContactErased event.
CREATE TABLE IF NOT EXISTS reso_contact_key_needs (
    key_id    TEXT NOT NULL,
    need_id   TEXT NOT NULL,
    erased_at TEXT,
    PRIMARY KEY (key_id, need_id)
);
-- KeyOfNeed finds a need's key by need id, before the need's stream
-- (which names the key) has been read.
CREATE INDEX IF NOT EXISTS reso_contact_key_needs_need ON reso_contact_key_needs (need_id);
