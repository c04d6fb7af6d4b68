"""``gapcheck list``: every result id with its title, source and assumptions
(``--json`` for a machine-readable array; ``--ids`` for the ids alone)."""
from __future__ import annotations

import json

from ...theory.registry import all_results


def add_parser(sub):
    p = sub.add_parser("list", help="every result id with its title and assumptions")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="one JSON array")
    fmt.add_argument("--ids", action="store_true", help="the ids only, one per line")
    p.set_defaults(func=run)
    return p


def run(args) -> int:
    results = all_results()
    if getattr(args, "json", False):
        print(json.dumps([{"id": r.id, "title": r.title, "kind": r.kind, "source": r.source,
                           "statement": r.statement, "assumptions": list(r.assumptions),
                           "empirical_check": r.empirical_check} for r in results], indent=1))
        return 0
    for r in results:
        if getattr(args, "ids", False):
            print(r.id)
            continue
        print(f"{r.id:16s} {r.title}  [{r.kind}; {r.source}]")
        for a in r.assumptions:
            print(f"{'':16s}   - {a}")
    return 0
