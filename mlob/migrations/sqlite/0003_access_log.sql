-- depends: 0001_need_to_know
-- Issue 16: the read-access log. Who opened or received which item above ongerubriceerd,
-- when, through which route or feed channel (GET /v1/access-log, national auditors only).
CREATE TABLE mlob_access_log (id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL,
    org TEXT NOT NULL, role TEXT NOT NULL, person TEXT, token_id TEXT, route TEXT NOT NULL,
    item TEXT NOT NULL, kind TEXT NOT NULL, classification TEXT NOT NULL);
CREATE INDEX mlob_access_log_item ON mlob_access_log (item);
