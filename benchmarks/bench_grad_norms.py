"""Gradient norms ||dX_L/dW_l||_F^2 for the paper's configurations.

(1) All 25 configurations, n in {20, 40, 60, 80, 100, 150}, depth 10, every
layer l = 1..10, ``--samples`` samples: exact Kronecker identity where the
attention does not depend on X (A, A-perp, identity), reverse-mode Hutchinson
with ``--probes`` Gaussian cotangents (standard errors reported) elsewhere.
(2) At n = 20 (d = 20), depth 10, one sample per configuration: the exact
norms from a materialised Jacobian (d^2 = 400 columns per layer, each a
complex-step forward pass of a plain per-sample loop, as the paper's script
materialises autograd Jacobians) against gapcheck's exact methods (Kronecker
/ batched JVPs), with their agreement and the time ratio measured in this run.

    python benchmarks/bench_grad_norms.py [--samples 5] [--probes 8]
"""
from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # small batched matrices on a shared machine

import argparse  # noqa: E402
import math  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from gapcheck.theory.model import LAYERNORM_EPS, PRESETS, preset  # noqa: E402
from gapcheck.numerics.forward import draw  # noqa: E402
from gapcheck.numerics.gradients import grad_norms_sq  # noqa: E402
from gapcheck.numerics.sweep import sweep  # noqa: E402

NS = (20, 40, 60, 80, 100, 150)
DEPTH = 10


def _plain_forward(model, dr, b, layer, W_layer):
    """X_L of sample b with W_layer replaced (complex-safe plain numpy)."""
    n, d = int(model.n), model.d
    X = dr.X0[b].astype(complex)
    alpha = 1.0 if model.skip_alpha is None else float(model.skip_alpha)
    for m in range(1, model.depth + 1):
        W = W_layer if m == layer else dr.W[m][b]
        if model.attention == "markov":
            A = dr.A[m][b].astype(complex)
        elif model.attention == "identity":
            A = np.eye(n, dtype=complex)
        else:
            S = X @ dr.WQ[m][b] @ dr.WK[m][b].T @ X.T / math.sqrt(d)
            E = np.exp(S - S.real.max(axis=1, keepdims=True))
            A = E / E.sum(axis=1, keepdims=True)
        if model.remove_gap:
            A = A - 1.0 / n
        Z = A @ X @ W
        if model.skip is not None:
            Z = X + alpha * Z
        if model.layernorm:
            Zc = Z - Z.mean(axis=1, keepdims=True)
            Z = Zc / np.sqrt((Zc * Zc).mean(axis=1, keepdims=True) + LAYERNORM_EPS)
        X = Z
    return X


def materialised_norms(model, dr, b=0):
    """||dX_L/dW_l||_F^2 for l = 1..L from the full (n d) x (d d) Jacobians."""
    d, h = model.d, 1e-30
    out = []
    for layer in range(1, model.depth + 1):
        W = dr.W[layer][b].astype(complex)
        J = np.empty((int(model.n) * d, d * d))
        for col in range(d * d):
            Wp = W.copy()
            Wp.flat[col] += 1j * h
            J[:, col] = _plain_forward(model, dr, b, layer, Wp).imag.ravel() / h
        out.append(np.sum(J * J))
    return np.array(out)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--samples", type=int, default=5)
    p.add_argument("--probes", type=int, default=8)
    p.add_argument("--baseline-presets", type=int, default=25,
                   help="how many configurations the materialised-Jacobian baseline runs")
    args = p.parse_args(argv)
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}, "
          f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}")
    sweep("all", [6], depth=2, samples=2, measures="grad-norm-sq", probes=4)  # warm-up
    t0, c0 = time.perf_counter(), time.process_time()
    table = sweep("all", NS, depth=DEPTH, samples=args.samples, measures="grad-norm-sq",
                  probes=args.probes)
    t_all, c_all = time.perf_counter() - t0, time.process_time() - c0
    print(f"gapcheck grad norms: {len(table)} values (25 presets x {len(NS)} n up to 150 x "
          f"{args.samples} samples x {DEPTH} layers l, depth {DEPTH}): {t_all:.2f} s wall "
          f"(cpu {c_all:.2f} s); exact (Kronecker) for A, A-perp, identity, Hutchinson with "
          f"{args.probes} probes elsewhere")
    # precision of the Hutchinson estimates at n = 150
    m = preset("A(X) + LN", n=150, depth=DEPTH)
    est, se = grad_norms_sq(m, batch=1, rng=0, probes=args.probes, return_se=True)
    print(f"  Hutchinson relative standard error at n=150, A(X) + LN: "
          f"median {np.median(se / est):.2f} over layers")

    names = list(PRESETS)[:args.baseline_presets]
    models = {nm: preset(nm, n=20, depth=DEPTH) for nm in names}
    draws = {nm: draw(models[nm], batch=1, rng=7) for nm in names}
    t0 = time.perf_counter()
    ours = {nm: grad_norms_sq(models[nm], draws=draws[nm],
                              method="kronecker" if models[nm].is_linear and models[nm].skip is None
                              else "exact")[0] for nm in names}
    t_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    ref = {nm: materialised_norms(models[nm], draws[nm]) for nm in names}
    t_ref = time.perf_counter() - t0
    err = max(float(np.max(np.abs(ours[nm] - ref[nm]) / np.abs(ref[nm]))) for nm in names
              if np.all(ref[nm] > 0))
    print(f"n = 20, depth {DEPTH}, {len(names)} presets x 10 layers, exact: gapcheck {t_ours:.2f} s, "
          f"materialised Jacobian {t_ref:.2f} s; ratio {t_ref / t_ours:.0f}x; "
          f"max relative difference {err:.1e}")
    print(f"grad norms: {t_all:.2f} s for n up to 150, depth {DEPTH}; "
          f"materialised-Jacobian baseline at n = 20: {t_ref / t_ours:.0f}x slower than exact gapcheck")


if __name__ == "__main__":
    main()
