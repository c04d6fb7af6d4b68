"""``gapcheck list``: every result, one line each (id, kind, title, source),
laid out for the terminal's width or ``COLUMNS``; ``--details`` adds the
statement, the assumptions and the findings in full, ``--json`` gives a
machine-readable array, ``--ids`` the ids alone.

The fields come from :func:`theory.listing.listed`: a generated index kept
equal to the registry, so listing imports neither sympy nor the results'
modules (the registry itself is asked when the index is stale)."""
from __future__ import annotations

import json
import sys

from ...theory.listing import listed
from ._text import fit, output_width, wrap


def add_parser(sub):
    p = sub.add_parser("list", help="every result id with its title and source")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="one JSON array")
    fmt.add_argument("--ids", action="store_true", help="the ids only, one per line")
    fmt.add_argument("--details", action="store_true",
                     help="also the statement, the assumptions and the findings of each result, "
                          "in full")
    p.set_defaults(func=run)
    return p


def run(args) -> int:
    results = listed()
    if getattr(args, "json", False):
        print(json.dumps([r.to_json() for r in results], indent=1))
        return 0
    if getattr(args, "ids", False):
        for r in results:
            print(r.id)
        return 0
    print_list(results, details=getattr(args, "details", False))
    return 0


def print_list(results, details: bool = False, width: int | None = None, file=None) -> None:
    """One line per result: id, kind, title and source, shortened to fit
    ``width``; with ``details`` the source, statement and assumptions follow
    and the findings in full, wrapped."""
    file = file if file is not None else sys.stdout
    width = width or output_width(file)
    id_w = min(max([len(r.id) for r in results] + [2]), 28)
    kind_w = max([len(r.kind) for r in results] + [4])
    rest = width - id_w - kind_w - 4
    # the source gets a column only when there is room for it to say something
    longest = max([len(r.title) for r in results] + [5])
    title_w = rest if details or rest < 70 else min(longest, rest * 2 // 3)
    title_w = max(title_w, 8)
    source_w = rest - title_w - 2
    for r in results:
        cells = [fit(r.id, id_w), fit(r.kind, kind_w), fit(r.title, title_w)]
        if source_w >= 8:
            cells.append(fit(r.source, source_w))
        print("  ".join(cells).rstrip(), file=file)
        if details:
            print(wrap(f"source: {r.source}", width, indent=4, hang=4), file=file)
            print(wrap(f"statement: {r.statement}", width, indent=4, hang=4), file=file)
            for a in r.assumptions:
                print(wrap(f"- {a}", width, indent=4, hang=2), file=file)
            for f in r.findings:
                print(wrap(f"finding: {f}", width, indent=4, hang=4), file=file)
