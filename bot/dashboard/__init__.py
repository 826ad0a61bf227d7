"""The supervisors' dashboard: figures of a date range from the stored events (docs/dashboard.md).

Rasa's tracker store gives the conversations (bot.dashboard.conversations),
the assistant's database the handoffs (bot.dashboard.handoffs) and reports
(bot.dashboard.reports); bot.dashboard.figures puts each source's sections
together and the console shows them (bot/handoff/console/dashboard.py).
"""
