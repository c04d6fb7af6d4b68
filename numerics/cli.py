"""The ``gapcheck`` command line.

``gapcheck list`` lists the registered results; ``gapcheck verify [IDS...]``
runs their checks and prints a table (``--json`` for one JSON array), exiting
non-zero when any check fails.  Errors are one readable line (``--debug`` for
the traceback).
"""
from __future__ import annotations

import argparse
import json
import sys

from theory.registry import all_results, get

from .checks import VerifyConfig, run_result


class CLIError(Exception):
    """An error reported to the user as one line."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gapcheck", description=__doc__.split("\n\n")[0])
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = p.add_subparsers(dest="command", required=True)

    sub.add_parser("list", help="every result id with its title and assumptions")

    v = sub.add_parser("verify", help="run the checks of the given results (default: all)")
    v.add_argument("ids", nargs="*", help="result ids (default: all)")
    lvl = v.add_mutually_exclusive_group()
    lvl.add_argument("--quick", dest="level", action="store_const", const="quick")
    lvl.add_argument("--thorough", dest="level", action="store_const", const="thorough")
    v.set_defaults(level="default")
    v.add_argument("--seed", type=int, default=VerifyConfig.seed)
    v.add_argument("--backend", default="numpy", choices=("numpy", "cupy"))
    v.add_argument("--json", action="store_true", help="print one JSON array")
    return p


def _cmd_list(args) -> int:
    for r in all_results():
        print(f"{r.id:12s} {r.title}  [{r.source}]")
        for a in r.assumptions:
            print(f"{'':12s}   - {a}")
    return 0


def _cmd_verify(args) -> int:
    ids = args.ids or [r.id for r in all_results()]
    results = [get(i) for i in ids]  # unknown ids fail before any work
    config = VerifyConfig(level=args.level, seed=args.seed, backend=args.backend)
    report = []
    for r in results:
        outcomes = run_result(r.id, config)
        verdict = "pass" if outcomes and all(o.passed for o in outcomes) else "fail"
        report.append({"id": r.id, "title": r.title, "statement": r.statement,
                       "verdict": verdict, "checks": [o.to_json() for o in outcomes]})
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        _print_table(report)
    return 0 if all(e["verdict"] == "pass" for e in report) else 1


def _print_table(report) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="gapcheck verify")
    for col in ("id", "claim", "check", "parameters", "measured", "predicted", "verdict"):
        table.add_column(col, overflow="fold")
    for e in report:
        for o in e["checks"] or [{"name": "(no checks)", "params": {}, "measured": "",
                                   "predicted": "", "passed": False}]:
            params = ", ".join(f"{k}={v}" for k, v in o["params"].items())
            table.add_row(e["id"], e["title"], o["name"], params, _fmt(o["measured"]),
                          _fmt(o["predicted"]), "pass" if o["passed"] else "[red]FAIL[/red]")
    Console().print(table)
    n_fail = sum(e["verdict"] == "fail" for e in report)
    print(f"{len(report) - n_fail} results passed, {n_fail} failed")


def _fmt(x) -> str:
    return f"{x:.6g}" if isinstance(x, float) else str(x)


COMMANDS = {"list": _cmd_list, "verify": _cmd_verify}


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (ValueError, ImportError, OSError, CLIError) as exc:
        if args.debug:
            raise
        print(f"gapcheck: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
