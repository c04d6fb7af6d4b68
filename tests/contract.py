"""What every registered result owes its test module, written once.

A result's module (``tests/results/test_<id>_*.py`` for the paper,
``tests/companions/test_*.py`` for the companions) declares::

    class TestContract(ResultContract):
        result_id = "prop3"

and inherits three tests:

``test_symbolic_checks_pass``
    every exact step of the result (``Result.symbolic_checks``) holds (and there
    are exactly ``n_symbolic`` of them when the class sets it); a result
    declared without exact steps (``symbolic = False``) must really have none.
``test_empirical_check_passes``
    the sampled check (``numerics.checks.<id>.run``) accepts the true
    prediction at this run's ``--level`` (or the class's ``level``).
``test_negative_control_rejected[<control>]``
    one test per perturbed prediction in ``NEGATIVE_CONTROLS``: the same check
    fed the wrong prediction must fail at least one of its outcomes.

``tests/test_registry.py`` asserts that every registered result has such a
class, so a new result cannot be added without its contract.
"""
from __future__ import annotations

import dataclasses

from gapcheck.numerics.checks import check_module
from gapcheck.numerics.checks.toolkit import STATISTICAL_OUTCOMES, Control
from gapcheck.theory.registry import all_results, get

__all__ = ["ResultContract", "contracts", "assert_all_pass", "failures", "compare_case"]


def failures(outcomes) -> list[tuple]:
    """The failed outcomes, as (name, params, measured, predicted, detail) rows for a message."""
    return [(o.name, o.params, o.measured, o.predicted, o.detail) for o in outcomes if not o.passed]


def assert_all_pass(outcomes) -> None:
    """At least one outcome, and every one passed (the failures are the message)."""
    assert outcomes, "the check produced no outcomes"
    assert all(o.passed for o in outcomes), failures(outcomes)


def assert_truth_and_controls(module, result_id, config) -> None:
    """At ``config``: the check ``module`` passes with the true prediction, and each of
    its negative controls fails an outcome that judges the field it is named for."""
    from gapcheck.theory.registry import get
    assert_all_pass(module.run(config))
    for c in module.NEGATIVE_CONTROLS.values():
        outs = module.run(config, predict=c(get(result_id).prediction))
        assert any(not o.passed and set(o.judges) & set(c.rejects) for o in outs), c.name


def compare_case(result_id, model, ns, batch, seed) -> list:
    """The outcomes of one case outside the check's levels (a toolkit check's
    ``CHECK``: sizes ``ns``, ``batch`` samples per n, root seed ``seed``)
    against the true prediction for ``model``."""
    from gapcheck.numerics.checks import VerifyConfig
    from gapcheck.numerics.checks.toolkit import Case

    check = check_module(get(result_id)).CHECK
    case = Case(model, tuple(ns), batch, f"test {model!r}")
    config = VerifyConfig(seed=seed)
    return check.compare(config, case, check.measured(config, case), get(result_id).prediction(model))


class ResultContract:
    """Mixin of the three contract tests; subclasses set ``result_id``."""

    #: the registry id of the result under test
    result_id: str
    #: False for a result with no exact step (its ``symbolic_checks`` is None)
    symbolic: bool = True
    #: exact number of symbolic checks (pins the derivation's structure); None: any
    n_symbolic: int | None = None
    #: level of the empirical check; None: this run's ``--level``
    level: str | None = None
    #: level of the negative controls; None: this run's ``--level``
    controls_level: str | None = None

    @property
    def result(self):
        return get(self.result_id)

    @property
    def check(self):
        return check_module(self.result)

    def _config(self, verify_config, level):
        return verify_config if level is None else dataclasses.replace(verify_config, level=level)

    def pytest_generate_tests(self, metafunc):
        if "control" in metafunc.fixturenames:
            metafunc.parametrize("control", sorted(self.check.NEGATIVE_CONTROLS))

    def test_symbolic_checks_pass(self):
        if not self.symbolic:
            assert self.result.symbolic_checks is None, f"{self.result_id} has exact steps: set symbolic"
            return
        outcomes = self.result.symbolic_checks()
        assert_all_pass(outcomes)
        if self.n_symbolic is not None:
            assert len(outcomes) == self.n_symbolic, [o.name for o in outcomes]

    def test_empirical_check_passes(self, verify_config):
        outcomes = self.check.run(self._config(verify_config, self.level))
        assert_all_pass(outcomes)
        # the false-alarm policy's count: every result with an empirical check gets
        # an equal share of STATISTICAL_OUTCOMES, so a full run stays within it
        share = STATISTICAL_OUTCOMES // sum(r.empirical_check is not None for r in all_results())
        assert len(outcomes) <= share, (f"{self.result_id}: {len(outcomes)} outcomes exceed the "
                                        f"policy's share {share} (numerics.checks.toolkit)")

    def test_negative_control_rejected(self, verify_config, control):
        spec = self.check.NEGATIVE_CONTROLS[control]
        if isinstance(spec, Control):
            # on the toolkit: the truth and the control on the SAME samples at the
            # SAME level; the truth passes every outcome, the control fails an
            # outcome that judges a field it is named for
            config = self._config(verify_config, self.level)
            truth = self.check.run(config)
            assert_all_pass(truth)
            outcomes = self.check.run(config, predict=spec(self.result.prediction))
            assert [o.name for o in outcomes] == [o.name for o in truth]
            hit = [o.name for o in outcomes if not o.passed and set(o.judges) & set(spec.rejects)]
            assert hit, (f"{self.result_id}: perturbed prediction {control!r} was not rejected by an "
                         f"outcome judging {spec.rejects}; failed: {failures(outcomes)}")
            return
        config = self._config(verify_config, self.controls_level)
        outcomes = self.check.run(config, predict=spec)
        assert outcomes and not all(o.passed for o in outcomes), (
            f"{self.result_id}: perturbed prediction {control!r} was accepted")


def contracts(ids, *, without_symbolic=(), **options) -> dict[str, type]:
    """One :class:`ResultContract` subclass per id, for a module that tests
    several results: ``globals().update(contracts(IDS, level="quick"))``.

    ``without_symbolic`` names the ids that have no exact step; ``options``
    are class attributes (``level``, ``controls_level``) shared by all.
    """
    unknown = set(without_symbolic) - set(ids)
    if unknown:
        raise ValueError(f"without_symbolic names ids not in ids: {sorted(unknown)}")
    classes = {}
    for rid in ids:
        name = "TestContract_" + "".join(c if c.isalnum() else "_" for c in rid)
        classes[name] = type(name, (ResultContract,),
                             {"result_id": rid, "symbolic": rid not in without_symbolic, **options})
    return classes
