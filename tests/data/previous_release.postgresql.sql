
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

SET default_tablespace = '';

SET default_table_access_method = heap;

CREATE TABLE public.alert_deliveries (
    id integer NOT NULL,
    alert_id integer NOT NULL,
    sender_id character varying(128) NOT NULL,
    channel character varying(32) NOT NULL,
    state character varying(16) NOT NULL,
    attempts integer NOT NULL,
    next_attempt_at timestamp with time zone NOT NULL,
    claimed_by character varying(64),
    claimed_until timestamp with time zone,
    sent_at timestamp with time zone,
    last_error text
);

CREATE SEQUENCE public.alert_deliveries_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.alert_deliveries_id_seq OWNED BY public.alert_deliveries.id;

CREATE TABLE public.alert_subscriptions (
    id integer NOT NULL,
    sender_id character varying(128) NOT NULL,
    topic character varying(16) NOT NULL,
    zone character varying(16) NOT NULL,
    created_at timestamp with time zone NOT NULL
);

CREATE SEQUENCE public.alert_subscriptions_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.alert_subscriptions_id_seq OWNED BY public.alert_subscriptions.id;

CREATE TABLE public.alerts (
    id integer NOT NULL,
    topic character varying(16) NOT NULL,
    zone character varying(16) NOT NULL,
    severity character varying(16) NOT NULL,
    text text NOT NULL,
    created_by character varying(128),
    created_at timestamp with time zone NOT NULL,
    state character varying(16) NOT NULL,
    lease_owner character varying(64),
    lease_until timestamp with time zone,
    started_at timestamp with time zone,
    finished_at timestamp with time zone
);

CREATE SEQUENCE public.alerts_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.alerts_id_seq OWNED BY public.alerts.id;

CREATE TABLE public.audit_log (
    id integer NOT NULL,
    at timestamp with time zone NOT NULL,
    actor character varying(64) NOT NULL,
    action character varying(32) NOT NULL,
    handoff_id integer,
    detail character varying(256)
);

CREATE SEQUENCE public.audit_log_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.audit_log_id_seq OWNED BY public.audit_log.id;

CREATE TABLE public.contacts (
    sender_id character varying(128) NOT NULL,
    channel character varying(32) NOT NULL,
    address character varying(256) NOT NULL,
    opted_out boolean NOT NULL,
    updated_at timestamp with time zone NOT NULL
);

CREATE TABLE public.conversation_locks (
    conversation_id character varying(255) NOT NULL,
    data text NOT NULL
);

CREATE TABLE public.handoff_notes (
    id integer NOT NULL,
    handoff_id integer NOT NULL,
    author character varying(64) NOT NULL,
    text text NOT NULL,
    created_at timestamp with time zone NOT NULL
);

CREATE SEQUENCE public.handoff_notes_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.handoff_notes_id_seq OWNED BY public.handoff_notes.id;

CREATE TABLE public.handoffs (
    id integer NOT NULL,
    sender_id character varying(128) NOT NULL,
    channel character varying(32) NOT NULL,
    reason character varying(32) NOT NULL,
    state character varying(16) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    claimed_by character varying(64),
    claimed_at timestamp with time zone,
    resolved_by character varying(64),
    resolved_at timestamp with time zone,
    handed_back boolean,
    urgent_at timestamp with time zone,
    noted_at timestamp with time zone
);

CREATE SEQUENCE public.handoffs_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.handoffs_id_seq OWNED BY public.handoffs.id;

CREATE TABLE public.open311_catalog (
    endpoint character varying(512) NOT NULL,
    resource character varying(160) NOT NULL,
    body text NOT NULL,
    fetched_at timestamp with time zone NOT NULL
);

CREATE TABLE public.processed_deliveries (
    channel character varying(32) NOT NULL,
    delivery_id character varying(128) NOT NULL,
    received_at timestamp with time zone NOT NULL
);

CREATE TABLE public.report_outbox (
    reference character varying(16) NOT NULL,
    idempotency_key character varying(64) NOT NULL,
    sender_id character varying(128),
    service_code character varying(128) NOT NULL,
    service_name character varying(256),
    fields text NOT NULL,
    state character varying(16) NOT NULL,
    attempts integer NOT NULL,
    next_attempt_at timestamp with time zone NOT NULL,
    claimed_until timestamp with time zone,
    last_error text,
    token character varying(256),
    service_request_id character varying(128),
    created_at timestamp with time zone NOT NULL,
    filed_at timestamp with time zone,
    resident_told boolean NOT NULL
);

CREATE TABLE public.request_subscriptions (
    sender_id character varying(128) NOT NULL,
    service_request_id character varying(128) NOT NULL,
    last_status character varying(64),
    last_notes text,
    created_at timestamp with time zone NOT NULL
);

CREATE TABLE public.sms_choices (
    sender_id character varying(128) NOT NULL,
    payloads text NOT NULL,
    updated_at timestamp with time zone NOT NULL
);

CREATE TABLE public.staff_sessions (
    token_hash character varying(64) NOT NULL,
    username character varying(64) NOT NULL,
    csrf_token character varying(64) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    last_seen_at timestamp with time zone NOT NULL,
    expires_at timestamp with time zone NOT NULL
);

CREATE TABLE public.staff_users (
    username character varying(64) NOT NULL,
    password_hash character varying(256) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    disabled boolean NOT NULL,
    failed_logins integer NOT NULL,
    locked_until timestamp with time zone
);

CREATE TABLE public.status_notifications (
    id integer NOT NULL,
    sender_id character varying(128) NOT NULL,
    service_request_id character varying(128) NOT NULL,
    change_key character varying(512) NOT NULL,
    text text NOT NULL,
    state character varying(16) NOT NULL,
    attempts integer NOT NULL,
    created_at timestamp with time zone NOT NULL,
    sent_at timestamp with time zone
);

CREATE SEQUENCE public.status_notifications_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.status_notifications_id_seq OWNED BY public.status_notifications.id;

CREATE TABLE public.webchat_messages (
    id integer NOT NULL,
    sender_id character varying(128) NOT NULL,
    role character varying(8) NOT NULL,
    payload text NOT NULL,
    created_at timestamp with time zone NOT NULL
);

CREATE SEQUENCE public.webchat_messages_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.webchat_messages_id_seq OWNED BY public.webchat_messages.id;

ALTER TABLE ONLY public.alert_deliveries ALTER COLUMN id SET DEFAULT nextval('public.alert_deliveries_id_seq'::regclass);

ALTER TABLE ONLY public.alert_subscriptions ALTER COLUMN id SET DEFAULT nextval('public.alert_subscriptions_id_seq'::regclass);

ALTER TABLE ONLY public.alerts ALTER COLUMN id SET DEFAULT nextval('public.alerts_id_seq'::regclass);

ALTER TABLE ONLY public.audit_log ALTER COLUMN id SET DEFAULT nextval('public.audit_log_id_seq'::regclass);

ALTER TABLE ONLY public.handoff_notes ALTER COLUMN id SET DEFAULT nextval('public.handoff_notes_id_seq'::regclass);

ALTER TABLE ONLY public.handoffs ALTER COLUMN id SET DEFAULT nextval('public.handoffs_id_seq'::regclass);

ALTER TABLE ONLY public.status_notifications ALTER COLUMN id SET DEFAULT nextval('public.status_notifications_id_seq'::regclass);

ALTER TABLE ONLY public.webchat_messages ALTER COLUMN id SET DEFAULT nextval('public.webchat_messages_id_seq'::regclass);

INSERT INTO public.alert_deliveries VALUES (1, 1, 's1', 'telegram', 'sent', 1, '2026-11-30 12:00:00+00', NULL, NULL, '2026-11-30 12:00:00+00', NULL);

INSERT INTO public.alert_subscriptions VALUES (1, 's1', 'water', 'north', '2026-11-30 12:00:00+00');

INSERT INTO public.alerts VALUES (1, 'water', 'north', 'info', 'Boil water', 'ann', '2026-11-30 12:00:00+00', 'done', NULL, NULL, NULL, NULL);

INSERT INTO public.audit_log VALUES (1, '2026-11-30 12:00:00+00', 'ann', 'claim', 1, 'POTHOLE');

INSERT INTO public.contacts VALUES ('s1', 'telegram', '1001', false, '2026-11-30 12:00:00+00');
INSERT INTO public.contacts VALUES ('s2', 'twilio', '+15550001', true, '2026-11-30 12:00:00+00');

INSERT INTO public.conversation_locks VALUES ('c1', '');

INSERT INTO public.handoff_notes VALUES (1, 1, 'ann', 'called back', '2026-11-30 12:00:00+00');

INSERT INTO public.handoffs VALUES (1, 's1', 'telegram', 'asked', 'resolved', '2026-11-30 12:00:00+00', '2026-11-30 12:00:00+00', 'ann', '2026-11-30 12:00:00+00', 'ann', '2026-11-30 12:00:00+00', true, '2026-11-30 12:00:00+00', '2026-11-30 12:00:00+00');
INSERT INTO public.handoffs VALUES (2, 's2', 'twilio', 'misunderstood', 'waiting', '2026-11-30 12:00:00+00', '2026-11-30 12:00:00+00', NULL, NULL, NULL, NULL, NULL, NULL, NULL);

INSERT INTO public.open311_catalog VALUES ('http://x/open311/v2', 'services', '[]', '2026-11-30 12:00:00+00');

INSERT INTO public.processed_deliveries VALUES ('telegram', '77', '2026-11-30 12:00:00+00');

INSERT INTO public.report_outbox VALUES ('R2D2', 'k1', 's1', 'POTHOLE', 'Pothole', '{}', 'filed', 1, '2026-11-30 12:00:00+00', NULL, NULL, NULL, '1001', '2026-11-30 12:00:00+00', '2026-11-30 12:00:00+00', true);

INSERT INTO public.request_subscriptions VALUES ('s1', '1001', 'open', 'received', '2026-11-30 12:00:00+00');

INSERT INTO public.sms_choices VALUES ('s2', '["/yes", "/no"]', '2026-11-30 12:00:00+00');

INSERT INTO public.staff_sessions VALUES ('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'ann', 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', '2026-11-30 12:00:00+00', '2026-11-30 12:00:00+00', '2026-12-01 00:00:00+00');

INSERT INTO public.staff_users VALUES ('ann', 'scrypt$x', '2026-11-30 12:00:00+00', false, 0, NULL);

INSERT INTO public.status_notifications VALUES (1, 's1', '1001', 'open|received', 'Your report is open', 'sent', 1, '2026-11-30 12:00:00+00', '2026-11-30 12:00:00+00');

INSERT INTO public.webchat_messages VALUES (1, 'w1', 'user', '{"text": "hi"}', '2026-11-30 12:00:00+00');
INSERT INTO public.webchat_messages VALUES (2, 'w1', 'bot', '{"text": "hello"}', '2026-11-30 12:00:00+00');

SELECT pg_catalog.setval('public.alert_deliveries_id_seq', 1, true);

SELECT pg_catalog.setval('public.alert_subscriptions_id_seq', 1, true);

SELECT pg_catalog.setval('public.alerts_id_seq', 1, true);

SELECT pg_catalog.setval('public.audit_log_id_seq', 1, true);

SELECT pg_catalog.setval('public.handoff_notes_id_seq', 1, true);

SELECT pg_catalog.setval('public.handoffs_id_seq', 2, true);

SELECT pg_catalog.setval('public.status_notifications_id_seq', 1, true);

SELECT pg_catalog.setval('public.webchat_messages_id_seq', 2, true);

ALTER TABLE ONLY public.alert_deliveries
    ADD CONSTRAINT alert_deliveries_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.alert_subscriptions
    ADD CONSTRAINT alert_subscriptions_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.alerts
    ADD CONSTRAINT alerts_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.audit_log
    ADD CONSTRAINT audit_log_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.contacts
    ADD CONSTRAINT contacts_pkey PRIMARY KEY (sender_id);

ALTER TABLE ONLY public.conversation_locks
    ADD CONSTRAINT conversation_locks_pkey PRIMARY KEY (conversation_id);

ALTER TABLE ONLY public.handoff_notes
    ADD CONSTRAINT handoff_notes_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.handoffs
    ADD CONSTRAINT handoffs_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.open311_catalog
    ADD CONSTRAINT open311_catalog_pkey PRIMARY KEY (endpoint, resource);

ALTER TABLE ONLY public.processed_deliveries
    ADD CONSTRAINT processed_deliveries_pkey PRIMARY KEY (channel, delivery_id);

ALTER TABLE ONLY public.report_outbox
    ADD CONSTRAINT report_outbox_idempotency_key_key UNIQUE (idempotency_key);

ALTER TABLE ONLY public.report_outbox
    ADD CONSTRAINT report_outbox_pkey PRIMARY KEY (reference);

ALTER TABLE ONLY public.request_subscriptions
    ADD CONSTRAINT request_subscriptions_pkey PRIMARY KEY (sender_id, service_request_id);

ALTER TABLE ONLY public.sms_choices
    ADD CONSTRAINT sms_choices_pkey PRIMARY KEY (sender_id);

ALTER TABLE ONLY public.staff_sessions
    ADD CONSTRAINT staff_sessions_pkey PRIMARY KEY (token_hash);

ALTER TABLE ONLY public.staff_users
    ADD CONSTRAINT staff_users_pkey PRIMARY KEY (username);

ALTER TABLE ONLY public.status_notifications
    ADD CONSTRAINT status_notifications_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.status_notifications
    ADD CONSTRAINT status_notifications_sender_id_service_request_id_change_ke_key UNIQUE (sender_id, service_request_id, change_key);

ALTER TABLE ONLY public.alert_deliveries
    ADD CONSTRAINT uq_alert_deliveries UNIQUE (alert_id, sender_id);

ALTER TABLE ONLY public.alert_subscriptions
    ADD CONSTRAINT uq_alert_subscriptions UNIQUE (sender_id, topic, zone);

ALTER TABLE ONLY public.webchat_messages
    ADD CONSTRAINT webchat_messages_pkey PRIMARY KEY (id);

CREATE INDEX ix_alert_deliveries_progress ON public.alert_deliveries USING btree (alert_id, channel, state, id);

CREATE INDEX ix_alert_subscriptions_sender_id ON public.alert_subscriptions USING btree (sender_id);

CREATE INDEX ix_alerts_state ON public.alerts USING btree (state);

CREATE INDEX ix_audit_log_handoff_id ON public.audit_log USING btree (handoff_id);

CREATE INDEX ix_handoff_notes_handoff_id ON public.handoff_notes USING btree (handoff_id);

CREATE INDEX ix_handoffs_state ON public.handoffs USING btree (state);

CREATE INDEX ix_report_outbox_state ON public.report_outbox USING btree (state);

CREATE INDEX ix_staff_sessions_username ON public.staff_sessions USING btree (username);

CREATE INDEX ix_status_notifications_state ON public.status_notifications USING btree (state);

CREATE INDEX ix_webchat_messages_sender_id_id ON public.webchat_messages USING btree (sender_id, id);

CREATE UNIQUE INDEX uq_handoffs_open_sender ON public.handoffs USING btree (sender_id) WHERE ((state)::text <> 'resolved'::text);

ALTER TABLE ONLY public.alert_deliveries
    ADD CONSTRAINT alert_deliveries_alert_id_fkey FOREIGN KEY (alert_id) REFERENCES public.alerts(id);

ALTER TABLE ONLY public.handoff_notes
    ADD CONSTRAINT handoff_notes_handoff_id_fkey FOREIGN KEY (handoff_id) REFERENCES public.handoffs(id);

ALTER TABLE ONLY public.staff_sessions
    ADD CONSTRAINT staff_sessions_username_fkey FOREIGN KEY (username) REFERENCES public.staff_users(username);

