"""Crisis alerts: residents opt in on their channel, staff broadcast, each subscriber is reached once.

- `bot.alerts.store`: subscriptions, alerts and their delivery rows (one per
  alert and subscriber, unique), fan-out and progress counts.
- `bot.alerts.approval`: the two-person rule (draft, a second supervisor's
  approval, send; cancel, resume), each step audited.
- `bot.alerts.outgoing`: what an alert sends in each language, and to how many.
- `bot.alerts.page_post`: an alert's post on the city's Facebook Page (staff's choice,
  queued when the alert is sent, its state); `bot.alerts.delivery.page` posts it, once.
- `bot.alerts.delivery`: the durable delivery job (`run_delivery`): lease,
  claimed rows, group commit, a lane per channel with its rate limit, retries
  with backoff, resumable after a crash; the worker's `alert_loop`.
- `bot.alerts.limiter`: the per-channel rate limiters (ALERT_RATE_<CHANNEL>).
- `bot.alerts.keywords`: SMS keywords ("ALERTS ON", "ALERTS OFF WATER", "ALERTAS SI AGUA").
- `bot.alerts.words`, `bot.alerts.texts`: what residents say (topics, zones, in
  every city language) and what they read (the alert, their subscriptions, in theirs).
- `bot.alerts.faq_page`: read-only FAQ answer pages alerts can link to.
- `bot.alerts.cli`: `citybot alerts ...` for staff; the console's pages are
  bot.handoff.console.alerts.

What a staff console calls (all async; the results have `as_dict()` for JSON):

- `store.preview_alert(topic, zone)` -> Preview: recipients per channel and per language
  (`by_language`), how many STOPped, and `falling_back(translations)`: readers of a
  language the alert has no text in (they get the default language's text).
- `outgoing.outgoing(alert)` -> Outgoing: the preview, and each language's exact
  message (`copies`), saying which fall back to the default language's text.
- `approval.draft_alert(topic, zone, severity, text, by, translations={"es": ...}, faq_url=...)`
  -> Alert: a draft by supervisor `by`; nothing delivers it. `approval.edit_draft` (its
  author; voids any approval), `approval.approve_alert(id, by, revision)` (a different
  supervisor), `approval.send_alert(id, by, revision)`: its deliveries are written, each
  with its resident's language, and the worker's `delivery.loop.alert_loop` delivers them
  within seconds. Each step checks the account and is audited. `store.alert_message(alert,
  language)` is what a reader gets.
- `delivery.job.run_delivery(alert_id, progress)` to deliver a sent alert in the console's
  own process instead (after `bot.channels.outbound.load_senders_from_env()`).
- `store.alert_status(alert_id)` -> AlertStatus: sent, failed, skipped, unconfirmed, pending, per channel.
- `store.list_alerts()`, `approval.cancel_alert(id, by)`, `approval.resume_alert(id, by)`,
  `approval.resend_unconfirmed(id, by)`.
- `store.subscribe`, `store.unsubscribe`, `store.subscriptions_of` for a conversation (sender id).

The package itself exports nothing: importing `bot.alerts.store` (the actions
do) loads neither the delivery job nor any channel.
"""
