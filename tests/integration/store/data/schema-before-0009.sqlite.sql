BEGIN TRANSACTION;
CREATE TABLE "_yoyo_log" (
            "id" VARCHAR(36),
            "migration_hash" VARCHAR(64),
            "migration_id" VARCHAR(255),
            "operation" VARCHAR(10),
            "username" VARCHAR(255),
            "hostname" VARCHAR(255),
            "comment" VARCHAR(255),
            "created_at_utc" TIMESTAMP,
            PRIMARY KEY ("id")
        );
INSERT INTO "_yoyo_log" VALUES('0fd5e7e6-f13f-11f1-8928-02fc00000001','7d66c34072561c1a3b1a2450da906cf95e7ed4cdc56e44d88e4d4e277da26ddf','0000_baseline','apply','root','localhost',NULL,'2026-12-06T06:34:17.611877');
INSERT INTO "_yoyo_log" VALUES('0fd69394-f13f-11f1-8928-02fc00000001','7ae8cfe51cbfd4aa899908a358ba52bb7eeb36eda9de88b9b2709f34ed3be35c','0001_need_to_know','apply','root','localhost',NULL,'2026-12-06T06:34:17.615125');
INSERT INTO "_yoyo_log" VALUES('0fd6d20a-f13f-11f1-8928-02fc00000001','4f4b9c10b6be13192a5641479f57ce7d3fdb125be4188ef613fef5fa485920ce','0002_chain_format_and_signed_pictures','apply','root','localhost',NULL,'2026-12-06T06:34:17.616715');
INSERT INTO "_yoyo_log" VALUES('0fd702d4-f13f-11f1-8928-02fc00000001','7088739e6e3a2d3349d6203828039346d8194b0d6be929f95fa5ad8a72b2f39c','0003_access_log','apply','root','localhost',NULL,'2026-12-06T06:34:17.617966');
INSERT INTO "_yoyo_log" VALUES('0fd7252a-f13f-11f1-8928-02fc00000001','b396274cc45b121933d07f383bb66de48bbcdbd440bbf025406a2eeb9af724a5','0004_message_ids_per_organisation','apply','root','localhost',NULL,'2026-12-06T06:34:17.618835');
INSERT INTO "_yoyo_log" VALUES('0fd77dfe-f13f-11f1-8928-02fc00000001','f0572f2388685de5a60227f2f884f92d909ccf977e66b2f8ccc8b5201c5faf08','0005_board_targets','apply','root','localhost',NULL,'2026-12-06T06:34:17.621184');
INSERT INTO "_yoyo_log" VALUES('0fd88186-f13f-11f1-8928-02fc00000001','8cabe076ad3bd0f8b93fdc6c8cb149f570ef45b0fc58ed155e708ebbd91e3593','0006_list_columns','apply','root','localhost',NULL,'2026-12-06T06:34:17.627796');
INSERT INTO "_yoyo_log" VALUES('0fd962d6-f13f-11f1-8928-02fc00000001','5c86d00d385ee6b8c0234c94d61b43d6a5220525c644f23905c3e8424c995bf4','0007_webhooks','apply','root','localhost',NULL,'2026-12-06T06:34:17.633771');
INSERT INTO "_yoyo_log" VALUES('0fda6c30-f13f-11f1-8928-02fc00000001','ce6a6ba3affcea3d40b8c2a516e621cb0392d408fa848dfdbad3c1038d1958aa','0008_board_columns','apply','root','localhost',NULL,'2026-12-06T06:34:17.640356');
CREATE TABLE "_yoyo_version" (
            "version" INT NOT NULL PRIMARY KEY,
            "installed_at_utc" TIMESTAMP
        );
INSERT INTO "_yoyo_version" VALUES(2,'2026-12-06 06:34:17.608663');
CREATE TABLE mlob_access_log (id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL,
    org TEXT NOT NULL, role TEXT NOT NULL, person TEXT, token_id TEXT, route TEXT NOT NULL,
    item TEXT NOT NULL, kind TEXT NOT NULL, classification TEXT NOT NULL);
CREATE TABLE mlob_alert_acks (id INTEGER PRIMARY KEY AUTOINCREMENT, alert_id INTEGER NOT NULL,
    org TEXT NOT NULL, role TEXT NOT NULL, person TEXT, token_id TEXT, at REAL NOT NULL,
    UNIQUE (alert_id, org));
CREATE TABLE mlob_alerts (id INTEGER PRIMARY KEY AUTOINCREMENT, subject TEXT NOT NULL,
    step TEXT NOT NULL, crossing TEXT NOT NULL, level INTEGER NOT NULL, orgs TEXT NOT NULL,
    body TEXT NOT NULL, at REAL NOT NULL, UNIQUE (subject, step, crossing));
CREATE TABLE mlob_as_of_checkpoints (position bigint PRIMARY KEY,
    version text NOT NULL, recorded_min text NOT NULL, recorded_max text NOT NULL,
    occurred_min text NOT NULL, occurred_max text NOT NULL, at text NOT NULL,
    size bigint NOT NULL, rows_data BLOB NOT NULL, places BLOB NOT NULL, states BLOB NOT NULL, content_sha256 TEXT, signature TEXT);
CREATE TABLE mlob_board_targets (seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL,
    set_by TEXT NOT NULL, targets TEXT NOT NULL);
CREATE TABLE mlob_chain_checkpoints (position bigint PRIMARY KEY,
    head text NOT NULL, signature text NOT NULL, at text NOT NULL);
CREATE TABLE mlob_chain_formats (format INTEGER PRIMARY KEY,
    after_position INTEGER NOT NULL, head TEXT NOT NULL, signature TEXT, at TEXT NOT NULL);
INSERT INTO "mlob_chain_formats" VALUES(2,0,'0000000000000000000000000000000000000000000000000000000000000000',NULL,'2026-12-06T06:34:17.616Z');
CREATE TABLE mlob_event_index (position INTEGER PRIMARY KEY, stream_id TEXT NOT NULL, version INTEGER NOT NULL, event_type TEXT NOT NULL, occurred_at TEXT NOT NULL, recorded_at TEXT NOT NULL, actor_org TEXT NOT NULL, actor_role TEXT NOT NULL, actor_person TEXT, authority TEXT, regions TEXT NOT NULL, classification TEXT NOT NULL, exercise INTEGER NOT NULL, message_id TEXT NOT NULL, correlation_id TEXT, causation_id TEXT, hash BLOB NOT NULL, UNIQUE (stream_id, version));
CREATE TABLE mlob_messages (message_id TEXT PRIMARY KEY, digest TEXT NOT NULL, first_position INTEGER NOT NULL);
CREATE TABLE "mlob_migrations" (
            "migration_hash" VARCHAR(64),
            "migration_id" VARCHAR(255),
            "applied_at_utc" TIMESTAMP,
            PRIMARY KEY ("migration_hash")
        );
INSERT INTO "mlob_migrations" VALUES('7d66c34072561c1a3b1a2450da906cf95e7ed4cdc56e44d88e4d4e277da26ddf','0000_baseline','2026-12-06T06:34:17.613806');
INSERT INTO "mlob_migrations" VALUES('7ae8cfe51cbfd4aa899908a358ba52bb7eeb36eda9de88b9b2709f34ed3be35c','0001_need_to_know','2026-12-06T06:34:17.615504');
INSERT INTO "mlob_migrations" VALUES('4f4b9c10b6be13192a5641479f57ce7d3fdb125be4188ef613fef5fa485920ce','0002_chain_format_and_signed_pictures','2026-12-06T06:34:17.617075');
INSERT INTO "mlob_migrations" VALUES('7088739e6e3a2d3349d6203828039346d8194b0d6be929f95fa5ad8a72b2f39c','0003_access_log','2026-12-06T06:34:17.618302');
INSERT INTO "mlob_migrations" VALUES('b396274cc45b121933d07f383bb66de48bbcdbd440bbf025406a2eeb9af724a5','0004_message_ids_per_organisation','2026-12-06T06:34:17.619125');
INSERT INTO "mlob_migrations" VALUES('f0572f2388685de5a60227f2f884f92d909ccf977e66b2f8ccc8b5201c5faf08','0005_board_targets','2026-12-06T06:34:17.622105');
INSERT INTO "mlob_migrations" VALUES('8cabe076ad3bd0f8b93fdc6c8cb149f570ef45b0fc58ed155e708ebbd91e3593','0006_list_columns','2026-12-06T06:34:17.628163');
INSERT INTO "mlob_migrations" VALUES('5c86d00d385ee6b8c0234c94d61b43d6a5220525c644f23905c3e8424c995bf4','0007_webhooks','2026-12-06T06:34:17.634901');
INSERT INTO "mlob_migrations" VALUES('ce6a6ba3affcea3d40b8c2a516e621cb0392d408fa848dfdbad3c1038d1958aa','0008_board_columns','2026-12-06T06:34:17.641069');
CREATE TABLE mlob_rejections (id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, org TEXT, role TEXT, person TEXT, event_type TEXT, subject TEXT, message_id TEXT, item_index INTEGER, status INTEGER NOT NULL, code TEXT NOT NULL, reason TEXT NOT NULL, source TEXT, classification TEXT NOT NULL DEFAULT 'stg_zeer_geheim');
CREATE TABLE mlob_rows_capacities (id TEXT NOT NULL, level integer NOT NULL, position INTEGER NOT NULL, data BLOB NOT NULL, sort_key TEXT NOT NULL DEFAULT '', exercise INTEGER NOT NULL DEFAULT 0, keys TEXT NOT NULL DEFAULT '[]', capability TEXT, provider TEXT, until_level integer NOT NULL DEFAULT 1000, CONSTRAINT mlob_rows_capacities_pkey PRIMARY KEY (id, level));
CREATE TABLE mlob_rows_incidents (id TEXT NOT NULL, level integer NOT NULL, position INTEGER NOT NULL, data BLOB NOT NULL, sort_key TEXT NOT NULL DEFAULT '', exercise INTEGER NOT NULL DEFAULT 0, keys TEXT NOT NULL DEFAULT '[]', closed INTEGER, grip_rank INTEGER, until_level integer NOT NULL DEFAULT 1000, CONSTRAINT mlob_rows_incidents_pkey PRIMARY KEY (id, level));
CREATE TABLE mlob_rows_requests (id TEXT NOT NULL, level integer NOT NULL, position INTEGER NOT NULL, data BLOB NOT NULL, sort_key TEXT NOT NULL DEFAULT '', exercise INTEGER NOT NULL DEFAULT 0, keys TEXT NOT NULL DEFAULT '[]', kind TEXT, status TEXT, incident_id TEXT, search TEXT, on_board INTEGER, step TEXT, urgent INTEGER, since_us INTEGER, formalise_us INTEGER, duty_us INTEGER, until_level integer NOT NULL DEFAULT 1000, CONSTRAINT mlob_rows_requests_pkey PRIMARY KEY (id, level));
CREATE TABLE mlob_view_changes (seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL, source TEXT NOT NULL, key TEXT NOT NULL, position INTEGER NOT NULL,
    what TEXT NOT NULL, level INTEGER NOT NULL DEFAULT 0);
CREATE TABLE mlob_view_tracking (name TEXT PRIMARY KEY,
    position INTEGER NOT NULL, version TEXT NOT NULL, updated_at TEXT);
CREATE TABLE mlob_webhook_attempts (id INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id INTEGER NOT NULL, at REAL NOT NULL, status INTEGER, latency_ms REAL,
    error TEXT);
CREATE TABLE mlob_webhook_cursor (name TEXT PRIMARY KEY, position INTEGER NOT NULL,
    alert_id INTEGER NOT NULL);
CREATE TABLE mlob_webhook_deliveries (id INTEGER PRIMARY KEY AUTOINCREMENT,
    subscription_id TEXT NOT NULL, webhook_id TEXT NOT NULL, position INTEGER,
    alert_id INTEGER, type TEXT NOT NULL, body TEXT NOT NULL, state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, created_at REAL NOT NULL, first_attempt_at REAL,
    next_attempt_at REAL, last_status INTEGER, last_latency_ms REAL, last_error TEXT,
    delivered_at REAL);
CREATE TABLE mlob_webhook_secrets (subscription_id TEXT PRIMARY KEY, sealed TEXT NOT NULL,
    rotated_at REAL NOT NULL);
CREATE TABLE mlob_webhook_state (subscription_id TEXT PRIMARY KEY, failing_since REAL,
    delivered_position INTEGER NOT NULL DEFAULT 0, delivered_alert INTEGER NOT NULL DEFAULT 0);
CREATE TABLE stored_events (originator_id TEXT, originator_version INTEGER, topic TEXT, state BLOB, PRIMARY KEY (originator_id, originator_version));
CREATE TABLE "yoyo_lock" ("locked" INT DEFAULT 1, "ctime" TIMESTAMP,"pid" INT NOT NULL,PRIMARY KEY ("locked"));
CREATE INDEX mlob_event_index_occurred ON mlob_event_index (occurred_at);
CREATE INDEX mlob_event_index_message ON mlob_event_index (message_id);
CREATE INDEX mlob_access_log_item ON mlob_access_log (item);
CREATE INDEX mlob_rows_requests_sorted ON mlob_rows_requests (sort_key, id);
CREATE INDEX mlob_rows_requests_kind ON mlob_rows_requests (kind, sort_key, id);
CREATE INDEX mlob_rows_requests_status ON mlob_rows_requests (status, sort_key, id);
CREATE INDEX mlob_rows_requests_incident_id ON mlob_rows_requests (incident_id, sort_key, id);
CREATE INDEX mlob_rows_capacities_sorted ON mlob_rows_capacities (sort_key, id);
CREATE INDEX mlob_rows_capacities_capability ON mlob_rows_capacities (capability, sort_key, id);
CREATE INDEX mlob_rows_capacities_provider ON mlob_rows_capacities (provider, sort_key, id);
CREATE INDEX mlob_rows_incidents_sorted ON mlob_rows_incidents (sort_key, id);
CREATE INDEX mlob_webhook_deliveries_queue ON mlob_webhook_deliveries (subscription_id, state, id);
CREATE INDEX mlob_webhook_attempts_delivery ON mlob_webhook_attempts (delivery_id, id);
CREATE INDEX mlob_rows_requests_on_board ON mlob_rows_requests (on_board, sort_key, id);
CREATE INDEX mlob_rows_requests_summary ON mlob_rows_requests (level, until_level, exercise, kind, status, keys);
DELETE FROM "sqlite_sequence";
COMMIT;
