-- depends: 0000_baseline
-- Issue 16 (need to know). Projection rows are kept per subject and clearance level in
-- mlob_rows_<name> (created by the read store; the rows rebuild from the events), so the
-- one-row-per-subject tables go. A change record says the lowest level whose row changed.
-- A refused attempt keeps the refused item's classification; attempts logged before this
-- are taken as the highest level (shown only to readers cleared for everything).
DROP TABLE IF EXISTS mlob_view_requests;
DROP TABLE IF EXISTS mlob_view_capacities;
DROP TABLE IF EXISTS mlob_view_incidents;
ALTER TABLE mlob_view_changes ADD COLUMN level INTEGER NOT NULL DEFAULT 0;
ALTER TABLE mlob_rejections ADD COLUMN classification TEXT NOT NULL DEFAULT 'stg_zeer_geheim';
