"""Alembic's entry point for the assistant's database (run by `bot.db.migrate`)."""

from alembic import context

from bot.db.migrate import run_env
from bot.db.schema import metadata

run_env(context, metadata)
