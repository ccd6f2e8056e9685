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
ALTER TABLE mlob_rows_requests ADD COLUMN on_board bigint, ADD COLUMN step TEXT, ADD COLUMN urgent bigint, ADD COLUMN since_us bigint, ADD COLUMN formalise_us bigint, ADD COLUMN duty_us bigint;
UPDATE mlob_rows_requests SET on_board = CASE WHEN data->>'status' IN ('appealed', 'approved', 'assessed', 'deciding', 'forwarded', 'received', 'submitted') OR COALESCE((data->>'formalisation_outstanding')::boolean, false) OR data->>'step' = 'exhaustion_check' OR jsonb_array_length(CASE WHEN jsonb_typeof(data->'duties_outstanding') = 'array' THEN data->'duties_outstanding' ELSE '[]'::jsonb END) > 0 THEN 1 ELSE 0 END,
    step = data->>'step',
    urgent = CASE WHEN COALESCE((data->>'urgent')::boolean, false) THEN 1 ELSE 0 END,
    since_us = (extract(epoch FROM NULLIF(data->>'status_since', '')::timestamptz) * 1000000)::bigint,
    formalise_us = CASE WHEN COALESCE((data->>'formalisation_outstanding')::boolean, false) THEN (extract(epoch FROM NULLIF(data->>'submitted_at', '')::timestamptz) * 1000000)::bigint END,
    duty_us = (SELECT MIN((extract(epoch FROM NULLIF(d->>'since', '')::timestamptz) * 1000000)::bigint) FROM jsonb_array_elements(CASE WHEN jsonb_typeof(data->'duties_outstanding') = 'array' THEN data->'duties_outstanding' ELSE '[]'::jsonb END) d);
CREATE INDEX IF NOT EXISTS mlob_rows_requests_on_board ON mlob_rows_requests (on_board, sort_key, id);
ALTER TABLE mlob_rows_incidents ADD COLUMN closed bigint, ADD COLUMN grip_rank bigint;
UPDATE mlob_rows_incidents SET closed = CASE WHEN COALESCE((data->>'closed')::boolean, false) THEN 1 ELSE 0 END,
    grip_rank = CASE WHEN data->>'grip' = 'rijk' THEN 6 WHEN data->>'grip' IN ('0', '1', '2', '3', '4', '5') THEN (data->>'grip')::bigint END;
ALTER TABLE mlob_rows_requests ADD COLUMN until_level integer NOT NULL DEFAULT 1000;
UPDATE mlob_rows_requests SET until_level = COALESCE((SELECT MIN(h.level) FROM mlob_rows_requests h WHERE h.id = mlob_rows_requests.id AND h.level > mlob_rows_requests.level), 1000);
ALTER TABLE mlob_rows_incidents ADD COLUMN until_level integer NOT NULL DEFAULT 1000;
UPDATE mlob_rows_incidents SET until_level = COALESCE((SELECT MIN(h.level) FROM mlob_rows_incidents h WHERE h.id = mlob_rows_incidents.id AND h.level > mlob_rows_incidents.level), 1000);
ALTER TABLE mlob_rows_capacities ADD COLUMN until_level integer NOT NULL DEFAULT 1000;
UPDATE mlob_rows_capacities SET until_level = COALESCE((SELECT MIN(h.level) FROM mlob_rows_capacities h WHERE h.id = mlob_rows_capacities.id AND h.level > mlob_rows_capacities.level), 1000);
CREATE INDEX IF NOT EXISTS mlob_rows_requests_summary ON mlob_rows_requests (level, until_level, exercise) INCLUDE (kind, status, keys);
DELETE FROM mlob_view_tracking WHERE name LIKE '%~next';
