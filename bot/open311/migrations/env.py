"""Alembic's entry point for the reference Open311 server's database (run by `bot.db.migrate`)."""

from alembic import context

from bot.db.migrate import run_env
from bot.open311.schema import metadata

run_env(context, metadata)
