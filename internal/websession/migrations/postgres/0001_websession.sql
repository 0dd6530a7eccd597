-- Browser sessions of the web console, the one-time sign-in links that open
-- them, the secret that signs their cookie, and the console's form
-- submissions (one per idempotency key). Times are Unix milliseconds.
CREATE TABLE IF NOT EXISTS websession_settings (
	name  TEXT PRIMARY KEY,
	value TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS websession_sessions (
	id_hash    TEXT PRIMARY KEY,
	user_id    TEXT NOT NULL,
	principal  TEXT NOT NULL,
	created_ms BIGINT NOT NULL,
	seen_ms    BIGINT NOT NULL,
	expires_ms BIGINT NOT NULL,
	revoked_ms BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS websession_sessions_user ON websession_sessions (user_id);

CREATE TABLE IF NOT EXISTS websession_links (
	token_hash TEXT PRIMARY KEY,
	user_id    TEXT NOT NULL,
	created_ms BIGINT NOT NULL,
	expires_ms BIGINT NOT NULL,
	used_ms    BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE IF NOT EXISTS websession_submissions (
	user_id    TEXT NOT NULL,
	form_key   TEXT NOT NULL,
	done       INTEGER NOT NULL DEFAULT 0,
	location   TEXT NOT NULL DEFAULT '',
	created_ms BIGINT NOT NULL,
	PRIMARY KEY (user_id, form_key)
);
