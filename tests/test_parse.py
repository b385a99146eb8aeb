"""Parser tests: the real compilation, an invented second one, bad input, and properties."""

from __future__ import annotations

import contextlib
import random
import re
import shutil
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from index.model import Statement
from index.parse import (
    PAREN_RE,
    Parsed,
    ParseError,
    load_corpus,
    norm_key,
    parse_citation,
    parse_file,
    parse_text,
    source_files,
    split_statements,
    squash,
)

ROOT = Path(__file__).resolve().parent.parent
REAL_FILE = ROOT / "data" / "sources" / "2024-11-06-post-soviet-reaction-to-trump-win.txt"
SECOND_FILE = ROOT / "tests" / "data" / "sources" / "2025-03-14-baltic-reaction-to-summit.txt"
REAL_ID = "2024-11-06-post-soviet-reaction-to-trump-win"
SECOND_ID = "2025-03-14-baltic-reaction-to-summit"

REAL_COUNTS = {
    "Armenia": 1,
    "Azerbaijan": 1,
    "Belarus": 2,
    "Estonia": 1,
    "Georgia": 3,
    "Kazakhstan": 1,
    "Kyrgyzstan": 1,
    "Latvia": 2,
    "Lithuania": 1,
    "Moldova": 1,
    # 11 top-level items, 4 Peskov items, Putin, Slutsky, Suslov, Venediktov, 2 Zakharova
    # items, the Sullivan paragraph cut off after a citation, and the 3 items nested under
    # the repeated Moscow Exchange paragraph (which itself is kept once).
    "Russia": 25,
    "Tajikistan": 1,
    "Turkmenistan": 1,
    "Ukraine": 10,
    "Uzbekistan": 1,
}


@pytest.fixture(scope="module")
def real() -> Parsed:
    return parse_file(REAL_FILE)


@pytest.fixture(scope="module")
def second() -> Parsed:
    return parse_file(SECOND_FILE)


def one(parsed: Parsed, prefix: str) -> Statement:
    """The single statement whose (whitespace-squashed) text starts with ``prefix``."""
    found = [s for s in parsed.statements if squash(s.text).startswith(prefix)]
    assert len(found) == 1, f"{len(found)} statements start with {prefix!r}"
    return found[0]


def srcs(st_: Statement) -> list[tuple[str, str | None, str]]:
    return [(s.outlet, s.date, s.raw) for s in st_.sources]


def by_line(parsed: Parsed, line: int) -> list[Statement]:
    return [s for s in parsed.statements if s.line == line]


# ---------------------------------------------------------------- the real compilation


def test_real_document_metadata(real: Parsed) -> None:
    doc = real.document
    assert doc.id == REAL_ID
    assert doc.blog == "In the Thick of It"
    assert doc.tagline == "A blog on the U.S.-Russia relationship"
    assert doc.title == (
        "Post-Soviet Reaction to Trump’s Win: Putin Says He’s Hopeful, "
        "But Some Officials in Moscow Don’t Hold Their Breath"
    )
    assert doc.published == "2024-11-06"
    assert doc.updated == "2024-11-08"
    assert doc.author == "Dasha Zhukauskaite is a student associate with Russia Matters."
    assert len(doc.intro) == 2
    assert squash(doc.intro[0]).startswith("After a significant wait, Russian President Vladimir")
    assert squash(doc.intro[0]).endswith(
        "(e.g. Moscow’s Dmitry Suslov and Kyiv’s Tymofiy Mylovanov)."
    )
    assert doc.intro[1].startswith("For more commentary on the outcome")
    assert any(n.startswith("Republican presidential nominee") for n in doc.notes)  # the caption


def test_real_counts_by_country(real: Parsed) -> None:
    assert dict(Counter(s.country for s in real.statements)) == REAL_COUNTS
    assert len(real.statements) == sum(REAL_COUNTS.values()) == 52


def test_real_sections_follow_the_document_order(real: Parsed) -> None:
    countries = list(dict.fromkeys(s.country for s in real.statements))
    assert countries == sorted(REAL_COUNTS)  # the compilation is alphabetical
    assert [s.position for s in real.statements] == list(range(len(real.statements)))
    assert [s.line for s in real.statements] == sorted(s.line for s in real.statements)


def test_real_counts_by_kind(real: Parsed) -> None:
    assert Counter(s.kind for s in real.statements) == {
        "person": 39,
        "unnamed": 5,
        "market": 4,
        "organisation": 2,
        "note": 2,
    }


@pytest.mark.parametrize(
    ("prefix", "speaker", "role", "kind"),
    [
        (
            "Nikol Pashinyan, Armenian Prime Minister, wrote:",
            "Nikol Pashinyan",
            "Armenian Prime Minister",
            "person",
        ),
        (
            "Gitanas Nausėda, president of Lithuania,",
            "Gitanas Nausėda",
            "president of Lithuania",
            "person",
        ),
        (
            "Edgars Rinkēvičs, president of Latvia,",
            "Edgars Rinkēvičs",
            "president of Latvia",
            "person",
        ),
        ("Kassym-Jomart Tokayev,", "Kassym-Jomart Tokayev", "president of Kazakhstan", "person"),
        (
            "Ilham Aliyev, Azerbaijan’s president,",
            "Ilham Aliyev",
            "Azerbaijan’s president",
            "person",
        ),
        ("The Russian Foreign Ministry said:", "Russian Foreign Ministry", None, "organisation"),
        (
            "Ukrainska Pravda, a Ukrainian news outlet,",
            "Ukrainska Pravda",
            "a Ukrainian news outlet",
            "organisation",
        ),
        (
            "A senior executive at a major Russian state corporation said:",
            None,
            "senior executive at a major Russian state corporation",
            "unnamed",
        ),
        ("A Russian government official said:", None, "Russian government official", "unnamed"),
        (
            "An adviser to the Ukrainian government said",
            None,
            "adviser to the Ukrainian government",
            "unnamed",
        ),
        ("A Ukrainian defense official said", None, "Ukrainian defense official", "unnamed"),
        ("The Moscow Exchange Index rose by 3.6%", None, None, "market"),
        ("Ukraine’s dollar bonds were among", None, None, "market"),
    ],
)
def test_real_speaker_role_and_kind(
    real: Parsed, prefix: str, speaker: str | None, role: str | None, kind: str
) -> None:
    s = one(real, prefix)
    assert (s.speaker, s.role, s.kind) == (speaker, role, kind)


def test_real_notes_for_countries_without_remarks(real: Parsed) -> None:
    for country, who in (("Tajikistan", "Tajik"), ("Turkmenistan", "Turkmen")):
        [note] = [s for s in real.statements if s.country == country]
        assert note.kind == "note"
        assert (note.speaker, note.role, note.sources, note.parent) == (None, None, (), None)
        assert note.text.startswith("At the time of publication, no remarks")
        assert f"other {who} officials" in note.text
    assert [s.country for s in real.statements if s.kind == "note"] == [
        "Tajikistan",
        "Turkmenistan",
    ]


def test_real_peskov_items_are_four_statements_in_his_voice(real: Parsed) -> None:
    items = [s for s in real.statements if s.speaker == "Dmitry Peskov"]
    assert [s.line for s in items] == [72, 73, 74, 75]
    assert {(s.country, s.role, s.kind) for s in items} == {
        ("Russia", "Vladimir Putin’s press secretary", "person")
    }
    assert items[0].text.startswith("\"I still know nothing about Putin's intention")
    assert (
        items[1].text
        == "Peskov dismissed the possibility of ending the conflict in Ukraine “overnight.”"
    )
    assert items[2].text.startswith('Peskov also said: "Indeed, during the election campaign')
    assert items[3].text.startswith("Peskov also recounted Putin’s remarks")
    assert [[src.outlet for src in s.sources] for s in items] == [
        ["TASS"],
        ["Meduza"],
        ["TASS"],
        ["Interfax"],
    ]
    # The speaker-only parent line is not a statement, so nothing points at it.
    assert all(s.parent is None for s in items)
    assert not any(s.text.startswith("Dmitry Peskov") for s in real.statements)
    assert by_line(real, 71) == []


def test_real_zakharova_items(real: Parsed) -> None:
    items = [s for s in real.statements if s.speaker == "Maria Zakharova"]
    assert [s.line for s in items] == [81, 82]
    assert {s.role for s in items} == {"Russian Foreign Ministry spokeswoman"}
    assert items[0].text.startswith('"He [Trump] has been saying that America is actually sick')
    assert items[0].text.endswith("before solving problems elsewhere.")
    assert items[1].text == (
        "“Kamala Harris turned out to be right when she quoted Psalm 30:5: ‘Weeping may endure "
        "for a night, but joy cometh in the morning.’ Hallelujah, I’ll add for myself.”"
    )
    assert srcs(items[0]) == [("TASS", "2024-11-06", "TASS, 11.06.24")]
    assert srcs(items[1]) == [("Meduza", "2024-11-06", "Meduza, 11.06.24")]
    assert not any("Sullivan" in s.text for s in items)
    assert by_line(real, 80) == []  # "Maria Zakharova, ..., said:" alone is not a statement


def test_real_text_after_a_citation_is_a_new_statement(real: Parsed) -> None:
    sullivan = one(real, "Commenting on Russia’s reaction to the U.S. election results")
    assert sullivan.text.endswith("and Moscow is aware of that.")
    assert sullivan.speaker == "John Sullivan"  # reported speech, not Zakharova's words
    assert sullivan.sources == ()
    assert sullivan.parent is None
    assert (sullivan.country, sullivan.line) == ("Russia", 82)
    assert [s.line for s in real.statements].count(82) == 2


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("Nikol Pashinyan", [("Interfax", "2024-11-06", "Interfax, 11.06.24")]),
        (
            "The Moscow Exchange Index rose",
            [
                ("Istories", "2024-11-06", "Istories, 11.06.24"),
                ("FT", "2024-11-06", "FT, 11.06.24"),
                ("FT", "2024-11-06", "FT, 11.06.24"),
            ],
        ),
        (
            "Leonid Slutsky",  # "(Meduza, 11.06.24. WP, 11.06.24)"
            [("Meduza", "2024-11-06", "Meduza, 11.06.24"), ("WP", "2024-11-06", "WP, 11.06.24")],
        ),
        ("Sadyr Japarov", [("Interfax", "2024-11-06", "Interfax, 11.06.24")]),  # "11.06.24.)"
        ("One portfolio manager", [("FT", "2024-11-06", "FT 11.06.24")]),  # no comma
        (
            "Fyodor Lukyanov",
            [
                (
                    "RG.ru/Russia in Global Affairs",
                    "2024-11-06",
                    "RG.ru/Russia in Global Affairs, 11.06.24",
                )
            ],
        ),
        (
            "Dmitry Medvedev",
            [
                ("Meduza", "2024-11-06", "Meduza, 11.06.24"),
                ("Kommersant", "2024-11-06", "Kommersant, 11.06.24"),
                ("WP", "2024-11-06", "WP, 11.06.24"),
            ],
        ),
        (
            "Vladimir Putin, president of Russia",
            [
                ("Bloomberg", "2024-11-07", "Bloomberg, 11.07.24"),
                ("RFE/RL", "2024-11-07", "RFE/RL, 11.07.24"),
            ],
        ),
        (
            "Sviatlana Tsikhanouskaya",
            [("Tsikhanovskaya’s website", "2024-11-06", "Tsikhanovskaya’s website, 11.06.24")],
        ),
        ("Irakli Kobakhidze", [("X", "2024-11-06", "X, 11.06.24")]),
        # The typo is kept as written (US MM.DD.YY); `check` flags it.
        ("The Russian Foreign Ministry", [("Interfax", "2026-11-06", "Interfax, 11.06.26")]),
    ],
)
def test_real_sources(real: Parsed, prefix: str, expected: list[tuple[str, str, str]]) -> None:
    assert srcs(one(real, prefix)) == expected


def test_real_every_statement_but_notes_and_sullivan_is_sourced(real: Parsed) -> None:
    unsourced = [s for s in real.statements if not s.sources]
    assert [(s.country, s.kind) for s in unsourced] == [
        ("Russia", "person"),  # the Sullivan paragraph
        ("Tajikistan", "note"),
        ("Turkmenistan", "note"),
    ]


def test_real_no_statement_keeps_its_citation_in_the_text(real: Parsed, second: Parsed) -> None:
    for s in real.statements + second.statements:
        assert all(parse_citation(m[1]) is None for m in PAREN_RE.finditer(s.text)), s.text


def test_real_near_duplicate_is_kept_once_with_its_nested_items(real: Parsed) -> None:
    kept = one(real, "The Moscow Exchange Index rose by 3.6%")
    assert kept.line == 66
    assert "Donald Trump's likely victory" in kept.text  # the first wording is the one kept
    nested = [s for s in real.statements if s.parent == kept.id]
    assert [s.line for s in nested] == [84, 85, 86]
    assert nested[0].text.startswith("Russia-exposed stocks rallied")
    assert nested[1].text.startswith("On Nov. 4, JPMorgan’s Emerging Europe")
    assert nested[2].text.startswith("One portfolio manager, who asked not to be named")
    assert by_line(real, 83) == []
    [dup] = [w for w in real.warnings if w.code == "duplicate"]
    assert (dup.line, dup.statement) == (83, kept.id)
    assert "line 66" in dup.message


def test_no_two_statements_say_the_same(real: Parsed, second: Parsed) -> None:
    for parsed in (real, second):
        keys = [norm_key(s.text) for s in parsed.statements]
        assert len(keys) == len(set(keys))


def test_parents_point_at_statements_of_the_same_document(real: Parsed, second: Parsed) -> None:
    for parsed in (real, second):
        ids = {s.id for s in parsed.statements}
        for s in parsed.statements:
            assert s.parent is None or (s.parent in ids and s.parent != s.id)


def test_real_warnings(real: Parsed) -> None:
    found = {(w.line, w.code) for w in real.warnings}
    # role-country (line 48) needs the gazetteer; see the next test.
    assert found - {(48, "role-country")} == {
        (70, "date-out-of-window"),
        (82, "no-source"),
        (83, "duplicate"),
    }
    assert all(w.path == str(REAL_FILE) for w in real.warnings)
    [late] = [w for w in real.warnings if w.code == "date-out-of-window"]
    assert "11.06.26" in late.message
    assert late.statement == one(real, "The Russian Foreign Ministry said:").id


def test_real_role_naming_another_country_is_flagged(real: Parsed) -> None:
    flagged = [w for w in real.warnings if w.code == "role-country"]
    assert [w.line for w in flagged] == [48]
    assert "Estonia" in flagged[0].message
    assert "Latvia" in flagged[0].message
    assert flagged[0].statement == one(real, "Evika Siliņa").id


def _squashed_document(path: Path) -> str:
    return squash(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", [REAL_FILE, SECOND_FILE], ids=["real", "second"])
def test_every_statement_is_verbatim(path: Path) -> None:
    document = _squashed_document(path)
    parsed = parse_file(path)
    assert parsed.statements
    for s in parsed.statements:
        assert squash(s.text) in document, s.text


@pytest.mark.parametrize("path", [REAL_FILE, SECOND_FILE], ids=["real", "second"])
def test_ids_are_stable_across_rebuilds_and_checkouts(path: Path, tmp_path: Path) -> None:
    first = [s.id for s in parse_file(path).statements]
    assert first == [s.id for s in parse_file(path).statements]
    assert len(set(first)) == len(first)
    elsewhere = tmp_path / "other-checkout" / path.name
    elsewhere.parent.mkdir()
    shutil.copy(path, elsewhere)
    assert [s.id for s in parse_file(elsewhere).statements] == first


def test_ids_survive_unrelated_edits(real: Parsed) -> None:
    text = REAL_FILE.read_text(encoding="utf-8")
    edited = (
        text.replace("After a significant wait,", "After a long wait,")
        .replace("Mr. President-elect, I look forward", "Mr. President, I look forward")
        .replace(
            "Ukraine\n\n",
            "Ukraine\n\n  • Ivan Testenko, an invented analyst, said: “New item.” (FT, 11.06.24)\n",
        )
        .replace("\n", "\r\n")
    )
    assert edited.count("Ivan Testenko") == 1
    after = {s.text: s.id for s in parse_text(edited, str(REAL_FILE)).statements}
    untouched = [s for s in real.statements if not s.text.startswith("Nikol Pashinyan")]
    assert len(untouched) == 51
    for s in untouched:
        assert after.get(s.text) == s.id, s.text


# ---------------------------------------------------------------- the second compilation

SECOND_GOLDEN = [
    # line, country, speaker, role, kind, parent line, sources, text prefix
    (
        16,
        "Armenia",
        "Lilit Sargsyan-Hale",
        "Armenian deputy foreign minister",
        "person",
        None,
        [
            ("Yerevan Ledger", "2025-03-13", "Yerevan Ledger, 03.13.25"),
            ("Aravot Evening", "2025-03-14", "Aravot Evening, 03.14.25"),
        ],
        'Lilit Sargsyan-Hale, Armenian deputy foreign minister, said: "We welcome any format',
    ),
    (
        20,
        "Azerbaijan",
        "Ruslan Talıbov",
        "foreign policy adviser to the president of Azerbaijan",
        "person",
        None,
        [
            ("Caspian Wire", "2025-03-13", "Caspian Wire, 03.13.25"),
            ("Baku Evening Post", "2025-03-14", "Baku Evening Post, 03.14.25"),
        ],
        "Ruslan Talıbov, foreign policy adviser",
    ),
    (
        21,
        "Azerbaijan",
        None,
        None,
        "market",
        None,
        [("Caspian Wire", "2025-03-14", "Caspian Wire 03.14.25")],  # NBSP, no comma
        "The Baku Stock Exchange’s main index rose 2.1%",
    ),
    (
        26,
        "Estonia",
        "Jüri Tõnisson",
        "Estonian defence minister",
        "person",
        None,  # the speaker-only parent is no statement
        [("Põhjarannik", "2025-03-13", "Põhjarannik, 03.13.25")],
        '"The communiqué is weaker than we wanted',
    ),
    (
        27,
        "Estonia",
        "Jüri Tõnisson",
        "Estonian defence minister",
        "person",
        None,
        [
            ("ERR Invented", "2025-03-14", "ERR Invented, 03.14.25"),
            ("Põhjarannik", "2025-03-14", "Põhjarannik, 03.14.25"),
        ],
        "Tõnisson also said the ferry-security protocol",
    ),
    (
        28,
        "Estonia",
        "Kadri Mägi",
        "chair of the Riigikogu’s transit committee",
        "person",
        None,
        [("Õhtuleht Imaginary", "2025-03-14", "Õhtuleht Imaginary, 03.14.25")],
        "Kadri Mägi, chair of the Riigikogu’s",
    ),
    (
        32,
        "Georgia",
        None,
        None,
        "note",
        None,
        [],
        "At the time of publication, no remarks on the Narva summit",
    ),
    (
        36,
        "Latvia",
        "Latvian Foreign Ministry",
        None,
        "organisation",
        None,
        [("Rīgas Vēstnesis Online", "2025-03-13", "Rīgas Vēstnesis Online, 03.13.25")],
        'The Latvian Foreign Ministry said: "Latvia supports',
    ),
    (
        37,
        "Latvia",
        "Mārtiņš Ozoliņš",
        "mayor of Daugavpils",
        "person",
        None,
        [("Latgales Balss", "2025-03-14", "Latgales Balss, 03.14.25")],
        "Mārtiņš Ozoliņš, mayor of Daugavpils, wrote:",
    ),
    (
        42,
        "Lithuania",
        "Agnė Šimonytė",
        "Lithuanian energy minister",
        "person",
        None,
        [
            ("LRT Fictional", "2025-03-13", "LRT Fictional, 03.13.25"),
            ("Delfi Imaginary", "2025-03-13", "Delfi Imaginary, 03.13.25"),
        ],
        "Agnė Šimonytė, Lithuanian energy minister, said the grid agreement",
    ),
    (
        43,
        "Lithuania",
        "Agnė Šimonytė",
        "Lithuanian energy minister",
        "person",
        42,
        [("LRT Fictional", "2025-03-13", "LRT Fictional, 13.03.25")],  # day first (warned)
        "She added: “Vilnius will host the follow-up meeting",
    ),
    (
        44,
        "Lithuania",
        "Agnė Šimonytė",
        "Lithuanian energy minister",
        "person",
        42,
        [("Delfi Imaginary", "2025-03-14", "Delfi Imaginary, 03.14.25")],
        "Šimonytė later said that the Caspian link",
    ),
    (
        45,
        "Lithuania",
        None,
        "senior diplomat in Vilnius",
        "unnamed",
        None,
        [("BNS Imaginary", "2025-03-14", "BNS Imaginary, 03.14.25")],
        "A senior diplomat in Vilnius said:",
    ),
]


def test_second_fixture_has_its_quirks() -> None:
    data = SECOND_FILE.read_bytes()
    assert data.count(b"\r\n") == data.count(b"\n") > 40  # CRLF throughout
    text = data.decode("utf-8")
    assert "\u00a0" in text
    assert "\n    We will hold them" in text  # a wrapped bullet, not a nested one


def test_second_document_metadata(second: Parsed) -> None:
    doc = second.document
    assert doc.id == SECOND_ID
    assert doc.blog == "The Long View"
    assert doc.tagline == "A blog on Baltic and Caucasus affairs"
    assert doc.title == (
        "Baltic and Caucasus Reaction to the Narva Lakeside Summit: "
        "Relief in Tallinn, Doubts in Baku"
    )
    assert doc.published == "2025-03-14"
    assert doc.updated == "2025-03-15"
    assert (
        doc.author
        == "Kadri Lumiste is an invented research associate who compiled this test document."
    )
    assert len(doc.intro) == 2
    assert doc.intro[0].startswith("Leaders in the Baltic states and the South Caucasus")
    assert doc.intro[1].endswith("Entries are arranged in alphabetical order.")
    assert not any("\r" in s for s in (doc.title, doc.author, *doc.intro, *doc.notes))


def test_second_golden_statements(second: Parsed) -> None:
    line_to_id = {s.line: s.id for s in second.statements}
    got = [
        (
            s.line,
            s.country,
            s.speaker,
            s.role,
            s.kind,
            s.parent,
            srcs(s),
        )
        for s in second.statements
    ]
    want = [
        (line, country, speaker, role, kind, parent and line_to_id[parent], sources)
        for line, country, speaker, role, kind, parent, sources, _ in SECOND_GOLDEN
    ]
    assert got == want
    for s, golden in zip(second.statements, SECOND_GOLDEN, strict=True):
        assert s.text.startswith(golden[-1]), s.text
        assert s.document == SECOND_ID


def test_second_wrapped_bullet_is_one_statement(second: Parsed) -> None:
    assert one(second, "Mārtiņš Ozoliņš").text == (
        "Mārtiņš Ozoliņš, mayor of Daugavpils, wrote: “We were promised trains in 2019, "
        "in 2022 and again yesterday. We will hold them to it this time.”"
    )


def test_second_non_breaking_space_is_plain_whitespace(second: Parsed) -> None:
    s = one(second, "Agnė Šimonytė, Lithuanian")
    assert s.speaker == "Agnė Šimonytė"
    assert "\u00a0" not in s.text


def test_second_warnings(second: Parsed) -> None:
    """13.03.25 cannot be MM.DD.YY: it is read day first, and the editor is told."""
    assert [(w.line, w.code) for w in second.warnings] == [(43, "day-first")]
    assert "13.03.25" in second.warnings[0].message and "2025-03-13" in second.warnings[0].message
    assert str(second.warnings[0]).startswith(f"{SECOND_FILE}:43: day-first: ")
    assert one(second, "She added").sources[0].date == "2025-03-13"


@pytest.mark.parametrize(
    ("citation", "expected"),
    [
        ("TASS, 11.06.24", [("TASS", "2024-11-06")]),  # the blog's MM.DD.YY
        ("TASS, 25.11.24", [("TASS", "2024-11-25")]),  # impossible month first: day first
        ("TASS, 31.31.24", [("TASS", None)]),  # no date either way
        ("Reuters, Nov. 7, 2024", [("Reuters", "2024-11-07")]),
        (
            "TASS, November 7, 2024; Interfax, 11.08.24",
            [("TASS", "2024-11-07"), ("Interfax", "2024-11-08")],
        ),
    ],
)
def test_citation_dates(citation: str, expected: list[tuple[str, str | None]]) -> None:
    got = parse_citation(citation)
    assert got is not None and [(s.outlet, s.date) for s in got] == expected


def test_second_ids_do_not_depend_on_line_endings(second: Parsed) -> None:
    lf = SECOND_FILE.read_text(encoding="utf-8").replace("\r\n", "\n")
    assert [s.id for s in parse_text(lf, str(SECOND_FILE)).statements] == [
        s.id for s in second.statements
    ]


# ---------------------------------------------------------------- several documents


def test_load_corpus_reads_every_compilation(tmp_path: Path) -> None:
    for f in (REAL_FILE, SECOND_FILE):
        shutil.copy(f, tmp_path / f.name)
    (tmp_path / ".hidden.txt").write_text("not loaded", encoding="utf-8")
    (tmp_path / "notes.md").write_text("# not loaded", encoding="utf-8")
    files = source_files(tmp_path)
    assert [f.name for f in files] == [REAL_FILE.name, SECOND_FILE.name]
    corpus = load_corpus(files)
    assert corpus.errors == []
    assert [d.id for d in corpus.documents] == [REAL_ID, SECOND_ID]
    assert Counter(s.document for s in corpus.statements) == {REAL_ID: 52, SECOND_ID: 13}
    ids = [s.id for s in corpus.statements]
    assert len(ids) == len(set(ids))
    assert {w.path for w in corpus.warnings} == {
        str(tmp_path / REAL_FILE.name),
        str(tmp_path / SECOND_FILE.name),
    }


def test_statement_ids_stay_unique_when_file_names_slug_alike(tmp_path: Path) -> None:
    for name in ("a b.txt", "a-b.txt"):
        shutil.copy(SECOND_FILE, tmp_path / name)
    corpus = load_corpus(source_files(tmp_path))
    assert [d.id for d in corpus.documents] == ["a-b", "a-b-2"]
    ids = [s.id for s in corpus.statements]
    assert len(ids) == len(set(ids)) == 26


def test_source_files_of_a_missing_folder_is_empty(tmp_path: Path) -> None:
    assert source_files(tmp_path / "nope") == []


# ---------------------------------------------------------------- citations


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("Interfax, 11.06.24", [("Interfax", "2024-11-06", "Interfax, 11.06.24")]),
        (
            "Istories, 11.06.24, FT, 11.06.24, FT, 11.06.24",
            [
                ("Istories", "2024-11-06", "Istories, 11.06.24"),
                ("FT", "2024-11-06", "FT, 11.06.24"),
                ("FT", "2024-11-06", "FT, 11.06.24"),
            ],
        ),
        (
            "Meduza, 11.06.24. WP, 11.06.24",
            [("Meduza", "2024-11-06", "Meduza, 11.06.24"), ("WP", "2024-11-06", "WP, 11.06.24")],
        ),
        ("Interfax, 11.06.24.", [("Interfax", "2024-11-06", "Interfax, 11.06.24")]),
        ("FT 11.06.24", [("FT", "2024-11-06", "FT 11.06.24")]),
        (
            "RG.ru/Russia in Global Affairs, 11.06.24",
            [
                (
                    "RG.ru/Russia in Global Affairs",
                    "2024-11-06",
                    "RG.ru/Russia in Global Affairs, 11.06.24",
                )
            ],
        ),
        (
            "Yerevan Ledger, 03.13.25; Aravot Evening, 03.14.25",
            [
                ("Yerevan Ledger", "2025-03-13", "Yerevan Ledger, 03.13.25"),
                ("Aravot Evening", "2025-03-14", "Aravot Evening, 03.14.25"),
            ],
        ),
        ("Interfax, 13.32.24", [("Interfax", None, "Interfax, 13.32.24")]),  # kept, date unreadable
    ],
)
def test_parse_citation(content: str, expected: list[tuple[str, str | None, str]]) -> None:
    got = parse_citation(content)
    assert got is not None
    assert [(s.outlet, s.date, s.raw) for s in got] == expected


@pytest.mark.parametrize(
    "content",
    [
        "AP Photo/Julia Demaree Nikhinson",
        "e.g. Moscow’s Dmitry Suslov and Kyiv’s Tymofiy Mylovanov",
        "[the Kyiv-held capital of Ukraine's Kherson region]",
        "",
    ],
)
def test_parentheses_that_are_no_citation(content: str) -> None:
    assert parse_citation(content) is None


def test_split_statements_cuts_after_each_citation() -> None:
    text = "A said: “x.” (Meduza, 11.06.24) B said y. (TASS, 11.06.24, FT 11.07.24) Aside."
    got = [(body, [s.outlet for s in sources]) for body, sources in split_statements(text)]
    assert got == [("A said: “x.”", ["Meduza"]), ("B said y.", ["TASS", "FT"]), ("Aside.", [])]


# ---------------------------------------------------------------- bad input

_MINI = (
    "In the Thick of It\n\nA blog\n\nA Title\n\nMarch 14, 2025\n\nIntro.\n\nEstonia\n\n"
    # Latin-1 has no "•" and no curly quotes; "*" bullets and straight quotes are accepted too.
    '  * Jüri Tõnisson, Estonian minister, said: "Tere." (ERR, 03.14.25)\n\nCredit line.\n'
)


def _junk() -> bytes:
    rng = random.Random(20250314)
    return rng.randbytes(1500) + b"\x00" + rng.randbytes(500)


@pytest.mark.parametrize(
    ("name", "data", "needle", "line"),
    [
        ("empty.txt", b"", "empty", None),
        ("blank.txt", b"  \n\r\n\t\n", "empty", None),
        (
            "readme.txt",
            b"# Reactions bot\n\nA Telegram bot that quotes statements.\n\n## Install\n\n"
            b"- make venv\n- make run\n",
            "not a compilation",
            None,
        ),
        (
            "table.txt",
            b'id,country,speaker,text\n1,Armenia,Nikol Pashinyan,"I look forward"\n',
            "not a compilation",
            None,
        ),
        ("junk.txt", _junk(), "binary", None),
        ("latin1.txt", _MINI.encode("latin-1"), "UTF-8", 13),
        (
            "no-sections.txt",
            b"A blog\n\nA Title\n\nMarch 14, 2025\n\nJust one paragraph.\n",
            "no sections",
            6,
        ),
    ],
)
def test_bad_input_is_a_clear_parse_error(
    tmp_path: Path, name: str, data: bytes, needle: str, line: int | None
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(ParseError) as info:
        parse_file(path)
    message = str(info.value)
    assert info.value.path == str(path)
    assert message.startswith(f"{path}:{line}: " if line else f"{path}: ")
    assert needle in message
    assert "\n" not in message


def test_the_mini_compilation_itself_parses() -> None:
    [s] = parse_text(_MINI).statements
    assert (s.speaker, s.country, s.line) == ("Jüri Tõnisson", "Estonia", 13)


def test_a_missing_file_is_a_parse_error(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match="cannot read"):
        parse_file(tmp_path / "gone.txt")


def test_bad_files_do_not_stop_the_others(tmp_path: Path) -> None:
    shutil.copy(REAL_FILE, tmp_path / REAL_FILE.name)
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "junk.txt").write_bytes(_junk())
    (tmp_path / "latin1.txt").write_bytes(_MINI.encode("latin-1"))
    corpus = load_corpus(source_files(tmp_path))
    assert [d.id for d in corpus.documents] == [REAL_ID]
    assert len(corpus.statements) == 52
    assert sorted(Path(e.path).name for e in corpus.errors) == [
        "empty.txt",
        "junk.txt",
        "latin1.txt",
    ]


def test_markdown_with_a_date_line_is_rejected() -> None:
    changelog = "# Changelog\n\nMarch 14, 2025\n\n## Added\n\n- the parser\n- the bot\n"
    with pytest.raises(ParseError):
        parse_text(changelog, "CHANGELOG.txt")


def test_similar_no_remarks_notes_of_two_countries_are_both_kept() -> None:
    text = (
        "A blog\n\nA Title\n\nMarch 14, 2025\n\nIntro.\n\n"
        "Armenia\n\nAt the time of publication, no remarks on the summit were available "
        "from Armenian officials.\n\n"
        "Georgia\n\nAt the time of publication, no remarks on the summit were available "
        "from Georgian officials.\n\n"
        "Latvia\n\n  • Foo Bar, minister, said: “Yes.” (LSM, 03.14.25)\n\nCredit line.\n"
    )
    parsed = parse_text(text)
    notes = [(s.country, s.kind) for s in parsed.statements if s.kind == "note"]
    assert notes == [("Armenia", "note"), ("Georgia", "note")]


def test_alike_items_with_different_figures_are_not_duplicates() -> None:
    item = "  • The Riga Stock Exchange index rose by {}% on news of the summit, led by banks and shipping. (LETA, 03.14.25)\n"
    text = (
        "A blog\n\nA Title\n\nMarch 14, 2025\n\nIntro.\n\nLatvia\n\n"
        + item.format("3.6")
        + item.format("2.6")
        + item.format("3.6").replace("news of", "news about")
        + "\nCredit line.\n"
    )
    parsed = parse_text(text)
    assert [s.text[24:44] for s in parsed.statements] == [
        "index rose by 3.6% o",
        "index rose by 2.6% o",
    ]
    assert [w.code for w in parsed.warnings] == ["duplicate"]


@pytest.mark.parametrize("dateline", ["January 01, 0001", "December 30, 9999"])
def test_extreme_publication_dates_do_not_crash(dateline: str) -> None:
    text = f"A Title\n\n{dateline}\n\nEstonia\n\n  • Foo Bar, minister, said: “x” (ERR, 03.14.25)\n"
    with contextlib.suppress(ParseError):
        parse_text(text)


# ---------------------------------------------------------------- properties

_REAL_LINES = REAL_FILE.read_text(encoding="utf-8").split("\n")
_FRAGMENTS = [
    "",
    "Armenia",
    "Estonia",
    "  • Foo Bar, minister, said: “x” (LSM, 03.14.25)",
    "    • nested item (FT 03.14.25.)",
    "  • Foo Bar, minister:",
    "  • The Latvian Foreign Ministry said: “y” (A, 03.13.25; B, 03.14.25) tail text",
    "  • A senior diplomat said: (BNS, 13.03.25)",
    "  •",
    "\u00a0\u00a0• nbsp bullet",
    "    wrapped continuation",
    "At the time of publication, no remarks were available.",
    "Originally published on Mar. 14, 2025, updated on Mar. 15, 2025.",
    "(AP, 1.1.24)",
    "- dash item",
]
# Publication dates far from date.min/date.max.
_DATE_LINE = st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)).map(
    lambda d: d.strftime("%B %d, %Y")
)
_LINE = st.one_of(
    st.sampled_from(_REAL_LINES),
    st.sampled_from(_FRAGMENTS),
    _DATE_LINE,
    st.text(max_size=20),
)
_HEADER = st.tuples(st.sampled_from(["The Long View", "", "x"]), st.text(max_size=30), _DATE_LINE)
_SECTION = st.builds(
    lambda heading, items: [heading, "", *items, ""],
    st.one_of(st.sampled_from(["Armenia", "Russia", "Latvia", "x"]), st.text(max_size=12)),
    st.lists(_LINE, min_size=1, max_size=8),
)
# Most examples get a plausible header and sections so that they reach the section walk.
_COMPILATION_LIKE = st.one_of(
    st.lists(_LINE, max_size=30),
    st.builds(
        lambda head, sections, tail: (
            [head[0], "", head[1], "", head[2], ""]
            + [line for section in sections for line in section]
            + tail
        ),
        _HEADER,
        st.lists(_SECTION, max_size=5),
        st.lists(_LINE, max_size=4),
    ),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text())
def test_arbitrary_text_parses_or_raises_parse_error(text: str) -> None:
    try:
        parse_text(text, "fuzz.txt")
    except ParseError as exc:
        assert str(exc).startswith("fuzz.txt")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_COMPILATION_LIKE, st.sampled_from(["\n", "\r\n", "\r"]))
def test_compilation_like_text_parses_verbatim_and_stably(lines: list[str], newline: str) -> None:
    text = newline.join(lines)
    try:
        parsed = parse_text(text, "fuzz.txt")
    except ParseError as exc:
        assert str(exc).startswith("fuzz.txt")
        return
    document = squash(text)
    for s in parsed.statements:
        assert squash(s.text) in document
    ids = [s.id for s in parsed.statements]
    assert len(ids) == len(set(ids))
    assert ids == [s.id for s in parse_text(text, "fuzz.txt").statements]


def test_a_cited_paragraph_after_the_last_section_s_items_is_a_statement() -> None:
    """The footer (credit, dates) follows the last section's items; a paragraph there that
    cites a dated source is a statement set without a bullet, not the credit line."""
    text = REAL_FILE.read_text(encoding="utf-8")
    credit = "Dasha Zhukauskaite is a student associate with Russia Matters."
    extra = (
        "Bakhtiyor Saidov, Uzbekistan’s foreign minister, said Tashkent was ready to work"
        " with the new administration. (Gazeta.uz, 11.07.24)"
    )
    parsed = parse_text(text.replace(credit, f"{extra}\n\n{credit}"), REAL_FILE.name)
    last = parsed.statements[-1]
    assert last.country == "Uzbekistan" and last.speaker == "Bakhtiyor Saidov"
    assert [(s.outlet, s.date) for s in last.sources] == [("Gazeta.uz", "2024-11-07")]
    assert parsed.document.author == credit  # the credit line is still the footer's
    assert len(parsed.statements) == 53


def test_headings_written_with_a_colon_read_the_same(real: Parsed) -> None:
    """ "Armenia:" over its items is the Armenia section; a colon line that names no country
    ("Key reactions:") stays text."""
    text = REAL_FILE.read_text(encoding="utf-8")
    for country in REAL_COUNTS:
        text = text.replace(f"\n{country}\n", f"\n{country}:\n", 1)
    assert text.count(":\n") >= len(REAL_COUNTS)
    parsed = parse_text(text, REAL_FILE.name)
    assert [(s.country, s.text) for s in parsed.statements] == [
        (s.country, s.text) for s in real.statements
    ]
    lead = "Uzbekistan:\n"
    listed = text.replace(lead, "Key reactions:\n\n  • A reaction. (TASS, 11.06.24)\n\n" + lead)
    countries = {s.country for s in parse_text(listed, REAL_FILE.name).statements}
    assert "Key reactions" not in countries and "Uzbekistan" in countries


def _variant(text: str) -> list[tuple[str, str]]:
    return [(s.country, s.text) for s in parse_text(text, REAL_FILE.name).statements]


def test_numbered_items_and_headings_in_capitals_read_the_same(real: Parsed) -> None:
    """Other layouts of the same compilation: "1." items instead of bullets, and headings
    in capitals (written as the country table writes them, so archives agree)."""
    text = REAL_FILE.read_text(encoding="utf-8")
    want = [(s.country, s.text) for s in real.statements]
    numbered = re.sub(r"^(\s*)•", r"\g<1>1.", text, flags=re.M)
    assert _variant(numbered) == want
    capitals = text
    for country in REAL_COUNTS:
        capitals = capitals.replace(f"\n{country}\n", f"\n{country.upper()}\n", 1)
    assert _variant(capitals) == want


def test_headings_are_found_without_blank_lines(real: Parsed) -> None:
    """Pasted without blank lines, a country's name alone on a line after a finished item
    still opens its section (every country is kept; only paragraph breaks are lost)."""
    text = re.sub(r"\n\n+", "\n", REAL_FILE.read_text(encoding="utf-8"))
    got = Counter(s.country for s in parse_text(text, REAL_FILE.name).statements)
    assert set(got) == set(REAL_COUNTS)
    assert got["Tajikistan"] == REAL_COUNTS["Tajikistan"]  # its note stays its own
