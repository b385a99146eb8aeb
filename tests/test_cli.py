"""The corpus command line: export, check and stats, good and bad sources."""

from __future__ import annotations

import csv
import io
import json
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from index.cli import EXPORT_FIELDS, main

ROOT = Path(__file__).resolve().parent.parent
REAL_FILE = ROOT / "data" / "sources" / "2024-11-06-post-soviet-reaction-to-trump-win.txt"
SECOND_FILE = ROOT / "tests" / "data" / "sources" / "2025-03-14-baltic-reaction-to-summit.txt"
REAL_ID = "2024-11-06-post-soviet-reaction-to-trump-win"
SECOND_ID = "2025-03-14-baltic-reaction-to-summit"

# "warning: path:line: code: message" (the prefix is optional so both streams parse)
CHECK_RE = re.compile(
    r"^(?:warning: )?(?P<path>.+?):(?P<line>\d+): (?P<code>[a-z][a-z-]*): (?P<msg>.+)$"
)


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def jsonl(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def findings(check_out: str) -> set[tuple[str, int, str]]:
    """(file name, line, code) for each ``check`` warning."""
    found = set()
    for line in check_out.splitlines():
        m = CHECK_RE.match(line)
        if m:
            found.add((Path(m["path"]).name, int(m["line"]), m["code"]))
    return found


def _junk() -> bytes:
    rng = random.Random(6)
    return rng.randbytes(1000) + b"\x00\x00" + rng.randbytes(1000)


@pytest.fixture
def both(tmp_path: Path) -> Path:
    """A sources folder with the real compilation and the invented one."""
    for f in (REAL_FILE, SECOND_FILE):
        shutil.copy(f, tmp_path / f.name)
    return tmp_path


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    """The real compilation next to an empty, a binary and a Latin-1 file."""
    shutil.copy(REAL_FILE, tmp_path / REAL_FILE.name)
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "junk.txt").write_bytes(_junk())
    (tmp_path / "latin1.txt").write_bytes(
        "A blog\n\nA Title\n\nMarch 14, 2025\n\nEstonia\n\n"
        '  * Jüri Tõnisson, minister, said: "Tere." (ERR, 03.14.25)\n'.encode("latin-1")
    )
    return tmp_path


# ---------------------------------------------------------------- export


def test_export_jsonl_fields() -> None:
    code, out, err = run("export")
    assert (code, err) == (0, "")
    rows = jsonl(out)
    assert len(rows) == 52
    assert all(list(row) == list(EXPORT_FIELDS) for row in rows)
    assert list(EXPORT_FIELDS) == [
        "id",
        "document",
        "country",
        "speaker",
        "role",
        "kind",
        "text",
        "sources",
        "parent",
    ]
    ids = [row["id"] for row in rows]
    assert len(set(ids)) == len(ids)
    for row in rows:
        assert row["document"]["id"] == REAL_ID
        assert row["document"]["date"] == "2024-11-06"
        assert all(set(s) == {"outlet", "date", "raw", "url"} for s in row["sources"])
        assert row["parent"] is None or row["parent"] in ids


def test_export_jsonl_values() -> None:
    rows = jsonl(run("export")[1])

    def starting(prefix: str) -> dict:
        [row] = [r for r in rows if r["text"].startswith(prefix)]
        return row

    pashinyan = starting("Nikol Pashinyan, Armenian Prime Minister")
    assert (pashinyan["country"], pashinyan["speaker"], pashinyan["role"], pashinyan["kind"]) == (
        "Armenia",
        "Nikol Pashinyan",
        "Armenian Prime Minister",
        "person",
    )
    assert pashinyan["sources"] == [
        {"outlet": "Interfax", "date": "2024-11-06", "raw": "Interfax, 11.06.24", "url": None}
    ]
    market = starting("The Moscow Exchange Index rose")
    assert (market["speaker"], market["role"], market["kind"]) == (None, None, "market")
    assert [s["outlet"] for s in market["sources"]] == ["Istories", "FT", "FT"]
    nested = [r for r in rows if r["parent"] == market["id"]]
    assert len(nested) == 3


def test_export_csv() -> None:
    code, out, err = run("export", "--format", "csv")
    assert (code, err) == (0, "")
    reader = csv.DictReader(io.StringIO(out))
    assert tuple(reader.fieldnames or ()) == EXPORT_FIELDS
    rows = list(reader)
    assert len(rows) == 52
    market = next(r for r in rows if r["text"].startswith("The Moscow Exchange Index rose"))
    assert market["sources"] == "Istories, 11.06.24; FT, 11.06.24; FT, 11.06.24"
    assert (market["speaker"], market["role"], market["parent"]) == ("", "", "")
    assert market["document"].startswith("Post-Soviet Reaction to Trump’s Win")


# ---------------------------------------------------------------- check


def test_check_reports_anomalies_with_file_and_line() -> None:
    code, out, err = run("check")
    assert (code, err) == (0, "")
    name = REAL_FILE.name
    found = findings(out)
    # role-country needs index/gazetteer.py; it has its own test below.
    assert found - {(name, 48, "role-country")} == {
        (name, 70, "date-out-of-window"),
        (name, 82, "no-source"),
        (name, 83, "duplicate"),
    }
    lines = {int(m["line"]): m for m in map(CHECK_RE.match, out.splitlines()) if m}
    assert "11.06.26" in lines[70]["msg"]
    assert "Commenting on Russia’s reaction" in lines[82]["msg"]
    assert "line 66" in lines[83]["msg"]
    assert Path(lines[70]["path"]).resolve() == REAL_FILE
    assert out.splitlines()[-1].startswith("1 document(s), 52 statements")


def test_check_flags_a_role_naming_another_country() -> None:
    out = run("check")[1]
    flagged = [
        m for m in map(CHECK_RE.match, out.splitlines()) if m and m["code"] == "role-country"
    ]
    assert [int(m["line"]) for m in flagged] == [48]
    assert "Estonia" in flagged[0]["msg"]
    assert "Latvia" in flagged[0]["msg"]


def test_check_on_the_second_compilation() -> None:
    code, out, _ = run("--sources", str(SECOND_FILE.parent), "check")
    assert code == 0
    assert findings(out) == {(SECOND_FILE.name, 43, "day-first")}


# ---------------------------------------------------------------- stats


def test_stats_text() -> None:
    code, out, err = run("stats")
    assert (code, err) == (0, "")
    assert "52 statements" in out
    for label, count in (("Russia", 25), ("Ukraine", 10), ("Tajikistan", 1), ("Georgia", 3)):
        assert re.search(rf"^\s+{label}\s+{count}$", out, re.M), label
    for label, count in (
        ("person", 39),
        ("unnamed", 5),
        ("market", 4),
        ("organisation", 2),
        ("note", 2),
    ):
        assert re.search(rf"^\s+{label}\s+{count}$", out, re.M), label
    for label, count in (("Interfax", 10), ("FT", 9), ("RG.ru/Russia in Global Affairs", 1)):
        assert re.search(rf"^\s+{re.escape(label)}\s+{count}$", out, re.M), label


def test_stats_json(both: Path) -> None:
    code, out, _ = run("--sources", str(both), "stats", "--json")
    assert code == 0
    stats = json.loads(out)
    assert stats["statements"] == 65
    assert [d["id"] for d in stats["documents"]] == [REAL_ID, SECOND_ID]
    assert stats["countries"]["Russia"] == 25
    assert stats["countries"]["Lithuania"] == 1 + 4
    assert stats["countries"]["Georgia"] == 3 + 1
    assert stats["kinds"]["note"] == 3
    assert stats["kinds"]["organisation"] == 3
    assert stats["outlets"]["Interfax"] == 10
    assert stats["outlets"]["Caspian Wire"] == 2


# ---------------------------------------------------------------- where the sources are


def test_sources_flag_and_env(monkeypatch: pytest.MonkeyPatch, both: Path) -> None:
    docs = lambda out: {row["document"]["id"] for row in jsonl(out)}  # noqa: E731
    assert docs(run("export")[1]) == {REAL_ID}  # conftest points the env at data/sources
    monkeypatch.setenv("REACTIONS_SOURCES_DIR", str(SECOND_FILE.parent))
    assert docs(run("export")[1]) == {SECOND_ID}
    assert docs(run("--sources", str(both), "export")[1]) == {REAL_ID, SECOND_ID}  # flag wins
    monkeypatch.delenv("REACTIONS_SOURCES_DIR")
    assert docs(run("--sources", str(both), "export")[1]) == {REAL_ID, SECOND_ID}


def test_every_statement_names_its_document(both: Path) -> None:
    rows = jsonl(run("--sources", str(both), "export")[1])
    assert [row["document"]["id"] for row in rows] == [REAL_ID] * 52 + [SECOND_ID] * 13
    assert {row["document"]["title"][:20] for row in rows} == {
        "Post-Soviet Reaction",
        "Baltic and Caucasus ",
    }


def test_an_empty_sources_folder_says_so(tmp_path: Path) -> None:
    _, out, err = run("--sources", str(tmp_path), "export")
    assert out == ""
    assert "no compilations" in err
    assert str(tmp_path) in err


def test_a_missing_sources_folder_is_an_error(tmp_path: Path) -> None:
    code, _, err = run("--sources", str(tmp_path / "typo"), "check")
    assert "typo" in err
    assert code != 0


# ---------------------------------------------------------------- bad files


def test_bad_files_are_reported_and_the_rest_exported(mixed: Path) -> None:
    code, out, err = run("--sources", str(mixed), "export")
    assert code == 0  # the good document still comes out
    rows = jsonl(out)
    assert len(rows) == 52
    assert {row["document"]["id"] for row in rows} == {REAL_ID}
    errors = err.splitlines()
    assert len(errors) == 3
    assert all(line.startswith("error: ") for line in errors)
    by_file = {Path(line[len("error: ") :].split(":")[0]).name: line for line in errors}
    assert set(by_file) == {"empty.txt", "junk.txt", "latin1.txt"}
    assert "empty" in by_file["empty.txt"]
    assert "binary" in by_file["junk.txt"]
    assert re.search(r"latin1\.txt:9: not UTF-8", by_file["latin1.txt"])


def test_check_with_bad_files_fails_but_lists_the_good_ones(mixed: Path) -> None:
    code, out, err = run("--sources", str(mixed), "check")
    assert code == 1
    assert (REAL_FILE.name, 70, "date-out-of-window") in findings(out)
    assert "1 document(s), 52 statements" in out
    assert "3 error(s)" in out
    assert err.count("error: ") == 3


def test_only_bad_files_export_nothing_and_fail(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    code, out, err = run("--sources", str(tmp_path), "export")
    assert (code, out) == (1, "")
    assert "empty.txt" in err


@pytest.mark.parametrize("command", [["export"], ["check"], ["stats"], ["stats", "--json"]])
def test_no_traceback_from_a_real_process(mixed: Path, command: list[str]) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "index", "--sources", str(mixed), *command],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Traceback" not in proc.stderr
    assert proc.returncode == (1 if command == ["check"] else 0)
    for name in ("empty.txt", "junk.txt", "latin1.txt"):
        assert name in proc.stderr
    assert proc.stdout


def test_unknown_command_is_a_usage_error() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "index", "frobnicate"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "usage:" in proc.stderr
