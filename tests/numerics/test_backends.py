"""Backend-agnostic code: the array-api-strict namespace (a strict,
non-numpy stand-in) gives the numpy numbers on the same seed; CuPy gives the
same statistics on the GPU (skipped where there is none); a backend that
cannot run says why, and a sampler without an implementation on a backend is
an error naming it, never a silent fall-back to numpy."""
from __future__ import annotations

import numpy as np
import pytest

from gapcheck.theory.model import preset
from gapcheck.numerics.backend import (BackendUnavailable, BackendUnsupported, availability,
                                       namespace, require_backend, to_numpy)
from gapcheck.numerics.companions import heads, products, qk_gradients, rem, residual
from gapcheck.numerics.forward import sample
from gapcheck.numerics.gradients import grad_norms_sq
from gapcheck.numerics.measures import covariance_stable_rank, gap_ratio
from gapcheck.numerics.stats import mean_se

NAMES = ["A", "A-perp + skip + LN", "A(X) + upscaled skip", "A(X)-perp + LN", "identity"]


@pytest.mark.parametrize("name", NAMES)
def test_strict_namespace_reproduces_numpy(name):
    m = preset(name, n=6, depth=3).replace(sigma_qk2=0.8)
    a = sample(m, batch=2, rng=3)
    b = sample(m, batch=2, rng=3, backend="array-api-strict")
    assert b.backend == "array-api-strict"
    for x, y in zip(a.X, b.X):
        np.testing.assert_allclose(to_numpy(y), x, rtol=1e-10, atol=1e-300)
    for X, Y in zip(a.X[1:], b.X[1:]):
        np.testing.assert_allclose(to_numpy(covariance_stable_rank(Y)), covariance_stable_rank(X),
                                   rtol=1e-10)
        np.testing.assert_allclose(to_numpy(gap_ratio(Y)), gap_ratio(X), rtol=1e-10)
    ga = grad_norms_sq(m, batch=2, rng=1, method="exact")
    gb = grad_norms_sq(m, batch=2, rng=1, method="exact", backend="array-api-strict")
    np.testing.assert_allclose(gb, ga, rtol=1e-10)
    ha = grad_norms_sq(m, batch=2, rng=1, method="hutchinson", probes=4)
    hb = grad_norms_sq(m, batch=2, rng=1, method="hutchinson", probes=4,
                       backend="array-api-strict")
    np.testing.assert_allclose(hb, ha, rtol=1e-10)


def test_strict_lanczos_path():
    X = sample(preset("A-perp", n=40, depth=1), batch=2, rng=0).X[1]
    xp = namespace("array-api-strict")
    got = to_numpy(covariance_stable_rank(xp.asarray(X), "lanczos"))
    np.testing.assert_allclose(got, covariance_stable_rank(X, "exact"), rtol=1e-10)


def test_selected_backend_samples(backend):
    """Runs on the backend chosen with --backend (numpy by default)."""
    m = preset("A(X) + LN", n=8, depth=2)
    tr = sample(m, batch=2, rng=0, backend=backend)
    sr = to_numpy(covariance_stable_rank(tr.X[2]))
    assert sr.shape == (2,) and np.all((sr >= 1 - 1e-9) & (sr <= 8 + 1e-9))


@pytest.mark.gpu
@pytest.mark.parametrize("name", ["A", "A-perp", "A(X) + LN"])
def test_cupy_same_statistics_as_numpy(name):
    """Different digits (device generator), same law: mean stable rank at layer 1
    agrees within 4.5 combined standard errors."""
    m = preset(name, n=64, depth=2)
    a = covariance_stable_rank(sample(m, batch=200, rng=0).X[1])
    b = to_numpy(covariance_stable_rank(sample(m, batch=200, rng=1, backend="cupy").X[1]))
    (ma, sa), (mb, sb) = mean_se(a), mean_se(b)
    assert abs(ma - mb) <= 4.5 * np.hypot(sa, sb)
    ga = grad_norms_sq(m, batch=4, rng=0, method="hutchinson", probes=8)
    gb = grad_norms_sq(m, batch=4, rng=0, method="hutchinson", probes=8, backend="cupy")
    assert np.isfinite(ga).all() and np.isfinite(gb).all()


# ------------------------------------------------ availability, no silent fall-back

def _fake_cupy(monkeypatch, count):
    import sys
    import types

    def get_count():
        if isinstance(count, Exception):
            raise count
        return count

    cupy = types.ModuleType("cupy")
    cupy.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=get_count))
    monkeypatch.setitem(sys.modules, "cupy", cupy)


def test_availability_says_why_a_backend_cannot_run(monkeypatch):
    import sys
    assert availability("numpy") == (True, None)
    assert availability("array-api-strict") == (True, None)
    monkeypatch.setitem(sys.modules, "cupy", None)  # import cupy -> ImportError
    ok, why = availability("cupy")
    assert not ok and "not installed" in why and "pip install" in why
    _fake_cupy(monkeypatch, 0)
    assert availability("cupy") == (False, "CuPy is installed but no CUDA device is visible")
    _fake_cupy(monkeypatch, RuntimeError("cudaErrorNoDevice"))
    ok, why = availability("cupy")
    assert not ok and "cannot reach a CUDA device" in why and "cudaErrorNoDevice" in why
    with pytest.raises(BackendUnavailable, match="no CUDA device"):
        _fake_cupy(monkeypatch, 0)
        sample(preset("A", n=4, depth=1), backend="cupy")
    with pytest.raises(ValueError, match="backend must be one of"):
        availability("torch")


def test_unsupported_backend_is_an_error_naming_the_sampler_and_the_reason():
    err = BackendUnsupported("companions.products.bn_chain", "cupy", "not ported")
    assert str(err) == "companions.products.bn_chain cannot run on cupy: not ported"
    assert require_backend(namespace("numpy"), ("numpy",), "x", "y") == "numpy"
    calls = [
        lambda b: products.bn_chain(4, 5, gamma=0.1, burn_in=1, rng=0, backend=b),
        lambda b: products.lyapunov_qr(4, 5, rng=0, backend=b),
        lambda b: products.orthogonality_chain(2, 4, 3, rng=0, backend=b),
        lambda b: products.product_top_sv2(4, 2, rng=0, backend=b),
        lambda b: products.product_top_sv2_lanczos(4, 2, rng=0, backend=b),
        lambda b: products.random_psd(3, rng=0, backend=b),
        lambda b: residual.init_san(4, 2, rng=0, backend=b),
        lambda b: heads.init_heads(4, 2, 2, rng=0, backend=b),
        lambda b: heads.low_rank(4, 3, 2, rng=0, backend=b),
        lambda b: heads.affine_configuration(4, 3, 2, rng=0, backend=b),
    ]
    for call in calls:
        call("numpy")
        for b in ("cupy", "array-api-strict"):
            with pytest.raises(BackendUnsupported, match=rf"^companions\.\w+\.\w+ cannot run on {b}: "):
                call(b)


def _companion_samplers(backend):
    X = rem.ln_tokens(6, 16, 0.4, batch=3, rng=5, backend=backend)
    A, out = rem.attention(X, 1.5, rng=6, gain=True)
    W = [namespace(backend).asarray(np.random.default_rng(7).standard_normal((3, 16, 16)))
         for _ in range(3)]
    E = qk_gradients.equicorrelated_tokens(4, 16, 0.3, batch=2, rng=8, backend=backend)
    G = qk_gradients.linear_stack_grams(E[0, ...], 3, 0.7, reps=4, rng=9)
    return {
        "ln_tokens": X, "attention": A, "attention out": out,
        "stack": np.concatenate([np.asarray(v) for v in rem.stack(X, 2, 1.0, norm="pre", rng=10)]),
        "rem_rows": rem.rem_rows(50, 0.8, reps=3, rng=11, backend=backend),
        "rem_statistics": np.array(rem.rem_statistics(50, 1.2, reps=7, rng=12, chunk=3,
                                                      backend=backend)),
        "jacobians": np.array([to_numpy(v) for v in
                               qk_gradients.jacobian_sq_norms(X, *W).values()]),
        "equicorrelated": E, "grams": G[0], "gram means": G[1],
        "post-LN stack": np.array(qk_gradients.postln_uniform_stack(X, 3, 0.5, rng=13)),
        "pre-LN stack": np.array(qk_gradients.preln_uniform_stack(X, 3, 0.5, rng=13)),
    }


def test_ported_companion_samplers_give_numpy_numbers_on_array_api_strict():
    a, b = _companion_samplers("numpy"), _companion_samplers("array-api-strict")
    assert "array_api_strict" in type(b["ln_tokens"]).__module__
    assert "array_api_strict" in type(b["grams"]).__module__
    for k in a:
        np.testing.assert_allclose(to_numpy(b[k]), to_numpy(a[k]), rtol=1e-10, atol=1e-14,
                                   err_msg=k)


@pytest.mark.gpu
def test_cupy_companion_samplers_same_statistics_as_numpy():
    """G&G post-LN stack on the GPU: the token cosine after two blocks agrees with
    numpy's within 4.5 combined standard errors (different digits, same law)."""
    def cosines(backend, seed):
        X = rem.ln_tokens(16, 64, 0.3, batch=1, rng=seed, backend=backend)
        return rem.stack(X, 2, 1.0, rng=seed + 1)[-1]
    a = np.array([cosines("numpy", s) for s in range(0, 80, 2)])
    b = np.array([cosines("cupy", s) for s in range(1, 81, 2)])
    (ma, sa), (mb, sb) = mean_se(a), mean_se(b)
    assert abs(ma - mb) <= 4.5 * np.hypot(sa, sb)
