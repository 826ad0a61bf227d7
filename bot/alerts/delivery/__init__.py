"""Delivering an alert: a durable, resumable job that reaches each subscriber once.

`run_delivery(alert_id)` (bot.alerts.delivery.job) works through the alert's
delivery rows, one lane per channel (lanes), each with its rate limiter
(bot.alerts.limiter) and a few concurrent senders:

1. A sender takes its channel's tokens from the limiter (one per message, or
   per SMS segment of the row's language's message), then claims one row
   (claims): in one committed transaction the row goes from pending to
   `sending` (with the job's id and the attempt counted), after checking that
   the resident has not opted out or unsubscribed since the alert was written
   (then it is skipped).
2. The message goes out through the channel's OutboundSender, spaced once
   more by the same limit right before it leaves (claims committed together
   come back together; they must not leave together).
3. The row becomes sent; or pending again with a backoff after a temporary
   failure (until ALERT_MAX_ATTEMPTS), failed after a permanent one (failures),
   skipped when the channel says the resident cannot be reached.

Claims and outcomes of all senders are written together in shared transactions
(group_commit), so a slow disk costs one commit per round, not per message.
Web chat messages are rows the web chat's sender writes in the claim's own
transaction, together with the "sent" mark, so those are exactly once.

Each row sends the alert in the language written on it when the alert was
sent (its resident's then): the text staff gave in that language, else the
default language's, framed in the row's language. What a row sends therefore
does not depend on when, or by which job, it is sent.

One job at a time delivers an alert: it holds a lease on the alert row (lease),
renewed while it runs. When a process dies the lease runs out
(ALERT_LEASE_SECONDS) and the next job (the worker's `alert_loop` in
bot.alerts.delivery.loop, or `citybot alerts resume`) carries on where it
stopped: it marks rows the dead job left `sending` as `unconfirmed` (the
message may have left just before the crash) and never sends those again on
its own, so nobody gets an alert twice. Staff may queue them again
(`approval.resend_unconfirmed`).
"""
