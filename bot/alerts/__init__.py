"""Crisis alerts: residents opt in on their channel, staff broadcast, each subscriber is reached once.

- `bot.alerts.store`: subscriptions, alerts and their delivery rows (one per
  alert and subscriber, unique), fan-out and progress counts.
- `bot.alerts.delivery`: the durable delivery job (`run_delivery`): lease,
  claimed rows, group commit, a lane per channel with its rate limit, retries
  with backoff, resumable after a crash; the worker's `alert_loop`.
- `bot.alerts.limiter`: the per-channel rate limiters (ALERT_RATE_<CHANNEL>).
- `bot.alerts.keywords`: SMS keywords ("ALERTS ON", "ALERTS OFF WATER").
- `bot.alerts.faq_page`: read-only FAQ answer pages alerts can link to.
- `bot.alerts.cli`: `citybot alerts ...` for staff.

What a staff console calls (all async; the results have `as_dict()` for JSON):

- `preview_alert(topic, zone)` -> Preview: recipients per channel, and how many STOPped.
- `create_alert(topic, zone, severity, text, created_by)` -> Alert: written with its
  deliveries; the worker's `alert_loop` delivers it within seconds.
- `run_delivery(alert_id, progress)` (or `send_alert(...)`) to deliver it in the
  console's own process instead (after `bot.channels.outbound.load_senders_from_env()`).
- `alert_status(alert_id)` -> AlertStatus: sent, failed, skipped, unconfirmed, pending, per channel.
- `list_alerts()`, `cancel_alert(alert_id)`, `resend_unconfirmed(alert_id)`.
- `subscribe`, `unsubscribe`, `subscriptions_of` for a conversation (sender id).
"""
from __future__ import annotations

from bot.alerts.delivery.job import run_delivery, send_alert  # noqa: F401
from bot.alerts.delivery.lease import AlertBusy  # noqa: F401
from bot.alerts.delivery.loop import alert_loop  # noqa: F401
from bot.alerts.store import (  # noqa: F401 - the package's API
    ALL,
    SEVERITIES,
    TOPICS,
    ZONES,
    AlertError,
    alert_status,
    cancel_alert,
    create_alert,
    get_alert,
    list_alerts,
    preview_alert,
    resend_unconfirmed,
    subscribe,
    subscriptions_of,
    unsubscribe,
)
