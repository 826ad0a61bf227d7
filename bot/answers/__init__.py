"""Answers staff edit in the console (/console/answers): the FAQ answers and the greeting, per language.

- `bot.answers.responses`: the responses as the training files write them (the originals).
- `bot.answers.editable`: which of them staff may edit, and their original texts and buttons.
- `bot.answers.facts`: what an FAQ answer must state, from the city file's facts.
- `bot.answers.checks`: why a text cannot be published (length, markup, braces, facts).
- `bot.answers.store`: the versions, published and reverted, each change in the audit log.
- `bot.answers.published`: the published texts in the Rasa process's memory, refreshed
  every ANSWERS_REFRESH_SECONDS (bot/rasa_ext/patches/published_answers.py answers with them).
"""
