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
INSERT INTO "_yoyo_log" VALUES('660abc30-f0ff-11f1-a879-02fc00000001','7d66c34072561c1a3b1a2450da906cf95e7ed4cdc56e44d88e4d4e277da26ddf','0000_baseline','apply','root','localhost',NULL,'2026-12-05T22:58:34.451807');
INSERT INTO "_yoyo_log" VALUES('660b616c-f0ff-11f1-a879-02fc00000001','7ae8cfe51cbfd4aa899908a358ba52bb7eeb36eda9de88b9b2709f34ed3be35c','0001_need_to_know','apply','root','localhost',NULL,'2026-12-05T22:58:34.454596');
INSERT INTO "_yoyo_log" VALUES('660bb572-f0ff-11f1-a879-02fc00000001','4f4b9c10b6be13192a5641479f57ce7d3fdb125be4188ef613fef5fa485920ce','0002_chain_format_and_signed_pictures','apply','root','localhost',NULL,'2026-12-05T22:58:34.456725');
INSERT INTO "_yoyo_log" VALUES('660bf776-f0ff-11f1-a879-02fc00000001','7088739e6e3a2d3349d6203828039346d8194b0d6be929f95fa5ad8a72b2f39c','0003_access_log','apply','root','localhost',NULL,'2026-12-05T22:58:34.458407');
INSERT INTO "_yoyo_log" VALUES('660c2df4-f0ff-11f1-a879-02fc00000001','b396274cc45b121933d07f383bb66de48bbcdbd440bbf025406a2eeb9af724a5','0004_message_ids_per_organisation','apply','root','localhost',NULL,'2026-12-05T22:58:34.459789');
INSERT INTO "_yoyo_log" VALUES('660c67d8-f0ff-11f1-a879-02fc00000001','f0572f2388685de5a60227f2f884f92d909ccf977e66b2f8ccc8b5201c5faf08','0005_board_targets','apply','root','localhost',NULL,'2026-12-05T22:58:34.461271');
CREATE TABLE "_yoyo_version" (
            "version" INT NOT NULL PRIMARY KEY,
            "installed_at_utc" TIMESTAMP
        );
INSERT INTO "_yoyo_version" VALUES(2,'2026-12-05 22:58:34.434287');
CREATE TABLE mlob_access_log (id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL,
    org TEXT NOT NULL, role TEXT NOT NULL, person TEXT, token_id TEXT, route TEXT NOT NULL,
    item TEXT NOT NULL, kind TEXT NOT NULL, classification TEXT NOT NULL);
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
INSERT INTO "mlob_chain_formats" VALUES(2,0,'0000000000000000000000000000000000000000000000000000000000000000',NULL,'2026-12-05T22:58:34.455Z');
CREATE TABLE mlob_event_index (position INTEGER PRIMARY KEY, stream_id TEXT NOT NULL, version INTEGER NOT NULL, event_type TEXT NOT NULL, occurred_at TEXT NOT NULL, recorded_at TEXT NOT NULL, actor_org TEXT NOT NULL, actor_role TEXT NOT NULL, actor_person TEXT, authority TEXT, regions TEXT NOT NULL, classification TEXT NOT NULL, exercise INTEGER NOT NULL, message_id TEXT NOT NULL, correlation_id TEXT, causation_id TEXT, hash BLOB NOT NULL, UNIQUE (stream_id, version));
CREATE TABLE mlob_messages (message_id TEXT PRIMARY KEY, digest TEXT NOT NULL, first_position INTEGER NOT NULL);
CREATE TABLE "mlob_migrations" (
            "migration_hash" VARCHAR(64),
            "migration_id" VARCHAR(255),
            "applied_at_utc" TIMESTAMP,
            PRIMARY KEY ("migration_hash")
        );
INSERT INTO "mlob_migrations" VALUES('7d66c34072561c1a3b1a2450da906cf95e7ed4cdc56e44d88e4d4e277da26ddf','0000_baseline','2026-12-05T22:58:34.452682');
INSERT INTO "mlob_migrations" VALUES('7ae8cfe51cbfd4aa899908a358ba52bb7eeb36eda9de88b9b2709f34ed3be35c','0001_need_to_know','2026-12-05T22:58:34.455083');
INSERT INTO "mlob_migrations" VALUES('4f4b9c10b6be13192a5641479f57ce7d3fdb125be4188ef613fef5fa485920ce','0002_chain_format_and_signed_pictures','2026-12-05T22:58:34.457203');
INSERT INTO "mlob_migrations" VALUES('7088739e6e3a2d3349d6203828039346d8194b0d6be929f95fa5ad8a72b2f39c','0003_access_log','2026-12-05T22:58:34.458861');
INSERT INTO "mlob_migrations" VALUES('b396274cc45b121933d07f383bb66de48bbcdbd440bbf025406a2eeb9af724a5','0004_message_ids_per_organisation','2026-12-05T22:58:34.460210');
INSERT INTO "mlob_migrations" VALUES('f0572f2388685de5a60227f2f884f92d909ccf977e66b2f8ccc8b5201c5faf08','0005_board_targets','2026-12-05T22:58:34.461755');
CREATE TABLE mlob_rejections (id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, org TEXT, role TEXT, person TEXT, event_type TEXT, subject TEXT, message_id TEXT, item_index INTEGER, status INTEGER NOT NULL, code TEXT NOT NULL, reason TEXT NOT NULL, source TEXT, classification TEXT NOT NULL DEFAULT 'stg_zeer_geheim');
CREATE TABLE mlob_view_changes (seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL, source TEXT NOT NULL, key TEXT NOT NULL, position INTEGER NOT NULL,
    what TEXT NOT NULL, level INTEGER NOT NULL DEFAULT 0);
CREATE TABLE mlob_view_tracking (name TEXT PRIMARY KEY,
    position INTEGER NOT NULL, version TEXT NOT NULL, updated_at TEXT);
CREATE TABLE stored_events (originator_id TEXT, originator_version INTEGER, topic TEXT, state BLOB, PRIMARY KEY (originator_id, originator_version));
CREATE TABLE "yoyo_lock" ("locked" INT DEFAULT 1, "ctime" TIMESTAMP,"pid" INT NOT NULL,PRIMARY KEY ("locked"));
CREATE INDEX mlob_event_index_occurred ON mlob_event_index (occurred_at);
CREATE INDEX mlob_event_index_message ON mlob_event_index (message_id);
CREATE INDEX mlob_access_log_item ON mlob_access_log (item);
DELETE FROM "sqlite_sequence";
COMMIT;
