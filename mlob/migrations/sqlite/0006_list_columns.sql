-- depends: 0005_board_targets
-- Issue 21: lists page in SQL. Each projection's rows table (made here now, at its earlier
-- shape, if the read store has not made it yet) gets the columns its lists filter and sort on
-- (mlob/read/listing.py): the order's key, the exercise flag, the row's scope keys
-- (domain.policy.row_keys: "org:<involved>", "region:<region>"), and per projection its filter
-- columns; filled here from each row's JSON, then kept by the read store with every row.
-- A rebuild under way starts again (its next rows were written without the columns).

-- SQLite keeps the sort key of a moment to the millisecond here (strftime); rows written
-- from now on keep microseconds: only the order within one millisecond may differ.

DROP TABLE IF EXISTS mlob_rows_requests__next;
CREATE TABLE IF NOT EXISTS mlob_rows_requests (id TEXT NOT NULL, level integer NOT NULL, position INTEGER NOT NULL, data BLOB NOT NULL, CONSTRAINT mlob_rows_requests_pkey PRIMARY KEY (id, level));
ALTER TABLE mlob_rows_requests ADD COLUMN sort_key TEXT NOT NULL DEFAULT '';
ALTER TABLE mlob_rows_requests ADD COLUMN exercise INTEGER NOT NULL DEFAULT 0;
ALTER TABLE mlob_rows_requests ADD COLUMN keys TEXT NOT NULL DEFAULT '[]';
ALTER TABLE mlob_rows_requests ADD COLUMN kind TEXT;
ALTER TABLE mlob_rows_requests ADD COLUMN status TEXT;
ALTER TABLE mlob_rows_requests ADD COLUMN incident_id TEXT;
ALTER TABLE mlob_rows_requests ADD COLUMN search TEXT;
UPDATE mlob_rows_requests SET sort_key = COALESCE(strftime('%Y-%m-%dT%H:%M:%f', json_extract(CAST(data AS TEXT), '$.status_since')) || '000Z', ''),
    exercise = COALESCE(json_extract(CAST(data AS TEXT), '$.exercise'), 0),
    keys = (SELECT json_group_array(k) FROM (SELECT 'org:' || value AS k FROM json_each(CAST(data AS TEXT), '$.involved') UNION SELECT 'region:' || value FROM json_each(CAST(data AS TEXT), '$.regions') ORDER BY k)),
    kind = json_extract(CAST(data AS TEXT), '$.kind'),
    status = json_extract(CAST(data AS TEXT), '$.status'),
    incident_id = json_extract(CAST(data AS TEXT), '$.incident_id'),
    search = lower(COALESCE(json_extract(CAST(data AS TEXT), '$.title'), ''));
CREATE INDEX IF NOT EXISTS mlob_rows_requests_sorted ON mlob_rows_requests (sort_key, id);
CREATE INDEX IF NOT EXISTS mlob_rows_requests_kind ON mlob_rows_requests (kind, sort_key, id);
CREATE INDEX IF NOT EXISTS mlob_rows_requests_status ON mlob_rows_requests (status, sort_key, id);
CREATE INDEX IF NOT EXISTS mlob_rows_requests_incident_id ON mlob_rows_requests (incident_id, sort_key, id);
DROP TABLE IF EXISTS mlob_rows_capacities__next;
CREATE TABLE IF NOT EXISTS mlob_rows_capacities (id TEXT NOT NULL, level integer NOT NULL, position INTEGER NOT NULL, data BLOB NOT NULL, CONSTRAINT mlob_rows_capacities_pkey PRIMARY KEY (id, level));
ALTER TABLE mlob_rows_capacities ADD COLUMN sort_key TEXT NOT NULL DEFAULT '';
ALTER TABLE mlob_rows_capacities ADD COLUMN exercise INTEGER NOT NULL DEFAULT 0;
ALTER TABLE mlob_rows_capacities ADD COLUMN keys TEXT NOT NULL DEFAULT '[]';
ALTER TABLE mlob_rows_capacities ADD COLUMN capability TEXT;
ALTER TABLE mlob_rows_capacities ADD COLUMN provider TEXT;
UPDATE mlob_rows_capacities SET sort_key = COALESCE(json_extract(CAST(data AS TEXT), '$.capability'), '') || char(31) || COALESCE(json_extract(CAST(data AS TEXT), '$.provider'), '') || char(31) || COALESCE(json_extract(CAST(data AS TEXT), '$.name'), ''),
    exercise = COALESCE(json_extract(CAST(data AS TEXT), '$.exercise'), 0),
    keys = (SELECT json_group_array(k) FROM (SELECT 'org:' || value AS k FROM json_each(CAST(data AS TEXT), '$.involved') UNION SELECT 'region:' || value FROM json_each(CAST(data AS TEXT), '$.regions') ORDER BY k)),
    capability = json_extract(CAST(data AS TEXT), '$.capability'),
    provider = json_extract(CAST(data AS TEXT), '$.provider');
CREATE INDEX IF NOT EXISTS mlob_rows_capacities_sorted ON mlob_rows_capacities (sort_key, id);
CREATE INDEX IF NOT EXISTS mlob_rows_capacities_capability ON mlob_rows_capacities (capability, sort_key, id);
CREATE INDEX IF NOT EXISTS mlob_rows_capacities_provider ON mlob_rows_capacities (provider, sort_key, id);
DROP TABLE IF EXISTS mlob_rows_incidents__next;
CREATE TABLE IF NOT EXISTS mlob_rows_incidents (id TEXT NOT NULL, level integer NOT NULL, position INTEGER NOT NULL, data BLOB NOT NULL, CONSTRAINT mlob_rows_incidents_pkey PRIMARY KEY (id, level));
ALTER TABLE mlob_rows_incidents ADD COLUMN sort_key TEXT NOT NULL DEFAULT '';
ALTER TABLE mlob_rows_incidents ADD COLUMN exercise INTEGER NOT NULL DEFAULT 0;
ALTER TABLE mlob_rows_incidents ADD COLUMN keys TEXT NOT NULL DEFAULT '[]';
UPDATE mlob_rows_incidents SET sort_key = (CASE WHEN json_extract(CAST(data AS TEXT), '$.closed') THEN '1' ELSE '0' END) || char(31) || COALESCE(json_extract(CAST(data AS TEXT), '$.title'), ''),
    exercise = COALESCE(json_extract(CAST(data AS TEXT), '$.exercise'), 0),
    keys = (SELECT json_group_array(k) FROM (SELECT 'org:' || value AS k FROM json_each(CAST(data AS TEXT), '$.involved') UNION SELECT 'region:' || value FROM json_each(CAST(data AS TEXT), '$.regions') ORDER BY k));
CREATE INDEX IF NOT EXISTS mlob_rows_incidents_sorted ON mlob_rows_incidents (sort_key, id);
DELETE FROM mlob_view_tracking WHERE name LIKE '%~next';
