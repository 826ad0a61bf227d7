"""Crisis alerts: residents opt in on their channel, staff broadcast, each subscriber is reached once.

- `bot.alerts.store`: subscriptions, alerts and their delivery rows (one per
  alert and subscriber, unique), fan-out and progress counts.
- `bot.alerts.delivery`: the durable delivery job (`run_delivery`): lease,
  claimed rows, group commit, a lane per channel with its rate limit, retries
  with backoff, resumable after a crash; the worker's `alert_loop`.
- `bot.alerts.limiter`: the per-channel rate limiters (ALERT_RATE_<CHANNEL>).
- `bot.alerts.keywords`: SMS keywords ("ALERTS ON", "ALERTS OFF WATER", "ALERTAS SI AGUA").
- `bot.alerts.words`, `bot.alerts.texts`: what residents say (topics, zones, in
  every city language) and what they read (the alert, their subscriptions, in theirs).
- `bot.alerts.faq_page`: read-only FAQ answer pages alerts can link to.
- `bot.alerts.cli`: `citybot alerts ...` for staff.

What a staff console calls (all async; the results have `as_dict()` for JSON):

- `store.preview_alert(topic, zone)` -> Preview: recipients per channel and per language
  (`by_language`), how many STOPped, and `falling_back(translations)`: readers of a
  language the alert has no text in (they get the default language's text).
- `store.create_alert(topic, zone, severity, text, created_by, translations={"es": ...}, faq_url=...)`
  -> Alert: `text` in the default language, `translations` in the others; written with its
  deliveries, each with its resident's language; the worker's `delivery.loop.alert_loop`
  delivers it within seconds. `store.alert_message(alert, language)` is what a reader gets.
- `delivery.job.run_delivery(alert_id, progress)` (or `send_alert(...)`) to deliver it in the
  console's own process instead (after `bot.channels.outbound.load_senders_from_env()`).
- `store.alert_status(alert_id)` -> AlertStatus: sent, failed, skipped, unconfirmed, pending, per channel.
- `store.list_alerts()`, `store.cancel_alert(alert_id)`, `store.resend_unconfirmed(alert_id)`.
- `store.subscribe`, `store.unsubscribe`, `store.subscriptions_of` for a conversation (sender id).

The package itself exports nothing: importing `bot.alerts.store` (the actions
do) loads neither the delivery job nor any channel.
"""
