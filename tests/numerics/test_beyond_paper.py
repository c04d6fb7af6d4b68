"""The description beyond the paper (issue 14): heads, d_k, W_O, causal masks,
pre/post LayerNorm, the MLP sub-block, depth-scaled skips, temperatures and
gamma > 1, sampled by numerics.forward and differentiated by
numerics.gradients, each against the plain reference (tests/numerics/reference.py:
one sample at a time, heads in a Python loop, Jacobians by complex steps)."""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from gapcheck.theory.model import MLP, AttentionModel, Scale
from gapcheck.numerics.forward import draw, sample
from gapcheck.numerics.gradients import grad_norms_sq, jvp, vjp_all

from .reference import forward_one, full_jacobian

HALF = Fraction(1, 2)

#: one model per ingredient (and a GPT-2-like combination), n = 4, d = 8 unless stated
MODELS = {
    "heads-markov": dict(attention="markov", heads=2),
    "heads-kq": dict(attention="key-query", heads=2, sigma_qk2=1.0),
    "heads4-kq-skip-ln": dict(attention="key-query", heads=4, sigma_qk2=1.0, skip="standard",
                              layernorm=True),
    "causal-markov": dict(attention="markov", causal=True, skip="standard"),
    "causal-kq-gap": dict(attention="key-query", heads=2, causal=True, remove_gap=1, sigma_qk2=1.0),
    "pre-ln-kq": dict(attention="key-query", layernorm=True, ln_position="pre", skip="standard",
                      sigma_qk2=1.0),
    "post-ln-mlp-gelu": dict(attention="key-query", layernorm=True, skip="standard", sigma_qk2=1.0,
                             mlp=MLP(width=2, activation="gelu", sigma_in2=0.5)),
    "pre-ln-mlp-relu-wo": dict(attention="markov", layernorm=True, ln_position="pre",
                               skip="standard", mlp=MLP(width=2), out_proj=0.5),
    "out-proj-kq": dict(attention="key-query", out_proj=Scale.xavier(), sigma_qk2=1.0),
    "mlp-no-skip": dict(attention="markov", mlp=MLP(width=1, sigma_out2=0.3)),
    "temperature-linear-dk": dict(attention="key-query", temperature="linear", d_k=3, sigma_qk2=1.5),
    "temperature-none": dict(attention="key-query", temperature="none", sigma_qk2=Fraction(1, 8)),
    "skip-rule-ln": dict(attention="key-query", skip="1/sqrt(2L)", layernorm=True, sigma_qk2=1.0),
    "columns-kq": dict(attention="key-query", n=6, gamma=2, isometry="columns", sigma_qk2=1.0,
                       skip="standard"),
    "gpt2-like": dict(attention="key-query", heads=2, causal=True, layernorm=True, ln_position="pre",
                      skip="standard", out_proj=0.25, sigma_qk2=1.0,
                      mlp=MLP(width=2, activation="gelu", sigma_in2=0.5, sigma_out2=0.125)),
}


def _model(name, depth=3):
    kw = dict(MODELS[name])
    return AttentionModel(n=kw.pop("n", 4), depth=depth, gamma=kw.pop("gamma", HALF), **kw)


@pytest.fixture(scope="module")
def jacobians():
    out = {}
    for name in MODELS:
        m = _model(name)
        dr = draw(m, batch=1, rng=17)  # one network: the Jacobians are the suite's cost here
        J = {(0, l): full_jacobian(m, dr, 0, l) for l in (1, 2, 3)}
        ref = np.array([[np.sum(J[0, l] ** 2) for l in (1, 2, 3)]])
        out[name] = (m, dr, J, ref)
    return out


@pytest.mark.parametrize("name", list(MODELS))
def test_sample_is_the_plain_reference(name):
    m = _model(name)
    dr = draw(m, batch=2, rng=4)
    traj = sample(m, batch=2, rng=4)
    assert set(m.beyond_fields()) and traj.X[-1].shape == (2, int(m.n), m.d)
    for b in range(2):
        np.testing.assert_allclose(traj.X[-1][b], forward_one(m, dr, b).real, rtol=1e-11, atol=1e-12)


@pytest.mark.parametrize("name", list(MODELS))
def test_grad_norms_match_materialised_jacobian(jacobians, name):
    m, dr, _, ref = jacobians[name]
    assert np.all(ref > 0)
    got = grad_norms_sq(m, draws=dr, method="exact")
    np.testing.assert_allclose(got, ref, rtol=1e-9)
    np.testing.assert_allclose(grad_norms_sq(m, draws=dr, method="exact-forward"), ref, rtol=1e-9)
    np.testing.assert_allclose(grad_norms_sq(m, draws=dr), ref, rtol=1e-9)  # auto: exact here
    # negative control: the layer index shifted by one gives other numbers
    assert not np.allclose(got[:, :2], ref[:, 1:], rtol=1e-3)


@pytest.mark.parametrize("name", ["heads4-kq-skip-ln", "causal-kq-gap", "gpt2-like", "columns-kq",
                                  "pre-ln-mlp-relu-wo"])
def test_vjp_is_the_transposed_materialised_jacobian(jacobians, name):
    m, dr, J, _ = jacobians[name]
    n, d = int(m.n), m.d
    G = np.random.default_rng(8).standard_normal((1, n, d))
    grads = vjp_all(m, dr, G)
    for l in (1, 2, 3):
        want = (J[0, l].T @ G[0].ravel()).reshape(d, d)
        np.testing.assert_allclose(grads[l][0], want, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", list(MODELS))
def test_jvp_matches_finite_differences(name):
    """Central differences in a random direction E of W_l (real steps, h = 1e-5):
    the truncation error is O(h^2 |X'''|) ~ 1e-10 relative, far inside 1e-6."""
    m = _model(name)
    dr = draw(m, batch=1, rng=23)
    E = np.random.default_rng(2).standard_normal((m.d, m.d))
    h = 1e-5
    for l in (1, 2, 3):
        W = np.asarray(dr.W[l][0])
        fd = (forward_one(m, dr, 0, layer=l, W_override=W + h * E).real
              - forward_one(m, dr, 0, layer=l, W_override=W - h * E).real) / (2 * h)
        got = jvp(m, dr, l, E[None])[0]
        np.testing.assert_allclose(got, fd, rtol=1e-6, atol=1e-8 * np.abs(fd).max())
        # negative control: the direction transposed is another derivative
        assert not np.allclose(jvp(m, dr, l, E.T[None])[0], fd, rtol=1e-3)


@pytest.mark.parametrize("name", ["gpt2-like", "heads-markov", "post-ln-mlp-gelu"])
def test_hutchinson_error_bars_cover_the_exact_values(jacobians, name):
    m, dr, _, ref = jacobians[name]
    est, se = grad_norms_sq(m, draws=dr, method="hutchinson", probes=300, rng=3, return_se=True)
    assert np.max(np.abs(est - ref) / se) < 5
    assert np.any(np.abs(est - 1.5 * ref) / se > 5)  # a 1.5x perturbed truth is rejected


def test_the_papers_fields_keep_their_draws():
    """Adding W_O, an MLP, heads or a mask leaves the input, values and (head 0 /
    unmasked entries of) the attention of the same seed unchanged."""
    base = AttentionModel(n=6, depth=2, gamma=HALF)
    ref = draw(base, batch=3, rng=9)
    for extra in (dict(out_proj=0.5), dict(mlp=MLP()), dict(heads=3), dict(causal=True),
                  dict(skip="1/sqrt(L)")):
        dr = draw(base.replace(**extra), batch=3, rng=9)
        np.testing.assert_array_equal(dr.X0, ref.X0)
        for l in (1, 2):
            np.testing.assert_array_equal(dr.W[l], ref.W[l])
            A = dr.A[l][:, 0] if extra.get("heads") else dr.A[l]
            if extra.get("causal"):  # the masked, renormalised same entries
                T = np.tril(ref.A[l])
                np.testing.assert_allclose(A, T / T.sum(axis=-1, keepdims=True), rtol=1e-13)
            else:
                np.testing.assert_array_equal(A, ref.A[l])
    heads = draw(base.replace(heads=3), batch=3, rng=9)
    assert not np.allclose(heads.A[1][:, 1], heads.A[1][:, 0])  # the other heads are fresh
    kq = AttentionModel(n=6, depth=2, gamma=HALF, attention="key-query")
    a, b = draw(kq, batch=2, rng=1), draw(kq.replace(mlp=MLP(), out_proj=1.0), batch=2, rng=1)
    np.testing.assert_array_equal(a.WQ[2], b.WQ[2])


def test_causal_attention_is_lower_triangular_and_stochastic():
    for attention in ("markov", "key-query"):
        m = AttentionModel(n=6, depth=1, gamma=HALF, attention=attention, causal=True, heads=3,
                           sigma_qk2=1.0)
        A = sample(m, batch=4, rng=0, keep=("A",)).A[1]
        assert A.shape == (4, 3, 6, 6)
        assert np.all(np.triu(A, 1) == 0) and np.all(np.diagonal(A, axis1=-2, axis2=-1) > 0)
        np.testing.assert_allclose(A.sum(axis=-1), 1, rtol=1e-13)
        assert A[0, 0, 0, 0] == 1.0  # the first token attends to itself only


def test_more_tokens_than_features_has_orthonormal_columns():
    m = AttentionModel(n=12, depth=1, gamma=Fraction(4, 3), isometry="columns")
    X0 = sample(m, batch=3, rng=2).X[0]
    assert X0.shape == (3, 12, 9)
    np.testing.assert_allclose(np.swapaxes(X0, 1, 2) @ X0, np.broadcast_to(np.eye(9), (3, 9, 9)),
                               atol=1e-13)
    assert not np.allclose(X0 @ np.swapaxes(X0, 1, 2), np.eye(12))  # rows are not orthonormal


def test_skip_rules_and_temperatures():
    m = AttentionModel(n=4, depth=8, skip="1/sqrt(2L)", attention="key-query", d_k=2)
    assert m.skip_alpha ** 2 == Fraction(1, 16) and m.logit_scale ** 2 == Fraction(1, 2)
    assert m.replace(skip="1/sqrt(L)").skip_alpha ** 2 == Fraction(1, 8)
    assert m.replace(temperature="linear").logit_scale == Fraction(1, 2)
    assert m.replace(temperature="none").logit_scale == 1
    assert AttentionModel(n=8, gamma=HALF, attention="key-query", heads=4).key_width == 4


@pytest.mark.parametrize("fields, needle", [
    (dict(heads=3), "heads must divide the width d = 8"),
    (dict(heads=0), "heads must be an integer >= 1"),
    (dict(d_k=2), "d_k applies to key-query attention only"),
    (dict(attention="key-query", d_k=0), "d_k must be an integer >= 1"),
    (dict(out_proj=-1), "out_proj must be > 0"),
    (dict(causal=1), "causal must be True or False"),
    (dict(ln_position="pre"), "ln_position='pre' needs layernorm=True"),
    (dict(layernorm=True, ln_position="middle"), "ln_position must be one of"),
    (dict(mlp=4), "mlp must be None or a theory.model.MLP"),
    (dict(skip="1/L"), "skip must be one of"),
    (dict(temperature="linear"), "temperature applies to key-query attention only"),
    (dict(attention="key-query", temperature="cubic"), "temperature must be one of"),
    (dict(gamma=2), "needs isometry='columns'"),
    (dict(gamma=HALF, isometry="columns"), "gamma must be in [1, inf)"),
    (dict(isometry="diagonal"), "isometry must be one of"),
    (dict(heads=2, block="paper-code", skip="standard"), "block='paper-code' is the authors'"),
])
def test_bad_fields_are_named(fields, needle):
    kw = dict(n=4, gamma=HALF)
    kw.update(fields)
    with pytest.raises(ValueError, match=None) as info:
        AttentionModel(**kw)
    assert needle in str(info.value)


@pytest.mark.parametrize("kw, needle", [(dict(width=0), "mlp width must be"),
                                        (dict(activation="tanh"), "mlp activation must be one of"),
                                        (dict(sigma_out2=0), "mlp sigma_out2 must be > 0")])
def test_bad_mlp_is_named(kw, needle):
    with pytest.raises(ValueError) as info:
        MLP(**kw)
    assert needle in str(info.value)


def test_kronecker_refuses_what_it_cannot_factor():
    for extra in (dict(heads=2), dict(out_proj=1.0), dict(mlp=MLP())):
        m = AttentionModel(n=4, depth=2, gamma=HALF, **extra)
        with pytest.raises(ValueError, match="method='kronecker' needs"):
            grad_norms_sq(m, batch=1, rng=0, method="kronecker")
    causal = AttentionModel(n=4, depth=2, gamma=HALF, causal=True)
    dr = draw(causal, batch=2, rng=0)
    np.testing.assert_allclose(grad_norms_sq(causal, draws=dr, method="kronecker"),
                               grad_norms_sq(causal, draws=dr, method="exact"), rtol=1e-10)


def test_attention_statistics_of_several_heads_are_their_mean():
    from gapcheck.numerics.statistics import get_statistic
    m = AttentionModel(n=32, depth=1, gamma=HALF, attention="key-query", heads=2, sigma_qk2=1.0)
    traj = sample(m, batch=3, rng=6, keep=("X", "A"))
    A = traj.A[1]
    per_head = -(A * np.log(A)).sum(axis=-1).mean(axis=-1)  # (batch, heads)
    got = get_statistic("entropy").fn(traj, 1)
    np.testing.assert_allclose(got, per_head.mean(axis=1), rtol=1e-12)
    assert not np.allclose(got, per_head[:, 0], rtol=1e-3)
    dev = get_statistic("attention-deviation").fn(traj, 1)
    want = [np.mean([np.linalg.norm(np.sqrt(32) * (A[b, h] - 1 / 32), 2) for h in range(2)])
            for b in range(3)]
    np.testing.assert_allclose(dev, want, rtol=1e-8)


def test_array_api_strict_gives_the_same_numbers():
    """The new layers are array-API code: array-api-strict reproduces numpy exactly."""
    pytest.importorskip("array_api_strict", reason="array-api-strict is not installed")
    from gapcheck.numerics.backend import to_numpy
    m = _model("gpt2-like", depth=2)
    a, b = sample(m, batch=2, rng=3, backend="array-api-strict"), sample(m, batch=2, rng=3)
    np.testing.assert_array_equal(to_numpy(a.X[-1]), b.X[-1])
    np.testing.assert_allclose(grad_norms_sq(m, batch=2, rng=1, backend="array-api-strict",
                                             method="exact"),
                               grad_norms_sq(m, batch=2, rng=1, method="exact"), rtol=1e-12)
