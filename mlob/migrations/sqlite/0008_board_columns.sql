-- depends: 0007_webhooks
-- Issue 21: the request board and the picture's summary are read in SQL. The requests' rows
-- get what the board selects, orders and counts by (mlob/read/listing.py): whether a row is on
-- the board, its step, urgency, and the moments its deadlines run from in microseconds since
-- the epoch (in its step since, submitted while formalisation is outstanding, the earliest
-- outstanding duty's since); the incidents' rows whether closed and their GRIP level's rank.
-- Filled here from each row's JSON exactly as the read store writes them from now on (moments
-- as Python writes them: six digits of a second's fraction, or none). Every rows table gets
-- until_level: the level of the subject's next higher row (1000: none), so a reader's row is
-- "level <= L < until_level" without looking at the subject's other rows. A rebuild under way
-- starts again (its next rows were written without the columns).

DROP TABLE IF EXISTS mlob_rows_requests__next;
DROP TABLE IF EXISTS mlob_rows_incidents__next;
DROP TABLE IF EXISTS mlob_rows_capacities__next;
ALTER TABLE mlob_rows_requests ADD COLUMN on_board INTEGER;
ALTER TABLE mlob_rows_requests ADD COLUMN step TEXT;
ALTER TABLE mlob_rows_requests ADD COLUMN urgent INTEGER;
ALTER TABLE mlob_rows_requests ADD COLUMN since_us INTEGER;
ALTER TABLE mlob_rows_requests ADD COLUMN formalise_us INTEGER;
ALTER TABLE mlob_rows_requests ADD COLUMN duty_us INTEGER;
UPDATE mlob_rows_requests SET on_board = CASE WHEN json_extract(CAST(data AS TEXT), '$.status') IN ('appealed', 'approved', 'assessed', 'deciding', 'forwarded', 'received', 'submitted') OR COALESCE(json_extract(CAST(data AS TEXT), '$.formalisation_outstanding'), 0) OR json_extract(CAST(data AS TEXT), '$.step') = 'exhaustion_check' OR COALESCE(json_array_length(CAST(data AS TEXT), '$.duties_outstanding'), 0) > 0 THEN 1 ELSE 0 END,
    step = json_extract(CAST(data AS TEXT), '$.step'),
    urgent = CASE WHEN COALESCE(json_extract(CAST(data AS TEXT), '$.urgent'), 0) THEN 1 ELSE 0 END,
    since_us = CASE WHEN COALESCE(json_extract(CAST(data AS TEXT), '$.status_since'), '') = '' THEN NULL ELSE CAST(strftime('%s', json_extract(CAST(data AS TEXT), '$.status_since')) AS INTEGER) * 1000000 + CASE WHEN substr(json_extract(CAST(data AS TEXT), '$.status_since'), 20, 1) = '.' THEN CAST(substr(json_extract(CAST(data AS TEXT), '$.status_since'), 21, 6) AS INTEGER) ELSE 0 END END,
    formalise_us = CASE WHEN COALESCE(json_extract(CAST(data AS TEXT), '$.formalisation_outstanding'), 0) THEN CASE WHEN COALESCE(json_extract(CAST(data AS TEXT), '$.submitted_at'), '') = '' THEN NULL ELSE CAST(strftime('%s', json_extract(CAST(data AS TEXT), '$.submitted_at')) AS INTEGER) * 1000000 + CASE WHEN substr(json_extract(CAST(data AS TEXT), '$.submitted_at'), 20, 1) = '.' THEN CAST(substr(json_extract(CAST(data AS TEXT), '$.submitted_at'), 21, 6) AS INTEGER) ELSE 0 END END END,
    duty_us = (SELECT MIN(CASE WHEN COALESCE(json_extract(value, '$.since'), '') = '' THEN NULL ELSE CAST(strftime('%s', json_extract(value, '$.since')) AS INTEGER) * 1000000 + CASE WHEN substr(json_extract(value, '$.since'), 20, 1) = '.' THEN CAST(substr(json_extract(value, '$.since'), 21, 6) AS INTEGER) ELSE 0 END END) FROM json_each(CAST(data AS TEXT), '$.duties_outstanding'));
CREATE INDEX IF NOT EXISTS mlob_rows_requests_on_board ON mlob_rows_requests (on_board, sort_key, id);
ALTER TABLE mlob_rows_incidents ADD COLUMN closed INTEGER;
ALTER TABLE mlob_rows_incidents ADD COLUMN grip_rank INTEGER;
UPDATE mlob_rows_incidents SET closed = CASE WHEN COALESCE(json_extract(CAST(data AS TEXT), '$.closed'), 0) THEN 1 ELSE 0 END,
    grip_rank = CASE WHEN json_extract(CAST(data AS TEXT), '$.grip') = 'rijk' THEN 6 WHEN json_extract(CAST(data AS TEXT), '$.grip') IN ('0', '1', '2', '3', '4', '5') THEN CAST(json_extract(CAST(data AS TEXT), '$.grip') AS INTEGER) END;
ALTER TABLE mlob_rows_requests ADD COLUMN until_level integer NOT NULL DEFAULT 1000;
UPDATE mlob_rows_requests SET until_level = COALESCE((SELECT MIN(h.level) FROM mlob_rows_requests h WHERE h.id = mlob_rows_requests.id AND h.level > mlob_rows_requests.level), 1000);
ALTER TABLE mlob_rows_incidents ADD COLUMN until_level integer NOT NULL DEFAULT 1000;
UPDATE mlob_rows_incidents SET until_level = COALESCE((SELECT MIN(h.level) FROM mlob_rows_incidents h WHERE h.id = mlob_rows_incidents.id AND h.level > mlob_rows_incidents.level), 1000);
ALTER TABLE mlob_rows_capacities ADD COLUMN until_level integer NOT NULL DEFAULT 1000;
UPDATE mlob_rows_capacities SET until_level = COALESCE((SELECT MIN(h.level) FROM mlob_rows_capacities h WHERE h.id = mlob_rows_capacities.id AND h.level > mlob_rows_capacities.level), 1000);
CREATE INDEX IF NOT EXISTS mlob_rows_requests_summary ON mlob_rows_requests (level, until_level, exercise, kind, status, keys);
DELETE FROM mlob_view_tracking WHERE name LIKE '%~next';
