"""Helpers shared by the notebooks of this folder (not a notebook itself):
show a registered statement, record verdicts with explicit tolerances, and
read the notebook size from ``GAPCHECK_NOTEBOOK_SIZE``."""
from __future__ import annotations

import importlib
import os

from IPython.display import Markdown, Math, display

from gapcheck.numerics.stats import mean_se, within
from gapcheck.theory.registry import Result

SIZE = os.environ.get("GAPCHECK_NOTEBOOK_SIZE", "full")
if SIZE not in ("small", "full"):
    raise ValueError(f"GAPCHECK_NOTEBOOK_SIZE must be 'small' or 'full' (got {SIZE!r})")


def pick(small, full):
    """The value for this notebook size."""
    return small if SIZE == "small" else full


def show(rid: str) -> None:
    """Display the registered statement of a paper result (``theory.results.<id>``)."""
    try:
        mod = importlib.import_module("gapcheck.theory.results." + rid.replace(".", "_"))
    except ModuleNotFoundError:
        display(Markdown(f"*{rid}: not registered in this checkout.*"))
        return
    r = next(v for v in vars(mod).values() if isinstance(v, Result) and v.id == rid)
    display(Markdown(f"**{r.id}: {r.title}.** {r.statement}"), Math(r.statement_latex))


class Verdicts:
    """Checks of one notebook: ``check`` a Monte Carlo mean against a
    prediction (z standard errors from the samples, plus a stated finite-n
    bias budget), ``reject`` a perturbed prediction (negative control),
    ``table()`` to display them and assert that all passed."""

    def __init__(self):
        self.rows = []

    def check(self, name, samples, predicted, bias=0.0, z=4.0) -> bool:
        m, se = mean_se(samples)
        ok = within(m, predicted, se, z=z, bias=bias)
        self.rows.append((name, float(m), float(predicted), f"{z:g} SE + {bias:.3g}", ok))
        return ok

    def record(self, name, measured, predicted, tolerance, ok) -> bool:
        self.rows.append((name, float(measured), float(predicted), tolerance, bool(ok)))
        return bool(ok)

    def reject(self, name, samples, wrong, bias=0.0, z=4.0) -> bool:
        """Negative control: the perturbed prediction ``wrong`` must fail."""
        m, se = mean_se(samples)
        ok = not within(m, wrong, se, z=z, bias=bias)
        self.rows.append((f"(control) rejects {name}", float(m), float(wrong),
                          f"{z:g} SE + {bias:.3g}", ok))
        return ok

    def table(self) -> None:
        display(Markdown(
            "| check | measured | predicted | tolerance | verdict |\n|---|---|---|---|---|\n"
            + "\n".join(f"| {n} | {m:.4g} | {p:.4g} | {t} | {'pass' if ok else '**FAIL**'} |"
                        for n, m, p, t, ok in self.rows)))
        failed = [r for r in self.rows if not r[-1]]
        assert not failed, f"failed checks: {failed}"
