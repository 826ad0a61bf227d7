"""Status updates: residents hear when a request they filed or follow changes.

- `store`: the subscriptions and the updates owed (actions subscribe here).
- `poller`: asks the back office about followed requests and records changes.
- `notifier`: sends the recorded updates through the resident's channel.

The poller and notifier run in the worker; the conversation side only needs
the store, so an action server never loads a channel.
"""
