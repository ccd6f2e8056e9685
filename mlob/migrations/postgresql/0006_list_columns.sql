-- depends: 0005_board_targets
-- Issue 21: lists page in SQL. Each projection's rows table (made here now, at its earlier
-- shape, if the read store has not made it yet) gets the columns its lists filter and sort on
-- (mlob/read/listing.py): the order's key, the exercise flag, the row's scope keys
-- (domain.policy.row_keys: "org:<involved>", "region:<region>"), and per projection its filter
-- columns; filled here from each row's JSON, then kept by the read store with every row.
-- A rebuild under way starts again (its next rows were written without the columns).

DROP TABLE IF EXISTS mlob_rows_requests__next;
CREATE TABLE IF NOT EXISTS mlob_rows_requests (id TEXT NOT NULL, level integer NOT NULL, position bigint NOT NULL, data jsonb NOT NULL, CONSTRAINT mlob_rows_requests_pkey PRIMARY KEY (id, level));
ALTER TABLE mlob_rows_requests ADD COLUMN sort_key text COLLATE "C" NOT NULL DEFAULT '', ADD COLUMN exercise boolean NOT NULL DEFAULT false, ADD COLUMN keys text[] NOT NULL DEFAULT '{}', ADD COLUMN kind TEXT, ADD COLUMN status TEXT, ADD COLUMN incident_id TEXT, ADD COLUMN search TEXT;
UPDATE mlob_rows_requests SET sort_key = COALESCE(to_char((data->>'status_since')::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), ''),
    exercise = COALESCE((data->>'exercise')::boolean, false),
    keys = ARRAY(SELECT k FROM (SELECT 'org:' || jsonb_array_elements_text(COALESCE(data->'involved', '[]'::jsonb)) AS k UNION SELECT 'region:' || jsonb_array_elements_text(COALESCE(data->'regions', '[]'::jsonb))) u ORDER BY k),
    kind = data->>'kind',
    status = data->>'status',
    incident_id = data->>'incident_id',
    search = lower(COALESCE(data->>'title', ''));
CREATE INDEX IF NOT EXISTS mlob_rows_requests_sorted ON mlob_rows_requests (sort_key, id);
CREATE INDEX IF NOT EXISTS mlob_rows_requests_kind ON mlob_rows_requests (kind, sort_key, id);
CREATE INDEX IF NOT EXISTS mlob_rows_requests_status ON mlob_rows_requests (status, sort_key, id);
CREATE INDEX IF NOT EXISTS mlob_rows_requests_incident_id ON mlob_rows_requests (incident_id, sort_key, id);
CREATE INDEX IF NOT EXISTS mlob_rows_requests_keys ON mlob_rows_requests USING gin (keys);
DROP TABLE IF EXISTS mlob_rows_capacities__next;
CREATE TABLE IF NOT EXISTS mlob_rows_capacities (id TEXT NOT NULL, level integer NOT NULL, position bigint NOT NULL, data jsonb NOT NULL, CONSTRAINT mlob_rows_capacities_pkey PRIMARY KEY (id, level));
ALTER TABLE mlob_rows_capacities ADD COLUMN sort_key text COLLATE "C" NOT NULL DEFAULT '', ADD COLUMN exercise boolean NOT NULL DEFAULT false, ADD COLUMN keys text[] NOT NULL DEFAULT '{}', ADD COLUMN capability TEXT, ADD COLUMN provider TEXT;
UPDATE mlob_rows_capacities SET sort_key = COALESCE(data->>'capability', '') || chr(31) || COALESCE(data->>'provider', '') || chr(31) || COALESCE(data->>'name', ''),
    exercise = COALESCE((data->>'exercise')::boolean, false),
    keys = ARRAY(SELECT k FROM (SELECT 'org:' || jsonb_array_elements_text(COALESCE(data->'involved', '[]'::jsonb)) AS k UNION SELECT 'region:' || jsonb_array_elements_text(COALESCE(data->'regions', '[]'::jsonb))) u ORDER BY k),
    capability = data->>'capability',
    provider = data->>'provider';
CREATE INDEX IF NOT EXISTS mlob_rows_capacities_sorted ON mlob_rows_capacities (sort_key, id);
CREATE INDEX IF NOT EXISTS mlob_rows_capacities_capability ON mlob_rows_capacities (capability, sort_key, id);
CREATE INDEX IF NOT EXISTS mlob_rows_capacities_provider ON mlob_rows_capacities (provider, sort_key, id);
CREATE INDEX IF NOT EXISTS mlob_rows_capacities_keys ON mlob_rows_capacities USING gin (keys);
DROP TABLE IF EXISTS mlob_rows_incidents__next;
CREATE TABLE IF NOT EXISTS mlob_rows_incidents (id TEXT NOT NULL, level integer NOT NULL, position bigint NOT NULL, data jsonb NOT NULL, CONSTRAINT mlob_rows_incidents_pkey PRIMARY KEY (id, level));
ALTER TABLE mlob_rows_incidents ADD COLUMN sort_key text COLLATE "C" NOT NULL DEFAULT '', ADD COLUMN exercise boolean NOT NULL DEFAULT false, ADD COLUMN keys text[] NOT NULL DEFAULT '{}';
UPDATE mlob_rows_incidents SET sort_key = (CASE WHEN (data->>'closed')::boolean THEN '1' ELSE '0' END) || chr(31) || COALESCE(data->>'title', ''),
    exercise = COALESCE((data->>'exercise')::boolean, false),
    keys = ARRAY(SELECT k FROM (SELECT 'org:' || jsonb_array_elements_text(COALESCE(data->'involved', '[]'::jsonb)) AS k UNION SELECT 'region:' || jsonb_array_elements_text(COALESCE(data->'regions', '[]'::jsonb))) u ORDER BY k);
CREATE INDEX IF NOT EXISTS mlob_rows_incidents_sorted ON mlob_rows_incidents (sort_key, id);
CREATE INDEX IF NOT EXISTS mlob_rows_incidents_keys ON mlob_rows_incidents USING gin (keys);
DELETE FROM mlob_view_tracking WHERE name LIKE '%~next';
