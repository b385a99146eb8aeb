"""People's names across spellings, scripts and typos, and never in ordinary words."""

from __future__ import annotations

import random

import pytest

from index.names import NameMatcher, name_variants, skeleton, skeletons

# Speakers of the first compilation.
SPEAKERS = (
    "Nikol Pashinyan",
    "Ilham Aliyev",
    "Alexander Lukashenko",
    "Sviatlana Tsikhanouskaya",
    "Margus Tsahkna",
    "Irakli Kobakhidze",
    "Salome Zourabichvili",
    "Kassym-Jomart Tokayev",
    "Sadyr Japarov",
    "Edgars Rinkēvičs",
    "Evika Siliņa",
    "Gitanas Nausėda",
    "Maia Sandu",
    "Alexander Dugin",
    "Valentina Matviyenko",
    "Dmitry Medvedev",
    "Dmitry Peskov",
    "Vladimir Putin",
    "Dmitry Suslov",
    "Maria Zakharova",
    "Volodymyr Zelenskyy",
    "Shavkat Mirziyoyev",
)
# Invented people: nothing may be tuned to one corpus.
INVENTED = (
    "Jüri Tõnisson",
    "Agnė Šimonytė",
    "Tamar Kvaratskhelia",
    "Ruslan Talıbov",
    "Oleh Kovalchuk",
    "Anna Zakharova",
    "Preston Pearce",
    "Will Hardy",
)


@pytest.fixture(scope="module")
def matcher() -> NameMatcher:
    """A matcher over the speakers and the invented people, keyed by position."""
    return NameMatcher([(f"p{i}", name) for i, name in enumerate(SPEAKERS + INVENTED)])


def top(matcher: NameMatcher, query: str) -> str | None:
    """The best match's full name, or None."""
    found = matcher.match(query)
    return found[0].name if found else None


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("What did Peskov say?", "Dmitry Peskov"),
        ("dmitry peskov", "Dmitry Peskov"),
        ("PESKOV", "Dmitry Peskov"),
        ("Lukashenko on Trump", "Alexander Lukashenko"),
        ("Maia Sandu's message", "Maia Sandu"),
        ("Medvedev's post", "Dmitry Medvedev"),
        ("Nauseda", "Gitanas Nausėda"),
        ("Rinkevics on NATO", "Edgars Rinkēvičs"),
        ("silina", "Evika Siliņa"),
        ("Talibov", "Ruslan Talıbov"),
        ("Simonyte", "Agnė Šimonytė"),
        ("Tonisson", "Jüri Tõnisson"),
        ("Kvaratskhelia", "Tamar Kvaratskhelia"),
        ("Zelensky", "Volodymyr Zelenskyy"),
        ("Zelenskiy", "Volodymyr Zelenskyy"),
        ("Zelenskyy", "Volodymyr Zelenskyy"),
        ("Zelenskyi", "Volodymyr Zelenskyy"),
        ("Зеленський", "Volodymyr Zelenskyy"),
        ("Зеленский", "Volodymyr Zelenskyy"),
        ("Tsikhanovskaya", "Sviatlana Tsikhanouskaya"),
        ("Svyatlana", "Sviatlana Tsikhanouskaya"),
        ("Lukashenka", "Alexander Lukashenko"),
        ("Лукашенко", "Alexander Lukashenko"),
        ("Tokaev", "Kassym-Jomart Tokayev"),
        ("Kassym-Jomart", "Kassym-Jomart Tokayev"),
        ("Aliev", "Ilham Aliyev"),
        ("Pashinian", "Nikol Pashinyan"),
        ("Zhaparov", "Sadyr Japarov"),
        ("Dzhaparov", "Sadyr Japarov"),
        ("Жапаров", "Sadyr Japarov"),
        ("Что сказал Песков?", "Dmitry Peskov"),
        ("Matvienko", "Valentina Matviyenko"),
        ("Mirziyoev", "Shavkat Mirziyoyev"),
        ("Kowalczuk", "Oleh Kovalchuk"),
        ("Zelenksy", "Volodymyr Zelenskyy"),
        ("Peskvo", "Dmitry Peskov"),
        ("Lukashneko", "Alexander Lukashenko"),
        ("Kobakidze", "Irakli Kobakhidze"),
        ("Тихановская", "Sviatlana Tsikhanouskaya"),
    ],
)
def test_match_finds_the_person(matcher: NameMatcher, query: str, name: str) -> None:
    assert top(matcher, query) == name


def test_scores_order_certainty(matcher: NameMatcher) -> None:
    exact = matcher.match("Peskov")[0]
    spelling = matcher.match("Zelensky")[0]
    typo = matcher.match("Peskvo")[0]
    assert exact.score == 100.0
    assert 90 <= spelling.score < 100
    assert 80 <= typo.score < spelling.score
    assert exact.tokens == ("Peskov",)
    assert exact.key == f"p{SPEAKERS.index('Dmitry Peskov')}"


def test_everyone_sharing_a_surname_is_returned(matcher: NameMatcher) -> None:
    found = matcher.match("What did Zakharova say?")
    assert {m.name for m in found} == {"Maria Zakharova", "Anna Zakharova"}
    assert all(m.score == 100.0 for m in found)
    full = matcher.match("Maria Zakharova")
    assert [m.name for m in full[:2]] == ["Maria Zakharova", "Anna Zakharova"]
    assert full[0].tokens == ("Maria", "Zakharova")


def test_a_shared_given_name_alone_is_weak(matcher: NameMatcher) -> None:
    found = matcher.match("Dmitry")
    assert {m.name for m in found} == {"Dmitry Medvedev", "Dmitry Peskov", "Dmitry Suslov"}
    assert all(m.score < 80 for m in found)
    assert matcher.match("Dmitry Peskov")[0].name == "Dmitry Peskov"


@pytest.mark.parametrize(
    "query",
    [
        "what did the president say about peace",
        "What will Russia do?",
        "What did Russian officials say?",
        "who spoke first",
        "Trump",
        "reaction to the election",
    ],
)
def test_ordinary_words_do_not_match(matcher: NameMatcher, query: str) -> None:
    assert matcher.match(query) == []


def test_a_stopword_counts_only_beside_a_real_hit(matcher: NameMatcher) -> None:
    assert matcher.match("what will they say") == []
    found = matcher.match("Will Hardy")
    assert found[0].name == "Will Hardy" and found[0].tokens == ("Will", "Hardy")


def test_callers_can_declare_more_ordinary_words() -> None:
    names = [("a", "Preston Pearce")]
    assert NameMatcher(names).match("Pearse") != []
    assert NameMatcher(names, common_words=["Pearse"]).match("Pearse") == []


def test_suggest_reaches_further_than_match(matcher: NameMatcher) -> None:
    assert matcher.match("Medvdv") == []
    assert matcher.suggest("Medvdv")[0].name == "Dmitry Medvedev"
    assert len(matcher.suggest("Dmitry", limit=2)) == 2


@pytest.mark.parametrize(
    ("name", "variants"),
    [
        ("Zelenskyy", {"zelensky", "zelenskiy", "zelenskyi", "zelenskyy"}),
        ("Tsikhanouskaya", {"tsikhanovskaya", "tsikhanouskaia"}),
        ("Japarov", {"zhaparov", "dzhaparov"}),
        ("Lukashenko", {"lukashenka"}),
        ("Aliyev", {"aliev"}),
        ("Tokayev", {"tokaev"}),
        ("Pashinyan", {"pashinian"}),
        ("Gorbachyov", {"gorbachev"}),
        ("Kassym-Jomart Tokayev", {"kassym jomart tokaev", "kasym zhomart tokayev"}),
    ],
)
def test_name_variants(name: str, variants: set[str]) -> None:
    assert variants <= name_variants(name)


@pytest.mark.parametrize("name", SPEAKERS + INVENTED)
def test_every_variant_finds_its_person(matcher: NameMatcher, name: str) -> None:
    for variant in name_variants(name):
        assert name in {m.name for m in matcher.match(variant, limit=10)}, variant


def test_skeleton_joins_transliterations() -> None:
    spellings = ["Zelenskyy", "Zelensky", "Zelenskiy", "Zelenskyi", "Зеленський", "Зеленский"]
    assert len({skeleton(s) for s in spellings}) == 1
    assert skeleton("Tsikhanouskaya") == skeleton("Ціханоўская") == skeleton("Tsikhanovskaya")
    assert skeleton("Peskov") != skeleton("Putin")


def _generated_names(count: int, seed: int) -> list[str]:
    """Plausible invented full names built from syllables."""
    rng = random.Random(seed)
    onsets = ["b", "v", "g", "d", "z", "k", "l", "m", "n", "p", "r", "s", "t", "kh", "sh", "br"]
    vowels = ["a", "e", "i", "o", "u", "ya"]
    endings = ["ov", "ova", "enko", "sky", "yan", "idze", "uk", "is", "aite", "son"]

    def part(n: int) -> str:
        return "".join(rng.choice(onsets) + rng.choice(vowels) for _ in range(n))

    return [
        f"{part(2).capitalize()} {(part(rng.randint(2, 3)) + rng.choice(endings)).capitalize()}"
        for _ in range(count)
    ]


def test_the_right_person_wins_among_thousands() -> None:
    crowd = _generated_names(20_000, seed=3)
    entries = [(f"g{i}", n) for i, n in enumerate(crowd)]
    entries += [(f"p{i}", n) for i, n in enumerate(SPEAKERS)]
    matcher = NameMatcher(entries)
    assert top(matcher, "What did Peskov say?") == "Dmitry Peskov"
    assert top(matcher, "Zelenskiy") == "Volodymyr Zelenskyy"
    assert top(matcher, "Лукашенко") == "Alexander Lukashenko"
    assert top(matcher, "Tsikhanovskaya") == "Sviatlana Tsikhanouskaya"
    target = crowd[1234]
    assert target in {m.name for m in matcher.match(target, limit=10)}


def test_having_lists_everyone_whose_name_holds_the_words(matcher: NameMatcher) -> None:
    names = SPEAKERS + INVENTED

    def having(*words: str) -> list[str]:
        return [names[int(k[1:])] for k in matcher.having(words)]

    assert having("dmitry") == ["Dmitry Medvedev", "Dmitry Peskov", "Dmitry Suslov"]
    assert having("dmitry", "peskov") == ["Dmitry Peskov"]
    assert having("kassym", "jomart") == ["Kassym-Jomart Tokayev"]  # hyphens split
    assert having("dmitry", "putin") == [] and having("peskvo") == []  # exact words only


def test_having_joins_the_spellings_of_one_person() -> None:
    m = NameMatcher([("a", "Oleksandr Dovhal"), ("b", "Olena Dovhal"), ("a", "Aleksandr Dovgal")])
    assert m.having(["oleksandr", "dovgal"]) == ["a"]
    assert m.having(["dovhal"]) == ["a", "b"]


def test_a_french_spelling_meets_the_english_one() -> None:
    """French romanisation writes ш as "ch" and у as "ou" (Zourabichvili, Choïgou); English
    writes them "sh" and "u". Either side of a comparison may be the French one."""
    assert skeleton("zurabishvili") in skeletons("Zourabichvili")
    assert skeleton("Shevardnadze") in skeletons("Chevardnadze")
    assert skeletons("Pashinyan") == (skeleton("Pashinyan"),)  # nothing French to read
    m = NameMatcher([("zs", "Salome Zourabichvili"), ("ss", "Sergei Shoigu")])
    assert m.match("what did zurabishvili write")[0].key == "zs"
    assert m.match("Choïgou on the war")[0].key == "ss"
    assert m.match("Chernyshev")[:1] == []
