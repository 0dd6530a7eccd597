-- The hourly purge deletes the records older than a day by their age.
CREATE INDEX IF NOT EXISTS http_idempotency_created ON http_idempotency (created_ms);
