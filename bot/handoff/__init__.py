"""Live handoff: city staff take over a resident's conversation on the resident's own channel.

- `store`: the tables (handoffs, notes, staff accounts and sessions, audit log) and their queries.
- `service`: what staff do (claim, reply, note, file, resolve, take over), talking to Rasa's HTTP API.
- `console`: the staff console, a small Sanic app (`citybot console`, `/console`).
- `actions/conversation.py`: `ActionRequestHuman` opens a handoff and pauses the bot.
"""
