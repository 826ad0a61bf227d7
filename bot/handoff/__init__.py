"""Live handoff: city staff take over a resident's conversation on the resident's own channel.

- `store`: the tables (handoffs, notes, staff accounts and sessions, audit log) and their queries.
- `service`: what staff do (claim, reply, note, file, resolve, take over), talking to Rasa's HTTP API.
- `console`: the staff console, a small Sanic app (`citybot console`, `/console`).
- `passwords`: argon2id hashing in a small thread pool of its own (never on the event loop).
- `throttle`: the per-client limit on sign-in attempts, and who the client is (trusted proxies).
- `waiting`: a resident waiting for staff: the wait told, and what their messages do (emergency, cancel).
- `paused`: the Rasa patch that runs `action_handoff_waiting` for a message to a paused conversation.
- `actions/conversation.py`: `ActionRequestHuman` opens a handoff and pauses the bot;
  `ActionHandoffWaiting` answers while it waits.
"""
