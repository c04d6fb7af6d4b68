"""Benchmarks of theory.laws (issue 2), printing ratios measured in one run.

(i)  exact moments 1..30 of a free product of 10 MP laws with distinct
     ratios: Lagrange inversion (what the laws use) against the generic
     moments -> S-series -> product -> moments path of theory.freeprob.
(ii) float density of FussCatalan(3) at 10^5 points: our pdf_numpy (support
     parametrisation) and our generic Stieltjes-root path (free product of
     three MP(1)), against freealg's FussCatalan(3).density (if installed),
     errors against the mpmath reference at a subsample.

Run: python benchmarks/bench_laws.py
"""
from __future__ import annotations

import time

import mpmath
import numpy as np
import sympy

from gapcheck.theory import freeprob
from gapcheck.theory.laws import FussCatalan, MarchenkoPastur, free_product


def timed(f, repeat=3):
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = f()
        best = min(best, time.perf_counter() - t)
    return best, out


def bench_moments():
    ratios = [sympy.Rational(j, 11) for j in range(1, 11)]
    laws = [MarchenkoPastur(r) for r in ratios]
    t_lag, moms = timed(lambda: free_product(*laws).moments(30), repeat=3)
    t_gen, gen = timed(lambda: freeprob.free_multiplicative_moments(
        *[law.moments(30) for law in laws]), repeat=1)
    assert moms == gen, "the two exact paths disagree"
    assert moms[1] - moms[0]**2 == sum(ratios)            # Lemma 4
    print(f"(i)  moments 1..30 of MP(1/11) x ... x MP(10/11), exact: "
          f"Lagrange {t_lag * 1e3:.1f} ms, generic series reversion {t_gen * 1e3:.1f} ms, "
          f"ratio {t_gen / t_lag:.1f}x; m_30 has {len(str(moms[-1]))} characters; "
          f"{'< 1 s: OK' if t_lag < 1 else '>= 1 s: TOO SLOW'}")


def bench_density(n=100_000, n_ref=400, seed=0):
    law = FussCatalan(3)
    b = float(law.support()[1])
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(0, b, n))
    x = x[(x > 1e-9 * b) & (x < (1 - 1e-9) * b)]
    sub = np.linspace(0, len(x) - 1, n_ref).astype(int)
    with mpmath.workdps(30):
        ref = np.array([float(law.pdf(xi, dps=30)) for xi in x[sub]])
    interior = (x[sub] > 0.01 * b) & (x[sub] < 0.99 * b)

    def err(vals):
        e = np.abs(vals[sub] / ref - 1)
        return e.max(), e[interior].max(), int(np.sum(e > 1e-2))

    t_ours, ours = timed(lambda: law.pdf_numpy(x))
    generic = free_product(*[MarchenkoPastur(1)] * 3)
    t_gen, gen = timed(lambda: generic.pdf_numpy(x))
    rows = [("ours (parametrisation)", t_ours, err(ours)),
            ("ours (generic Stieltjes root)", t_gen, err(gen))]
    try:
        from freealg.distributions import FussCatalan as FAFussCatalan
    except ImportError:
        FAFussCatalan = None
    if FAFussCatalan is not None:
        fa = FAFussCatalan(3)
        t_fa, vals = timed(lambda: np.asarray(fa.density(x)))
        rows.append(("freealg FussCatalan(3).density", t_fa, err(vals)))
    print(f"(ii) FussCatalan(3) float density at {len(x)} points; errors vs mpmath (dps 30) "
          f"at {n_ref} points (interior = [0.01 b, 0.99 b]):")
    for name, t, (e_all, e_int, wrong) in rows:
        print(f"     {name:32s} {t * 1e3:9.1f} ms   max rel err {e_all:.2e} "
              f"(interior {e_int:.2e}), points off by > 1%: {wrong}/{n_ref}")
    if FAFussCatalan is not None:
        print(f"     ratios: freealg / ours time {t_fa / t_ours:.1f}x; "
              f"freealg / ours max error {rows[2][2][0] / max(rows[0][2][0], 1e-300):.2e}x "
              f"(interior {rows[2][2][1] / max(rows[0][2][1], 1e-300):.2e}x)")
    else:
        print("     freealg not installed: compared against our generic root path only; "
              f"generic / parametrisation time {t_gen / t_ours:.1f}x")


if __name__ == "__main__":
    bench_moments()
    bench_density()
