-- The schema of 72956bf that mlob owns beside the event store's own tables (those, and the
-- event index, messages and rejections, are created by the recorder at baseline shape).
-- A store without a migrations table is stamped at this baseline (mlob/migrations).
CREATE TABLE IF NOT EXISTS mlob_view_tracking (name text PRIMARY KEY,
    position bigint NOT NULL, version text NOT NULL, updated_at timestamptz);
CREATE TABLE IF NOT EXISTS mlob_view_changes (seq bigserial PRIMARY KEY,
    at timestamptz NOT NULL, source text NOT NULL, key text NOT NULL, position bigint NOT NULL,
    what text NOT NULL);
CREATE TABLE IF NOT EXISTS mlob_chain_checkpoints (position bigint PRIMARY KEY,
    head text NOT NULL, signature text NOT NULL, at text NOT NULL);
CREATE TABLE IF NOT EXISTS mlob_as_of_checkpoints (position bigint PRIMARY KEY,
    version text NOT NULL, recorded_min text NOT NULL, recorded_max text NOT NULL,
    occurred_min text NOT NULL, occurred_max text NOT NULL, at text NOT NULL,
    size bigint NOT NULL, rows_data bytea NOT NULL, places bytea NOT NULL, states bytea NOT NULL);
-- Checkpoint states are compressed already: no second compression by TOAST.
ALTER TABLE mlob_as_of_checkpoints ALTER COLUMN states SET STORAGE EXTERNAL;
