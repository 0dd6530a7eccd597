-- Réso notifier (internal/notify), SQLite: the file notify.db of the data
-- directory, beside River's tables. River's own tables come from River's
-- migrator (rivermigrate), run just before these.

-- The notifier's cursors: its checkpoint in the log ("log"), how far the
-- reminder scan has looked ("reminders"), the last weekly digest sent
-- ("digest"). Values are text: a log position, or an instant in
-- microseconds since the Unix epoch.
CREATE TABLE IF NOT EXISTS notify_state (
	name       TEXT PRIMARY KEY,
	value      TEXT NOT NULL,
	updated_at BIGINT NOT NULL
);

-- One-time sign-in links: only a SHA-256 of the token is kept. Instants
-- are microseconds since the Unix epoch; used_at is 0 until the link is used.
CREATE TABLE IF NOT EXISTS notify_signin_links (
	token_hash TEXT PRIMARY KEY,
	user_id    TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	used_at    BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS notify_signin_links_user ON notify_signin_links (user_id, created_at);
