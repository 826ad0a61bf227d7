"""The assistant's own database: engine (`engine`), tables (`schema`), Alembic migrations (`migrate`)."""
