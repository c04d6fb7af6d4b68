"""``gapcheck verify [IDS...]``: run the checks and print one line per result
(id, title, verdict, checks passed/total, time) with the failing checks in
full (``--details``: every check; ``--json``: one JSON array), laid out for the
terminal's width or ``COLUMNS``; write a report with figures (``--report
DIR``); exit 1 when any check fails.

``verify(ids, config)`` is the same from Python: one entry per result, each a
dict with ``id``, ``title``, ``statement``, ``verdict`` (``"pass"`` or
``"fail"``), ``seconds`` and ``checks`` (the outcomes as JSON).
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from ...theory.registry import all_results, get

from ..checks import VerifyConfig, run_result
from ._text import fit, output_width, wrap, writable_dir


def add_parser(sub):
    v = sub.add_parser("verify", help="run the checks of the given results (default: all)")
    v.add_argument("ids", nargs="*", help="result ids or families such as 'arch' (default: all)")
    lvl = v.add_mutually_exclusive_group()
    lvl.add_argument("--quick", dest="level", action="store_const", const="quick",
                     help="smallest grids (seconds)")
    lvl.add_argument("--thorough", dest="level", action="store_const", const="thorough",
                     help="larger n and more samples")
    v.set_defaults(level="default", func=run)
    v.add_argument("--seed", type=int, default=VerifyConfig.seed, help="root seed")
    v.add_argument("--backend", default="numpy", choices=("numpy", "cupy"))
    v.add_argument("--json", action="store_true", help="print one JSON array")
    v.add_argument("--details", action="store_true",
                   help="print every check (default: one line per result and the failing checks)")
    v.add_argument("--report", metavar="DIR",
                   help="also write DIR/report.md (+ report.json and one figure per result)")
    return v


def expand(result_id: str) -> list:
    """The result ``result_id``, or every result of the family ``result_id``
    (``"arch"`` -> ``arch.multihead``, ``arch.causal``, ...); unknown: the
    registry's ``ValueError`` listing the known ids."""
    try:
        return [get(result_id)]
    except ValueError:
        family = [r for r in all_results() if r.id.startswith(result_id + ".")]
        if family:
            return family
        raise


def verify(ids, config: VerifyConfig, progress=None, keep_outcomes: bool = False) -> list[dict]:
    """Run the checks of ``ids`` (all when empty); one report entry per result.

    ``progress(result, index, total)`` is called before each result (the CLI
    uses it for its progress bar); ``keep_outcomes`` adds the
    :class:`CheckOutcome` records themselves (``"outcomes"``: symbolic values
    unprinted, for ``gapcheck report``).
    """
    results = [r for i in ids for r in expand(i)] if ids else all_results()  # unknown ids fail first
    if not results:
        raise ValueError("no results are registered")
    report = []
    for k, r in enumerate(results):
        if progress is not None:
            progress(r, k, len(results))
        t0 = time.perf_counter()
        outcomes = run_result(r.id, config)
        verdict = "pass" if outcomes and all(o.passed for o in outcomes) else "fail"
        report.append({"id": r.id, "title": r.title, "statement": r.statement,
                       "verdict": verdict, "seconds": round(time.perf_counter() - t0, 3),
                       "checks": [o.to_json() for o in outcomes]})
        if keep_outcomes:
            report[-1]["outcomes"] = list(outcomes)
    return report


def run(args) -> int:
    config = VerifyConfig(level=args.level, seed=args.seed, backend=args.backend)
    report_dir = _prepare_dir(args.report) if args.report else None
    report = _verify_with_progress(args.ids, config, show=not args.json)
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        print_summary(report, details=args.details)
    if report_dir is not None:
        path = write_report(report, report_dir, config)
        print(f"wrote {path}", file=sys.stderr)
    return 0 if all(e["verdict"] == "pass" for e in report) else 1


def _prepare_dir(path) -> Path:
    return writable_dir(path, "the report")


def _verify_with_progress(ids, config, show: bool, **kwargs) -> list[dict]:
    """``verify`` (``kwargs`` passed on) with a rich progress bar on a terminal (stderr)."""
    from rich.console import Console

    console = Console(stderr=True)
    if not (show and console.is_terminal):
        return verify(ids, config, **kwargs)
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("[bold]verify[/bold] {task.description}"), BarColumn(),
                  TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task("", total=None)

        def progress(result, k, total):
            bar.update(task, description=result.id, completed=k, total=total)

        report = verify(ids, config, progress=progress, **kwargs)
        bar.update(task, completed=len(report))
    return report


def print_summary(report, details: bool = False, width: int | None = None, file=None) -> None:
    """The default output: one line per result (id, title, verdict, checks
    passed/total, time), each failing check in full below its result (every
    check with ``details``), and a closing summary line; laid out for
    ``width`` columns (:func:`output_width`: the terminal, or ``COLUMNS``)."""
    file = file if file is not None else sys.stdout
    width = width or output_width(file)
    id_w = min(max([len(e["id"]) for e in report] + [2]), 28)
    # id, title, verdict, passed/total, time; the title takes what is left
    counts = [f"{sum(c['passed'] for c in e['checks'])}/{len(e['checks'])}" for e in report]
    cnt_w = max([len(c) for c in counts] + [6])
    other = 4 + cnt_w + 7 + 4 * 2              # verdict, passed/total, time, gaps
    id_w = max(min(id_w, width - other - 16), 12)  # narrow: ids give way before titles
    title_w = max(width - other - id_w, 3)
    color = _use_color(file)
    header = "  ".join([fit("id", id_w), fit("title", title_w), "    ", fit("checks", cnt_w, ">"),
                        fit("time", 7, ">")])
    print(header.rstrip(), file=file)
    for e, cnt in zip(report, counts):
        verdict = "pass" if e["verdict"] == "pass" else "FAIL"
        shown = verdict if not color or verdict == "pass" else f"\x1b[1;31m{verdict}\x1b[0m"
        print("  ".join([fit(e["id"], id_w), fit(e["title"], title_w), shown,
                         fit(cnt, cnt_w, ">"), fit(_seconds(e.get("seconds")), 7, ">")]).rstrip(),
              file=file)
        checks = e["checks"] if details else [c for c in e["checks"] if not c["passed"]]
        if not e["checks"]:
            print(wrap("FAIL (no checks ran)", width, indent=4, hang=6), file=file)
        for c in checks:
            print(format_check(c, width), file=file)
    n_fail = sum(e["verdict"] == "fail" for e in report)
    n_checks = sum(len(e["checks"]) for e in report)
    n_failed_checks = sum(not c["passed"] for e in report for c in e["checks"])
    total = sum(float(e.get("seconds") or 0) for e in report)
    print(wrap(f"{len(report) - n_fail} results passed, {n_fail} failed "
               f"({n_checks - n_failed_checks}/{n_checks} checks passed, {_seconds(total)})",
               width), file=file)


def format_check(c: dict, width: int, indent: int = 4) -> str:
    """One check in full, wrapped (never cut) to ``width``: verdict, name,
    parameters, measured, predicted, tolerance and detail."""
    verdict = "pass" if c["passed"] else "FAIL"
    parts = [f"{verdict} {c['name']}"]
    if c.get("params"):
        parts[0] += " [" + ", ".join(f"{k}={_fmt(v)}" for k, v in c["params"].items()) + "]"
    line = parts[0] + f": measured {_fmt(c['measured'])}, predicted {_fmt(c['predicted'])}"
    if c.get("tolerance"):
        line += f" (tolerance: {c['tolerance']})"
    if c.get("detail"):
        line += f". {c['detail']}"
    return wrap(line, width, indent=indent, hang=5)


def print_table(report, console=None) -> None:
    """Every check of every result (``--details``), laid out for the output
    width; kept under its old name for callers of the table."""
    print_summary(report, details=True,
                  width=getattr(console, "width", None) if console is not None else None)


def _use_color(file) -> bool:
    try:
        return file.isatty() and "NO_COLOR" not in os.environ
    except (AttributeError, ValueError):
        return False


def _seconds(s) -> str:
    """A duration in at most 7 columns: ``14.8 s``, ``2m05s``, ``123m45s``."""
    if s in (None, ""):
        return ""
    s = float(s)
    if s < 59.95:
        return f"{s:.1f} s"
    m, sec = divmod(int(round(s)), 60)
    return f"{m}m{sec:02d}s"


def _fmt(x) -> str:
    if isinstance(x, float):
        return f"{x:.6g}"
    if isinstance(x, list) and len(x) > 6:
        return "[" + ", ".join(_fmt(v) for v in x[:6]) + f", ... ({len(x)} values)]"
    if isinstance(x, list):
        return "[" + ", ".join(_fmt(v) for v in x) + "]"
    return str(x)


# --------------------------------------------------------------------------- report

def _numeric(x) -> list[float] | None:
    vals = x if isinstance(x, list) else [x]
    if not vals or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                           for v in vals):
        return None
    return [float(v) for v in vals]


def _figure(entry, path: Path) -> Path | None:
    """Measured against predicted for the numeric checks of one result: each
    check is a point (pass: circle, fail: cross) against the diagonal."""
    pts = []
    for o in entry["checks"]:
        m, p = _numeric(o["measured"]), _numeric(o["predicted"])
        if m is None or p is None or len(m) != len(p):
            continue
        pts.extend((pi, mi, o["passed"], o["name"]) for mi, pi in zip(m, p))
    if not pts:
        return None
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, ax = plt.subplots(figsize=(4.2, 4.0))
    pred = np.array([p[0] for p in pts])
    meas = np.array([p[1] for p in pts])
    ok = np.array([p[2] for p in pts])
    lo = min(pred.min(), meas.min())
    hi = max(pred.max(), meas.max())
    pad = 0.05 * (hi - lo if hi > lo else abs(hi) + 1)
    ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color="0.6", lw=1, label="measured = predicted")
    ax.scatter(pred[ok], meas[ok], marker="o", color="tab:blue", label="pass", zorder=3)
    if (~ok).any():
        ax.scatter(pred[~ok], meas[~ok], marker="x", color="tab:red", s=60, label="fail", zorder=3)
    ax.set_xlabel("predicted")
    ax.set_ylabel("measured")
    ax.set_title(f"{entry['id']}: {entry['verdict']}", fontsize=10)
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_report(report: list[dict], out_dir: Path, config: VerifyConfig) -> Path:
    """Write ``report.md`` (summary table, then per result: statement, checks
    with tolerances, a measured-vs-predicted figure) and ``report.json``."""
    out_dir = Path(out_dir)
    (out_dir / "report.json").write_text(json.dumps(report, indent=1))
    n_fail = sum(e["verdict"] == "fail" for e in report)
    md = ["# gapcheck verify report", "",
          f"Level `{config.level}`, seed `{config.seed}`, backend `{config.backend}`: "
          f"**{len(report) - n_fail} passed, {n_fail} failed**.", "",
          "| id | title | checks | verdict | seconds |", "| --- | --- | --- | --- | --- |"]
    for e in report:
        md.append(f"| [{e['id']}](#{_anchor(e['id'] + ': ' + e['title'])}) | {_md(e['title'])} | {len(e['checks'])} "
                  f"| {'pass' if e['verdict'] == 'pass' else '**FAIL**'} | {e.get('seconds', '')} |")
    try:
        import matplotlib  # noqa: F401
        have_mpl = True
    except ImportError:
        have_mpl = False
        md += ["", "_matplotlib is not installed: no figures (pip install 'gapcheck[plots]')._"]
    for e in report:
        md += ["", f"## {e['id']}: {_md(e['title'])}", "", _md(e["statement"]), "",
               "| check | parameters | measured | predicted | tolerance | verdict |",
               "| --- | --- | --- | --- | --- | --- |"]
        for o in e["checks"]:
            params = ", ".join(f"{k}={v}" for k, v in o["params"].items())
            md.append(f"| {_md(o['name'])} | {_md(params)} | {_md(_fmt(o['measured']))} "
                      f"| {_md(_fmt(o['predicted']))} | {_md(o['tolerance'])} "
                      f"| {'pass' if o['passed'] else '**FAIL**'} |")
        details = [o for o in e["checks"] if o.get("detail")]
        if details:
            md.append("")
            md.extend(f"- *{_md(o['name'])}*: {_md(o['detail'])}" for o in details)
        if have_mpl:
            fig = _figure(e, out_dir / f"{e['id'].replace('.', '_')}.png")
            if fig is not None:
                md += ["", f"![{e['id']}: measured against predicted]({fig.name})"]
    path = out_dir / "report.md"
    path.write_text("\n".join(md) + "\n")
    return path


def _anchor(heading: str) -> str:
    """GitHub's anchor of a Markdown heading."""
    import re
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _md(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")
