-- depends: 0001_need_to_know
-- Issue 16: the read-access log. Who opened or received which item above ongerubriceerd,
-- when, through which route or feed channel (GET /v1/access-log, national auditors only).
CREATE TABLE mlob_access_log (id bigserial PRIMARY KEY, at timestamptz NOT NULL,
    org text NOT NULL, role text NOT NULL, person text, token_id text, route text NOT NULL,
    item text NOT NULL, kind text NOT NULL, classification text NOT NULL);
CREATE INDEX mlob_access_log_item ON mlob_access_log (item);
