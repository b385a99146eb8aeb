# The two commands: `make run` (the bot, or a console chat without a token) and `make test`.
.PHONY: run test lint venv eval bench

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
