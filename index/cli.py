"""Command line: export, check, stats (corpus); add (ingest); build, ask, eval (search)."""

from __future__ import annotations

import argparse
import csv
import gc
import json
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, TextIO

from index import config
from index.parse import Corpus, ParseError, load_corpus, source_files

EXPORT_FIELDS = (
    "id",
    "document",
    "country",
    "speaker",
    "role",
    "kind",
    "text",
    "sources",
    "parent",
)


def _display_path(p: Path) -> Path:
    """Paths under the working directory are shown relative, as editors like them."""
    try:
        return p.resolve().relative_to(Path.cwd())
    except ValueError:
        return p


def _load(args: argparse.Namespace, err: TextIO) -> Corpus:
    sources = config.sources_dir(args.sources)
    files = [_display_path(f) for f in source_files(sources)]
    if not files:
        err.write(f"no compilations (*.txt) found in {sources}\n")
    corpus = load_corpus(files)
    if not sources.is_dir():
        corpus.errors.append(ParseError(str(sources), "no such folder"))
    for e in corpus.errors:
        err.write(f"error: {e}\n")
    return corpus


def export_rows(corpus: Corpus) -> list[dict[str, Any]]:
    """Every statement as a plain dict with the export fields."""
    docs = {d.id: d for d in corpus.documents}
    rows = []
    for st in corpus.statements:
        d = st.to_dict()
        row = {k: d[k] for k in EXPORT_FIELDS}
        row["document"] = docs[st.document].ref()
        rows.append(row)
    return rows


def cmd_export(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    corpus = _load(args, err)
    rows = export_rows(corpus)
    if args.format == "jsonl":
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    else:
        w = csv.DictWriter(out, fieldnames=EXPORT_FIELDS, lineterminator="\n")
        w.writeheader()
        for row in rows:
            w.writerow(
                {
                    **row,
                    "document": row["document"]["title"],
                    "sources": "; ".join(
                        s["raw"] + (f" <{s['url']}>" if s.get("url") else "")
                        for s in row["sources"]
                    ),
                    "speaker": row["speaker"] or "",
                    "role": row["role"] or "",
                    "parent": row["parent"] or "",
                }
            )
    return (
        1
        if (corpus.errors and not rows) or not Path(config.sources_dir(args.sources)).is_dir()
        else 0
    )


def cmd_check(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    corpus = _load(args, err)
    for w in corpus.warnings:
        out.write(f"warning: {w}\n")
    n_docs, n_st = len(corpus.documents), len(corpus.statements)
    out.write(
        f"{n_docs} document(s), {n_st} statements, {len(corpus.warnings)} warning(s), "
        f"{len(corpus.errors)} error(s)\n"
    )
    return 1 if corpus.errors else 0


def cmd_stats(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    corpus = _load(args, err)
    sts = corpus.statements
    by_country = Counter(s.country for s in sts)
    by_kind = Counter(s.kind for s in sts)
    by_outlet = Counter(src.outlet for s in sts for src in s.sources)
    if args.json:
        out.write(
            json.dumps(
                {
                    "documents": [asdict(d) | {"intro": None} for d in corpus.documents],
                    "statements": len(sts),
                    "countries": dict(sorted(by_country.items())),
                    "kinds": dict(by_kind.most_common()),
                    "outlets": dict(by_outlet.most_common()),
                },
                ensure_ascii=False,
                indent=2,
            )
            + "\n"
        )
        return 0
    for d in corpus.documents:
        out.write(f"{d.title} ({d.published}{', updated ' + d.updated if d.updated else ''})\n")
    out.write(f"\n{len(sts)} statements\n")
    for title, counter in (
        ("country", by_country),
        ("speaker kind", by_kind),
        ("outlet", by_outlet),
    ):
        out.write(f"\nby {title}:\n")
        items = sorted(counter.items()) if title == "country" else counter.most_common()
        width = max((len(k) for k, _ in items), default=0)
        for k, v in items:
            out.write(f"  {k.ljust(width)}  {v}\n")
    return 0


def cmd_add(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Read each input, report what it holds; write them all, or nothing if one is refused."""
    from index import ingest

    sources = config.sources_dir(args.sources)
    ready: list[tuple[str, ingest.Prepared, ingest.Published]] = []
    refused = 0
    targets: dict[Path, str] = {}
    for item in args.inputs:
        try:
            got = ingest.read_input(item)
            prepared = ingest.prepare(got.data, got.name, got.content_type)
            out.write(ingest.summary(prepared))
            planned = ingest.plan(prepared, sources, replace=args.replace)
            if planned.path in targets and planned.action != "unchanged":
                raise ingest.IngestError(
                    f"{targets[planned.path]} is also going to {planned.path.name}"
                )
        except ingest.IngestError as exc:
            err.write(f"refused: {item}: {exc}\n")
            refused += 1
            continue
        targets[planned.path] = item
        ready.append((item, prepared, planned))
    if refused:
        err.write(f"nothing written ({refused} of {len(args.inputs)} refused)\n")
        return 1
    if args.dry_run:
        out.write("dry run: nothing written\n")
        return 0
    changed = False
    for item, prepared, _planned in ready:
        try:
            done = ingest.publish(prepared, sources, replace=args.replace)
        except (ingest.IngestError, OSError) as exc:
            err.write(f"error: {item}: not written: {exc}\n")
            return 1
        where = _display_path(done.path)
        if done.action == "unchanged":
            out.write(f"already in the archive: {where}\n")
        else:
            out.write(f"{done.action} {where}\n")
            changed = True
    if changed:
        out.write("the index is rebuilt on its next use (or now: python -m index build)\n")
    return 0


def _engine(args: argparse.Namespace, *, rebuild: bool = False, progress: bool = False) -> Any:
    from index.search import Engine

    return Engine.open(args.sources, args.index_dir, rebuild=rebuild, progress=progress)


def answer_json(answer: Any, engine: Any) -> dict[str, Any]:
    """The stable JSON shape of one answer (see README: CLI contract)."""
    results = []
    for h in answer.hits:
        st = h.statement
        doc = engine.document(st.document)
        d = st.to_dict()
        results.append(
            {k: d[k] for k in ("id", "country", "speaker", "role", "kind", "text", "sources")}
            | {"document": doc.ref() if doc else {"id": st.document}, "score": h.score}
        )
    return {
        "query": answer.query,
        "intent": {
            "kind": answer.intent.kind,
            "value": answer.intent.value,
            "key": answer.intent.key,
        },
        "confident": answer.confident,
        "results": results,
        "suggestions": [{"label": s.label, "key": s.key} for s in answer.suggestions],
        "message": answer.message,
        "reading": answer.reading or {},
    }


def render_text(answer: Any) -> str:
    """A readable rendering for the terminal."""
    lines = []
    what = answer.intent.kind + (f": {answer.intent.value}" if answer.intent.value else "")
    lines.append(f"[{what}]" + ("" if answer.confident or not answer.hits else " (low confidence)"))
    if answer.message:
        lines.append(answer.message)
    for n, h in enumerate(answer.hits, 1):
        st = h.statement
        who = ", ".join(x for x in (st.speaker, st.role) if x) or st.kind
        src = "; ".join(dict.fromkeys(s.raw for s in st.sources)) or "no source given"
        lines.append(
            f"\n{n}. {who} — {st.country}  (score {h.score:.3f})\n   {st.text}\n   — {src}"
        )
    if answer.suggestions:
        lines.append("\ndid you mean: " + ", ".join(s.label for s in answer.suggestions))
    return "\n".join(lines) + "\n"


def cmd_build(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    import time

    t0 = time.perf_counter()
    engine = _engine(args, rebuild=True, progress=True)
    for p in engine.problems:
        err.write(f"error: {p}\n")
    m = engine.manifest
    out.write(
        f"built {m.get('count', len(engine.statements))} statements with {m.get('model')} "
        f"({m.get('index_type', '?')}) in {time.perf_counter() - t0:.1f}s\n"
    )
    return 0


def cmd_ask(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    engine = _engine(args)
    if args.question:
        question = " ".join(args.question)
        answer = engine.ask(question, k=args.k)
        if args.explain:
            out.write(engine.read(question).explain(engine.catalog) + "\n")
            glossed = (answer.reading or {}).get("glossed", ())
            out.write(f"  glossed: {', '.join(glossed)}\n\n" if glossed else "\n")
        if args.json:
            out.write(json.dumps(answer_json(answer, engine), ensure_ascii=False) + "\n")
        else:
            out.write(render_text(answer))
        return 0
    gc.collect()  # a long-lived process: the engine's objects need no more collecting
    gc.freeze()
    stdin = getattr(sys.stdin, "buffer", None)
    lines = (raw.decode("utf-8", "replace") for raw in stdin) if stdin else iter(sys.stdin)
    for line in lines:
        answer = engine.ask(line.rstrip("\r\n"), k=args.k)
        out.write(json.dumps(answer_json(answer, engine), ensure_ascii=False) + "\n")
        out.flush()
    return 0


EVAL_DIR = config.ROOT / "data" / "eval"
# The question sets `eval` runs by default: name, questions, sources (None: the archive's own).
EVAL_SETS: tuple[tuple[str, str, str | None], ...] = (
    ("public", "questions.jsonl", None),
    ("compound", "compound.jsonl", None),
    ("archive", "archive.jsonl", "archive"),
    # The public and compound questions, and most of the archive's, asked in Russian and in
    # Ukrainian (same expected quotes), and off-topic questions in both that nothing answers.
    ("public+compound ru", "questions_ru.jsonl", None),
    ("public+compound uk", "questions_uk.jsonl", None),
    ("archive ru", "archive_ru.jsonl", "archive"),
    ("archive uk", "archive_uk.jsonl", "archive"),
    ("off-topic ru+uk", "offtopic_ru_uk.jsonl", None),
    # Frozen blind sets: written by a helper who read only the compilations, never the code;
    # en/ru/uk, loose roles, places and people as topics, numbers, typos, negation, sets,
    # unanswerable ones (data/eval/README.md). Scored, never tuned to one by one.
    ("blind", "blind_real.jsonl", None),
    ("blind archive", "blind_archive.jsonl", "archive"),
    # A second pair, written later by another helper on the same brief: the first pair's
    # misses have been read while looking for their classes; these have not.
    ("blind2", "blind2_real.jsonl", None),
    ("blind2 archive", "blind2_archive.jsonl", "archive"),
    # A third pair, written on 2026-12-08 by another helper on the same brief, frozen and
    # scored before any change of that day: the second pair's misses had been printed by now.
    ("blind3", "blind3_real.jsonl", None),
    ("blind3 archive", "blind3_archive.jsonl", "archive"),
    # Development sets, written by a third helper on the same brief: their misses are read
    # to find the classes of question the engine still misreads (data/eval/README.md).
    ("dev", "dev_real.jsonl", None),
    ("dev archive", "dev_archive.jsonl", "archive"),
    # A second development pair, written on 2026-12-08 by a fourth helper on the same brief
    # (half English, a quarter each Russian and Ukrainian), when the first pair's classes had
    # been worked through.
    ("dev3", "dev3_real.jsonl", None),
    ("dev3 archive", "dev3_archive.jsonl", "archive"),
    # Questions that ask for an act (congratulated, welcomed, warned, doubted, praised) in
    # en/ru/uk: the answer leads with who performed it, not who denied it (index/stance.py).
    ("stance", "stance.jsonl", "archive"),
)


def cmd_eval(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    sets: list[tuple[str, Path, Path | None]]
    if args.questions:
        sets = [(Path(args.questions).stem, Path(args.questions), None)]
    else:
        sets = [
            (name, EVAL_DIR / file, EVAL_DIR / src if src else None)
            for name, file, src in EVAL_SETS
            if not args.only or name in args.only
        ]
    ok = True
    engines: dict[Path | None, Any] = {}
    for name, path, sources in sets:
        if sources not in engines:
            engines[sources] = _eval_engine(args, sources)
        ok &= _eval_one(engines[sources], name, path, args, out)
    return 0 if ok else 1


def _eval_engine(args: argparse.Namespace, sources: Path | None) -> Any:
    from index.search import Engine

    if sources is None:
        return _engine(args)
    idx = Path(str(config.index_dir(args.index_dir)) + "-" + sources.name)
    return Engine.open(sources, idx)


def _eval_one(engine: Any, name: str, path: Path, args: argparse.Namespace, out: TextIO) -> bool:
    from index import evaluate as ev

    questions = ev.load_questions(path)
    peers = {} if args.no_peers else _peers(engine, questions)
    answers = [engine.ask(q["question"], k=10) for q in questions]
    results = {
        "engine": ev.score(
            questions,
            [[h.statement.text for h in a.hits] for a in answers],
            [a.confident for a in answers],
        )
    }
    for peer, fn in peers.items():
        results[peer] = ev.score(questions, [fn(q["question"]) for q in questions])
    out.write(f"{name}: {len(questions)} questions from {_display_path(path)}\n")
    out.write(f"{'system':<24} {'top1':>6} {'recall':>7} {'mrr':>6}\n")
    for system, s in results.items():
        out.write(f"{system:<24} {s.top1:6.3f} {s.recall:7.3f} {s.mrr:6.3f}\n")
    misses = results["engine"].misses
    if misses:
        out.write("engine misses:\n" + "".join(f"  {m}\n" for m in misses))
    out.write("\n")
    return results["engine"].top1 >= args.min_top1 and results["engine"].recall >= args.min_recall


def _peers(engine: Any, questions: list[dict[str, Any]]) -> dict[str, Any]:
    """The three peers (BM25, dense, their RRF) over the same statements, and the multilingual
    model alone where the set has Cyrillic questions."""
    from index import evaluate as ev
    from index.textnorm import is_cyrillic

    chunks = ev.peer_chunks(engine.statements)
    bm25 = ev.Bm25Peer(chunks)
    dense = ev.DensePeer(chunks, lambda t: engine._encode(t))
    peers: dict[str, ev.Retriever] = {
        "bm25 (peer)": lambda q: [chunks[i] for i in bm25.rank(q)[:10]],
        "dense (peer)": lambda q: [chunks[i] for i in dense.rank(q)[:10]],
        "bm25+dense rrf (peer)": lambda q: [
            chunks[i] for i in ev.rrf(bm25.rank(q), dense.rank(q))[:10]
        ],
    }
    if engine.multilingual and any(is_cyrillic(q["question"]) for q in questions):
        # The multilingual model over the same chunks: what it does without the engine.
        e5 = _multilingual_peer(engine, chunks)
        peers["dense e5 (peer)"] = lambda q: [chunks[i] for i in e5.rank(q)[:10]]
    return peers


def _multilingual_peer(engine: Any, chunks: list[str]) -> Any:
    """A dense peer on the multilingual model (chunks as passages, questions as queries),
    built once per engine."""
    from index import evaluate as ev
    from index.embed import MultilingualEncoder

    peer = getattr(engine, "_eval_e5_peer", None)
    if peer is None:
        passages = MultilingualEncoder().encode(chunks)
        peer = ev.DensePeer(chunks, lambda t: passages, encode_query=engine.encode_multilingual)
        engine._eval_e5_peer = peer
    return peer


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m index", description=__doc__)
    p.add_argument("--sources", help="folder of compilations (env REACTIONS_SOURCES_DIR)")
    p.add_argument("--index-dir", help="where the index lives (env REACTIONS_INDEX_DIR)")
    sub = p.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("export", help="every statement, one a line")
    e.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    sub.add_parser("check", help="data anomalies as warnings with file and line")
    s = sub.add_parser("stats", help="counts by country, speaker kind and outlet")
    s.add_argument("--json", action="store_true")
    ad = sub.add_parser(
        "add",
        help="add compilations (.txt in the layout, a saved web page or its URL) to the sources",
    )
    ad.add_argument("inputs", nargs="+", metavar="FILE_OR_URL")
    ad.add_argument(
        "--replace", action="store_true", help="overwrite a file of the same name or document"
    )
    ad.add_argument("--dry-run", action="store_true", help="report only; write nothing")
    sub.add_parser("build", help="(re)build the index now, with a progress bar")
    a = sub.add_parser(
        "ask", help="answer a question (no QUESTION: one a line from stdin, JSON out)"
    )
    a.add_argument("question", nargs="*")
    a.add_argument("--k", type=int, default=10, help="results for a topic question")
    a.add_argument("--json", action="store_true")
    a.add_argument("--explain", action="store_true", help="print how the question was read")
    v = sub.add_parser("eval", help="top-1, recall and MRR beside three peers")
    v.add_argument(
        "questions",
        nargs="?",
        help="one set (default: the public, compound and archive sets, in English, Russian"
        " and Ukrainian)",
    )
    v.add_argument("--min-top1", type=float, default=0.0)
    v.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help="score only the named set (repeatable: --only blind2 --only 'dev archive')",
    )
    v.add_argument("--no-peers", action="store_true", help="score the engine alone (much faster)")
    v.add_argument("--min-recall", type=float, default=0.0)
    return p


COMMANDS = {
    "export": cmd_export,
    "check": cmd_check,
    "stats": cmd_stats,
    "add": cmd_add,
    "build": cmd_build,
    "ask": cmd_ask,
    "eval": cmd_eval,
}


def main(
    argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Run the CLI; returns the exit code."""
    out = out or sys.stdout
    err = err or sys.stderr
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.cmd](args, out, err)
    except BrokenPipeError:  # `python -m index export | head`
        return 0
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
