"""The question forms (index/data/forms.json) as a corpus of examples: every row's example
questions must produce the claims the row promises, read against the test archive. Adding a
question form is adding a row with its examples; this file runs them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from index import config
from index.claims import Claim, Strength, resolve
from index.grammar import Grammar
from index.search import Engine

FORMS = json.loads((config.ROOT / "index" / "data" / "forms.json").read_text(encoding="utf-8"))
EXAMPLES = [
    pytest.param(row["id"], ex, id=f"{row['id']}: {ex['q']}")
    for row in FORMS["forms"]
    for ex in row["examples"]
]


def test_every_form_has_two_examples_or_more() -> None:
    for row in FORMS["forms"]:
        assert len(row["examples"]) >= 2, row["id"]
        assert row["langs"] and set(row["langs"]) <= {"en", "ru", "uk"}, row["id"]


def test_a_form_naming_an_unknown_word_list_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    from index import grammar

    real = grammar.load_data

    def broken(name: str) -> Any:
        data = real(name)
        if name == "forms.json":
            data = {**data, "forms": [{**data["forms"][0], "before": [{"in": "no_such_list"}]}]}
        return data

    monkeypatch.setattr(grammar, "load_data", broken)
    with pytest.raises(ValueError, match="no_such_list"):
        Grammar()


@pytest.mark.parametrize(("rule", "example"), EXAMPLES)
def test_a_forms_examples_give_its_claims(
    archive: Engine, rule: str, example: dict[str, Any]
) -> None:
    q = archive.read(example["q"])
    assert any(c.rule == rule for c in q.claims), [c.to_dict() for c in q.claims]
    for want in example["claims"]:
        found = [c for c in q.claims if c.slot == want["slot"]]
        if "text" in want:
            found = [c for c in found if c.text == want["text"]]
        assert found, (want, [c.to_dict() for c in q.claims])
        if "strength" in want:
            assert found[0].strength == Strength[want["strength"].upper()], found[0].to_dict()


def test_the_longer_claim_wins_an_overlap() -> None:
    short = Claim("outlet", ("x",), (1, 2), "r", Strength.CERTAIN, "X")
    long = Claim("speaker", "k", (0, 2), "r", Strength.LIKELY, "A X")
    other = Claim("time", None, (3, 4), "r", Strength.LATENT, "2024")
    kept, lost = resolve([short, long, other])
    assert kept == [long, other] and lost == [short]


def test_at_equal_length_the_stronger_claim_wins() -> None:
    weak = Claim("outlet", ("x",), (0, 1), "r", Strength.LATENT, "X")
    strong = Claim("speaker", "k", (0, 1), "r", Strength.LIKELY, "X")
    assert resolve([weak, strong]) == ([strong], [weak])
