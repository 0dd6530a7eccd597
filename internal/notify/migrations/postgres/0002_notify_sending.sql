-- A delivery about to be handed to the mail server for good: written just
-- before the final dot of the SMTP transaction, deleted once the delivery
-- is recorded in the log (or the server refused it). A job that finds its
-- row after a crash knows the mail went, records it and sends nothing.
CREATE TABLE IF NOT EXISTS notify_sending (
	key        TEXT PRIMARY KEY,
	created_at BIGINT NOT NULL
);
