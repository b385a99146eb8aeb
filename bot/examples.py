"""Example questions in the user's language and script: a name from the archive written in
Cyrillic for Russian and Ukrainian, checked against the engine before it is offered."""

from __future__ import annotations

import re

# Latin -> Cyrillic, longest spelling first; per language where the two differ.
_COMMON = (
    ("shch", "щ"),
    ("kh", "х"),
    ("zh", "ж"),
    ("ts", "ц"),
    ("ch", "ч"),
    ("sh", "ш"),
    ("yu", "ю"),
    ("ya", "я"),
    ("a", "а"),
    ("b", "б"),
    ("c", "к"),
    ("d", "д"),
    ("f", "ф"),
    ("g", "г"),
    ("j", "дж"),
    ("k", "к"),
    ("l", "л"),
    ("m", "м"),
    ("n", "н"),
    ("o", "о"),
    ("p", "п"),
    ("q", "к"),
    ("r", "р"),
    ("s", "с"),
    ("t", "т"),
    ("u", "у"),
    ("v", "в"),
    ("w", "в"),
    ("x", "кс"),
    ("z", "з"),
)
_LANG = {
    "ru": (
        ("sky", "ский"),
        ("iy", "ий"),
        ("yy", "ый"),
        ("ye", "е"),
        ("yo", "ё"),
        ("e", "е"),
        ("h", "х"),
        ("i", "и"),
        ("y", "й"),
    ),
    "uk": (
        ("sky", "ський"),
        ("iy", "ій"),
        ("yy", "ий"),
        ("yi", "ї"),
        ("ye", "є"),
        ("yo", "йо"),
        ("e", "е"),
        ("h", "г"),
        ("i", "і"),
        ("y", "и"),
    ),
}
_VOWELS = "аеёиоуыэюяіїєй"
SCRIPTED = frozenset(_LANG)  # the languages whose examples are written in Cyrillic


def cyrillic(name: str, language: str) -> str:
    """``Peskov`` -> ``Песков`` (ru, uk); ``Nikolay`` -> ``Николай``; other text as it is."""
    table = sorted(_LANG.get(language, ()) + _COMMON, key=lambda p: -len(p[0]))
    if language not in _LANG:
        return name

    def word(m: re.Match[str]) -> str:
        latin = m.group(0)
        low = latin.lower()
        out = ""
        i = 0
        while i < len(low):
            for src, dst in table:
                if low.startswith(src, i):
                    if src == "y" and language == "ru" and out and out[-1] not in _VOWELS:
                        dst = "ы"  # after a consonant: Kyrgyz
                    if src == "y" and language == "uk" and (not out or out[-1] in _VOWELS):
                        dst = "й"  # after a vowel or first: Nikolay, Yanis
                    out += dst
                    i += len(src)
                    break
            else:
                out += low[i]
                i += 1
        return out[:1].upper() + out[1:] if latin[:1].isupper() else out

    return re.sub(r"[A-Za-z]+", word, name)
