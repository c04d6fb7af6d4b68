"""``gapcheck list``: every result id with its title, source and assumptions."""
from __future__ import annotations

from theory.registry import all_results


def add_parser(sub):
    p = sub.add_parser("list", help="every result id with its title and assumptions")
    p.set_defaults(func=run)
    return p


def run(args) -> int:
    for r in all_results():
        print(f"{r.id:16s} {r.title}  [{r.kind}; {r.source}]")
        for a in r.assumptions:
            print(f"{'':16s}   - {a}")
    return 0
