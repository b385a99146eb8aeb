"""Telegram bot (and local console) that quotes who said what about an event, with sources."""
