--
-- PostgreSQL database dump
--

\restrict ct2IfSBFfnZobkUAM3MdV9Ph8XY2fsVGfncuOSJC1S8Y1WQOjd5dLJT8H9RLrkt

-- Dumped from database version 15.20 (Debian 15.20-0+deb12u1)
-- Dumped by pg_dump version 15.20 (Debian 15.20-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: SCHEMA_NAME; Type: SCHEMA; Schema: -; Owner: -
--

CREATE SCHEMA SCHEMA_NAME;


--
-- Name: stored_event_uuid; Type: TYPE; Schema: SCHEMA_NAME; Owner: -
--

CREATE TYPE SCHEMA_NAME.stored_event_uuid AS (
	originator_id uuid,
	originator_version bigint,
	topic text,
	state bytea
);


--
-- Name: es_insert_events_uuid(SCHEMA_NAME.stored_event_uuid[]); Type: FUNCTION; Schema: SCHEMA_NAME; Owner: -
--

CREATE FUNCTION SCHEMA_NAME.es_insert_events_uuid(events SCHEMA_NAME.stored_event_uuid[]) RETURNS SETOF bigint
    LANGUAGE plpgsql
    AS $$BEGIN    SET LOCAL lock_timeout = '10s';    NOTIFY "mlob_events";    RETURN QUERY    INSERT INTO SCHEMA_NAME."mlob_events" AS t (    originator_id, originator_version, topic, state)    SELECT originator_id, originator_version, topic, state    FROM unnest(events)    RETURNING notification_id;END;$$;


SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: _yoyo_log; Type: TABLE; Schema: SCHEMA_NAME; Owner: -
--

CREATE TABLE SCHEMA_NAME._yoyo_log (
    id character varying(36) NOT NULL,
    migration_hash character varying(64),
    migration_id character varying(255),
    operation character varying(10),
    username character varying(255),
    hostname character varying(255),
    comment character varying(255),
    created_at_utc timestamp without time zone
);


--
-- Name: _yoyo_version; Type: TABLE; Schema: SCHEMA_NAME; Owner: -
--

CREATE TABLE SCHEMA_NAME._yoyo_version (
    version integer NOT NULL,
    installed_at_utc timestamp without time zone
);


--
-- Name: mlob_access_log; Type: TABLE; Schema: SCHEMA_NAME; Owner: -
--

CREATE TABLE SCHEMA_NAME.mlob_access_log (
    id bigint NOT NULL,
    at timestamp with time zone NOT NULL,
    org text NOT NULL,
    role text NOT NULL,
    person text,
    token_id text,
    route text NOT NULL,
    item text NOT NULL,
    kind text NOT NULL,
    classification text NOT NULL
);


--
-- Name: mlob_access_log_id_seq; Type: SEQUENCE; Schema: SCHEMA_NAME; Owner: -
--

CREATE SEQUENCE SCHEMA_NAME.mlob_access_log_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: mlob_access_log_id_seq; Type: SEQUENCE OWNED BY; Schema: SCHEMA_NAME; Owner: -
--

ALTER SEQUENCE SCHEMA_NAME.mlob_access_log_id_seq OWNED BY SCHEMA_NAME.mlob_access_log.id;


--
-- Name: mlob_alert_acks; Type: TABLE; Schema: SCHEMA_NAME; Owner: -
--

CREATE TABLE SCHEMA_NAME.mlob_alert_acks (
    id bigint NOT NULL,
    alert_id bigint NOT NULL,
    org text NOT NULL,
    role text NOT NULL,
    person text,
    token_id text,
    at double precision NOT NULL
);


--
-- Name: mlob_alert_acks_id_seq; Type: SEQUENCE; Schema: SCHEMA_NAME; Owner: -
--

CREATE SEQUENCE SCHEMA_NAME.mlob_alert_acks_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: mlob_alert_acks_id_seq; Type: SEQUENCE OWNED BY; Schema: SCHEMA_NAME; Owner: -
--

ALTER SEQUENCE SCHEMA_NAME.mlob_alert_acks_id_seq OWNED BY SCHEMA_NAME.mlob_alert_acks.id;


--
-- Name: mlob_alerts; Type: TABLE; Schema: SCHEMA_NAME; Owner: -
--

CREATE TABLE SCHEMA_NAME.mlob_alerts (
    id bigint NOT NULL,
    subject text NOT NULL,
    step text NOT NULL,
    crossing text NOT NULL,
    level bigint NOT NULL,
    orgs text NOT NULL,
    body text NOT NULL,
    at double precision NOT NULL
);


--
-- Name: mlob_alerts_id_seq; Type: SEQUENCE; Schema: SCHEMA_NAME; Owner: -
--

CREATE SEQUENCE SCHEMA_NAME.mlob_alerts_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: mlob_alerts_id_seq; Type: SEQUENCE OWNED BY; Schema: SCHEMA_NAME; Owner: -
--

ALTER SEQUENCE SCHEMA_NAME.mlob_alerts_id_seq OWNED BY SCHEMA_NAME.mlob_alerts.id;


--
-- Name: mlob_as_of_checkpoints; Type: TABLE; Schema: SCHEMA_NAME; Owner: -
--

CREATE TABLE SCHEMA_NAME.mlob_as_of_checkpoints (
    "position" bigint NOT NULL,
    version text NOT NULL,
    recorded_min text NOT NULL,
    recorded_max text NOT NULL,
    occurred_min text NOT NULL,
    occurred_max text NOT NULL,
    at text NOT NULL,
    size bigint NOT NULL,
    rows_data bytea NOT NULL,
    places bytea NOT NULL,
    states bytea NOT NULL,
    content_sha256 text,
    signature text
);
ALTER TABLE ONLY SCHEMA_NAME.mlob_as_of_checkpoints ALTER COLUMN states SET STORAGE EXTERNAL;


--
-- Name: mlob_board_targets; Type: TABLE; Schema: SCHEMA_NAME; Owner: -
--

CREATE TABLE SCHEMA_NAME.mlob_board_targets (
    seq bigint NOT NULL,
    at timestamp with time zone NOT NULL,
    set_by text NOT NULL,
    targets text NOT NULL
);


--
-- Name: mlob_board_targets_seq_seq; Type: SEQUENCE; Schema: SCHEMA_NAME; Owner: -
--

CREATE SEQUENCE SCHEMA_NAME.mlob_board_targets_seq_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: mlob_board_targets_seq_seq; Type: SEQUENCE OWNED BY; Schema: SCHEMA_NAME; Owner: -
--

ALTER SEQUENCE SCHEMA_NAME.mlob_board_targets_seq_seq OWNED BY SCHEMA_NAME.mlob_board_targets.seq;


--
-- Name: mlob_chain_checkpoints; Type: TABLE; Schema: SCHEMA_NAME; Owner: -
--

CREATE TABLE SCHEMA_NAME.mlob_chain_checkpoints (
    "position" bigint NOT NULL,
    head text NOT NULL,
    signature text NOT NULL,
    at text NOT NULL
);


--
-- Name: mlob_chain_formats; Type: TABLE; Schema: SCHEMA_NAME; Owner: -
--

CREATE TABLE SCHEMA_NAME.mlob_chain_formats (
    format integer NOT NULL,
    after_position bigint NOT NULL,
    head text NOT NULL,
    signature text,
    at text NOT NULL
);


--
-- Name: mlob_event_index; Type: TABLE; Schema: SCHEMA_NAME; Owner: -
--

CREATE TABLE SCHEMA_NAME.mlob_event_index (
    "position" bigint NOT NULL,
    stream_id uuid NOT NULL,
    version bigint NOT NULL,
    event_type text NOT NULL,
    occurred_at timestamp with time zone NOT NULL,
    recorded_at timestamp with time zone NOT NULL,
    actor_org text NOT NULL,
    actor_role text NOT NULL,
    actor_person text,
    authority text,
    regions text[] NOT NULL,
    classification text NOT NULL,
    exercise boolean NOT NULL,
    message_id text NOT NULL,
    correlation_id text,
    causation_id text,
    hash bytea NOT NULL
);


--
-- Name: mlob_events; Type: TABLE; Schema: SCHEMA_NAME; Owner: -
--

CREATE TABLE SCHEMA_NAME.mlob_events (
    originator_id uuid NOT NULL,
    originator_version bigint NOT NULL,
    topic text,
    state bytea,
    notification_id bigint NOT NULL
)
WITH (autovacuum_enabled='true', autovacuum_vacuum_threshold='100000000', autovacuum_vacuum_scale_factor='0.5', autovacuum_analyze_threshold='1000', autovacuum_analyze_scale_factor='0.01');


--
-- Name: mlob_events_notification_id_seq; Type: SEQUENCE; Schema: SCHEMA_NAME; Owner: -
--

CREATE SEQUENCE SCHEMA_NAME.mlob_events_notification_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: mlob_events_notification_id_seq; Type: SEQUENCE OWNED BY; Schema: SCHEMA_NAME; Owner: -
--

ALTER SEQUENCE SCHEMA_NAME.mlob_events_notification_id_seq OWNED BY SCHEMA_NAME.mlob_events.notification_id;


--
-- Name: mlob_messages; Type: TABLE; Schema: SCHEMA_NAME; Owner: -
--

CREATE TABLE SCHEMA_NAME.mlob_messages (
    message_id text NOT NULL,
    digest text NOT NULL,
    first_position bigint NOT NULL
);


--
-- Name: mlob_migrations; Type: TABLE; Schema: SCHEMA_NAME; Owner: -
--

CREATE TABLE SCHEMA_NAME.mlob_migrations (
    migration_hash character varying(64) NOT NULL,
    migration_id character varying(255),
    applied_at_utc timestamp without time zone
);


--
-- Name: mlob_rejections; Type: TABLE; Schema: SCHEMA_NAME; Owner: -
--

CREATE TABLE SCHEMA_NAME.mlob_rejections (
    id bigint NOT NULL,
    at timestamp with time zone NOT NULL,
    org text,
    role text,
    person text,
    event_type text,
    subject text,
    message_id text,
    item_index integer,
    status integer NOT NULL,
    code text NOT NULL,
    reason text NOT NULL,
    source text,
    classification text DEFAULT 'stg_zeer_geheim'::text NOT NULL
);


--
-- Name: mlob_rejections_id_seq; Type: SEQUENCE; Schema: SCHEMA_NAME; Owner: -
--

CREATE SEQUENCE SCHEMA_NAME.mlob_rejections_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: mlob_rejections_id_seq; Type: SEQUENCE OWNED BY; Schema: SCHEMA_NAME; Owner: -
--

ALTER SEQUENCE SCHEMA_NAME.mlob_rejections_id_seq OWNED BY SCHEMA_NAME.mlob_rejections.id;


--
-- Name: mlob_rows_capacities; Type: TABLE; Schema: SCHEMA_NAME; Owner: -
--

CREATE TABLE SCHEMA_NAME.mlob_rows_capacities (
    id text NOT NULL,
    level integer NOT NULL,
    "position" bigint NOT NULL,
    data jsonb NOT NULL,
    sort_key text DEFAULT ''::text NOT NULL COLLATE pg_catalog."C",
    exercise boolean DEFAULT false NOT NULL,
    keys text[] DEFAULT '{}'::text[] NOT NULL,
    capability text,
    provider text,
    until_level integer DEFAULT 1000 NOT NULL
);


--
-- Name: mlob_rows_incidents; Type: TABLE; Schema: SCHEMA_NAME; Owner: -
--

CREATE TABLE SCHEMA_NAME.mlob_rows_incidents (
    id text NOT NULL,
    level integer NOT NULL,
    "position" bigint NOT NULL,
    data jsonb NOT NULL,
    sort_key text DEFAULT ''::text NOT NULL COLLATE pg_catalog."C",
    exercise boolean DEFAULT false NOT NULL,
    keys text[] DEFAULT '{}'::text[] NOT NULL,
    closed bigint,
    grip_rank bigint,
    until_level integer DEFAULT 1000 NOT NULL
);


--
-- Name: mlob_rows_requests; Type: TABLE; Schema: SCHEMA_NAME; Owner: -
--

CREATE TABLE SCHEMA_NAME.mlob_rows_requests (
    id text NOT NULL,
    level integer NOT NULL,
    "position" bigint NOT NULL,
    data jsonb NOT NULL,
    sort_key text DEFAULT ''::text NOT NULL COLLATE pg_catalog."C",
    exercise boolean DEFAULT false NOT NULL,
    keys text[] DEFAULT '{}'::text[] NOT NULL,
    kind text,
    status text,
    incident_id text,
    search text,
    on_board bigint,
    step text,
    urgent bigint,
    since_us bigint,
    formalise_us bigint,
    duty_us bigint,
    until_level integer DEFAULT 1000 NOT NULL
);


--
-- Name: mlob_view_changes; Type: TABLE; Schema: SCHEMA_NAME; Owner: -
--

CREATE TABLE SCHEMA_NAME.mlob_view_changes (
    seq bigint NOT NULL,
    at timestamp with time zone NOT NULL,
    source text NOT NULL,
    key text NOT NULL,
    "position" bigint NOT NULL,
    what text NOT NULL,
    level integer DEFAULT 0 NOT NULL
);


--
-- Name: mlob_view_changes_seq_seq; Type: SEQUENCE; Schema: SCHEMA_NAME; Owner: -
--

CREATE SEQUENCE SCHEMA_NAME.mlob_view_changes_seq_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: mlob_view_changes_seq_seq; Type: SEQUENCE OWNED BY; Schema: SCHEMA_NAME; Owner: -
--

ALTER SEQUENCE SCHEMA_NAME.mlob_view_changes_seq_seq OWNED BY SCHEMA_NAME.mlob_view_changes.seq;


--
-- Name: mlob_view_tracking; Type: TABLE; Schema: SCHEMA_NAME; Owner: -
--

CREATE TABLE SCHEMA_NAME.mlob_view_tracking (
    name text NOT NULL,
    "position" bigint NOT NULL,
    version text NOT NULL,
    updated_at timestamp with time zone
);


--
-- Name: mlob_webhook_attempts; Type: TABLE; Schema: SCHEMA_NAME; Owner: -
--

CREATE TABLE SCHEMA_NAME.mlob_webhook_attempts (
    id bigint NOT NULL,
    delivery_id bigint NOT NULL,
    at double precision NOT NULL,
    status bigint,
    latency_ms double precision,
    error text
);


--
-- Name: mlob_webhook_attempts_id_seq; Type: SEQUENCE; Schema: SCHEMA_NAME; Owner: -
--

CREATE SEQUENCE SCHEMA_NAME.mlob_webhook_attempts_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: mlob_webhook_attempts_id_seq; Type: SEQUENCE OWNED BY; Schema: SCHEMA_NAME; Owner: -
--

ALTER SEQUENCE SCHEMA_NAME.mlob_webhook_attempts_id_seq OWNED BY SCHEMA_NAME.mlob_webhook_attempts.id;


--
-- Name: mlob_webhook_cursor; Type: TABLE; Schema: SCHEMA_NAME; Owner: -
--

CREATE TABLE SCHEMA_NAME.mlob_webhook_cursor (
    name text NOT NULL,
    "position" bigint NOT NULL,
    alert_id bigint NOT NULL
);


--
-- Name: mlob_webhook_deliveries; Type: TABLE; Schema: SCHEMA_NAME; Owner: -
--

CREATE TABLE SCHEMA_NAME.mlob_webhook_deliveries (
    id bigint NOT NULL,
    subscription_id text NOT NULL,
    webhook_id text NOT NULL,
    "position" bigint,
    alert_id bigint,
    type text NOT NULL,
    body text NOT NULL,
    state text NOT NULL,
    attempts bigint DEFAULT 0 NOT NULL,
    created_at double precision NOT NULL,
    first_attempt_at double precision,
    next_attempt_at double precision,
    last_status bigint,
    last_latency_ms double precision,
    last_error text,
    delivered_at double precision
);


--
-- Name: mlob_webhook_deliveries_id_seq; Type: SEQUENCE; Schema: SCHEMA_NAME; Owner: -
--

CREATE SEQUENCE SCHEMA_NAME.mlob_webhook_deliveries_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: mlob_webhook_deliveries_id_seq; Type: SEQUENCE OWNED BY; Schema: SCHEMA_NAME; Owner: -
--

ALTER SEQUENCE SCHEMA_NAME.mlob_webhook_deliveries_id_seq OWNED BY SCHEMA_NAME.mlob_webhook_deliveries.id;


--
-- Name: mlob_webhook_secrets; Type: TABLE; Schema: SCHEMA_NAME; Owner: -
--

CREATE TABLE SCHEMA_NAME.mlob_webhook_secrets (
    subscription_id text NOT NULL,
    sealed text NOT NULL,
    rotated_at double precision NOT NULL
);


--
-- Name: mlob_webhook_state; Type: TABLE; Schema: SCHEMA_NAME; Owner: -
--

CREATE TABLE SCHEMA_NAME.mlob_webhook_state (
    subscription_id text NOT NULL,
    failing_since double precision,
    delivered_position bigint DEFAULT 0 NOT NULL,
    delivered_alert bigint DEFAULT 0 NOT NULL
);


--
-- Name: yoyo_lock; Type: TABLE; Schema: SCHEMA_NAME; Owner: -
--

CREATE TABLE SCHEMA_NAME.yoyo_lock (
    locked integer DEFAULT 1 NOT NULL,
    ctime timestamp without time zone,
    pid integer NOT NULL
);


--
-- Name: mlob_access_log id; Type: DEFAULT; Schema: SCHEMA_NAME; Owner: -
--

ALTER TABLE ONLY SCHEMA_NAME.mlob_access_log ALTER COLUMN id SET DEFAULT nextval('SCHEMA_NAME.mlob_access_log_id_seq'::regclass);


--
-- Name: mlob_alert_acks id; Type: DEFAULT; Schema: SCHEMA_NAME; Owner: -
--

ALTER TABLE ONLY SCHEMA_NAME.mlob_alert_acks ALTER COLUMN id SET DEFAULT nextval('SCHEMA_NAME.mlob_alert_acks_id_seq'::regclass);


--
-- Name: mlob_alerts id; Type: DEFAULT; Schema: SCHEMA_NAME; Owner: -
--

ALTER TABLE ONLY SCHEMA_NAME.mlob_alerts ALTER COLUMN id SET DEFAULT nextval('SCHEMA_NAME.mlob_alerts_id_seq'::regclass);


--
-- Name: mlob_board_targets seq; Type: DEFAULT; Schema: SCHEMA_NAME; Owner: -
--

ALTER TABLE ONLY SCHEMA_NAME.mlob_board_targets ALTER COLUMN seq SET DEFAULT nextval('SCHEMA_NAME.mlob_board_targets_seq_seq'::regclass);


--
-- Name: mlob_events notification_id; Type: DEFAULT; Schema: SCHEMA_NAME; Owner: -
--

ALTER TABLE ONLY SCHEMA_NAME.mlob_events ALTER COLUMN notification_id SET DEFAULT nextval('SCHEMA_NAME.mlob_events_notification_id_seq'::regclass);


--
-- Name: mlob_rejections id; Type: DEFAULT; Schema: SCHEMA_NAME; Owner: -
--

ALTER TABLE ONLY SCHEMA_NAME.mlob_rejections ALTER COLUMN id SET DEFAULT nextval('SCHEMA_NAME.mlob_rejections_id_seq'::regclass);


--
-- Name: mlob_view_changes seq; Type: DEFAULT; Schema: SCHEMA_NAME; Owner: -
--

ALTER TABLE ONLY SCHEMA_NAME.mlob_view_changes ALTER COLUMN seq SET DEFAULT nextval('SCHEMA_NAME.mlob_view_changes_seq_seq'::regclass);


--
-- Name: mlob_webhook_attempts id; Type: DEFAULT; Schema: SCHEMA_NAME; Owner: -
--

ALTER TABLE ONLY SCHEMA_NAME.mlob_webhook_attempts ALTER COLUMN id SET DEFAULT nextval('SCHEMA_NAME.mlob_webhook_attempts_id_seq'::regclass);


--
-- Name: mlob_webhook_deliveries id; Type: DEFAULT; Schema: SCHEMA_NAME; Owner: -
--

ALTER TABLE ONLY SCHEMA_NAME.mlob_webhook_deliveries ALTER COLUMN id SET DEFAULT nextval('SCHEMA_NAME.mlob_webhook_deliveries_id_seq'::regclass);


--
-- Data for Name: _yoyo_log; Type: TABLE DATA; Schema: SCHEMA_NAME; Owner: -
--

COPY SCHEMA_NAME._yoyo_log (id, migration_hash, migration_id, operation, username, hostname, comment, created_at_utc) FROM stdin;
10003bb8-f13f-11f1-8928-02fc00000001	7d66c34072561c1a3b1a2450da906cf95e7ed4cdc56e44d88e4d4e277da26ddf	0000_baseline	apply	root	localhost	\N	2026-12-06 06:34:17.888168
10073508-f13f-11f1-8928-02fc00000001	7ae8cfe51cbfd4aa899908a358ba52bb7eeb36eda9de88b9b2709f34ed3be35c	0001_need_to_know	apply	root	localhost	\N	2026-12-06 06:34:17.933879
100ad7f8-f13f-11f1-8928-02fc00000001	4f4b9c10b6be13192a5641479f57ce7d3fdb125be4188ef613fef5fa485920ce	0002_chain_format_and_signed_pictures	apply	root	localhost	\N	2026-12-06 06:34:17.957702
100e955a-f13f-11f1-8928-02fc00000001	7088739e6e3a2d3349d6203828039346d8194b0d6be929f95fa5ad8a72b2f39c	0003_access_log	apply	root	localhost	\N	2026-12-06 06:34:17.982208
10102780-f13f-11f1-8928-02fc00000001	b396274cc45b121933d07f383bb66de48bbcdbd440bbf025406a2eeb9af724a5	0004_message_ids_per_organisation	apply	root	localhost	\N	2026-12-06 06:34:17.992489
101282aa-f13f-11f1-8928-02fc00000001	f0572f2388685de5a60227f2f884f92d909ccf977e66b2f8ccc8b5201c5faf08	0005_board_targets	apply	root	localhost	\N	2026-12-06 06:34:18.007932
1020261c-f13f-11f1-8928-02fc00000001	8cabe076ad3bd0f8b93fdc6c8cb149f570ef45b0fc58ed155e708ebbd91e3593	0006_list_columns	apply	root	localhost	\N	2026-12-06 06:34:18.097329
10293d1a-f13f-11f1-8928-02fc00000001	5c86d00d385ee6b8c0234c94d61b43d6a5220525c644f23905c3e8424c995bf4	0007_webhooks	apply	root	localhost	\N	2026-12-06 06:34:18.156899
102e3d9c-f13f-11f1-8928-02fc00000001	ce6a6ba3affcea3d40b8c2a516e621cb0392d408fa848dfdbad3c1038d1958aa	0008_board_columns	apply	root	localhost	\N	2026-12-06 06:34:18.189679
\.


--
-- Data for Name: _yoyo_version; Type: TABLE DATA; Schema: SCHEMA_NAME; Owner: -
--

COPY SCHEMA_NAME._yoyo_version (version, installed_at_utc) FROM stdin;
2	2026-12-06 06:34:17.84733
\.


--
-- Data for Name: mlob_access_log; Type: TABLE DATA; Schema: SCHEMA_NAME; Owner: -
--

COPY SCHEMA_NAME.mlob_access_log (id, at, org, role, person, token_id, route, item, kind, classification) FROM stdin;
\.


--
-- Data for Name: mlob_alert_acks; Type: TABLE DATA; Schema: SCHEMA_NAME; Owner: -
--

COPY SCHEMA_NAME.mlob_alert_acks (id, alert_id, org, role, person, token_id, at) FROM stdin;
\.


--
-- Data for Name: mlob_alerts; Type: TABLE DATA; Schema: SCHEMA_NAME; Owner: -
--

COPY SCHEMA_NAME.mlob_alerts (id, subject, step, crossing, level, orgs, body, at) FROM stdin;
\.


--
-- Data for Name: mlob_as_of_checkpoints; Type: TABLE DATA; Schema: SCHEMA_NAME; Owner: -
--

COPY SCHEMA_NAME.mlob_as_of_checkpoints ("position", version, recorded_min, recorded_max, occurred_min, occurred_max, at, size, rows_data, places, states, content_sha256, signature) FROM stdin;
\.


--
-- Data for Name: mlob_board_targets; Type: TABLE DATA; Schema: SCHEMA_NAME; Owner: -
--

COPY SCHEMA_NAME.mlob_board_targets (seq, at, set_by, targets) FROM stdin;
\.


--
-- Data for Name: mlob_chain_checkpoints; Type: TABLE DATA; Schema: SCHEMA_NAME; Owner: -
--

COPY SCHEMA_NAME.mlob_chain_checkpoints ("position", head, signature, at) FROM stdin;
\.


--
-- Data for Name: mlob_chain_formats; Type: TABLE DATA; Schema: SCHEMA_NAME; Owner: -
--

COPY SCHEMA_NAME.mlob_chain_formats (format, after_position, head, signature, at) FROM stdin;
2	0	0000000000000000000000000000000000000000000000000000000000000000	\N	2026-12-06 06:34:17.943563+00
\.


--
-- Data for Name: mlob_event_index; Type: TABLE DATA; Schema: SCHEMA_NAME; Owner: -
--

COPY SCHEMA_NAME.mlob_event_index ("position", stream_id, version, event_type, occurred_at, recorded_at, actor_org, actor_role, actor_person, authority, regions, classification, exercise, message_id, correlation_id, causation_id, hash) FROM stdin;
\.


--
-- Data for Name: mlob_events; Type: TABLE DATA; Schema: SCHEMA_NAME; Owner: -
--

COPY SCHEMA_NAME.mlob_events (originator_id, originator_version, topic, state, notification_id) FROM stdin;
\.


--
-- Data for Name: mlob_messages; Type: TABLE DATA; Schema: SCHEMA_NAME; Owner: -
--

COPY SCHEMA_NAME.mlob_messages (message_id, digest, first_position) FROM stdin;
\.


--
-- Data for Name: mlob_migrations; Type: TABLE DATA; Schema: SCHEMA_NAME; Owner: -
--

COPY SCHEMA_NAME.mlob_migrations (migration_hash, migration_id, applied_at_utc) FROM stdin;
7d66c34072561c1a3b1a2450da906cf95e7ed4cdc56e44d88e4d4e277da26ddf	0000_baseline	2026-12-06 06:34:17.890485
7ae8cfe51cbfd4aa899908a358ba52bb7eeb36eda9de88b9b2709f34ed3be35c	0001_need_to_know	2026-12-06 06:34:17.937176
4f4b9c10b6be13192a5641479f57ce7d3fdb125be4188ef613fef5fa485920ce	0002_chain_format_and_signed_pictures	2026-12-06 06:34:17.963254
7088739e6e3a2d3349d6203828039346d8194b0d6be929f95fa5ad8a72b2f39c	0003_access_log	2026-12-06 06:34:17.982923
b396274cc45b121933d07f383bb66de48bbcdbd440bbf025406a2eeb9af724a5	0004_message_ids_per_organisation	2026-12-06 06:34:17.994618
f0572f2388685de5a60227f2f884f92d909ccf977e66b2f8ccc8b5201c5faf08	0005_board_targets	2026-12-06 06:34:18.013508
8cabe076ad3bd0f8b93fdc6c8cb149f570ef45b0fc58ed155e708ebbd91e3593	0006_list_columns	2026-12-06 06:34:18.101049
5c86d00d385ee6b8c0234c94d61b43d6a5220525c644f23905c3e8424c995bf4	0007_webhooks	2026-12-06 06:34:18.160304
ce6a6ba3affcea3d40b8c2a516e621cb0392d408fa848dfdbad3c1038d1958aa	0008_board_columns	2026-12-06 06:34:18.193443
\.


--
-- Data for Name: mlob_rejections; Type: TABLE DATA; Schema: SCHEMA_NAME; Owner: -
--

COPY SCHEMA_NAME.mlob_rejections (id, at, org, role, person, event_type, subject, message_id, item_index, status, code, reason, source, classification) FROM stdin;
\.


--
-- Data for Name: mlob_rows_capacities; Type: TABLE DATA; Schema: SCHEMA_NAME; Owner: -
--

COPY SCHEMA_NAME.mlob_rows_capacities (id, level, "position", data, sort_key, exercise, keys, capability, provider, until_level) FROM stdin;
\.


--
-- Data for Name: mlob_rows_incidents; Type: TABLE DATA; Schema: SCHEMA_NAME; Owner: -
--

COPY SCHEMA_NAME.mlob_rows_incidents (id, level, "position", data, sort_key, exercise, keys, closed, grip_rank, until_level) FROM stdin;
\.


--
-- Data for Name: mlob_rows_requests; Type: TABLE DATA; Schema: SCHEMA_NAME; Owner: -
--

COPY SCHEMA_NAME.mlob_rows_requests (id, level, "position", data, sort_key, exercise, keys, kind, status, incident_id, search, on_board, step, urgent, since_us, formalise_us, duty_us, until_level) FROM stdin;
\.


--
-- Data for Name: mlob_view_changes; Type: TABLE DATA; Schema: SCHEMA_NAME; Owner: -
--

COPY SCHEMA_NAME.mlob_view_changes (seq, at, source, key, "position", what, level) FROM stdin;
\.


--
-- Data for Name: mlob_view_tracking; Type: TABLE DATA; Schema: SCHEMA_NAME; Owner: -
--

COPY SCHEMA_NAME.mlob_view_tracking (name, "position", version, updated_at) FROM stdin;
\.


--
-- Data for Name: mlob_webhook_attempts; Type: TABLE DATA; Schema: SCHEMA_NAME; Owner: -
--

COPY SCHEMA_NAME.mlob_webhook_attempts (id, delivery_id, at, status, latency_ms, error) FROM stdin;
\.


--
-- Data for Name: mlob_webhook_cursor; Type: TABLE DATA; Schema: SCHEMA_NAME; Owner: -
--

COPY SCHEMA_NAME.mlob_webhook_cursor (name, "position", alert_id) FROM stdin;
\.


--
-- Data for Name: mlob_webhook_deliveries; Type: TABLE DATA; Schema: SCHEMA_NAME; Owner: -
--

COPY SCHEMA_NAME.mlob_webhook_deliveries (id, subscription_id, webhook_id, "position", alert_id, type, body, state, attempts, created_at, first_attempt_at, next_attempt_at, last_status, last_latency_ms, last_error, delivered_at) FROM stdin;
\.


--
-- Data for Name: mlob_webhook_secrets; Type: TABLE DATA; Schema: SCHEMA_NAME; Owner: -
--

COPY SCHEMA_NAME.mlob_webhook_secrets (subscription_id, sealed, rotated_at) FROM stdin;
\.


--
-- Data for Name: mlob_webhook_state; Type: TABLE DATA; Schema: SCHEMA_NAME; Owner: -
--

COPY SCHEMA_NAME.mlob_webhook_state (subscription_id, failing_since, delivered_position, delivered_alert) FROM stdin;
\.


--
-- Data for Name: yoyo_lock; Type: TABLE DATA; Schema: SCHEMA_NAME; Owner: -
--

COPY SCHEMA_NAME.yoyo_lock (locked, ctime, pid) FROM stdin;
\.


--
-- Name: mlob_access_log_id_seq; Type: SEQUENCE SET; Schema: SCHEMA_NAME; Owner: -
--

SELECT pg_catalog.setval('SCHEMA_NAME.mlob_access_log_id_seq', 1, false);


--
-- Name: mlob_alert_acks_id_seq; Type: SEQUENCE SET; Schema: SCHEMA_NAME; Owner: -
--

SELECT pg_catalog.setval('SCHEMA_NAME.mlob_alert_acks_id_seq', 1, false);


--
-- Name: mlob_alerts_id_seq; Type: SEQUENCE SET; Schema: SCHEMA_NAME; Owner: -
--

SELECT pg_catalog.setval('SCHEMA_NAME.mlob_alerts_id_seq', 1, false);


--
-- Name: mlob_board_targets_seq_seq; Type: SEQUENCE SET; Schema: SCHEMA_NAME; Owner: -
--

SELECT pg_catalog.setval('SCHEMA_NAME.mlob_board_targets_seq_seq', 1, false);


--
-- Name: mlob_events_notification_id_seq; Type: SEQUENCE SET; Schema: SCHEMA_NAME; Owner: -
--

SELECT pg_catalog.setval('SCHEMA_NAME.mlob_events_notification_id_seq', 1, false);


--
-- Name: mlob_rejections_id_seq; Type: SEQUENCE SET; Schema: SCHEMA_NAME; Owner: -
--

SELECT pg_catalog.setval('SCHEMA_NAME.mlob_rejections_id_seq', 1, false);


--
-- Name: mlob_view_changes_seq_seq; Type: SEQUENCE SET; Schema: SCHEMA_NAME; Owner: -
--

SELECT pg_catalog.setval('SCHEMA_NAME.mlob_view_changes_seq_seq', 1, false);


--
-- Name: mlob_webhook_attempts_id_seq; Type: SEQUENCE SET; Schema: SCHEMA_NAME; Owner: -
--

SELECT pg_catalog.setval('SCHEMA_NAME.mlob_webhook_attempts_id_seq', 1, false);


--
-- Name: mlob_webhook_deliveries_id_seq; Type: SEQUENCE SET; Schema: SCHEMA_NAME; Owner: -
--

SELECT pg_catalog.setval('SCHEMA_NAME.mlob_webhook_deliveries_id_seq', 1, false);


--
-- Name: _yoyo_log _yoyo_log_pkey; Type: CONSTRAINT; Schema: SCHEMA_NAME; Owner: -
--

ALTER TABLE ONLY SCHEMA_NAME._yoyo_log
    ADD CONSTRAINT _yoyo_log_pkey PRIMARY KEY (id);


--
-- Name: _yoyo_version _yoyo_version_pkey; Type: CONSTRAINT; Schema: SCHEMA_NAME; Owner: -
--

ALTER TABLE ONLY SCHEMA_NAME._yoyo_version
    ADD CONSTRAINT _yoyo_version_pkey PRIMARY KEY (version);


--
-- Name: mlob_access_log mlob_access_log_pkey; Type: CONSTRAINT; Schema: SCHEMA_NAME; Owner: -
--

ALTER TABLE ONLY SCHEMA_NAME.mlob_access_log
    ADD CONSTRAINT mlob_access_log_pkey PRIMARY KEY (id);


--
-- Name: mlob_alert_acks mlob_alert_acks_alert_id_org_key; Type: CONSTRAINT; Schema: SCHEMA_NAME; Owner: -
--

ALTER TABLE ONLY SCHEMA_NAME.mlob_alert_acks
    ADD CONSTRAINT mlob_alert_acks_alert_id_org_key UNIQUE (alert_id, org);


--
-- Name: mlob_alert_acks mlob_alert_acks_pkey; Type: CONSTRAINT; Schema: SCHEMA_NAME; Owner: -
--

ALTER TABLE ONLY SCHEMA_NAME.mlob_alert_acks
    ADD CONSTRAINT mlob_alert_acks_pkey PRIMARY KEY (id);


--
-- Name: mlob_alerts mlob_alerts_pkey; Type: CONSTRAINT; Schema: SCHEMA_NAME; Owner: -
--

ALTER TABLE ONLY SCHEMA_NAME.mlob_alerts
    ADD CONSTRAINT mlob_alerts_pkey PRIMARY KEY (id);


--
-- Name: mlob_alerts mlob_alerts_subject_step_crossing_key; Type: CONSTRAINT; Schema: SCHEMA_NAME; Owner: -
--

ALTER TABLE ONLY SCHEMA_NAME.mlob_alerts
    ADD CONSTRAINT mlob_alerts_subject_step_crossing_key UNIQUE (subject, step, crossing);


--
-- Name: mlob_as_of_checkpoints mlob_as_of_checkpoints_pkey; Type: CONSTRAINT; Schema: SCHEMA_NAME; Owner: -
--

ALTER TABLE ONLY SCHEMA_NAME.mlob_as_of_checkpoints
    ADD CONSTRAINT mlob_as_of_checkpoints_pkey PRIMARY KEY ("position");


--
-- Name: mlob_board_targets mlob_board_targets_pkey; Type: CONSTRAINT; Schema: SCHEMA_NAME; Owner: -
--

ALTER TABLE ONLY SCHEMA_NAME.mlob_board_targets
    ADD CONSTRAINT mlob_board_targets_pkey PRIMARY KEY (seq);


--
-- Name: mlob_chain_checkpoints mlob_chain_checkpoints_pkey; Type: CONSTRAINT; Schema: SCHEMA_NAME; Owner: -
--

ALTER TABLE ONLY SCHEMA_NAME.mlob_chain_checkpoints
    ADD CONSTRAINT mlob_chain_checkpoints_pkey PRIMARY KEY ("position");


--
-- Name: mlob_chain_formats mlob_chain_formats_pkey; Type: CONSTRAINT; Schema: SCHEMA_NAME; Owner: -
--

ALTER TABLE ONLY SCHEMA_NAME.mlob_chain_formats
    ADD CONSTRAINT mlob_chain_formats_pkey PRIMARY KEY (format);


--
-- Name: mlob_event_index mlob_event_index_pkey; Type: CONSTRAINT; Schema: SCHEMA_NAME; Owner: -
--

ALTER TABLE ONLY SCHEMA_NAME.mlob_event_index
    ADD CONSTRAINT mlob_event_index_pkey PRIMARY KEY ("position");


--
-- Name: mlob_event_index mlob_event_index_stream_id_version_key; Type: CONSTRAINT; Schema: SCHEMA_NAME; Owner: -
--

ALTER TABLE ONLY SCHEMA_NAME.mlob_event_index
    ADD CONSTRAINT mlob_event_index_stream_id_version_key UNIQUE (stream_id, version);


--
-- Name: mlob_events mlob_events_pkey; Type: CONSTRAINT; Schema: SCHEMA_NAME; Owner: -
--

ALTER TABLE ONLY SCHEMA_NAME.mlob_events
    ADD CONSTRAINT mlob_events_pkey PRIMARY KEY (originator_id, originator_version);


--
-- Name: mlob_messages mlob_messages_pkey; Type: CONSTRAINT; Schema: SCHEMA_NAME; Owner: -
--

ALTER TABLE ONLY SCHEMA_NAME.mlob_messages
    ADD CONSTRAINT mlob_messages_pkey PRIMARY KEY (message_id);


--
-- Name: mlob_migrations mlob_migrations_pkey; Type: CONSTRAINT; Schema: SCHEMA_NAME; Owner: -
--

ALTER TABLE ONLY SCHEMA_NAME.mlob_migrations
    ADD CONSTRAINT mlob_migrations_pkey PRIMARY KEY (migration_hash);


--
-- Name: mlob_rejections mlob_rejections_pkey; Type: CONSTRAINT; Schema: SCHEMA_NAME; Owner: -
--

ALTER TABLE ONLY SCHEMA_NAME.mlob_rejections
    ADD CONSTRAINT mlob_rejections_pkey PRIMARY KEY (id);


--
-- Name: mlob_rows_capacities mlob_rows_capacities_pkey; Type: CONSTRAINT; Schema: SCHEMA_NAME; Owner: -
--

ALTER TABLE ONLY SCHEMA_NAME.mlob_rows_capacities
    ADD CONSTRAINT mlob_rows_capacities_pkey PRIMARY KEY (id, level);


--
-- Name: mlob_rows_incidents mlob_rows_incidents_pkey; Type: CONSTRAINT; Schema: SCHEMA_NAME; Owner: -
--

ALTER TABLE ONLY SCHEMA_NAME.mlob_rows_incidents
    ADD CONSTRAINT mlob_rows_incidents_pkey PRIMARY KEY (id, level);


--
-- Name: mlob_rows_requests mlob_rows_requests_pkey; Type: CONSTRAINT; Schema: SCHEMA_NAME; Owner: -
--

ALTER TABLE ONLY SCHEMA_NAME.mlob_rows_requests
    ADD CONSTRAINT mlob_rows_requests_pkey PRIMARY KEY (id, level);


--
-- Name: mlob_view_changes mlob_view_changes_pkey; Type: CONSTRAINT; Schema: SCHEMA_NAME; Owner: -
--

ALTER TABLE ONLY SCHEMA_NAME.mlob_view_changes
    ADD CONSTRAINT mlob_view_changes_pkey PRIMARY KEY (seq);


--
-- Name: mlob_view_tracking mlob_view_tracking_pkey; Type: CONSTRAINT; Schema: SCHEMA_NAME; Owner: -
--

ALTER TABLE ONLY SCHEMA_NAME.mlob_view_tracking
    ADD CONSTRAINT mlob_view_tracking_pkey PRIMARY KEY (name);


--
-- Name: mlob_webhook_attempts mlob_webhook_attempts_pkey; Type: CONSTRAINT; Schema: SCHEMA_NAME; Owner: -
--

ALTER TABLE ONLY SCHEMA_NAME.mlob_webhook_attempts
    ADD CONSTRAINT mlob_webhook_attempts_pkey PRIMARY KEY (id);


--
-- Name: mlob_webhook_cursor mlob_webhook_cursor_pkey; Type: CONSTRAINT; Schema: SCHEMA_NAME; Owner: -
--

ALTER TABLE ONLY SCHEMA_NAME.mlob_webhook_cursor
    ADD CONSTRAINT mlob_webhook_cursor_pkey PRIMARY KEY (name);


--
-- Name: mlob_webhook_deliveries mlob_webhook_deliveries_pkey; Type: CONSTRAINT; Schema: SCHEMA_NAME; Owner: -
--

ALTER TABLE ONLY SCHEMA_NAME.mlob_webhook_deliveries
    ADD CONSTRAINT mlob_webhook_deliveries_pkey PRIMARY KEY (id);


--
-- Name: mlob_webhook_secrets mlob_webhook_secrets_pkey; Type: CONSTRAINT; Schema: SCHEMA_NAME; Owner: -
--

ALTER TABLE ONLY SCHEMA_NAME.mlob_webhook_secrets
    ADD CONSTRAINT mlob_webhook_secrets_pkey PRIMARY KEY (subscription_id);


--
-- Name: mlob_webhook_state mlob_webhook_state_pkey; Type: CONSTRAINT; Schema: SCHEMA_NAME; Owner: -
--

ALTER TABLE ONLY SCHEMA_NAME.mlob_webhook_state
    ADD CONSTRAINT mlob_webhook_state_pkey PRIMARY KEY (subscription_id);


--
-- Name: yoyo_lock yoyo_lock_pkey; Type: CONSTRAINT; Schema: SCHEMA_NAME; Owner: -
--

ALTER TABLE ONLY SCHEMA_NAME.yoyo_lock
    ADD CONSTRAINT yoyo_lock_pkey PRIMARY KEY (locked);


--
-- Name: mlob_access_log_item; Type: INDEX; Schema: SCHEMA_NAME; Owner: -
--

CREATE INDEX mlob_access_log_item ON SCHEMA_NAME.mlob_access_log USING btree (item);


--
-- Name: mlob_event_index_message; Type: INDEX; Schema: SCHEMA_NAME; Owner: -
--

CREATE INDEX mlob_event_index_message ON SCHEMA_NAME.mlob_event_index USING btree (message_id);


--
-- Name: mlob_event_index_occurred; Type: INDEX; Schema: SCHEMA_NAME; Owner: -
--

CREATE INDEX mlob_event_index_occurred ON SCHEMA_NAME.mlob_event_index USING btree (occurred_at);


--
-- Name: mlob_events_notification_id_idx; Type: INDEX; Schema: SCHEMA_NAME; Owner: -
--

CREATE UNIQUE INDEX mlob_events_notification_id_idx ON SCHEMA_NAME.mlob_events USING btree (notification_id);


--
-- Name: mlob_rows_capacities_capability; Type: INDEX; Schema: SCHEMA_NAME; Owner: -
--

CREATE INDEX mlob_rows_capacities_capability ON SCHEMA_NAME.mlob_rows_capacities USING btree (capability, sort_key, id);


--
-- Name: mlob_rows_capacities_keys; Type: INDEX; Schema: SCHEMA_NAME; Owner: -
--

CREATE INDEX mlob_rows_capacities_keys ON SCHEMA_NAME.mlob_rows_capacities USING gin (keys);


--
-- Name: mlob_rows_capacities_provider; Type: INDEX; Schema: SCHEMA_NAME; Owner: -
--

CREATE INDEX mlob_rows_capacities_provider ON SCHEMA_NAME.mlob_rows_capacities USING btree (provider, sort_key, id);


--
-- Name: mlob_rows_capacities_sorted; Type: INDEX; Schema: SCHEMA_NAME; Owner: -
--

CREATE INDEX mlob_rows_capacities_sorted ON SCHEMA_NAME.mlob_rows_capacities USING btree (sort_key, id);


--
-- Name: mlob_rows_incidents_keys; Type: INDEX; Schema: SCHEMA_NAME; Owner: -
--

CREATE INDEX mlob_rows_incidents_keys ON SCHEMA_NAME.mlob_rows_incidents USING gin (keys);


--
-- Name: mlob_rows_incidents_sorted; Type: INDEX; Schema: SCHEMA_NAME; Owner: -
--

CREATE INDEX mlob_rows_incidents_sorted ON SCHEMA_NAME.mlob_rows_incidents USING btree (sort_key, id);


--
-- Name: mlob_rows_requests_incident_id; Type: INDEX; Schema: SCHEMA_NAME; Owner: -
--

CREATE INDEX mlob_rows_requests_incident_id ON SCHEMA_NAME.mlob_rows_requests USING btree (incident_id, sort_key, id);


--
-- Name: mlob_rows_requests_keys; Type: INDEX; Schema: SCHEMA_NAME; Owner: -
--

CREATE INDEX mlob_rows_requests_keys ON SCHEMA_NAME.mlob_rows_requests USING gin (keys);


--
-- Name: mlob_rows_requests_kind; Type: INDEX; Schema: SCHEMA_NAME; Owner: -
--

CREATE INDEX mlob_rows_requests_kind ON SCHEMA_NAME.mlob_rows_requests USING btree (kind, sort_key, id);


--
-- Name: mlob_rows_requests_on_board; Type: INDEX; Schema: SCHEMA_NAME; Owner: -
--

CREATE INDEX mlob_rows_requests_on_board ON SCHEMA_NAME.mlob_rows_requests USING btree (on_board, sort_key, id);


--
-- Name: mlob_rows_requests_sorted; Type: INDEX; Schema: SCHEMA_NAME; Owner: -
--

CREATE INDEX mlob_rows_requests_sorted ON SCHEMA_NAME.mlob_rows_requests USING btree (sort_key, id);


--
-- Name: mlob_rows_requests_status; Type: INDEX; Schema: SCHEMA_NAME; Owner: -
--

CREATE INDEX mlob_rows_requests_status ON SCHEMA_NAME.mlob_rows_requests USING btree (status, sort_key, id);


--
-- Name: mlob_rows_requests_summary; Type: INDEX; Schema: SCHEMA_NAME; Owner: -
--

CREATE INDEX mlob_rows_requests_summary ON SCHEMA_NAME.mlob_rows_requests USING btree (level, until_level, exercise) INCLUDE (kind, status, keys);


--
-- Name: mlob_webhook_attempts_delivery; Type: INDEX; Schema: SCHEMA_NAME; Owner: -
--

CREATE INDEX mlob_webhook_attempts_delivery ON SCHEMA_NAME.mlob_webhook_attempts USING btree (delivery_id, id);


--
-- Name: mlob_webhook_deliveries_queue; Type: INDEX; Schema: SCHEMA_NAME; Owner: -
--

CREATE INDEX mlob_webhook_deliveries_queue ON SCHEMA_NAME.mlob_webhook_deliveries USING btree (subscription_id, state, id);


--
-- PostgreSQL database dump complete
--

\unrestrict ct2IfSBFfnZobkUAM3MdV9Ph8XY2fsVGfncuOSJC1S8Y1WQOjd5dLJT8H9RLrkt

