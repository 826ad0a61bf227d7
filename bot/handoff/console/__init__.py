"""The staff console: `citybot console` (`python -m bot.handoff.console`), a Sanic app of blueprints.

`app` builds the app (shared dependencies on `app.ctx`, one error handler);
`web` holds what every blueprint needs (sessions, cookies, CSRF); the blueprints
are `signin` (sign-in, sign-out, assets), `queue` (queue, audit log, take-over)
and `conversation` (one conversation: transcript, replies, notes, filing).
"""
