"""``gapcheck verify`` (one line per result, ``--details``, ``--json``, ``--report``)
and ``gapcheck list``; the width follows ``COLUMNS``."""
from __future__ import annotations

import json

import pytest

from gapcheck.numerics.checks import VerifyConfig
from gapcheck.numerics.commands import verify as verify_cmd
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


# --------------------------------------------------------------- readable output

LONG_DETAIL = ("the measured slope sits outside the 99% bootstrap interval of the fit over "
               "n = 64, 128, 256, 512 with 20 networks each; see the findings of the result")


def _fake_outcomes(fail: bool):
    """Three checks of a fake run; the last fails when ``fail``."""
    return [
        CheckOutcome("exact identity", {"d": "d"}, measured=1, predicted=1, passed=True,
                     tolerance="exact"),
        CheckOutcome("mean over samples", {"n": 64, "samples": 4000}, measured=0.99,
                     predicted=1.0, passed=True, tolerance="4 SE"),
        CheckOutcome("slope of log srank in n", {"n": [64, 128, 256, 512], "l": 2},
                     measured=-2.61, predicted=-3.0, passed=not fail,
                     tolerance="99% bootstrap CI", detail=LONG_DETAIL),
    ]


@pytest.fixture
def fake_checks(monkeypatch):
    """Replace the checks by fake outcomes: ``prop3`` fails, the rest pass."""
    monkeypatch.setattr(verify_cmd, "run_result", lambda rid, config: _fake_outcomes(rid == "prop3"))


def _lines(text):
    return [line for line in text.splitlines() if line.strip()]


def test_default_is_one_line_per_result(gapcheck, fake_checks, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    ids = [r.id for r in all_results()]
    r = gapcheck("verify", "--quick")
    lines = _lines(r.out)
    # header, one line per result, the failing check of prop3 (wrapped), the summary
    assert len(lines) <= len(ids) + 2 + 4, r.out
    rows = [line for line in lines if line.split()[0] in ids]
    assert [row.split()[0] for row in rows] == ids
    assert all(" pass " in row for row in rows if not row.startswith("prop3 "))
    (row,) = [row for row in rows if row.startswith("prop3 ")]
    assert " FAIL " in row and " 2/3 " in row
    assert lines[-1].startswith(f"{len(ids) - 1} results passed, 1 failed")
    assert r.code == 1


def test_failing_check_is_printed_in_full(gapcheck, fake_checks, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    r = gapcheck("verify", "prop3", "lemma1")
    assert r.code == 1
    lines = r.out.splitlines()
    assert max(map(len, lines)) <= 80, r.out
    flat = " ".join(" ".join(lines).split())
    # name, parameters, measured, predicted, tolerance and the whole detail
    for part in ("FAIL slope of log srank in n", "n=[64, 128, 256, 512]", "measured -2.61",
                 "predicted -3", "99% bootstrap CI", LONG_DETAIL):
        assert part in flat, (part, r.out)
    # passing checks are not listed by default, only counted
    assert "mean over samples" not in r.out and "exact identity" not in r.out


def test_details_prints_every_check(gapcheck, fake_checks, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    r = gapcheck("verify", "lemma1", "prop3", "--details")
    lines = r.out.splitlines()
    assert max(map(len, lines)) <= 80, r.out
    listed = [line for line in lines if line.startswith(("    pass ", "    FAIL "))]
    assert len(listed) == 6, r.out
    assert sum("exact identity" in line for line in listed) == 2


@pytest.mark.parametrize("columns", [60, 80, 200])
def test_width_follows_columns(gapcheck, fake_checks, monkeypatch, columns):
    monkeypatch.setenv("COLUMNS", str(columns))
    for argv in (("verify", "--details"), ("list",), ("list", "--details")):
        out = gapcheck(*argv).out
        assert max(map(len, out.splitlines())) <= columns, (argv, out)
    # the room is used: a wide terminal shows the long titles in full
    out = gapcheck("list").out
    long_title = max((r.title for r in all_results()), key=len)
    assert (long_title in out) == (columns >= 200)


def test_width_without_terminal_or_columns(gapcheck, fake_checks, monkeypatch):
    """Piped output without COLUMNS is laid out for 100 columns, not 160."""
    monkeypatch.delenv("COLUMNS", raising=False)
    out = gapcheck("verify", "--details").out
    width = max(map(len, out.splitlines()))
    assert 90 <= width <= 100, width


def test_list_default_is_one_line_per_result(gapcheck, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    results = all_results()
    r = gapcheck("list")
    assert [line.split()[0] for line in _lines(r.out)] == [x.id for x in results]
    full = gapcheck("list", "--details").out
    for x in results[:3]:
        assert all(" ".join(a.split()) in " ".join(full.split()) for a in x.assumptions)


@pytest.mark.parametrize("seconds, shown", [(0.04, "0.0 s"), (14.84, "14.8 s"), (125.4, "2m05s"),
                                            (7385, "123m05s")])
def test_time_column_never_truncated(seconds, shown):
    from gapcheck.numerics.commands.verify import _seconds
    assert _seconds(seconds) == shown and len(shown) <= 7
