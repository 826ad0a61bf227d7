"""Every table the assistant owns, in one MetaData (what Rasa's tracker store does not hold).

Changing a table here takes a migration in `bot/db/migrations/versions/`
(`python -m bot.db.migrate revision -m "..."` writes one from the difference).
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

# --- channels ----------------------------------------------------------------

# The language each conversation's resident is answered in, for the messages
# sent outside the conversation (report updates, alerts, handoff notices).
resident_languages = sa.Table(
    "resident_languages",
    metadata,
    sa.Column("sender_id", sa.String(128), primary_key=True),
    sa.Column("language", sa.String(8), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

# How to reach each conversation's resident: `sender_id` is the pseudonymous
# Rasa conversation id, `address` the chat id or phone number behind it.
contacts = sa.Table(
    "contacts",
    metadata,
    sa.Column("sender_id", sa.String(128), primary_key=True),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("address", sa.String(256), nullable=False),
    sa.Column("opted_out", sa.Boolean, nullable=False, default=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    # When the resident last wrote: Meta lets a Page message them only within 24 hours of it
    # (7 days for staff replies), so Messenger and Instagram deliveries check it.
    sa.Column("last_message_at", sa.DateTime(timezone=True)),
)

# Where a Messenger or Instagram conversation's report updates go once Meta's 24-hour window
# has closed: the phone number the resident gave in a report (`address`, E.164) on `channel`
# ("sms"). Personal data: forgotten with the resident (bot/retention).
update_fallbacks = sa.Table(
    "update_fallbacks",
    metadata,
    sa.Column("sender_id", sa.String(128), primary_key=True),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("address", sa.String(256), nullable=False),
    sa.Column("given_at", sa.DateTime(timezone=True), nullable=False),
)

# Webhook deliveries already handled (Telegram update_id, Twilio MessageSid), so a
# retried delivery is processed once.
processed_deliveries = sa.Table(
    "processed_deliveries",
    metadata,
    sa.Column("channel", sa.String(32), primary_key=True),
    sa.Column("delivery_id", sa.String(128), primary_key=True),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
)

# Residents' Messenger/Instagram photos: the link the city's back office gets names `ref`;
# the CDN address behind it is fetched only by the assistant (bot/channels/messenger.py).
messenger_media = sa.Table(
    "messenger_media",
    metadata,
    sa.Column("ref", sa.String(64), primary_key=True),
    sa.Column("sender_id", sa.String(128), nullable=False, index=True),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

# The numbered choices last offered in each SMS/WhatsApp conversation, until the
# resident's next message uses them up.
sms_choices = sa.Table(
    "sms_choices",
    metadata,
    sa.Column("sender_id", sa.String(128), primary_key=True),
    sa.Column("payloads", sa.Text, nullable=False),  # JSON list of button payloads
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

# The web chat transcript of each browser session, which the page polls.
webchat_messages = sa.Table(
    "webchat_messages",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sender_id", sa.String(128), nullable=False),
    sa.Column("role", sa.String(8), nullable=False),  # user, bot or staff
    sa.Column("payload", sa.Text, nullable=False),  # JSON: text, buttons, image, attachment, custom
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_webchat_messages_sender_id_id", "sender_id", "id"),
)

# Photos residents uploaded in the web chat, re-encoded without metadata (bot/channels/photo_checks.py),
# served to the city's back office through signed links (bot/channels/media.py).
webchat_photos = sa.Table(
    "webchat_photos",
    metadata,
    sa.Column("ref", sa.String(64), primary_key=True),  # random, URL-safe: the link's file reference
    sa.Column("sender_id", sa.String(128), nullable=False),
    sa.Column("content_type", sa.String(32), nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_webchat_photos_sender_id_created_at", "sender_id", "created_at"),
    sa.Index("ix_webchat_photos_created_at", "created_at"),
)

# --- Rasa ----------------------------------------------------------------------

# Ticket locks of the conversations being answered, for several Rasa processes.
conversation_locks = sa.Table(
    "conversation_locks",
    metadata,
    sa.Column("conversation_id", sa.String(255), primary_key=True),
    sa.Column("data", sa.Text, nullable=False),  # TicketLock.dumps(), "" while being created
)

# --- reports -------------------------------------------------------------------

# The last service list and service definitions each back office gave
# (`endpoint` is its base URL; `resource` is "services" or "services/{code}"), as
# JSON, so reports can still be drafted while it is unreachable.
open311_catalog = sa.Table(
    "open311_catalog",
    metadata,
    sa.Column("endpoint", sa.String(512), primary_key=True),
    sa.Column("resource", sa.String(160), primary_key=True),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
)

# Reports on their way to the back office: written before the first attempt, so
# none is lost, and filed once (its idempotency key) however often it is retried.
report_outbox = sa.Table(
    "report_outbox",
    metadata,
    sa.Column("reference", sa.String(16), primary_key=True),
    sa.Column("idempotency_key", sa.String(64), nullable=False, unique=True),
    sa.Column("sender_id", sa.String(128)),
    sa.Column("service_code", sa.String(128), nullable=False),
    sa.Column("service_name", sa.String(256)),
    sa.Column("fields", sa.Text, nullable=False),
    sa.Column("state", sa.String(16), nullable=False, index=True),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("claimed_until", sa.DateTime(timezone=True)),
    sa.Column("last_error", sa.Text),
    sa.Column("token", sa.String(256)),
    # The city's request number; indexed for the status poll, which stamps `closed_at` by it.
    sa.Column("service_request_id", sa.String(128), index=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("filed_at", sa.DateTime(timezone=True)),
    # Whether the resident has been told the outcome (the city's id or a refusal).
    sa.Column("resident_told", sa.Boolean, nullable=False, default=False),
    # The resident's language when they reported (the description is filed as they wrote it).
    sa.Column("language", sa.String(8)),
    # When the worker's status poll first heard the back office call the request closed (the
    # dashboard's time to close): not personal data, kept past the retention limit.
    sa.Column("closed_at", sa.DateTime(timezone=True)),
)

# The filed requests each conversation follows, with the state it last heard of.
report_subscriptions = sa.Table(
    "report_subscriptions",
    metadata,
    sa.Column("sender_id", sa.String(128), primary_key=True),
    sa.Column("service_request_id", sa.String(128), primary_key=True),
    sa.Column("last_status", sa.String(64)),
    sa.Column("last_notes", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

# One status update per subscriber and change of a followed request, then sent.
status_notifications = sa.Table(
    "status_notifications",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sender_id", sa.String(128), nullable=False),
    sa.Column("service_request_id", sa.String(128), nullable=False),
    sa.Column("change_key", sa.String(512), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("state", sa.String(16), nullable=False, index=True),  # pending | sent | skipped | failed
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("sent_at", sa.DateTime(timezone=True)),
    sa.UniqueConstraint("sender_id", "service_request_id", "change_key"),
)

# --- alerts (see bot/alerts/store.py for the states) ----------------------------------

# What each conversation wants to hear about: a topic in a zone.
alert_subscriptions = sa.Table(
    "alert_subscriptions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sender_id", sa.String(128), nullable=False, index=True),
    sa.Column("topic", sa.String(16), nullable=False),
    sa.Column("zone", sa.String(16), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("sender_id", "topic", "zone", name="uq_alert_subscriptions"),
)

# What staff wrote; `lease_owner`/`lease_until` say which process is delivering it.
alerts = sa.Table(
    "alerts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("topic", sa.String(16), nullable=False),
    sa.Column("zone", sa.String(16), nullable=False),
    sa.Column("severity", sa.String(16), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("created_by", sa.String(128)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("state", sa.String(16), nullable=False, index=True),
    sa.Column("lease_owner", sa.String(64)),
    sa.Column("lease_until", sa.DateTime(timezone=True)),
    sa.Column("started_at", sa.DateTime(timezone=True)),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    sa.Column("faq_url", sa.String(512)),  # the FAQ answer it links to; each reader's link adds ?lang=
    # The two-person rule (bot/alerts/approval.py): a draft's text changes bump `revision` and void
    # any approval; a second supervisor approves one revision; sending writes the deliveries.
    sa.Column("revision", sa.Integer, nullable=False, server_default="1"),
    sa.Column("updated_at", sa.DateTime(timezone=True)),
    sa.Column("approved_by", sa.String(64)),
    sa.Column("approved_at", sa.DateTime(timezone=True)),
    sa.Column("sent_by", sa.String(64)),  # who sent it (an admin's override when nobody approved it)
    sa.Column("sent_at", sa.DateTime(timezone=True)),
    # Staff chose to publish it on the city's Facebook Page too (part of what is approved).
    sa.Column("publish_to_page", sa.Boolean, nullable=False, server_default=sa.false()),
)

# An alert's post on the city's Facebook Page (bot/alerts/page_post.py): written when the alert
# is sent, claimed before Meta is called (so a retry or a restart never posts it twice).
alert_page_posts = sa.Table(
    "alert_page_posts",
    metadata,
    sa.Column("alert_id", sa.Integer, sa.ForeignKey("alerts.id"), primary_key=True),
    sa.Column("state", sa.String(16), nullable=False, index=True),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("claimed_by", sa.String(64)),
    sa.Column("claimed_until", sa.DateTime(timezone=True)),
    sa.Column("post_id", sa.String(128)),
    sa.Column("published_at", sa.DateTime(timezone=True)),
    sa.Column("last_error", sa.Text),
)

# An alert's text in the city's other languages (`alerts.text` is the default language's).
alert_translations = sa.Table(
    "alert_translations",
    metadata,
    sa.Column("alert_id", sa.Integer, sa.ForeignKey("alerts.id"), primary_key=True),
    sa.Column("language", sa.String(8), primary_key=True),
    sa.Column("text", sa.Text, nullable=False),
)

# One row per alert and subscriber, claimed before its message leaves.
alert_deliveries = sa.Table(
    "alert_deliveries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("alert_id", sa.Integer, sa.ForeignKey("alerts.id"), nullable=False),
    sa.Column("sender_id", sa.String(128), nullable=False),
    sa.Column("channel", sa.String(32), nullable=False),
    # The language the resident reads this alert in, fixed when the row is written (NULL: the default).
    sa.Column("language", sa.String(8)),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("claimed_by", sa.String(64)),
    sa.Column("claimed_until", sa.DateTime(timezone=True)),
    sa.Column("sent_at", sa.DateTime(timezone=True)),
    sa.Column("last_error", sa.Text),
    sa.UniqueConstraint("alert_id", "sender_id", name="uq_alert_deliveries"),
    sa.Index("ix_alert_deliveries_progress", "alert_id", "channel", "state", "id"),
)

# --- handoff to staff (see bot/handoff/store.py) ---------------------------------------

# Stretches of conversations in which staff are in charge: waiting, claimed, resolved.
handoffs = sa.Table(
    "handoffs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sender_id", sa.String(128), nullable=False),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("reason", sa.String(32), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("claimed_by", sa.String(64)),
    sa.Column("claimed_at", sa.DateTime(timezone=True)),
    sa.Column("resolved_by", sa.String(64)),
    sa.Column("resolved_at", sa.DateTime(timezone=True)),
    sa.Column("handed_back", sa.Boolean),
    sa.Column("urgent_at", sa.DateTime(timezone=True)),  # an emergency message came while it was open
    sa.Column("noted_at", sa.DateTime(timezone=True)),  # the resident was told their messages wait for staff
    sa.Index("ix_handoffs_state", "state"),
    # One open handoff per conversation.
    sa.Index(
        "uq_handoffs_open_sender",
        "sender_id",
        unique=True,
        sqlite_where=sa.text("state != 'resolved'"),
        postgresql_where=sa.text("state != 'resolved'"),
    ),
)

# Staff notes on a handoff.
handoff_notes = sa.Table(
    "handoff_notes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("handoff_id", sa.Integer, sa.ForeignKey("handoffs.id"), nullable=False, index=True),
    sa.Column("author", sa.String(64), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

# Console accounts, with their role, failed logins and lockout.
staff_users = sa.Table(
    "staff_users",
    metadata,
    sa.Column("username", sa.String(64), primary_key=True),
    sa.Column("password_hash", sa.String(256), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("disabled", sa.Boolean, nullable=False, default=False),
    sa.Column("failed_logins", sa.Integer, nullable=False, default=0),
    sa.Column("locked_until", sa.DateTime(timezone=True)),
    # agent | supervisor | admin (bot/handoff/roles.py); the least one unless said otherwise.
    sa.Column("role", sa.String(16), nullable=False, server_default="agent"),
    sa.Column("last_sign_in_at", sa.DateTime(timezone=True)),
)

# Console sign-ins.
staff_sessions = sa.Table(
    "staff_sessions",
    metadata,
    # sha256 of the cookie's token: a copy of the database does not log anyone in.
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("username", sa.String(64), sa.ForeignKey("staff_users.username"), nullable=False, index=True),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
)

# What staff did, and when.
audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("handoff_id", sa.Integer, index=True),
    # Never message text or contact details: a service code, a reference, an outcome.
    sa.Column("detail", sa.String(256)),
)

# --- privacy (see bot/retention) ------------------------------------------------------------

# Conversations staff keep past the retention limit (a legal hold, a complaint under
# review): the retention job leaves them whole until the hold is released.
retention_holds = sa.Table(
    "retention_holds",
    metadata,
    sa.Column("conversation_id", sa.String(128), primary_key=True),
    sa.Column("held_by", sa.String(64), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("held_at", sa.DateTime(timezone=True), nullable=False),
)

# --- answers staff edit (see bot/answers/store.py) ------------------------------------------

# Every version of an answer staff published or restored (the greeting, an FAQ answer),
# per language; the newest of each is what residents read. `text` NULL: the training
# files' own text. `replaces` is the version it followed (0: none), unique per answer,
# so two staff members publishing from the same version cannot both win.
answer_versions = sa.Table(
    "answer_versions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("response", sa.String(128), nullable=False),
    sa.Column("language", sa.String(8), nullable=False),
    sa.Column("text", sa.Text),
    sa.Column("author", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("replaces", sa.Integer, nullable=False),
    sa.Column("restores", sa.Integer),  # the version it brought back (0: the training files' text)
    sa.UniqueConstraint("response", "language", "replaces", name="uq_answer_versions_replaces"),
)

# --- the satisfaction survey (see bot/survey) ------------------------------------------------

# One resident's answer to "How did we do? 1-5", asked once per conversation after a
# report was filed or a handoff resolved. `subject` is what it was asked about
# ("request:R-KVJ88H", "handoff:12"). `comment` is the resident's own words (personal
# data): the retention job empties it past the limit and keeps the score for the dashboard.
survey_answers = sa.Table(
    "survey_answers",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("score", sa.Integer, nullable=False),
    sa.Column("comment", sa.Text),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("language", sa.String(8), nullable=False),
    sa.Column("subject", sa.String(64), nullable=False),
    sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False, index=True),
)

# --- city jobs (see bot/jobs) ----------------------------------------------------------------

# The last good read of each jobs feed (`source`: its URL, or the shipped file's name): its
# postings as JSON, so answers and alerts go on from it while the feed is down or malformed.
job_feeds = sa.Table(
    "job_feeds",
    metadata,
    sa.Column("source", sa.String(512), primary_key=True),
    sa.Column("postings", sa.Text, nullable=False),  # JSON list of bot.jobs.postings.Posting.as_dict()
    sa.Column("careers_url", sa.String(512)),
    sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
)

# Every posting ever read, by the feed's own id: a posting not in here is new, and its
# alerts are written in the same transaction that adds it, so each goes out once.
job_postings_seen = sa.Table(
    "job_postings_seen",
    metadata,
    sa.Column("identifier", sa.String(256), primary_key=True),
    sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
)

# Residents' job alerts: new postings of a department, or with a keyword (one of the two).
job_subscriptions = sa.Table(
    "job_subscriptions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sender_id", sa.String(128), nullable=False, index=True),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("language", sa.String(8), nullable=False),
    sa.Column("department", sa.String(256), nullable=False, server_default=""),  # "": none
    sa.Column("keyword", sa.String(128), nullable=False, server_default=""),  # "": none
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("sender_id", "department", "keyword", name="uq_job_subscriptions"),
)

# One job alert per new posting and subscriber (unique), claimed (`sending`) before it leaves;
# one left `sending` by a process that died becomes `unconfirmed` and is never sent again.
job_notifications = sa.Table(
    "job_notifications",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("posting_id", sa.String(256), nullable=False),
    sa.Column("sender_id", sa.String(128), nullable=False),
    sa.Column("language", sa.String(8), nullable=False),
    sa.Column("posting", sa.Text, nullable=False),  # JSON: the posting as it was announced
    sa.Column("state", sa.String(16), nullable=False),  # pending | sending | sent | skipped | failed | unconfirmed
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("claimed_until", sa.DateTime(timezone=True)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("sent_at", sa.DateTime(timezone=True)),
    sa.Column("last_error", sa.Text),
    sa.UniqueConstraint("posting_id", "sender_id", name="uq_job_notifications"),
    sa.Index("ix_job_notifications_state", "state", "next_attempt_at"),
)
