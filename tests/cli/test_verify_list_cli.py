"""``gapcheck verify`` (table, ``--json``, ``--report``) and ``gapcheck list``."""
from __future__ import annotations

import json

import pytest

from gapcheck.numerics.checks import VerifyConfig
from gapcheck.numerics.commands.verify import verify, write_report
from gapcheck.theory.registry import CheckOutcome, all_results

RID = "lemma1"  # a cheap result: exact symbolic checks and a small Monte Carlo


def test_json_shape_and_exit_code(gapcheck):
    r = gapcheck("verify", RID, "--quick", "--json")
    report = json.loads(r.out)
    assert isinstance(report, list) and len(report) == 1
    entry = report[0]
    assert {"id", "title", "verdict", "checks"} <= set(entry)
    assert entry["id"] == RID and entry["verdict"] in ("pass", "fail")
    assert r.code == (0 if entry["verdict"] == "pass" else 1)
    assert all({"name", "measured", "predicted", "passed"} <= set(c) for c in entry["checks"])


def test_report_with_figures(gapcheck, tmp_path):
    r = gapcheck("verify", RID, "--quick", "--report", tmp_path / "rep")
    assert r.code in (0, 1)
    md = (tmp_path / "rep" / "report.md").read_text()
    assert f"## {RID}:" in md and "| check | parameters |" in md
    assert f"![{RID}: measured against predicted]({RID}.png)" in md
    assert (tmp_path / "rep" / f"{RID}.png").read_bytes().startswith(b"\x89PNG")
    assert json.loads((tmp_path / "rep" / "report.json").read_text())[0]["id"] == RID


def test_report_marks_failures(tmp_path):
    """A failing entry is marked FAIL in the summary, its check drawn as a cross."""
    bad = CheckOutcome("demo", {"n": 8}, measured=2.0, predicted=1.0, passed=False,
                       tolerance="4 SE")
    entry = {"id": "demo", "title": "Demo", "statement": "x", "verdict": "fail", "seconds": 0.0,
             "checks": [bad.to_json()]}
    path = write_report([entry], tmp_path, VerifyConfig(level="quick"))
    text = path.read_text()
    assert "**0 passed, 1 failed**" in text and "| **FAIL** |" in text
    assert (tmp_path / "demo.png").exists()


def test_progress_callback_sees_every_result():
    seen = []
    verify([RID], VerifyConfig(level="quick"), progress=lambda r, k, total: seen.append((r.id, k, total)))
    assert seen == [(RID, 0, 1)]


@pytest.mark.parametrize("argv, needle", [
    (["verify", "no-such-id"], "unknown result id 'no-such-id'"),
    (["verify", RID, "--quick", "--report", "/proc/gapcheck-report"], "cannot write the report"),
])
def test_bad_input_is_one_line(gapcheck, argv, needle):
    assert needle in gapcheck(*argv).one_error_line()


def test_list_text_and_json(gapcheck):
    ids = [r.id for r in all_results()]
    r = gapcheck("list")
    assert r.code == 0 and all(i in r.out for i in ids)
    listed = json.loads(gapcheck("list", "--json").out)
    assert [e["id"] for e in listed] == ids
    assert all(e["title"] and isinstance(e["assumptions"], list) for e in listed)
    assert gapcheck("list", "--ids").out.split() == ids
