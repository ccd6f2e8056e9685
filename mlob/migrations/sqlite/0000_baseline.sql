-- The schema of 72956bf that mlob owns beside the event store's own tables (those, and the
-- event index, messages and rejections, are created by the recorder at baseline shape).
-- A store without a migrations table is stamped at this baseline (mlob/migrations).
CREATE TABLE IF NOT EXISTS mlob_view_tracking (name TEXT PRIMARY KEY,
    position INTEGER NOT NULL, version TEXT NOT NULL, updated_at TEXT);
CREATE TABLE IF NOT EXISTS mlob_view_changes (seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL, source TEXT NOT NULL, key TEXT NOT NULL, position INTEGER NOT NULL,
    what TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS mlob_chain_checkpoints (position bigint PRIMARY KEY,
    head text NOT NULL, signature text NOT NULL, at text NOT NULL);
CREATE TABLE IF NOT EXISTS mlob_as_of_checkpoints (position bigint PRIMARY KEY,
    version text NOT NULL, recorded_min text NOT NULL, recorded_max text NOT NULL,
    occurred_min text NOT NULL, occurred_max text NOT NULL, at text NOT NULL,
    size bigint NOT NULL, rows_data BLOB NOT NULL, places BLOB NOT NULL, states BLOB NOT NULL);
