"""The bot's languages: which one a user gets, and its text from the gettext catalogs.

English is the source (the msgids in the code); Russian and Ukrainian live in
``bot/locale/<lang>/LC_MESSAGES/messages.po`` (Babel: ``pybabel extract/update``, see the
README). The catalogs are compiled in memory when first used (``babel.messages.mofile``), so
there are no ``.mo`` files to build, commit or let go stale: the ``.po`` is the one truth.

The language of the text being rendered is a context variable: the Telegram handlers set it
per update (``bot.handlers.choose_language``), the digest sender per follower, the console from
``--lang``. Rendering stays a function of its arguments and the active language; work handed
to another thread must carry the context along (``asyncio.to_thread`` does; for an executor,
``contextvars.copy_context().run``).
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import functools
import gettext
import io
import re
from collections.abc import Iterator
from pathlib import Path

from babel import Locale
from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

LANGUAGES = ("en", "ru", "uk")
DEFAULT_LANGUAGE = "en"
NAMES = {"en": "English", "ru": "Русский", "uk": "Українська"}  # each in its own language
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
# What /language accepts typed out, besides the codes and the names above.
ALIASES = {
    "english": "en",
    "eng": "en",
    "английский": "en",
    "англійська": "en",
    "russian": "ru",
    "рус": "ru",
    "русский": "ru",
    "російська": "ru",
    "ukrainian": "uk",
    "ua": "uk",
    "укр": "uk",
    "украинский": "uk",
    "українська": "uk",
}

_language: contextvars.ContextVar[str] = contextvars.ContextVar(
    "language", default=DEFAULT_LANGUAGE
)


# --- which language ---------------------------------------------------------------------------


def resolve(code: str | None) -> str:
    """Telegram's ``language_code`` (an IETF tag: ``ru``, ``uk``, ``ru-RU``, ``pt-br``) -> a
    language the bot speaks; anything else, or none, is English."""
    if not code:
        return DEFAULT_LANGUAGE
    base = re.split(r"[-_]", code.strip().lower(), maxsplit=1)[0]
    return base if base in LANGUAGES else DEFAULT_LANGUAGE


def parse(text: str) -> str | None:
    """What a user typed after ``/language`` (``ru``, ``Русский``, ``ukrainian``), or None."""
    word = " ".join(text.split()).casefold()
    if word in LANGUAGES:
        return word
    for code, name in NAMES.items():
        if word == name.casefold():
            return code
    return ALIASES.get(word)


def current() -> str:
    """The language being rendered now."""
    return _language.get()


def activate(language: str) -> None:
    """Render in ``language`` from here on, in this context (a handler's task, the console)."""
    _language.set(language if language in LANGUAGES else DEFAULT_LANGUAGE)


@contextlib.contextmanager
def use(language: str) -> Iterator[None]:
    """Render in ``language`` inside the block, then go back."""
    token = _language.set(language if language in LANGUAGES else DEFAULT_LANGUAGE)
    try:
        yield
    finally:
        _language.reset(token)


# --- the catalogs -----------------------------------------------------------------------------


def catalog_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def translations(language: str) -> gettext.NullTranslations:
    """The language's compiled catalog (English: the msgids as they are).

    Fuzzy and untranslated entries are left out by the compiler, so they show in English
    rather than wrong; ``tests/test_i18n.py`` fails while a catalog has any.
    """
    if language not in LANGUAGES or language == DEFAULT_LANGUAGE:
        return NullTranslations()
    with catalog_path(language).open("rb") as f:
        catalog = read_po(f, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def load_all() -> None:
    """Compile every catalog now (at start), so no user waits for it and a broken one fails
    the start rather than a reply."""
    for language in LANGUAGES:
        translations(language)


def _(message: str) -> str:
    """``message`` in the current language."""
    return translations(_language.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form for ``n`` in the current language (Russian and Ukrainian have three)."""
    return translations(_language.get()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark a constant for extraction; translate it with ``_`` where it is shown."""
    return message


# --- numbers, dates, countries ----------------------------------------------------------------


def number(n: int) -> str:
    """``1,234`` / ``1 234`` as the language writes it."""
    return format_decimal(n, locale=_language.get())


def count(singular: str, plural: str, n: int) -> str:
    """``ngettext`` with ``{n}`` filled in: ``count("{n} statement", "{n} statements", 3)``."""
    return ngettext(singular, plural, n).format(n=number(n))


MONTH_DAY_YEAR = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def date(iso: str | None) -> str:
    """``2024-11-06`` -> ``6 Nov 2024`` / ``6 нояб. 2024 г.``; anything else as is."""
    if not iso:
        return ""
    m = MONTH_DAY_YEAR.fullmatch(iso)
    if not m:
        return iso
    try:
        day = dt.date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return iso
    return format_date(day, "d MMM y", locale=_language.get())


@functools.cache
def _locale(language: str) -> Locale:
    return Locale.parse(language)


@functools.lru_cache(maxsize=4096)
def _country_name(name: str, language: str, strict: bool) -> str:
    if language == DEFAULT_LANGUAGE or not name:
        return name
    try:
        from index.gazetteer import lookup
    except ImportError:
        return name
    try:
        entry = lookup(name)
    except Exception:  # a country's name is decoration: never let it break an answer
        return name
    if entry is None or (strict and entry.name != name):
        return name
    code = entry.code
    if not code or not code.isalpha():
        return name
    return str(_locale(language).territories.get(code.upper(), name))


def country(name: str) -> str:
    """A country of the archive (its English name, ``index/data/countries.txt``) in the
    current language, from Babel's territory names by ISO code; unknown: as it is."""
    return _country_name(name, _language.get(), False)


def place(name: str) -> str:
    """A part of a scope ("Georgia · 2031") in the current language when it is exactly a
    country's name in the table; anything else (a region, an outlet, a capital) as it is."""
    return _country_name(name, _language.get(), True)
