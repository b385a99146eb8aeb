"""Settings: environment and .env parsing, errors that name the variable, a masked token."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError

TOKEN = "123456:ABC-def_ghi"
NO_FILE = Path("/nonexistent/.env")


def from_env(env: dict[str, str], dotenv: Path = NO_FILE) -> Settings:
    return Settings.from_env(env, dotenv)


def test_defaults_without_a_token_mean_console_mode() -> None:
    s = from_env({})
    assert s.mode == "console"
    assert (s.port, s.rate_limit, s.max_query_chars, s.log_level) == (8443, 20, 500, "INFO")
    assert s.inline_rate_limit == 60


def test_token_alone_means_polling_and_webhook_url_means_webhook() -> None:
    assert from_env({"TELEGRAM_BOT_TOKEN": TOKEN}).mode == "polling"
    s = from_env(
        {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "WEBHOOK_URL": "https://bot.example.com",
            "WEBHOOK_SECRET": "s3cret_-X",
            "PORT": "8080",
        }
    )
    assert (s.mode, s.port) == ("webhook", 8080)
    assert TOKEN not in s.webhook_path and s.webhook_path.startswith("tg-")
    assert s.full_webhook_url == f"https://bot.example.com/{s.webhook_path}"
    kept = from_env(
        {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "WEBHOOK_URL": "https://bot.example.com/hooks/tg",
            "WEBHOOK_SECRET": "x",
        }
    )
    assert (kept.webhook_path, kept.full_webhook_url) == (
        "hooks/tg",
        "https://bot.example.com/hooks/tg",
    )


def test_all_variables_are_read() -> None:
    s = from_env(
        {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": "http://localhost:8081/bot",
            "TELEGRAM_API_BASE_FILE_URL": "http://localhost:8081/file/bot",
            "BOT_RATE_LIMIT": "5",
            "BOT_INLINE_RATE_LIMIT": "0",
            "BOT_MAX_QUERY_CHARS": "120",
            "LOG_LEVEL": "debug",
        }
    )
    assert s.api_base_url == "http://localhost:8081/bot"
    assert s.api_base_file_url == "http://localhost:8081/file/bot"
    assert (s.rate_limit, s.max_query_chars, s.log_level) == (5, 120, "DEBUG")
    assert s.inline_rate_limit == 0


def test_dotenv_file_is_read_and_the_environment_wins(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        "# a comment\n"
        "\n"
        f"export TELEGRAM_BOT_TOKEN='{TOKEN}'\n"
        'BOT_RATE_LIMIT="7"\n'
        "BOT_MAX_QUERY_CHARS=300 # inline comment\n"
        "PORT=9000\n",
        encoding="utf-8",
    )
    s = from_env({"PORT": "9100"}, dotenv)
    assert (s.token, s.rate_limit, s.max_query_chars, s.port) == (TOKEN, 7, 300, 9100)


def test_dotenv_in_the_current_directory_is_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("BOT_RATE_LIMIT=3\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert Settings.from_env({}).rate_limit == 3


def test_a_broken_dotenv_line_names_the_file_and_line(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("PORT=1\nthis is not a setting\n", encoding="utf-8")
    with pytest.raises(SettingsError, match=r"\.env:2"):
        from_env({}, dotenv)


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"TELEGRAM_BOT_TOKEN": "not a token"}, "TELEGRAM_BOT_TOKEN"),
        ({"PORT": "eighty"}, "PORT"),
        ({"PORT": "70000"}, "PORT"),
        ({"BOT_RATE_LIMIT": "-1"}, "BOT_RATE_LIMIT"),
        ({"BOT_INLINE_RATE_LIMIT": "many"}, "BOT_INLINE_RATE_LIMIT"),
        ({"BOT_MAX_QUERY_CHARS": "0"}, "BOT_MAX_QUERY_CHARS"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
        ({"TELEGRAM_API_BASE_URL": "localhost:8081"}, "TELEGRAM_API_BASE_URL"),
        ({"WEBHOOK_URL": "https://x.example"}, "WEBHOOK_URL"),  # no token
        (
            {"TELEGRAM_BOT_TOKEN": TOKEN, "WEBHOOK_URL": "https://x.example"},
            "WEBHOOK_SECRET",
        ),
        (
            {
                "TELEGRAM_BOT_TOKEN": TOKEN,
                "WEBHOOK_URL": "https://x.example",
                "WEBHOOK_SECRET": "has spaces!",
            },
            "WEBHOOK_SECRET",
        ),
        (
            {"TELEGRAM_BOT_TOKEN": TOKEN, "WEBHOOK_URL": "http://x.example", "WEBHOOK_SECRET": "a"},
            "WEBHOOK_URL",
        ),
        ({"WEBHOOK_SECRET": "x" * 257}, "WEBHOOK_SECRET"),
    ],
)
def test_errors_name_the_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(SettingsError, match=variable) as info:
        from_env(env)
    assert TOKEN not in str(info.value)


def test_the_token_is_never_shown() -> None:
    s = from_env(
        {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "WEBHOOK_URL": "https://x.example",
            "WEBHOOK_SECRET": "hush-hush",
        }
    )
    for shown in (repr(s), str(s), f"{s}", f"{s!r}"):
        assert TOKEN not in shown and "ABC-def" not in shown and "hush-hush" not in shown
        assert "token='***'" in shown


def test_a_malformed_token_is_not_echoed() -> None:
    with pytest.raises(SettingsError) as info:
        from_env({"TELEGRAM_BOT_TOKEN": "123:has spaces secret"})
    assert "secret" not in str(info.value)


def test_settings_are_frozen() -> None:
    s = from_env({})
    with pytest.raises(AttributeError):
        s.port = 1  # type: ignore[misc]
