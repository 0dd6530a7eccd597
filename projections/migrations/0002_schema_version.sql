-- The schema version (ReadModel.Version) of the code that built the read
-- model's live tables. 0 for tables built before versions existed: the
-- engine rebuilds them beside the live ones at its first start, and swaps
-- them in.
ALTER TABLE projection_checkpoints ADD COLUMN schema_version INTEGER NOT NULL DEFAULT 0;
