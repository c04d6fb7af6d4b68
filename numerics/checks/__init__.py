"""Empirical checks of the registered results.

One module per result id (``numerics.checks.prop3`` for ``prop3``; dots in
companion ids become underscores: ``gg.freezing`` -> ``numerics.checks.gg_freezing``).
Each module defines

``run(config: VerifyConfig, predict=None) -> list[CheckOutcome]``
    samples, measures, and compares with the prediction.  ``predict`` replaces
    the module's prediction function (same signature): this is how negative
    controls feed a perturbed prediction through the very same check.
``NEGATIVE_CONTROLS: dict[str, Callable]``
    perturbed predictions (``"exponent+0.25"``, ``"l->l+1"``, ...) that
    ``run`` must reject (at least one outcome with ``passed=False``).

:func:`run_result` runs a result's symbolic checks and its empirical check.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass

from ...theory._validate import integer, one_of
from ...theory.registry import CheckOutcome, Result, get

__all__ = ["VerifyConfig", "run_result", "check_module", "perturbed"]

LEVELS = ("quick", "default", "thorough")


@dataclass(frozen=True)
class VerifyConfig:
    """How hard a check works.

    ``level``: ``"quick"`` (seconds, smallest grids), ``"default"`` (what CI
    and ``gapcheck verify`` run), ``"thorough"`` (larger n, more samples).
    ``seed``: root seed; every check derives its streams from it, so a
    failure replays exactly. ``backend``: ``"numpy"`` or ``"cupy"``.
    """

    level: str = "default"
    seed: int = 20241010
    backend: str = "numpy"

    def __post_init__(self):
        one_of("level", self.level, LEVELS)
        integer("seed", self.seed, minimum=0)

    def pick(self, quick, default, thorough):
        """The value for this level."""
        return {"quick": quick, "default": default, "thorough": thorough}[self.level]


def perturbed(predict, change):
    """A negative control built on ``predict``: called with ``predict``'s
    positional arguments, it returns ``change(*args, predict(*args))``.

    >>> wrong = perturbed(lambda l: {"mean": 1.0, "variance": 2.0 * l},
    ...                   lambda l, p: {**p, "variance": p["variance"] * (l + 1) / l})
    >>> wrong(2)
    {'mean': 1.0, 'variance': 6.0}
    """
    def control(*args):
        return change(*args, predict(*args))
    return control


def check_module(result: Result):
    """The imported empirical-check module of ``result`` (or ``None``)."""
    if result.empirical_check is None:
        return None
    return importlib.import_module(result.empirical_check)


def run_result(result_id: str, config: VerifyConfig | None = None) -> list[CheckOutcome]:
    """All checks (symbolic, then empirical) of one result."""
    config = config or VerifyConfig()
    result = get(result_id)
    outcomes: list[CheckOutcome] = []
    if result.symbolic_checks is not None:
        outcomes.extend(result.symbolic_checks())
    mod = check_module(result)
    if mod is not None:
        outcomes.extend(mod.run(config))
    return outcomes
