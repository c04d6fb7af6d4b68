"""Predictions read the description: every result that offers ``predict(model)``.

For each such result:

* ``predict(example)`` on its numeric, non-degenerate example model equals the
  symbolic prediction ``predict(AttentionModel.symbolic(...))`` specialised to
  the example (``.subs(example.bindings())``), field by field;
* the example is inside the statement (``applies`` gives ``None``) and really
  non-degenerate: the scales and ratios it binds differ from 1 and from each
  other (where the statement has them);
* ``applies`` refuses a model outside the statement with a reason, and
  ``Result.prediction`` turns that reason into a ``ValueError``;
* the prediction's LaTeX renders.
"""
from __future__ import annotations

import dataclasses

import pytest
import sympy

from gapcheck.theory.model import BEYOND_PAPER, MLP, SYMBOLS, AttentionModel
from gapcheck.theory.prediction import Prediction, equal
from gapcheck.theory.registry import all_results

PREDICTING = [r for r in all_results() if r.predict is not None]
IDS = [r.id for r in PREDICTING]


#: a model outside each kind of statement: identity attention is covered by none
#: of the attention results' statements
OUTSIDE = AttentionModel(n=16, depth=2, gamma=sympy.Rational(1, 2), attention="identity")


def test_every_result_predicts():
    """All 15 of the paper's results and every companion offer predict(model), and
    the old ``formulas(**params)`` convention is gone (issue 10)."""
    ids = {r.id for r in all_results()}
    assert set(IDS) == ids, sorted(ids - set(IDS))
    assert all(r.applies is not None and r.example is not None for r in PREDICTING)
    assert not any(hasattr(r, "formulas") for r in all_results())
    paper = {"def1.1", "prop1", "thm2", "prop3", "prop4", "prop5", "prop6", "prop7", "prop8",
             "lemma1", "lemma2", "lemma3", "lemma4", "thm9", "thm10"}
    assert paper <= set(IDS)


@pytest.mark.parametrize("rid", IDS)
def test_numeric_prediction_is_the_symbolic_one_specialised(rid):
    result = next(r for r in PREDICTING if r.id == rid)
    assert result.example is not None and result.applies is not None, f"{rid}: example and applies"
    model = result.example()
    assert result.applies(model) is None
    numeric = result.prediction(model)
    assert isinstance(numeric, Prediction) and dataclasses.is_dataclass(numeric)
    symbolic = result.prediction(model.symbolic_like())
    assert equal(numeric, symbolic.subs(model.bindings()), rtol=1e-10), (numeric, symbolic)
    assert result.latex(model.symbolic_like())


@pytest.mark.parametrize("rid", IDS)
def test_example_is_not_degenerate(rid):
    """sigma_A^2, sigma_V^2, gamma and depth bound by the example differ from 1 and
    from each other (a power of a scale that is 1 at the checked point goes unseen)."""
    result = next(r for r in PREDICTING if r.id == rid)
    model = result.example()
    bound = model.bindings()
    symbols = [SYMBOLS[k] for k in ("gamma", "sigma_A2", "sigma_V2", "l") if SYMBOLS[k] in bound]
    symbolic = result.prediction(model.symbolic_like())
    used = set().union(*(sympy.sympify(v).free_symbols for v in symbolic.values().values()
                         if isinstance(v, (sympy.Basic, int, float))))
    values = {s: bound[s] for s in symbols if s in used}
    assert all(v != 1 for v in values.values()), (rid, values)
    assert len(set(values.values())) == len(values), (rid, values)


#: results whose statement covers every model (dong.residual-norms: norm inequalities for
#: every n x d matrix, so every model's hidden states; bn.soft-rank: an inequality for every
#: PSD matrix, so every model's Gram matrices): applies never refuses, and
#: the prediction for OUTSIDE is asserted instead of a reason
COVERS_EVERY_MODEL = {"dong.residual-norms", "bn.soft-rank"}


@pytest.mark.parametrize("rid", IDS)
def test_applies_refuses_a_model_outside_the_statement(rid):
    result = next(r for r in PREDICTING if r.id == rid)
    if rid in COVERS_EVERY_MODEL:
        assert result.applies(OUTSIDE) is None
        assert isinstance(result.prediction(OUTSIDE), Prediction)
        return
    reason = result.applies(OUTSIDE)
    assert isinstance(reason, str) and reason
    with pytest.raises(ValueError, match=f"{rid} does not apply"):
        result.prediction(OUTSIDE)


def test_equal_tells_a_wrong_field():
    result = next(r for r in PREDICTING if r.id == "prop3")
    p = result.prediction(result.example())
    assert equal(p, p)
    assert not equal(p, p.replace(exponent=p.exponent + sympy.Rational(1, 4)))
    with pytest.raises(ValueError, match="no field"):
        p.replace(nonsense=1)


def _beyond(m, name):
    """``m`` with the field ``name`` of BEYOND_PAPER set beyond the paper's model
    (None where the field does not exist for m's architecture or block)."""
    kq = m.attention == "key-query"
    code = m.block == "paper-code"
    change = {
        "heads": (not code) and dict(heads=min(k for k in range(2, m.d + 1) if m.d % k == 0)),
        "d_k": kq and dict(d_k=m.d + 1),
        "out_proj": (not code) and dict(out_proj=sympy.Rational(1, 3)),
        "causal": dict(causal=True),
        "ln_position": (not code) and dict(layernorm=True, ln_position="pre"),
        "mlp": (not code) and dict(mlp=MLP()),
        "skip": dict(skip="1/sqrt(L)"),
        "temperature": kq and dict(temperature="linear"),
        "isometry": dict(gamma=2, isometry="columns"),
    }[name]
    return m.replace(**change) if change else None


@pytest.mark.parametrize("rid", IDS)
def test_applies_refuses_every_field_beyond_the_paper(rid):
    """Each field beyond the paper's model (issue 14), set on the result's example,
    is refused with the reason naming it unless the result declares it holds there."""
    result = next(r for r in PREDICTING if r.id == rid)
    example = result.example()
    if not isinstance(example, AttentionModel):
        return  # a result about another network's description: the fields do not exist there
    declared = set(result.holds_beyond)
    tried = 0
    for name in BEYOND_PAPER:
        m = _beyond(example, name)
        if m is None or "*" in declared or name in declared:
            continue
        tried += 1
        assert tuple(f for f in m.beyond_fields() if f not in declared) == (name,), (name, m.beyond_fields())
        reason = result.applies(m)
        assert reason == m.beyond_paper(allowed=tuple(declared)) and reason, (rid, name, reason)
        with pytest.raises(ValueError, match=f"{rid} does not apply"):
            result.prediction(m)
    assert tried >= 4 or "*" in declared or declared, (rid, tried)
