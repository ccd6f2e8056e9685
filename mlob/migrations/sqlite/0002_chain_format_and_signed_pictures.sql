-- depends: 0001_need_to_know
-- Issue 16, defect 6: chain format 2 also hashes the stored event's originator_id,
-- originator_version and topic (mlob/store/chain.py, docs/hash-chain.md). Rows already in the
-- index keep their format-1 hashes; this records the switch: format 2 for every row after
-- after_position, whose hash (the chain's head when the store was upgraded) is head. The
-- switch is signed later, with MLOB_AUDIT_KEY, by the first chain checkpoint that verified the
-- format-1 chain up to it (mlob/audit.py); until then it stays unsigned (NULL).
CREATE TABLE IF NOT EXISTS mlob_chain_formats (format INTEGER PRIMARY KEY,
    after_position INTEGER NOT NULL, head TEXT NOT NULL, signature TEXT, at TEXT NOT NULL);
INSERT INTO mlob_chain_formats (format, after_position, head, signature, at)
    SELECT 2, coalesce((SELECT max(position) FROM mlob_event_index), 0),
        coalesce((SELECT lower(hex(hash)) FROM mlob_event_index ORDER BY position DESC LIMIT 1),
            '0000000000000000000000000000000000000000000000000000000000000000'),
        NULL, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
    WHERE NOT EXISTS (SELECT 1 FROM mlob_chain_formats WHERE format = 2);
-- Issue 16, defect 11: picture checkpoints are signed (mlob/asof.py). content_sha256 is the
-- SHA-256 of the SHA-256s of rows_data, places and states; signature the HMAC-SHA256 with
-- MLOB_AUDIT_KEY over the checkpoint's meta and content_sha256 (NULL: written without the key).
ALTER TABLE mlob_as_of_checkpoints ADD COLUMN content_sha256 TEXT;
ALTER TABLE mlob_as_of_checkpoints ADD COLUMN signature TEXT;
