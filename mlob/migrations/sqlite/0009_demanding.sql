-- depends: 0008_board_columns
-- The capacity overview and the scarcity advice read only the requests whose wants count as
-- demand (and the few others they ask about) in SQL: the requests' rows get ``demanding``
-- (mlob/read/listing.py), 1 or 0, filled here from each row's JSON exactly as the read store
-- writes it from now on (projections.readmodels.demanding: the row's own ``demanding``; rows
-- written before the domain's rule was kept in them, by their status). A rebuild under way
-- starts again (its next rows were written without the column), as after 0008.

DROP TABLE IF EXISTS mlob_rows_requests__next;
DROP TABLE IF EXISTS mlob_rows_incidents__next;
DROP TABLE IF EXISTS mlob_rows_capacities__next;
ALTER TABLE mlob_rows_requests ADD COLUMN demanding INTEGER;
UPDATE mlob_rows_requests SET demanding = CASE WHEN json_type(CAST(data AS TEXT), '$.demanding') IS NOT NULL THEN CASE WHEN COALESCE(json_extract(CAST(data AS TEXT), '$.demanding'), 0) THEN 1 ELSE 0 END WHEN json_extract(CAST(data AS TEXT), '$.status') IN ('approved', 'assessed', 'deciding', 'forwarded', 'received', 'submitted') THEN 1 ELSE 0 END;
CREATE INDEX IF NOT EXISTS mlob_rows_requests_demanding ON mlob_rows_requests (demanding, sort_key, id);
DELETE FROM mlob_view_tracking WHERE name LIKE '%~next';
