"""Gradient norms ||dX_L/dW_l||_F^2 against a fully materialised Jacobian
(complex-step, plain loops), the JVP against finite differences, Kronecker
identity vs JVPs, Hutchinson error bars, negative controls."""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from gapcheck.theory.model import PRESETS, AttentionModel, preset
from gapcheck.numerics.forward import draw
from gapcheck.numerics.gradients import grad_norms_sq, jvp

from .reference import forward_one, full_jacobian


def _model(name, n=3, depth=3):
    m = preset(name, n=n, depth=depth, gamma=Fraction(1, 2))
    return m.replace(sigma_qk2=1.0) if name.startswith("A(X)") else m


@pytest.fixture(scope="module")
def jacobians():
    out = {}
    for name in PRESETS:
        m = _model(name)
        dr = draw(m, batch=2, rng=5)
        ref = np.array([[np.sum(full_jacobian(m, dr, b, l) ** 2) for l in (1, 2, 3)]
                        for b in range(2)])
        out[name] = (m, dr, ref)
    return out


@pytest.mark.parametrize("name", list(PRESETS))
def test_exact_grad_norms_match_materialised_jacobian(jacobians, name):
    m, dr, ref = jacobians[name]
    got = grad_norms_sq(m, draws=dr, method="exact")
    np.testing.assert_allclose(got, ref, rtol=1e-10)
    np.testing.assert_allclose(grad_norms_sq(m, draws=dr, method="exact-forward"), ref,
                               rtol=1e-10)
    np.testing.assert_allclose(grad_norms_sq(m, draws=dr), ref, rtol=1e-10)  # auto
    if m.is_linear and m.skip is None:
        np.testing.assert_allclose(grad_norms_sq(m, draws=dr, method="kronecker"), ref,
                                   rtol=1e-12)
    # negative control: the layer index shifted by one gives other numbers
    assert not np.allclose(got[:, :2], ref[:, 1:], rtol=1e-3)


def test_hutchinson_error_bars_cover_the_exact_values(jacobians):
    zs = []
    for name in ("A + skip + LN", "A(X)", "A(X)-perp + upscaled skip + LN", "A-perp"):
        m, dr, ref = jacobians[name]
        est, se = grad_norms_sq(m, draws=dr, method="hutchinson", probes=300, rng=3,
                                return_se=True)
        zs.append(np.abs(est - ref) / se)
        # negative control: a 1.5x perturbed truth is rejected
        assert np.any(np.abs(est - 1.5 * ref) / se > 5)
    assert np.max(zs) < 5


@pytest.mark.parametrize("name", ["A(X) + skip + LN", "A(X)-perp", "A-perp + upscaled skip + LN"])
def test_jvp_matches_finite_differences(name):
    m = _model(name, n=4, depth=3)
    dr = draw(m, batch=1, rng=2)
    rng = np.random.default_rng(0)
    for l in (1, 2):
        E = rng.standard_normal(dr.W[l].shape)
        t = jvp(m, dr, l, E)[0]
        h = 1e-6
        W0 = dr.W[l].copy()
        vals = []
        for sgn in (1, -1):
            dr.W[l] = W0 + sgn * h * E
            dr._qk.clear()
            vals.append(forward_one(m, dr, 0))
        dr.W[l] = W0
        fd = (vals[0] - vals[1]) / (2 * h)
        np.testing.assert_allclose(t, fd, rtol=1e-6, atol=1e-8 * np.abs(fd).max())


def test_prop4_single_layer_identity():
    # ||dX_1/dW_1||_F^2 = d ||A||_F^2 exactly (section 7)
    m = preset("A", n=7, depth=1, gamma=Fraction(1, 2))
    dr = draw(m, batch=3, rng=0)
    g = grad_norms_sq(m, draws=dr)[:, 0]
    np.testing.assert_allclose(g, m.d * np.sum(dr.A[1] ** 2, axis=(-2, -1)), rtol=1e-12)
    assert not np.allclose(g, (m.d + 1) * np.sum(dr.A[1] ** 2, axis=(-2, -1)), rtol=1e-3)


def test_gradient_bad_input():
    m = AttentionModel(n=4, depth=2, attention="key-query", remove_gap=2)
    with pytest.raises(ValueError, match="remove_gap"):
        grad_norms_sq(m, rng=0)
    with pytest.raises(ValueError, match="kronecker"):
        grad_norms_sq(preset("A + LN", n=3, depth=2), rng=0, method="kronecker")
    with pytest.raises(ValueError, match="method"):
        grad_norms_sq(preset("A", n=3, depth=2), rng=0, method="autograd")
    with pytest.raises(ValueError, match="probes"):
        grad_norms_sq(preset("A", n=3, depth=2), rng=0, probes=1)


@pytest.mark.parametrize("name", ["A(X) + skip + LN", "A(X)-perp + upscaled skip", "A + LN",
                                  "A-perp + skip", "identity"])
def test_vjp_is_the_transposed_materialised_jacobian(jacobians, name):
    from gapcheck.numerics.gradients import vjp_all
    m, dr, ref = jacobians[name]
    n, d = int(m.n), m.d
    G = np.random.default_rng(1).standard_normal((2, n, d))
    grads = vjp_all(m, dr, G)
    for l in (1, 2, 3):
        J = full_jacobian(m, dr, 0, l)  # rows vec X_L (row-major), columns vec W_l
        np.testing.assert_allclose(grads[l][0].ravel(), J.T @ G[0].ravel(), rtol=1e-10,
                                   atol=1e-12 * np.abs(J).max())
    # summing over a basis of cotangents gives the exact squared norms
    basis = np.eye(n * d).reshape(n * d, 1, n, d) * np.ones((1, 2, 1, 1))
    grads = vjp_all(m, dr, basis)
    got = np.stack([np.sum(grads[l] ** 2, axis=(0, -2, -1)) for l in (1, 2, 3)], axis=-1)
    np.testing.assert_allclose(got, ref, rtol=1e-10)


@pytest.mark.parametrize("name", ["A(X) + skip + LN", "A + skip", "A(X)-perp + skip"])
def test_paper_code_block_gradients_match_materialised_jacobian(name):
    """block="paper-code" doubles each layer's output under the standard skip: the
    exact, forward and reverse gradient norms follow the materialised Jacobian of
    the plain reference (which codes the doubling itself), and differ from the
    stated model's on the same draws."""
    m = _model(name).replace(block="paper-code")
    dr = draw(m, batch=2, rng=7, dtype="float64")
    ref = np.array([[np.sum(full_jacobian(m, dr, b, l) ** 2) for l in (1, 2, 3)]
                    for b in range(2)])
    for method in ("exact", "exact-forward"):
        np.testing.assert_allclose(grad_norms_sq(m, draws=dr, method=method), ref, rtol=1e-9)
    stated = grad_norms_sq(m.replace(block="stated"), draws=dr, method="exact")
    assert not np.allclose(stated, ref, rtol=1e-2)
