PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE contacts (
	sender_id VARCHAR(128) NOT NULL, 
	channel VARCHAR(32) NOT NULL, 
	address VARCHAR(256) NOT NULL, 
	opted_out BOOLEAN NOT NULL, 
	updated_at DATETIME NOT NULL, 
	PRIMARY KEY (sender_id)
);
INSERT INTO contacts VALUES('s1','telegram','1001',0,'2026-11-30 12:00:00.000000');
INSERT INTO contacts VALUES('s2','twilio','+15550001',1,'2026-11-30 12:00:00.000000');
CREATE TABLE processed_deliveries (
	channel VARCHAR(32) NOT NULL, 
	delivery_id VARCHAR(128) NOT NULL, 
	received_at DATETIME NOT NULL, 
	PRIMARY KEY (channel, delivery_id)
);
INSERT INTO processed_deliveries VALUES('telegram','77','2026-11-30 12:00:00.000000');
CREATE TABLE open311_catalog (
	endpoint VARCHAR(512) NOT NULL, 
	resource VARCHAR(160) NOT NULL, 
	body TEXT NOT NULL, 
	fetched_at DATETIME NOT NULL, 
	PRIMARY KEY (endpoint, resource)
);
INSERT INTO open311_catalog VALUES('http://x/open311/v2','services','[]','2026-11-30 12:00:00.000000');
CREATE TABLE sms_choices (
	sender_id VARCHAR(128) NOT NULL, 
	payloads TEXT NOT NULL, 
	updated_at DATETIME NOT NULL, 
	PRIMARY KEY (sender_id)
);
INSERT INTO sms_choices VALUES('s2','["/yes", "/no"]','2026-11-30 12:00:00.000000');
CREATE TABLE webchat_messages (
	id INTEGER NOT NULL, 
	sender_id VARCHAR(128) NOT NULL, 
	role VARCHAR(8) NOT NULL, 
	payload TEXT NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id)
);
INSERT INTO webchat_messages VALUES(1,'w1','user','{"text": "hi"}','2026-11-30 12:00:00.000000');
INSERT INTO webchat_messages VALUES(2,'w1','bot','{"text": "hello"}','2026-11-30 12:00:00.000000');
CREATE TABLE conversation_locks (
	conversation_id VARCHAR(255) NOT NULL, 
	data TEXT NOT NULL, 
	PRIMARY KEY (conversation_id)
);
INSERT INTO conversation_locks VALUES('c1','');
CREATE TABLE report_outbox (
	reference VARCHAR(16) NOT NULL, 
	idempotency_key VARCHAR(64) NOT NULL, 
	sender_id VARCHAR(128), 
	service_code VARCHAR(128) NOT NULL, 
	service_name VARCHAR(256), 
	fields TEXT NOT NULL, 
	state VARCHAR(16) NOT NULL, 
	attempts INTEGER NOT NULL, 
	next_attempt_at DATETIME NOT NULL, 
	claimed_until DATETIME, 
	last_error TEXT, 
	token VARCHAR(256), 
	service_request_id VARCHAR(128), 
	created_at DATETIME NOT NULL, 
	filed_at DATETIME, 
	resident_told BOOLEAN NOT NULL, 
	PRIMARY KEY (reference), 
	UNIQUE (idempotency_key)
);
INSERT INTO report_outbox VALUES('R2D2','k1','s1','POTHOLE','Pothole','{}','filed',1,'2026-11-30 12:00:00.000000',NULL,NULL,NULL,'1001','2026-11-30 12:00:00.000000','2026-11-30 12:00:00.000000',1);
CREATE TABLE request_subscriptions (
	sender_id VARCHAR(128) NOT NULL, 
	service_request_id VARCHAR(128) NOT NULL, 
	last_status VARCHAR(64), 
	last_notes TEXT, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (sender_id, service_request_id)
);
INSERT INTO request_subscriptions VALUES('s1','1001','open','received','2026-11-30 12:00:00.000000');
CREATE TABLE status_notifications (
	id INTEGER NOT NULL, 
	sender_id VARCHAR(128) NOT NULL, 
	service_request_id VARCHAR(128) NOT NULL, 
	change_key VARCHAR(512) NOT NULL, 
	text TEXT NOT NULL, 
	state VARCHAR(16) NOT NULL, 
	attempts INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	sent_at DATETIME, 
	PRIMARY KEY (id), 
	UNIQUE (sender_id, service_request_id, change_key)
);
INSERT INTO status_notifications VALUES(1,'s1','1001','open|received','Your report is open','sent',1,'2026-11-30 12:00:00.000000','2026-11-30 12:00:00.000000');
CREATE TABLE alert_subscriptions (
	id INTEGER NOT NULL, 
	sender_id VARCHAR(128) NOT NULL, 
	topic VARCHAR(16) NOT NULL, 
	zone VARCHAR(16) NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_alert_subscriptions UNIQUE (sender_id, topic, zone)
);
INSERT INTO alert_subscriptions VALUES(1,'s1','water','north','2026-11-30 12:00:00.000000');
CREATE TABLE alerts (
	id INTEGER NOT NULL, 
	topic VARCHAR(16) NOT NULL, 
	zone VARCHAR(16) NOT NULL, 
	severity VARCHAR(16) NOT NULL, 
	text TEXT NOT NULL, 
	created_by VARCHAR(128), 
	created_at DATETIME NOT NULL, 
	state VARCHAR(16) NOT NULL, 
	lease_owner VARCHAR(64), 
	lease_until DATETIME, 
	started_at DATETIME, 
	finished_at DATETIME, 
	PRIMARY KEY (id)
);
INSERT INTO alerts VALUES(1,'water','north','info','Boil water','ann','2026-11-30 12:00:00.000000','done',NULL,NULL,NULL,NULL);
CREATE TABLE handoffs (
	id INTEGER NOT NULL, 
	sender_id VARCHAR(128) NOT NULL, 
	channel VARCHAR(32) NOT NULL, 
	reason VARCHAR(32) NOT NULL, 
	state VARCHAR(16) NOT NULL, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	claimed_by VARCHAR(64), 
	claimed_at DATETIME, 
	resolved_by VARCHAR(64), 
	resolved_at DATETIME, 
	handed_back BOOLEAN, 
	urgent_at DATETIME, 
	noted_at DATETIME, 
	PRIMARY KEY (id)
);
INSERT INTO handoffs VALUES(1,'s1','telegram','asked','resolved','2026-11-30 12:00:00.000000','2026-11-30 12:00:00.000000','ann','2026-11-30 12:00:00.000000','ann','2026-11-30 12:00:00.000000',1,'2026-11-30 12:00:00.000000','2026-11-30 12:00:00.000000');
INSERT INTO handoffs VALUES(2,'s2','twilio','misunderstood','waiting','2026-11-30 12:00:00.000000','2026-11-30 12:00:00.000000',NULL,NULL,NULL,NULL,NULL,NULL,NULL);
CREATE TABLE staff_users (
	username VARCHAR(64) NOT NULL, 
	password_hash VARCHAR(256) NOT NULL, 
	created_at DATETIME NOT NULL, 
	disabled BOOLEAN NOT NULL, 
	failed_logins INTEGER NOT NULL, 
	locked_until DATETIME, 
	PRIMARY KEY (username)
);
INSERT INTO staff_users VALUES('ann','scrypt$x','2026-11-30 12:00:00.000000',0,0,NULL);
CREATE TABLE audit_log (
	id INTEGER NOT NULL, 
	at DATETIME NOT NULL, 
	actor VARCHAR(64) NOT NULL, 
	action VARCHAR(32) NOT NULL, 
	handoff_id INTEGER, 
	detail VARCHAR(256), 
	PRIMARY KEY (id)
);
INSERT INTO audit_log VALUES(1,'2026-11-30 12:00:00.000000','ann','claim',1,'POTHOLE');
CREATE TABLE alert_deliveries (
	id INTEGER NOT NULL, 
	alert_id INTEGER NOT NULL, 
	sender_id VARCHAR(128) NOT NULL, 
	channel VARCHAR(32) NOT NULL, 
	state VARCHAR(16) NOT NULL, 
	attempts INTEGER NOT NULL, 
	next_attempt_at DATETIME NOT NULL, 
	claimed_by VARCHAR(64), 
	claimed_until DATETIME, 
	sent_at DATETIME, 
	last_error TEXT, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_alert_deliveries UNIQUE (alert_id, sender_id), 
	FOREIGN KEY(alert_id) REFERENCES alerts (id)
);
INSERT INTO alert_deliveries VALUES(1,1,'s1','telegram','sent',1,'2026-11-30 12:00:00.000000',NULL,NULL,'2026-11-30 12:00:00.000000',NULL);
CREATE TABLE handoff_notes (
	id INTEGER NOT NULL, 
	handoff_id INTEGER NOT NULL, 
	author VARCHAR(64) NOT NULL, 
	text TEXT NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(handoff_id) REFERENCES handoffs (id)
);
INSERT INTO handoff_notes VALUES(1,1,'ann','called back','2026-11-30 12:00:00.000000');
CREATE TABLE staff_sessions (
	token_hash VARCHAR(64) NOT NULL, 
	username VARCHAR(64) NOT NULL, 
	csrf_token VARCHAR(64) NOT NULL, 
	created_at DATETIME NOT NULL, 
	last_seen_at DATETIME NOT NULL, 
	expires_at DATETIME NOT NULL, 
	PRIMARY KEY (token_hash), 
	FOREIGN KEY(username) REFERENCES staff_users (username)
);
INSERT INTO staff_sessions VALUES('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa','ann','bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb','2026-11-30 12:00:00.000000','2026-11-30 12:00:00.000000','2026-12-01 00:00:00.000000');
CREATE INDEX ix_webchat_messages_sender_id_id ON webchat_messages (sender_id, id);
CREATE INDEX ix_report_outbox_state ON report_outbox (state);
CREATE INDEX ix_status_notifications_state ON status_notifications (state);
CREATE INDEX ix_alert_subscriptions_sender_id ON alert_subscriptions (sender_id);
CREATE INDEX ix_alerts_state ON alerts (state);
CREATE UNIQUE INDEX uq_handoffs_open_sender ON handoffs (sender_id) WHERE state != 'resolved';
CREATE INDEX ix_handoffs_state ON handoffs (state);
CREATE INDEX ix_audit_log_handoff_id ON audit_log (handoff_id);
CREATE INDEX ix_alert_deliveries_progress ON alert_deliveries (alert_id, channel, state, id);
CREATE INDEX ix_handoff_notes_handoff_id ON handoff_notes (handoff_id);
CREATE INDEX ix_staff_sessions_username ON staff_sessions (username);
COMMIT;
