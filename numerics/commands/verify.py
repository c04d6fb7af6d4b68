"""``gapcheck verify [IDS...]``: run the checks, print a table (or ``--json``),
exit 1 when any check fails."""
from __future__ import annotations

import json

from theory.registry import all_results, get

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
    return v


def verify(ids, config: VerifyConfig) -> list[dict]:
    """Run the checks of ``ids`` (all when empty); one report entry per result."""
    results = [get(i) for i in ids] if ids else all_results()  # unknown ids fail first
    if not results:
        raise ValueError("no results are registered")
    report = []
    for r in results:
        outcomes = run_result(r.id, config)
        verdict = "pass" if outcomes and all(o.passed for o in outcomes) else "fail"
        report.append({"id": r.id, "title": r.title, "statement": r.statement,
                       "verdict": verdict, "checks": [o.to_json() for o in outcomes]})
    return report


def run(args) -> int:
    config = VerifyConfig(level=args.level, seed=args.seed, backend=args.backend)
    report = verify(args.ids, config)
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        print_table(report)
    return 0 if all(e["verdict"] == "pass" for e in report) else 1


def print_table(report) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="gapcheck verify")
    for col in ("id", "claim", "check", "parameters", "measured", "predicted", "verdict"):
        table.add_column(col, overflow="fold")
    for e in report:
        rows = e["checks"] or [{"name": "(no checks)", "params": {}, "measured": "",
                                "predicted": "", "passed": False}]
        for o in rows:
            params = ", ".join(f"{k}={v}" for k, v in o["params"].items())
            table.add_row(e["id"], e["statement"], o["name"], params, _fmt(o["measured"]),
                          _fmt(o["predicted"]), "pass" if o["passed"] else "[red]FAIL[/red]")
    Console().print(table)
    n_fail = sum(e["verdict"] == "fail" for e in report)
    print(f"{len(report) - n_fail} results passed, {n_fail} failed")


def _fmt(x) -> str:
    return f"{x:.6g}" if isinstance(x, float) else str(x)
