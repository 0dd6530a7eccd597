-- Tokens with a life: an id to list and revoke them by, an expiry, the
-- last time they were used, and when they were revoked. Tokens issued
-- before get an id derived from their hash (which reveals nothing of the
-- token) and an expiry at the first start of this version.
ALTER TABLE reso_credentials ADD COLUMN token_id TEXT;
ALTER TABLE reso_credentials ADD COLUMN expires_at TEXT;
ALTER TABLE reso_credentials ADD COLUMN last_used_at TEXT;
ALTER TABLE reso_credentials ADD COLUMN revoked_at TEXT;
UPDATE reso_credentials SET token_id = 'legacy-' || substr(token_hash, 1, 24) WHERE token_id IS NULL;
CREATE UNIQUE INDEX reso_credentials_token_id ON reso_credentials (token_id);
