"""``gapcheck latex [IDS...]``: LaTeX of each result's statement and derived
formulas, symbolic or specialised (``--depth``, ``--gamma``); ``--standalone``
writes a complete document; ``--pdf`` also compiles it.

A result whose formulas cannot be derived is written with a note saying why,
a warning goes to standard error, and the exit code is 1."""
from __future__ import annotations

import sys
from pathlib import Path

from ...theory.registry import all_results, get

from .. import latex as _latex


def add_parser(sub):
    p = sub.add_parser("latex", help="LaTeX of the results' statements and derived formulas")
    p.add_argument("ids", nargs="*", help="result ids (default: all)")
    p.add_argument("--depth", metavar="L", help="specialise the formulas to depth L (integer >= 1)")
    p.add_argument("--gamma", metavar="G", help="specialise to gamma = n/d in (0, 1] (e.g. 1/2)")
    p.add_argument("--out", metavar="FILE", help="write to FILE instead of standard output")
    p.add_argument("--standalone", action="store_true",
                   help="a complete document (article with amsmath) instead of a fragment")
    p.add_argument("--pdf", action="store_true",
                   help="also compile the standalone document next to --out (needs pdflatex "
                        "or tectonic)")
    p.set_defaults(func=run)
    return p


def run(args) -> int:
    if args.pdf and not args.out:
        raise ValueError("--pdf needs --out FILE.tex (the PDF is written next to it)")
    out = Path(args.out) if args.out else None
    if out is not None:
        if out.is_dir():
            raise OSError(f"--out {out} is a directory; give a file name such as {out}/results.tex")
        if not out.parent.is_dir():
            raise OSError(f"cannot write --out {out}: folder {out.parent} does not exist")
    results = [get(i) for i in args.ids] if args.ids else all_results()
    _latex.specialise(results[0], args.depth, args.gamma) if results else None  # fail fast
    failed = []

    def warn(message):
        failed.append(message)
        print(f"gapcheck: warning: {message}", file=sys.stderr)

    text = _latex.document(results, depth=args.depth, gamma=args.gamma,
                           standalone=args.standalone or args.pdf, on_error=warn)
    if out is not None:
        try:
            out.write_text(text)
        except OSError as exc:
            raise OSError(f"cannot write --out {out}: {exc.strerror or exc}") from None
        print(f"wrote {out}", file=sys.stderr)
        if args.pdf:
            pdf = _latex.compile_pdf(out, out.parent)
            print(f"wrote {pdf}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 1 if failed else 0
