"""The registry of checked results.

Each result of the paper (and of the companion works) is one :class:`Result`:
an id (``prop3``, ``gg.freezing``, ...), a title, its assumptions, its
statement in words and in LaTeX, ``predict(model)`` (the typed prediction for a
description, derived by the machinery of :mod:`theory`, as sympy expressions
or numbers), exact symbolic checks, and the name of the module in
:mod:`numerics.checks` holding its empirical check.

``theory`` never imports ``numerics``: the empirical check is referenced by its
module path (a string), and run by :func:`numerics.checks.run_result`.

Checks of either kind return :class:`CheckOutcome` records, which the test
suite asserts on and ``gapcheck verify`` prints.

>>> o = CheckOutcome("demo", {"n": 4}, measured=1.0, predicted=1.0, passed=True)
>>> o.to_json()["passed"]
True
"""
from __future__ import annotations

import importlib
import math
import numbers
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import sympy


__all__ = ["CheckOutcome", "Result", "register", "get", "all_results", "RESULT_MODULES"]

#: modules whose import registers results (paper first, then companions)
RESULT_MODULES: list[str] = ["gapcheck.theory.results", "gapcheck.theory.companions"]


def _jsonable(value):
    if isinstance(value, (bool, str)) or value is None:
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        x = float(value)
        return x if math.isfinite(x) else str(x)
    if isinstance(value, sympy.Basic):
        if value.is_number:
            try:
                return _jsonable(float(value)) if not value.is_Integer else int(value)
            except TypeError:
                return str(value)
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "tolist"):
        return _jsonable(value.tolist())
    return str(value)


@dataclass(frozen=True)
class CheckOutcome:
    """One comparison of a measured (or derived) value with a prediction.

    ``tolerance`` says in words how the acceptance band follows from an error
    scale (e.g. ``"4 SE, SE from 2000 samples"`` or ``"exact"``).
    """

    name: str
    params: Mapping[str, Any]
    measured: Any
    predicted: Any
    passed: bool
    tolerance: str = ""
    detail: str = ""
    #: the fields of the :class:`~theory.prediction.Prediction` this outcome
    #: compares with a measurement (a negative control named for a field must
    #: fail an outcome that judges it)
    judges: tuple[str, ...] = ()

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "params": _jsonable(dict(self.params)),
            "measured": _jsonable(self.measured),
            "predicted": _jsonable(self.predicted),
            "passed": bool(self.passed),
            "tolerance": self.tolerance,
            "detail": self.detail,
            "judges": list(self.judges),
        }


@dataclass(frozen=True)
class Result:
    """A checked statement.

    Attributes
    ----------
    id, title:
        ``"prop3"``, ``"Rank collapse in width"``.
    kind:
        ``"definition"``, ``"proposition"``, ``"lemma"``, ``"theorem"`` or
        ``"companion"``.
    source:
        Where the statement comes from: ``"Mind the Gap (arXiv 2410.07799 v1)"``,
        a companion work with its confidence grade, or
        ``"gapcheck's own claim (grade D)"``.
    statement:
        The claim in words, one or two sentences.
    assumptions:
        Parameter ranges and limits, in words.
    statement_latex:
        The claim in LaTeX (math mode content, no surrounding ``$``).
    symbolic_checks:
        ``symbolic_checks()`` returns exact checks (derivation vs closed form).
    empirical_check:
        Module path in :mod:`numerics.checks` with ``run(config, predict=None)``
        and ``NEGATIVE_CONTROLS``; ``None`` for purely symbolic results.
    findings:
        Where simulation departs from or goes beyond the paper, in words.
    predict:
        ``predict(model) -> Prediction``: what the statement predicts for one
        description (:class:`~theory.model.AttentionModel`, or the
        description type ``model_type`` of a result about another network).
        Symbolic fields give the symbolic prediction; numeric fields numbers
        (:mod:`theory.prediction`).
    applies:
        ``applies(model) -> None | str``: ``None`` when the statement covers
        the model, else the reason it does not (an assumption violated, a
        regime outside the statement).
    example:
        ``example() -> model``: a numeric model inside the statement at which
        the scales and ratios differ from 1 and from each other (where the
        statement allows): the point the registry test specialises at.
    holds_beyond:
        The fields beyond the paper's model (names of
        :data:`theory.model.BEYOND_PAPER`, or ``"*"`` for all) at which the
        statement is shown to hold.  ``applies`` refuses an
        :class:`~theory.model.AttentionModel` that sets any other such field,
        with the reason from :meth:`~theory.model.AttentionModel.beyond_paper`,
        before the result's own conditions are asked (the wrapper is added
        here, so no result has to remember it).
    """

    id: str
    title: str
    kind: str
    source: str
    statement: str
    assumptions: tuple[str, ...]
    statement_latex: str
    symbolic_checks: Callable[[], list[CheckOutcome]] | None = None
    empirical_check: str | None = None
    findings: tuple[str, ...] = ()
    predict: Callable[[Any], Any] | None = None
    applies: Callable[[Any], str | None] | None = None
    example: Callable[[], Any] | None = None
    holds_beyond: tuple[str, ...] = ()

    def __post_init__(self):
        from .model import BEYOND_PAPER
        holds = tuple(self.holds_beyond)
        for name in holds:
            if name != "*" and name not in BEYOND_PAPER:
                raise ValueError(f"holds_beyond must name fields of {', '.join(BEYOND_PAPER)} "
                                 f"or '*' (got {name!r})")
        object.__setattr__(self, "holds_beyond", holds)
        if self.applies is not None:
            own = getattr(self.applies, "own_conditions", self.applies)
            object.__setattr__(self, "applies", _refusing_beyond(own, holds))
        if self.predict is not None:
            object.__setattr__(self, "predict", _memoised(getattr(self.predict, "uncached",
                                                                  self.predict)))

    def prediction(self, model):
        """``predict(model)`` after ``applies(model)``: a ``ValueError`` with the
        reason when the statement does not cover the model."""
        if self.predict is None:
            raise ValueError(f"{self.id} does not yet offer predict(model)")
        reason = self.applies(model) if self.applies is not None else None
        if reason is not None:
            raise ValueError(f"{self.id} does not apply to this model: {reason}")
        return self.predict(model)

    def symbolic_model(self, **fields):
        """The symbolic model of the statement: the architecture of
        :attr:`example` with n, depth, gamma and the scales as symbols;
        ``fields`` specialise some of them (``depth=3, gamma=Rational(1, 2)``)."""
        from .model import AttentionModel
        base = self.example().symbolic_like() if self.example is not None else AttentionModel.symbolic()
        return base.replace(**fields) if fields else base

    def latex(self, model=None) -> str:
        """LaTeX of the statement followed by each field of ``predict(model)``
        (``model`` defaults to :meth:`symbolic_model`)."""
        pred = self.prediction(model if model is not None else self.symbolic_model())
        return "\n".join(line for line in (self.statement_latex, pred.latex()) if line)


def _refusing_beyond(own: Callable[[Any], str | None], holds: tuple[str, ...]):
    """``applies`` that first refuses a model beyond the paper's (other than in
    the fields ``holds``), then asks the result's ``own`` conditions."""
    def applies(model):
        from .model import AttentionModel
        if isinstance(model, AttentionModel) and "*" not in holds:
            reason = model.beyond_paper(allowed=holds)
            if reason is not None:
                return reason
        return own(model)
    applies.own_conditions = own
    applies.__doc__ = own.__doc__
    applies.__name__ = getattr(own, "__name__", "applies")
    return applies


#: predictions kept per result (the oldest is dropped beyond this)
PREDICTION_CACHE_SIZE = 256


def _memoised(predict: Callable[[Any], Any]):
    """``predict`` remembering its last :data:`PREDICTION_CACHE_SIZE` answers.

    A prediction is a pure function of a frozen description, but deriving it
    (sympy) takes up to seconds, and a check, its negative controls, the
    LaTeX view and the report ask for the same model again and again.  The key
    is the model and its ``repr``, so models that compare equal with different
    number types (``gamma=0.5`` and ``Rational(1, 2)``) keep their own answers;
    an unhashable model is not cached.  ``predict.uncached`` is the original.
    """
    cache: dict = {}

    def cached(model):
        try:
            key = (type(model), repr(model), model)
            hash(key)
        except TypeError:
            return predict(model)
        if key in cache:
            return cache[key]
        out = predict(model)
        if len(cache) >= PREDICTION_CACHE_SIZE:
            cache.pop(next(iter(cache)))
        cache[key] = out
        return out
    cached.uncached = predict
    cached.cache = cache
    cached.__doc__ = predict.__doc__
    cached.__name__ = getattr(predict, "__name__", "predict")
    return cached


_REGISTRY: dict[str, Result] = {}


def register(result: Result) -> Result:
    """Add ``result`` to the registry (ids are unique)."""
    if result.id in _REGISTRY and _REGISTRY[result.id] is not result:
        raise ValueError(f"result id {result.id!r} is registered twice")
    _REGISTRY[result.id] = result
    return result


def _load() -> None:
    for mod in RESULT_MODULES:
        importlib.import_module(mod)


def _sort_key(result: Result, position: int):
    """The paper's results in the paper's order, then the companions by family
    (gg, noci, bn, dong, audit), each in registration order: independent of
    which module happened to be imported first."""
    from .companions import ORDER as FAMILIES
    from .results import ORDER as PAPER

    stem = result.id.replace(".", "_")
    if stem in PAPER:
        return (0, PAPER.index(stem), position)
    family = result.id.split(".", 1)[0]
    return (1, FAMILIES.index(family) if family in FAMILIES else len(FAMILIES), position)


def all_results() -> list[Result]:
    """Every registered result: the paper's in its order, then the companions."""
    _load()
    ranked = sorted(enumerate(_REGISTRY.values()), key=lambda ir: _sort_key(ir[1], ir[0]))
    return [r for _, r in ranked]


def get(result_id: str) -> Result:
    """The result with this id; ``ValueError`` listing the known ids otherwise."""
    _load()
    try:
        return _REGISTRY[result_id]
    except KeyError:
        known = ", ".join(_REGISTRY)
        raise ValueError(f"unknown result id {result_id!r}; known ids: {known}") from None
