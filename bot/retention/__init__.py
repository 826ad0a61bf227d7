"""Privacy: what the assistant keeps about a conversation, and for how long.

The city promises residents that chat transcripts are kept for a limited time
(RETENTION_DAYS, by default what the city file's privacy answer says) unless
they are part of an open request. `bot.retention.job` keeps that promise once a
day (in the worker) and on demand (`citybot retention run`); staff put a
conversation on hold (`bot.retention.holds`) to keep it longer. docs/privacy.md
says what goes, what stays and why.
"""
