-- depends: 0006_list_columns
-- Issue 24: subscriptions' signed webhooks and overdue alerts. Subscriptions themselves are
-- events (mlob:Subscription); what is kept here is what must not be in the event stream (the
-- signing secret, sealed with MLOB_WEBHOOK_KEY) and what the delivery runner derives: its
-- cursor, each subscription's deliveries and their attempts, the alerts (one per subject, step
-- and crossing, across restarts and nodes) and their acknowledgements. Times are epoch seconds.
CREATE TABLE mlob_webhook_secrets (subscription_id TEXT PRIMARY KEY, sealed TEXT NOT NULL,
    rotated_at REAL NOT NULL);
CREATE TABLE mlob_webhook_cursor (name TEXT PRIMARY KEY, position INTEGER NOT NULL,
    alert_id INTEGER NOT NULL);
CREATE TABLE mlob_webhook_state (subscription_id TEXT PRIMARY KEY, failing_since REAL,
    delivered_position INTEGER NOT NULL DEFAULT 0, delivered_alert INTEGER NOT NULL DEFAULT 0);
CREATE TABLE mlob_webhook_deliveries (id INTEGER PRIMARY KEY AUTOINCREMENT,
    subscription_id TEXT NOT NULL, webhook_id TEXT NOT NULL, position INTEGER,
    alert_id INTEGER, type TEXT NOT NULL, body TEXT NOT NULL, state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, created_at REAL NOT NULL, first_attempt_at REAL,
    next_attempt_at REAL, last_status INTEGER, last_latency_ms REAL, last_error TEXT,
    delivered_at REAL);
CREATE INDEX mlob_webhook_deliveries_queue ON mlob_webhook_deliveries (subscription_id, state, id);
CREATE TABLE mlob_webhook_attempts (id INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id INTEGER NOT NULL, at REAL NOT NULL, status INTEGER, latency_ms REAL,
    error TEXT);
CREATE INDEX mlob_webhook_attempts_delivery ON mlob_webhook_attempts (delivery_id, id);
CREATE TABLE mlob_alerts (id INTEGER PRIMARY KEY AUTOINCREMENT, subject TEXT NOT NULL,
    step TEXT NOT NULL, crossing TEXT NOT NULL, level INTEGER NOT NULL, orgs TEXT NOT NULL,
    body TEXT NOT NULL, at REAL NOT NULL, UNIQUE (subject, step, crossing));
CREATE TABLE mlob_alert_acks (id INTEGER PRIMARY KEY AUTOINCREMENT, alert_id INTEGER NOT NULL,
    org TEXT NOT NULL, role TEXT NOT NULL, person TEXT, token_id TEXT, at REAL NOT NULL,
    UNIQUE (alert_id, org));
