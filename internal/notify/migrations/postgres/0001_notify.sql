-- Réso notifier (internal/notify), PostgreSQL. River's own tables come
-- from River's migrator (rivermigrate), run just before these.

-- The notifier's cursors: its checkpoint in the log ("log"), how far the
-- reminder scan has looked ("reminders"), the last weekly digest sent
-- ("digest"). Values are text: a log position, or an instant in
-- microseconds since the Unix epoch.
CREATE TABLE IF NOT EXISTS notify_state (
	name       TEXT PRIMARY KEY,
	value      TEXT NOT NULL,
	updated_at BIGINT NOT NULL
);

