"""Figures of ``gapcheck figures``: a registry name -> function.

A figure function has the signature ``fn(out_dir: pathlib.Path, config:
VerifyConfig) -> list[pathlib.Path]`` (the files it wrote, PNG and PDF) and is
registered with :func:`figure`. Modules listed in ``FIGURE_MODULES`` are
imported to fill the registry. matplotlib is imported inside the functions
(it is the ``plots`` extra), with the Agg backend.
"""
from __future__ import annotations

import importlib
from pathlib import Path
from typing import Callable

FIGURE_MODULES = ["gapcheck.numerics.figures.paper", "gapcheck.numerics.figures.companions",
                  "gapcheck.numerics.figures.companions_products",
                  "gapcheck.numerics.figures.key_query_bulk"]
_FIGURES: dict[str, Callable] = {}


def pyplot():
    """``matplotlib.pyplot`` on the non-interactive Agg backend."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def save(fig, out_dir, name: str, *, tight: bool = False) -> list[Path]:
    """Write ``out_dir/name.png`` (120 dpi) and ``out_dir/name.pdf``, close the
    figure, and return the two paths (``tight``: apply ``tight_layout`` first)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / f"{name}.png", out_dir / f"{name}.pdf"]
    if tight:
        fig.tight_layout()
    fig.savefig(paths[0], dpi=120)
    fig.savefig(paths[1])
    pyplot().close(fig)
    return paths


def figure(name: str):
    """Decorator registering a figure function under ``name``."""
    def deco(fn):
        if name in _FIGURES:
            raise ValueError(f"figure {name!r} is registered twice")
        _FIGURES[name] = fn
        return fn
    return deco


def all_figures() -> dict[str, Callable]:
    for mod in FIGURE_MODULES:
        try:
            importlib.import_module(mod)
        except ModuleNotFoundError as exc:
            if exc.name != mod:
                raise
    return dict(_FIGURES)
