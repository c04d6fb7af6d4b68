"""``gapcheck report --out report.pdf [IDS...]``: the verification report, a
PDF compiled with the LaTeX engine found on PATH (latexmk/pdflatex, or
tectonic): for each result its statement, assumptions, derived formulas, the
checks (run as ``gapcheck verify`` runs them, at ``--level``, ``quick`` by
default, which the report states), its figure and findings; a first section
lists every finding.  ``--tex`` keeps the LaTeX source (and its figures) next
to the PDF; ``--no-figures`` leaves the figures out.

Exit codes: 0 when every check passes, 1 when some check fails (the report is
written all the same), 2 with one line on bad input (an unknown id, an
unwritable ``--out``, no LaTeX engine).
"""
from __future__ import annotations

import sys
from pathlib import Path

from ...theory.registry import all_results

from ..checks import LEVELS, VerifyConfig


def add_parser(sub):
    p = sub.add_parser("report", help="compile the verification report (LaTeX -> PDF)")
    p.add_argument("ids", nargs="*", help="result ids or families such as gg (default: all)")
    p.add_argument("--out", metavar="FILE.pdf", default="report.pdf",
                   help="the PDF to write (default: report.pdf)")
    p.add_argument("--level", choices=LEVELS, default="quick",
                   help="how hard the checks work (default: quick, stated in the report)")
    p.add_argument("--seed", type=int, default=VerifyConfig.seed, help="root seed")
    p.add_argument("--backend", default="numpy", choices=("numpy", "cupy"))
    p.add_argument("--tex", action="store_true",
                   help="keep the LaTeX source (FILE.tex, figures in FILE-figures/) next to the PDF")
    p.add_argument("--no-figures", dest="figures", action="store_false",
                   help="leave the figures out (faster)")
    p.set_defaults(func=run)
    return p


def _check_out(out: Path) -> Path:
    """``out`` as a writable PDF path, checked before any work is done."""
    if out.is_dir():
        raise OSError(f"--out {out} is a directory; give a file name such as {out}/report.pdf")
    if out.suffix.lower() != ".pdf":
        raise ValueError(f"--out must name a .pdf file (got {out})")
    if not out.parent.is_dir():
        raise OSError(f"cannot write --out {out}: folder {out.parent} does not exist")
    existed = out.exists()
    try:
        with open(out, "ab"):
            pass
    except OSError as exc:
        raise OSError(f"cannot write --out {out}: {exc.strerror or exc}") from None
    if not existed:
        out.unlink()
    return out


def run_checks(results, config, log=None) -> list[dict]:
    """The entries of :func:`numerics.commands.verify.verify` (outcome records
    kept), one result at a time: a result whose checks raise is reported as
    failed with the error, and the others still run (one broken check module
    does not lose a long report)."""
    import time

    from ...theory.registry import CheckOutcome
    from .verify import verify

    entries = []
    for k, r in enumerate(results, 1):
        t0 = time.perf_counter()
        try:
            entry, = verify([r.id], config, keep_outcomes=True)
        except Exception as exc:  # reported in the document and on stderr
            error = CheckOutcome("the checks ran", {}, measured=f"{type(exc).__name__}: {exc}",
                                 predicted="no error", passed=False,
                                 detail="the check raised; see gapcheck verify --debug")
            entry = {"id": r.id, "title": r.title, "statement": r.statement, "verdict": "fail",
                     "seconds": round(time.perf_counter() - t0, 3),
                     "checks": [error.to_json()], "outcomes": [error]}
        entries.append(entry)
        if log is not None:
            passed = sum(c["passed"] for c in entry["checks"])
            log(f"[{k}/{len(results)}] {r.id}: {entry['verdict']} "
                f"({passed}/{len(entry['checks'])} checks, {entry['seconds']:.1f} s)")
    return entries


def run(args) -> int:
    from .. import latex as _latex
    from .. import report as _report

    from .verify import expand

    results = ([r for i in args.ids for r in expand(i)] if args.ids   # unknown ids: exit 2
               else all_results())
    results = list({r.id: r for r in results}.values())    # each result once (one label each)
    out = _check_out(Path(args.out))   # the path first: it is named whatever the machine has
    if _latex.find_engine() is None:
        raise OSError("no LaTeX engine found on PATH (install pdflatex with "
                      ".ci/install-latex.sh, or tectonic)")
    config = VerifyConfig(level=args.level, seed=args.seed, backend=args.backend)

    def say(line):
        print(line, file=sys.stderr)

    entries = run_checks(results, config, log=say)

    info = _report.build(results, entries, out, config, figures=args.figures,
                         keep_tex=args.tex, log=say)
    for w in info["warnings"]:
        say(f"gapcheck: warning: {w}")
    for p in info["problems"]:
        say(f"gapcheck: warning: LaTeX: {p}")
    if "tex" in info:
        say(f"wrote {info['tex']}")
    say(f"wrote {info['pdf']} (log: {info['log']})")
    failed = [e["id"] for e in entries if e["verdict"] != "pass"]
    if failed:
        say(f"checks failed for {', '.join(failed)} (see the report)")
    return 1 if failed or info["warnings"] else 0
