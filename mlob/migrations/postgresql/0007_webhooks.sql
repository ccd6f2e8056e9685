-- depends: 0006_list_columns
-- Issue 24: subscriptions' signed webhooks and overdue alerts. Subscriptions themselves are
-- events (mlob:Subscription); what is kept here is what must not be in the event stream (the
-- signing secret, sealed with MLOB_WEBHOOK_KEY) and what the delivery runner derives: its
-- cursor, each subscription's deliveries and their attempts, the alerts (one per subject, step
-- and crossing, across restarts and nodes) and their acknowledgements. Times are epoch seconds.
CREATE TABLE mlob_webhook_secrets (subscription_id text PRIMARY KEY, sealed text NOT NULL,
    rotated_at double precision NOT NULL);
CREATE TABLE mlob_webhook_cursor (name text PRIMARY KEY, position bigint NOT NULL,
    alert_id bigint NOT NULL);
CREATE TABLE mlob_webhook_state (subscription_id text PRIMARY KEY, failing_since double precision,
    delivered_position bigint NOT NULL DEFAULT 0, delivered_alert bigint NOT NULL DEFAULT 0);
CREATE TABLE mlob_webhook_deliveries (id bigserial PRIMARY KEY,
    subscription_id text NOT NULL, webhook_id text NOT NULL, position bigint,
    alert_id bigint, type text NOT NULL, body text NOT NULL, state text NOT NULL,
    attempts bigint NOT NULL DEFAULT 0, created_at double precision NOT NULL, first_attempt_at double precision,
    next_attempt_at double precision, last_status bigint, last_latency_ms double precision, last_error text,
    delivered_at double precision);
CREATE INDEX mlob_webhook_deliveries_queue ON mlob_webhook_deliveries (subscription_id, state, id);
CREATE TABLE mlob_webhook_attempts (id bigserial PRIMARY KEY,
    delivery_id bigint NOT NULL, at double precision NOT NULL, status bigint, latency_ms double precision,
    error text);
CREATE INDEX mlob_webhook_attempts_delivery ON mlob_webhook_attempts (delivery_id, id);
CREATE TABLE mlob_alerts (id bigserial PRIMARY KEY, subject text NOT NULL,
    step text NOT NULL, crossing text NOT NULL, level bigint NOT NULL, orgs text NOT NULL,
    body text NOT NULL, at double precision NOT NULL, UNIQUE (subject, step, crossing));
CREATE TABLE mlob_alert_acks (id bigserial PRIMARY KEY, alert_id bigint NOT NULL,
    org text NOT NULL, role text NOT NULL, person text, token_id text, at double precision NOT NULL,
    UNIQUE (alert_id, org));
