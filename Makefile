# The two commands: `make run` (the bot, or a console chat without a token) and `make test`.
.PHONY: run test lint venv eval bench messages

venv:
	@./scripts/venv.sh

run: venv
	@.venv/bin/python -m bot

test: venv
	@./scripts/postgres.sh
	.venv/bin/ruff check .
	.venv/bin/mypy
	.venv/bin/python -m pytest

eval: venv
	.venv/bin/python -m index eval

# After changing the bot's text: extract the msgids, merge them into bot/locale/*/messages.po,
# then translate what is new or fuzzy there (tests/test_i18n.py fails until that is done).
messages: venv
	.venv/bin/pybabel extract -F babel.cfg -k count:1,2 --no-location --sort-output \
		--project=reactions-bot -o bot/locale/messages.pot .
	.venv/bin/pybabel update -i bot/locale/messages.pot -d bot/locale -D messages \
		--width=100 --ignore-obsolete
	@rm -f bot/locale/messages.pot
