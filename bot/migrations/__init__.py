"""Alembic migrations of the bot's database (``bot.storage``); applied by ``Store.open``."""
