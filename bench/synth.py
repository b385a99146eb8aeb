"""A generated corpus for scale benchmarks: clustered vectors and plausible statements.

Vectors are not embedded (a million texts take hours on two cores) but drawn the way MiniLM
places text: a three-level hierarchy of directions on the 384-d sphere (50 super-topics, up
to 2,000 topics, 25 stories a topic) plus per-item noise of varying size, tuned so that the
similarity of same-story, same-topic and unrelated pairs matches real MiniLM vectors (see
``reference_stats``). Each statement's words come from the same topic and story as its
vector, on top of a Zipfian vocabulary, so BM25 and dense search see the same structure.
"""

from __future__ import annotations

import ast
import re
import sysconfig
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.gazetteer import COUNTRIES
from index.model import Document, Source, Statement
from index.textnorm import COMMON_WORDS

DIM = 384
# Squared weights of the shared directions; they sum to 0.6 and the noise's square averages
# 0.45, so same-story pairs sit near 0.58, same-topic near 0.34, same-super-topic near 0.17
# and unrelated ones near 0: what the real corpus and unrelated real text show.
SUPER_W2, TOPIC_W2, STORY_W2 = 0.17, 0.18, 0.25
NOISE_W2 = (0.1, 0.8)  # per item, uniform: some statements are more on-topic than others
QUERY_NOISE_W2 = (0.4, 1.6)  # questions are further from any statement than statements are
STORIES_PER_TOPIC = 25
SUPER_TOPICS = 50


def _w(text: str, sep: str | None = None) -> list[str]:
    """A word list written as text (sep=" " keeps empty entries: "no onset", "no coda")."""
    return text.split(sep)


FUNCTION_WORDS = _w(
    "the of and to a in that is was for on with as by it at from be this have are not but "
    "they has had were which will their been would its more about than also after who over "
    "said new one all we our there when up into can out what if just some no"
)
NEWS_WORDS = sorted(COMMON_WORDS) + _w(
    "ceasefire tariff tariffs summit treaty negotiation negotiations inflation currency "
    "pipeline gas oil grain missile drone drones frontline refugee refugees referendum "
    "coalition corruption reform budget investment trade export exports imports sovereignty "
    "integration alliance neutrality escalation mobilisation diplomacy diplomat energy "
    "nuclear weapons territory territories occupation annexation independence democracy "
    "values partnership cooperation isolation agreement dialogue stability crisis conflict"
)

_ONSETS = _w("b br ch d dr g gr k kh l m n p r s sh t ts v z zh y ", " ")
_VOWELS = _w("a e i o u a o e")
_CODAS = _w(" n r s l k m  ", " ")
_SURNAME_ENDS = _w(
    "ov ev enko sky ski yan ashvili idze uly bekov in ova eva ich uk escu as is ak ovich yev"
)
_GIVEN_ENDS = _w("a o i an ir ei iy ur slav im ", " ")
_W_ONSETS = _w("b bl c cl d f fl g gl h j l m n p pl pr qu r s sc sp st str t tr v w")
_W_VOWELS = _w("a e i o u ea io ou ai")
_W_CODAS = _w("n r s l t m nd nt st ck ct rt")
_W_ENDS = _w("tion ment ing ity al er ness ous ive ism ure ance ate ent ory")
ROLES = (
    "foreign minister",
    "president",
    "prime minister",
    "defence minister",
    "finance minister",
    "economy minister",
    "press secretary",
    "spokesman for the foreign ministry",
    "spokeswoman for the government",
    "MP",
    "senator",
    "deputy speaker of parliament",
    "speaker of parliament",
    "political analyst",
    "economist",
    "head of the central bank",
    "ambassador to the United States",
    "opposition leader",
    "party leader",
    "governor",
    "mayor of the capital",
    "editor-in-chief",
    "military expert",
    "historian",
    "professor of international relations",
    "former president",
    "former foreign minister",
    "chairman of the security council",
    "head of the presidential administration",
    "deputy foreign minister",
)
UNNAMED_ROLES = (
    "a senior official",
    "a government source",
    "a diplomatic source",
    "a ministry spokesperson",
    "a presidential aide",
)
ORG_WORDS = ("Ministry of Foreign Affairs", "Central Bank", "Parliament", "Institute", "Party")


@dataclass
class Corpus:
    """Statements, documents, their vectors and the ground the questions are drawn from."""

    statements: list[Statement]
    documents: list[Document]
    vectors: np.ndarray  # (n, DIM) float32, unit rows; row i is statements[i]
    story_of: np.ndarray  # per statement
    topic_of_story: np.ndarray
    super_of_topic: np.ndarray
    directions: tuple[np.ndarray, np.ndarray, np.ndarray]  # super, topic, story unit vectors
    vocab: list[str]
    topic_words: np.ndarray  # (topics, 40) word ids
    story_words: np.ndarray  # (stories, 4) word ids
    speakers: list[tuple[str | None, str | None, str, str]]  # (name, role, country, kind)
    countries: list[str]


def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    x = rng.standard_normal((n, DIM), dtype=np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def _syllable_words(
    rng: np.random.Generator,
    n: int,
    parts: Sequence[Sequence[str]],
    ends: Sequence[str],
    syllables: tuple[int, int],
    taken: set[str],
) -> list[str]:
    """n distinct words of 2-3 syllables and an ending, none in ``taken``."""
    onsets, vowels, codas = parts
    out: list[str] = []
    seen = set(taken)
    while len(out) < n:
        m = (n - len(out)) * 2
        k = rng.integers(syllables[0], syllables[1] + 1, size=m)
        idx = [rng.integers(0, len(p), size=(m, 3)) for p in parts]
        e = rng.integers(0, len(ends), size=m)
        for j in range(m):
            w = "".join(
                onsets[idx[0][j, s]] + vowels[idx[1][j, s]] + codas[idx[2][j, s]]
                for s in range(k[j])
            )
            w += ends[e[j]]
            if len(w) >= 4 and w not in seen:
                seen.add(w)
                out.append(w)
                if len(out) == n:
                    break
    return out


def zipf_probs(n: int, s: float = 1.0, q: float = 2.7) -> np.ndarray:
    """Zipf-Mandelbrot probabilities over ranks 0..n-1."""
    p = 1.0 / (np.arange(n) + q) ** s
    return p / p.sum()


def make_corpus(
    n: int,
    *,
    speakers: int,
    vocab_size: int = 30_000,
    seed: int = 0,
    progress: Callable[[str], None] = lambda _: None,
) -> Corpus:
    """A corpus of ``n`` statements by ``speakers`` people in ~150 countries."""
    rng = np.random.default_rng(seed)
    topics = int(min(2000, max(10, n // 500)))
    stories = topics * STORIES_PER_TOPIC
    supers = min(SUPER_TOPICS, topics)

    # --- structure: story of each statement (Zipfian topic sizes), topic of each story
    super_of_topic = rng.integers(0, supers, size=topics)
    topic_of_story = np.repeat(np.arange(topics), STORIES_PER_TOPIC)
    topic_p = zipf_probs(topics, s=0.7, q=10)[rng.permutation(topics)]
    topic_of = rng.choice(topics, size=n, p=topic_p)
    story_of = (topic_of * STORIES_PER_TOPIC + rng.integers(0, STORIES_PER_TOPIC, size=n)).astype(
        np.int32
    )

    # --- vectors
    progress("vectors")
    sup_d, top_d, sto_d = _unit(rng, supers), _unit(rng, topics), _unit(rng, stories)
    vectors = np.empty((n, DIM), dtype=np.float32)
    a, b, c = (np.float32(np.sqrt(w)) for w in (SUPER_W2, TOPIC_W2, STORY_W2))
    for s in range(0, n, 100_000):
        e = min(n, s + 100_000)
        st = story_of[s:e]
        tp = topic_of_story[st]
        noise = rng.standard_normal((e - s, DIM), dtype=np.float32) / np.float32(np.sqrt(DIM))
        noise *= np.sqrt(rng.uniform(*NOISE_W2, size=(e - s, 1))).astype(np.float32)
        v = a * sup_d[super_of_topic[tp]] + b * top_d[tp] + c * sto_d[st] + noise
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        vectors[s:e] = v

    # --- vocabulary: function words, news words, then generated English-like words
    progress("names and vocabulary")
    countries = [c.name for c in COUNTRIES]
    made_up = _syllable_words(
        rng,
        150 - len(countries),
        (_W_ONSETS, _W_VOWELS, _W_CODAS),
        ("ia", "land", "stan", "a"),
        (1, 2),
        set(),
    )
    countries += [w.capitalize() for w in made_up]
    surnames = _syllable_words(
        rng, speakers, (_ONSETS, _VOWELS, _CODAS), _SURNAME_ENDS, (1, 3), set()
    )
    given = _syllable_words(rng, 3000, (_ONSETS, _VOWELS, _CODAS), _GIVEN_ENDS, (1, 2), set())
    taken = set(surnames) | set(given) | {c.lower() for c in countries}
    fixed = list(dict.fromkeys(FUNCTION_WORDS + NEWS_WORDS))
    generated = _syllable_words(
        rng,
        vocab_size - len(fixed),
        (_W_ONSETS, _W_VOWELS, _W_CODAS),
        _W_ENDS,
        (1, 2),
        taken | set(fixed),
    )
    vocab = fixed + generated
    content_lo = len(FUNCTION_WORDS)
    topic_words = rng.integers(content_lo, vocab_size, size=(topics, 40))
    story_words = rng.integers(len(fixed), vocab_size, size=(stories, 4))

    # --- speakers: 90% people, 5% organisations, 5% unnamed sources; Zipfian countries
    country_p = zipf_probs(len(countries), s=1.0, q=3)
    sp_country = rng.choice(len(countries), size=speakers, p=country_p)
    sp_kind = rng.choice(3, size=speakers, p=[0.9, 0.05, 0.05])
    sp_given = rng.choice(len(given), size=speakers, p=zipf_probs(len(given), s=0.8, q=5))
    sp_role = rng.integers(0, len(ROLES), size=speakers)
    people: list[tuple[str | None, str | None, str, str]] = []
    for i in range(speakers):
        country = countries[sp_country[i]]
        if sp_kind[i] == 0:
            name = f"{given[sp_given[i]].capitalize()} {surnames[i].capitalize()}"
            people.append((name, ROLES[sp_role[i]], country, "person"))
        elif sp_kind[i] == 1:
            org = f"{surnames[i].capitalize()} {ORG_WORDS[i % len(ORG_WORDS)]}"
            people.append((org, None, country, "organisation"))
        else:
            people.append((None, UNNAMED_ROLES[i % len(UNNAMED_ROLES)], country, "unnamed"))
    # Every speaker says something; the rest of the statements go to a Zipfian few.
    speaker_of = np.concatenate(
        [
            rng.permutation(speakers)[: min(n, speakers)],
            rng.choice(speakers, size=max(0, n - speakers), p=zipf_probs(speakers, 0.9, 20)),
        ]
    )
    rng.shuffle(speaker_of)

    # --- documents and outlets
    n_docs = max(1, n // 1000)
    documents = [
        Document(id=f"doc-{d:05d}", path=f"synthetic/doc-{d:05d}.txt", title=f"Reactions {d}")
        for d in range(n_docs)
    ]
    outlets = [
        w.capitalize()
        for w in _syllable_words(
            rng,
            300,
            (_W_ONSETS, _W_VOWELS, _W_CODAS),
            ("", "news", " Times", " Daily"),
            (1, 2),
            taken,
        )
    ]
    outlet_p = zipf_probs(len(outlets), 1.0, 2)

    # --- statement texts: lengths ~ lognormal, 75% Zipf, 20% topic words, 5% story words
    progress("statements")
    gcdf = np.cumsum(zipf_probs(vocab_size, 1.0, 2.7))
    statements: list[Statement] = []
    chunk = 50_000
    for s in range(0, n, chunk):
        e = min(n, s + chunk)
        m = e - s
        lengths = np.clip(rng.lognormal(np.log(22), 0.45, size=m), 6, 80).astype(np.int64)
        total = int(lengths.sum())
        owner = np.repeat(np.arange(s, e), lengths)
        kind = rng.random(total)
        ids = np.searchsorted(gcdf, rng.random(total) * gcdf[-1])
        tw = topic_words[topic_of_story[story_of[owner]], rng.integers(0, 40, size=total)]
        sw = story_words[story_of[owner], rng.integers(0, 4, size=total)]
        ids = np.where(kind < 0.75, ids, np.where(kind < 0.95, tw, sw)).tolist()
        n_src = rng.choice([1, 2, 3], size=m, p=[0.7, 0.25, 0.05])
        out_ids = rng.choice(len(outlets), size=(m, 3), p=outlet_p)
        days = rng.integers(1, 29, size=(m, 3))
        months = rng.integers(1, 13, size=(m, 3))
        pos = 0
        for j in range(m):
            row = s + j
            ws = [vocab[t] for t in ids[pos : pos + lengths[j]]]
            pos += lengths[j]
            ws[0] = ws[0].capitalize()
            name, role, country, kind_s = people[speaker_of[row]]
            sources = tuple(
                Source(
                    outlets[out_ids[j, k]],
                    f"2024-{months[j, k]:02d}-{days[j, k]:02d}",
                    f"{outlets[out_ids[j, k]]}, {days[j, k]:02d}.{months[j, k]:02d}.24",
                )
                for k in range(n_src[j])
            )
            doc = row * n_docs // n
            statements.append(
                Statement(
                    id=f"doc-{doc:05d}-{row:07d}",
                    document=f"doc-{doc:05d}",
                    country=country,
                    speaker=name,
                    role=role,
                    kind=kind_s,
                    text=" ".join(ws) + ".",
                    sources=sources,
                    line=row + 1,
                    position=row,
                )
            )
        progress(f"statements {e:,}")
    return Corpus(
        statements=statements,
        documents=documents,
        vectors=vectors,
        story_of=story_of,
        topic_of_story=topic_of_story,
        super_of_topic=super_of_topic,
        directions=(sup_d, top_d, sto_d),
        vocab=vocab,
        topic_words=topic_words,
        story_words=story_words,
        speakers=people,
        countries=countries,
    )


def query_vectors(corpus: Corpus, stories: np.ndarray, seed: int = 1) -> np.ndarray:
    """Question vectors near the data: a story's direction with more noise than statements get."""
    rng = np.random.default_rng(seed)
    sup_d, top_d, sto_d = corpus.directions
    tp = corpus.topic_of_story[stories]
    a, b, c = (np.float32(np.sqrt(w)) for w in (SUPER_W2, TOPIC_W2, STORY_W2))
    noise = rng.standard_normal((len(stories), DIM), dtype=np.float32) / np.float32(np.sqrt(DIM))
    noise *= np.sqrt(rng.uniform(*QUERY_NOISE_W2, size=(len(stories), 1))).astype(np.float32)
    q = a * sup_d[corpus.super_of_topic[tp]] + b * top_d[tp] + c * sto_d[stories] + noise
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    return np.ascontiguousarray(q, dtype=np.float32)


# ----------------------------------------------------------------------------- geometry checks


def stdlib_sentences(limit: int = 200) -> list[str]:
    """First sentences of standard-library module docstrings: real English on unrelated topics."""
    lib = Path(sysconfig.get_paths()["stdlib"])
    out = []
    for p in sorted(lib.glob("*.py")):
        try:
            doc = ast.get_docstring(ast.parse(p.read_text(encoding="utf-8")))
        except (SyntaxError, UnicodeDecodeError, OSError):
            continue
        if doc:
            first = re.split(r"(?<=\.)\s", " ".join(doc.split()))[0]
            if len(first.split()) >= 4:
                out.append(first)
    return out[:limit]


def _pairs(x: np.ndarray, y: np.ndarray | None = None) -> np.ndarray:
    if y is None:
        s = x @ x.T
        return s[np.triu_indices(len(x), 1)]
    return (x @ y.T).ravel()


def _nn(x: np.ndarray) -> np.ndarray:
    s = x @ x.T
    np.fill_diagonal(s, -1.0)
    return s.max(axis=1)


def geometry(
    real: np.ndarray,
    unrelated: np.ndarray,
    questions: np.ndarray,
    corpus: Corpus,
    index_top1: np.ndarray,
    seed: int = 2,
) -> list[tuple[str, str, str]]:
    """Rows (statistic, real MiniLM, synthetic) comparing the two geometries."""
    rng = np.random.default_rng(seed)
    v = corpus.vectors
    n = len(v)

    def fmt(x: np.ndarray) -> str:
        p5, p50, p95 = np.percentile(x, [5, 50, 95])
        return f"{x.mean():.3f} ({p5:.3f} / {p50:.3f} / {p95:.3f})"

    # Same topic: the real corpus is one event; the synthetic one is all rows of one topic.
    topic_of = corpus.topic_of_story[corpus.story_of]
    same_topic = []
    for t in rng.choice(np.unique(topic_of), size=20, replace=False):
        rows = np.flatnonzero(topic_of == t)
        rows = rng.choice(rows, size=min(len(rows), len(real)), replace=False)
        same_topic.append(_pairs(v[rows]))
        if len(same_topic) == 1:
            nn_small = _nn(v[rows])
    same_story = []
    for st in rng.choice(corpus.story_of, size=50, replace=False):
        rows = np.flatnonzero(corpus.story_of == st)[:20]
        if len(rows) > 1:
            same_story.append(_pairs(v[rows]))
    sample = v[rng.choice(n, size=min(n, 2000), replace=False)]  # nearly all different topics
    # NN within the whole synthetic corpus, for 500 rows (exact, by brute force).
    probe = rng.choice(n, size=min(500, n), replace=False)
    sims = v[probe] @ v.T
    sims[np.arange(len(probe)), probe] = -1.0
    nn_full = sims.max(axis=1)
    del sims
    return [
        (
            "pairs in one topic: mean (p5 / p50 / p95)",
            f"{fmt(_pairs(real))} — all {len(real)} corpus statements (one event)",
            f"{fmt(np.concatenate(same_topic))} — {len(real)} rows of one topic, 20 topics",
        ),
        (
            "unrelated pairs",
            f"{fmt(_pairs(real, unrelated))} — corpus × {len(unrelated)} stdlib docstrings",
            f"{fmt(_pairs(sample))} — 2,000 random rows",
        ),
        (
            "same story (near-paraphrase) pairs",
            "—",
            f"{fmt(np.concatenate(same_story))}",
        ),
        (
            f"nearest neighbour among {len(real)}",
            fmt(_nn(real)),
            f"{fmt(nn_small)} — {len(real)} rows of one topic",
        ),
        (
            f"nearest neighbour among all {n:,}",
            "—",
            fmt(nn_full),
        ),
        (
            "question → best statement",
            f"{fmt((questions @ real.T).max(axis=1))} — the {len(questions)} eval questions",
            f"{fmt(index_top1)} — the recall query vectors",
        ),
    ]
