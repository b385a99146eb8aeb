"""The words the compilation parser and the question reader share (``index/data/vocabulary.json``):
speech verbs, market words, organisation words — one list each, so a statement the parser
files as a market item is one a question about markets can ask for, and a verb that
introduces a speaker in a compilation introduces one in a question."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def _data() -> dict[str, Any]:
    text = resources.files("index").joinpath("data", "vocabulary.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def _english(words: list[str]) -> list[str]:
    return [w for w in words if w.isascii() and not w.startswith("_")]


def speech_verbs() -> list[str]:
    """Every verb of saying, English, Russian and Ukrainian (the reader's)."""
    v = _data()["speech_verbs"]
    return [*v["reported"], *v["asked"], *v["ru"], *v["uk"]]


def reported_speech_verbs() -> list[str]:
    """The forms a compilation writes after a speaker ("said", "wrote"; the parser's)."""
    return _english(_data()["speech_verbs"]["reported"])


def market_collective() -> list[str]:
    """Words that name markets as such (a question with one asks for market items)."""
    return list(_data()["market_words"]["collective"])


def market_instruments() -> list[str]:
    """Words that name what is traded (in a question a topic, but a set's noun too)."""
    return list(_data()["market_words"]["instruments"])


def english_market_words() -> list[str]:
    """Every English market word (a speakerless statement with one is a market item)."""
    m = _data()["market_words"]
    return _english(m["collective"]) + _english(m["instruments"])


def organisation_words() -> list[str]:
    """Words that make a name an organisation's ("the Russian Foreign Ministry")."""
    return list(_data()["organisation_words"]["in_name"])


def organisation_heads() -> list[str]:
    """Role heads that make a speaker an organisation ("a Ukrainian news outlet")."""
    return organisation_words() + list(_data()["organisation_words"]["role_heads"])


__all__ = [
    "english_market_words",
    "market_collective",
    "organisation_heads",
    "organisation_words",
    "reported_speech_verbs",
    "speech_verbs",
]


def negations() -> list[str]:
    """Words that negate what follows in a question, English (folded), Russian, Ukrainian."""
    return list(_data()["negations"]["words"])
