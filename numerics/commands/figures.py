"""``gapcheck figures [--out DIR] [--only NAME...]``: write every registered
figure (the paper's, then the companions') as PNG and PDF.

``gapcheck figures --paper``: every figure of the paper about initialisation,
named by the paper's number (``fig1.png`` ...), each with its caption
(``figN.md``) and the index ``CAPTIONS.md``
(:mod:`numerics.figures.paper_figures`)."""
from __future__ import annotations

import sys
import time
from pathlib import Path

from ..checks import VerifyConfig
from ..figures import all_figures
from ._text import writable_dir


def add_parser(sub):
    p = sub.add_parser("figures", help="reproduce the paper's figures as PNG and PDF")
    p.add_argument("--out", metavar="DIR", default="figures",
                   help="output folder (default: ./figures)")
    p.add_argument("--only", nargs="+", metavar="NAME", help="only these figures")
    p.add_argument("--list", action="store_true", help="list the figure names and exit")
    p.add_argument("--paper", action="store_true",
                   help="the paper's figures about initialisation, by the paper's number "
                        "(fig1 ...), measured, predicted and under both conventions, with "
                        "captions (figN.md, CAPTIONS.md); --only takes fig1, fig2, ...")
    lvl = p.add_mutually_exclusive_group()
    lvl.add_argument("--quick", dest="level", action="store_const", const="quick",
                     help="small n and few samples (seconds)")
    lvl.add_argument("--thorough", dest="level", action="store_const", const="thorough",
                     help="larger n and more samples")
    p.add_argument("--seed", type=int, default=VerifyConfig.seed, help="root seed")
    p.add_argument("--backend", default="numpy", choices=("numpy", "cupy"))
    p.set_defaults(level="default", func=run)
    return p


def _import_figure_modules() -> None:
    """Import every module of :mod:`numerics.figures` (``paper``, ``companions*``), so
    that figure modules not listed in ``FIGURE_MODULES`` register too."""
    import importlib
    import pkgutil

    from .. import figures as pkg

    for info in pkgutil.iter_modules(pkg.__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{pkg.__name__}.{info.name}")


def select(names=None) -> dict:
    """The registered figures, restricted to ``names`` (``ValueError`` for an unknown one)."""
    all_figures()  # FIGURE_MODULES first: the paper's figures come first
    _import_figure_modules()
    figs = all_figures()
    if not figs:
        raise ImportError("no figure is registered (is matplotlib installed? "
                          "pip install 'gapcheck[plots]')")
    if not names:
        return figs
    unknown = [n for n in names if n not in figs]
    if unknown:
        raise ValueError(f"unknown figure {unknown[0]!r}; known figures: {', '.join(figs)}")
    return {n: figs[n] for n in names}


def _check_writable(out_dir) -> Path:
    """``out_dir``, created; an ``OSError`` naming it when it cannot be written."""
    return writable_dir(out_dir, "figures")


def write_figures(out_dir, config: VerifyConfig, names=None, log=None) -> list[Path]:
    """Run the selected figure functions into ``out_dir``; the files written."""
    figs = select(names)
    try:
        import matplotlib
    except ImportError:
        raise ImportError("gapcheck figures needs matplotlib: pip install 'gapcheck[plots]'") \
            from None
    matplotlib.use("Agg")
    out = _check_writable(out_dir)
    written = []
    for name, fn in figs.items():
        t0 = time.perf_counter()
        files = [Path(f) for f in fn(out, config)]
        written.extend(files)
        if log is not None:
            log(f"{name}: {', '.join(f.name for f in files)} ({time.perf_counter() - t0:.1f} s)")
    return written


def _run_paper(args) -> int:
    from ..figures.paper_figures import NOT_REGENERATED, PAPER_FIGURES, write_paper_figures

    if args.list:
        for key, f in PAPER_FIGURES.items():
            print(f"{key:6s} Figure {f.number}: {f.title}")
        for key, why in NOT_REGENERATED.items():
            print(f"{key:6s} not regenerated: {why}")
        return 0
    if args.only:
        unknown = [k for k in args.only if k not in PAPER_FIGURES]
        if unknown:
            raise ValueError(f"unknown paper figure {unknown[0]!r}; known: "
                             f"{', '.join(PAPER_FIGURES)}")
    _check_writable(args.out)
    config = VerifyConfig(level=args.level, seed=args.seed, backend=args.backend)
    files = write_paper_figures(args.out, config, args.only,
                                log=lambda line: print(line, file=sys.stderr))
    print(f"wrote {len(files)} files to {args.out} (captions: "
          f"{Path(args.out) / 'CAPTIONS.md'})", file=sys.stderr)
    return 0


def run(args) -> int:
    if args.paper:
        return _run_paper(args)
    if args.list:
        for name, fn in select().items():
            doc = (fn.__doc__ or "").strip().splitlines()
            print(f"{name:28s} {doc[0] if doc else ''}")
        return 0
    config = VerifyConfig(level=args.level, seed=args.seed, backend=args.backend)
    files = write_figures(args.out, config, args.only,
                          log=lambda line: print(line, file=sys.stderr))
    print(f"wrote {len(files)} files to {args.out}", file=sys.stderr)
    return 0
