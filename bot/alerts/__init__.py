"""Crisis alerts: residents opt in on their channel, staff broadcast, each subscriber is reached once.

- `bot.alerts.store`: subscriptions, alerts and their delivery rows (one per
  alert and subscriber, unique), fan-out and progress counts.
- `bot.alerts.broadcast`: the durable delivery job (`run_delivery`): claimed
  rows, per-channel rate limits, retries with backoff, resumable after a crash.
- `bot.alerts.limiter`: the per-channel rate limiters (ALERT_RATE_<CHANNEL>).
- `bot.alerts.keywords`: SMS keywords ("ALERTS ON", "ALERTS OFF WATER").
- `bot.alerts.faq_page`: read-only FAQ answer pages alerts can link to.
- `bot.alerts.cli`: `citybot alerts ...` for staff.

What a staff console calls (all async):
`preview_alert`, `create_alert`, `run_delivery`, `alert_status`, `list_alerts`,
`cancel_alert`, `resend_unconfirmed`; see `bot.alerts.broadcast` and `bot.alerts.store`.
"""
from __future__ import annotations

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
