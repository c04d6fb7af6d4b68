"""``gapcheck verify [IDS...]``: run the checks, print a table (or ``--json``),
write a report with figures (``--report DIR``), exit 1 when any check fails.

``verify(ids, config)`` is the same from Python: one entry per result, each a
dict with ``id``, ``title``, ``statement``, ``verdict`` (``"pass"`` or
``"fail"``), ``seconds`` and ``checks`` (the outcomes as JSON).
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from ...theory.registry import all_results, get

from ..checks import VerifyConfig, run_result


def add_parser(sub):
    v = sub.add_parser("verify", help="run the checks of the given results (default: all)")
    v.add_argument("ids", nargs="*", help="result ids (default: all)")
    lvl = v.add_mutually_exclusive_group()
    lvl.add_argument("--quick", dest="level", action="store_const", const="quick",
                     help="smallest grids (seconds)")
    lvl.add_argument("--thorough", dest="level", action="store_const", const="thorough",
                     help="larger n and more samples")
    v.set_defaults(level="default", func=run)
    v.add_argument("--seed", type=int, default=VerifyConfig.seed, help="root seed")
    v.add_argument("--backend", default="numpy", choices=("numpy", "cupy"))
    v.add_argument("--json", action="store_true", help="print one JSON array")
    v.add_argument("--report", metavar="DIR",
                   help="also write DIR/report.md (+ report.json and one figure per result)")
    return v


def verify(ids, config: VerifyConfig, progress=None) -> list[dict]:
    """Run the checks of ``ids`` (all when empty); one report entry per result.

    ``progress(result, index, total)`` is called before each result (the CLI
    uses it for its progress bar).
    """
    results = [get(i) for i in ids] if ids else all_results()  # unknown ids fail first
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
    return report


def run(args) -> int:
    config = VerifyConfig(level=args.level, seed=args.seed, backend=args.backend)
    report_dir = _prepare_dir(args.report) if args.report else None
    report = _verify_with_progress(args.ids, config, show=not args.json)
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        print_table(report)
    if report_dir is not None:
        path = write_report(report, report_dir, config)
        print(f"wrote {path}", file=sys.stderr)
    return 0 if all(e["verdict"] == "pass" for e in report) else 1


def _prepare_dir(path) -> Path:
    out = Path(path)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".gapcheck-write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise OSError(f"cannot write the report to {out}: {exc.strerror or exc}") from None
    return out


def _verify_with_progress(ids, config, show: bool) -> list[dict]:
    """``verify`` with a rich progress bar on a terminal (stderr)."""
    from rich.console import Console

    console = Console(stderr=True)
    if not (show and console.is_terminal):
        return verify(ids, config)
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("[bold]verify[/bold] {task.description}"), BarColumn(),
                  TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task("", total=None)

        def progress(result, k, total):
            bar.update(task, description=result.id, completed=k, total=total)

        report = verify(ids, config, progress=progress)
        bar.update(task, completed=len(report))
    return report


def print_table(report, console=None) -> None:
    """One block of rows per result: the statement in words on its first row,
    then one row per check (parameters, measured, predicted, verdict)."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console(width=None if sys.stdout.isatty() else 160)
    table = Table(title="gapcheck verify", show_lines=False)
    table.add_column("id", no_wrap=True)
    table.add_column("claim (in words)", ratio=3, overflow="fold")
    table.add_column("check", ratio=2, overflow="fold")
    table.add_column("parameters", ratio=2, overflow="fold")
    table.add_column("measured", ratio=1, overflow="fold")
    table.add_column("predicted", ratio=1, overflow="fold")
    table.add_column("verdict", no_wrap=True)
    for e in report:
        rows = e["checks"] or [{"name": "(no checks)", "params": {}, "measured": "",
                                "predicted": "", "passed": False}]
        for i, o in enumerate(rows):
            params = ", ".join(f"{k}={v}" for k, v in o["params"].items())
            table.add_row(e["id"] if i == 0 else "", e["statement"] if i == 0 else "",
                          o["name"], params, _fmt(o["measured"]), _fmt(o["predicted"]),
                          "pass" if o["passed"] else "[red]FAIL[/red]",
                          end_section=i == len(rows) - 1)
    console.print(table)
    n_fail = sum(e["verdict"] == "fail" for e in report)
    print(f"{len(report) - n_fail} results passed, {n_fail} failed")


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
