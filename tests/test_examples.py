"""Examples in the user's language and script: /start's question and button, and the empty
inline query's button (real engine; the Cyrillic names must be answerable)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from bot import commands, i18n
from bot.commands import Chat
from bot.examples import cyrillic
from bot.render import to_plain

PRIVATE = Chat("private", "ReactionsTestBot", 500)
WANTED = {"en": "What did Peskov say?", "ru": "Что говорит Песков?", "uk": "Що каже Песков?"}


def test_latin_names_are_written_in_russian_and_ukrainian_cyrillic() -> None:
    assert cyrillic("Peskov", "ru") == "Песков" == cyrillic("Peskov", "uk")
    assert cyrillic("Zelensky", "ru") == "Зеленский"
    assert cyrillic("Zelensky", "uk") == "Зеленський"
    assert cyrillic("Nikolay Kharaishvili", "ru") == "Николай Хараишвили"
    assert cyrillic("Tsikhanovskaya", "ru") == "Цихановская"
    assert cyrillic("Peskov", "en") == "Peskov"


@pytest.mark.parametrize("language", ["en", "ru", "uk"])
def test_start_gives_its_example_in_the_users_language_and_script(
    engine: Any, language: str
) -> None:
    with i18n.use(language):
        reply = commands.start(engine, "", PRIVATE)
        text = to_plain(reply.html)
        assert WANTED[language] in text
        person = [b for row in reply.buttons for b in row if b.data.startswith("w|")]
        assert len(person) == 1
        label = person[0].text
        if language != "en":
            assert not re.search(r"[A-Za-z]", label), label  # no Latin name among Cyrillic
            assert re.search(r"/country [А-ЯІЇЄҐ]", text)  # the country in Cyrillic too
        # The button's question is answered by the engine, in its script.
        answered = commands.button(engine, person[0].data)
        assert answered is not None and "Dmitry Peskov" in to_plain(answered.html)


@pytest.mark.parametrize("language", ["ru", "uk"])
def test_every_archive_example_is_cyrillic_and_answerable(archive: Any, language: str) -> None:
    with i18n.use(language):
        reply = commands.start(archive, "", PRIVATE)
    [button] = [b for row in reply.buttons for b in row if b.data.startswith("w|")]
    assert not re.search(r"[A-Za-z]", button.text)
    assert archive.who(button.data[2:]).intent.kind == "person"
    assert f"{button.text}?" in to_plain(reply.html)


@pytest.mark.parametrize("language", ["en", "ru", "uk"])
def test_the_empty_inline_query_offers_an_example_in_the_users_script(
    engine: Any, language: str
) -> None:
    with i18n.use(language):
        page = commands.inline(engine, "", "")
        assert page.example is not None
        text, payload = page.example
        assert ("Peskov" if language == "en" else "Песков") in text
        assert payload == "who-Peskov"
        opened = to_plain(commands.start(engine, payload, PRIVATE).html)
    assert "Dmitry Peskov" in opened
    assert commands.inline(engine, "Peskov", "").example is None  # only the empty query
