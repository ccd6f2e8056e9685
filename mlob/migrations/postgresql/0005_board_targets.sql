-- depends: 0004_message_ids_per_organisation
-- Issue 17: the request board's targets, stored so that every process (server, worker, feed)
-- reads the same ones. A change adds a row (when, by whom, the targets): the newest is in
-- force, the earlier rows are its history (mlob board targets).
CREATE TABLE mlob_board_targets (seq bigserial PRIMARY KEY, at timestamptz NOT NULL,
    set_by text NOT NULL, targets text NOT NULL);
