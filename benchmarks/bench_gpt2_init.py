"""GPT-2-small at initialisation (issue 14): stable rank and gradient norms of
every layer, timed against the matrix-product floor measured in the same run.

The model is ``theory.presets.init_preset("gpt2")``: n = 1024 tokens,
d = 768 (gamma = n/d = 4/3 > 1, so X_0 has orthonormal columns), 12 heads of
d_k = 64, 12 pre-LN blocks with causal attention and a GELU MLP of width 4d,
std 0.02 weights and 0.02/sqrt(2L) residual projections.  For ``--samples``
networks (default 8) it prints, per layer l = 0..L, the mean stable rank
srank(X_l X_l^T) and, per layer l = 1..L, ||dX_L/dW_V,l||_F^2 (reverse-mode
Hutchinson with ``--probes`` cotangents; mean and standard error).

The floor: the matrix products the computation cannot avoid, at the same
shapes, dtype and batch, timed here on random arrays with nothing else (no
softmax, LayerNorm, GELU, mask, measure or bookkeeping):

* forward, per block: Q, K, V and W_O (4 products n x d x d), per head the
  logits (n x d_k x n) and the mix (n x n x d_k), the MLP (2 products
  n x d x 4d);
* one reverse pass (VJP), per block: the cotangent through each of those
  products (the same 6 + 2H products), the second factor of the logits and of
  the mix (2H more), the value weight's gradient (d x n x d) and the
  cotangent through W_Q, W_K (included above);

so floor(forward + measures) = samples x forward, floor(gradients) =
samples x (forward + probes x reverse).  The ratios time / floor, in wall
and in CPU time, are what the script reports (1 would be matrix products only).

    python benchmarks/bench_gpt2_init.py                      # the full size (slow on a CPU)
    python benchmarks/bench_gpt2_init.py --n 256 --d 192 --layers 4 --samples 4 --probes 4
"""
from __future__ import annotations

import os
import sys

if "--threads" in sys.argv:  # BLAS threads must be set before numpy is imported
    _threads = sys.argv[sys.argv.index("--threads") + 1]
else:
    _threads = "1"  # one thread: a shared machine's cores fight over more (set --threads)
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, _threads)

import argparse  # noqa: E402
import math  # noqa: E402
import time  # noqa: E402
from fractions import Fraction  # noqa: E402

import numpy as np  # noqa: E402

from gapcheck.theory.presets import init_preset  # noqa: E402
from gapcheck.numerics.backend import namespace, to_numpy  # noqa: E402
from gapcheck.numerics.forward import draw, propagate  # noqa: E402
from gapcheck.numerics.gradients import grad_norms_sq  # noqa: E402
from gapcheck.numerics.measures import covariance_stable_rank  # noqa: E402
from gapcheck.numerics.rng import as_generator  # noqa: E402


def _sync(xp):
    if "cupy" in xp.__name__:
        import cupy
        cupy.cuda.Device().synchronize()


def products(n, d, heads, wide):
    """The forward and reverse (VJP) matrix products of one block:
    lists of ``(m, k, p, count)`` for an (m x k) @ (k x p) product."""
    dk = d // heads
    forward = [(n, d, d, 4), (n, dk, n, heads), (n, n, dk, heads), (n, d, wide, 1), (n, wide, d, 1)]
    reverse = [(n, d, d, 4), (d, n, d, 1),              # Q, K, V, W_O cotangents; grad W_V
               (n, n, dk, 3 * heads), (n, dk, n, heads),  # A^T g, gS K, gS^T Q; g V^T
               (n, d, wide, 1), (n, wide, d, 1)]          # the MLP's two
    return forward, reverse


def floor_time(xp, dtype, batch, plist, blocks, reps=2):
    """(wall, CPU) seconds of ``blocks`` blocks' products ``plist`` at ``batch``
    (best of ``reps``)."""
    g = np.random.default_rng(0)
    arrays = [(xp.asarray(g.standard_normal((batch, m, k)), dtype=dtype),
               xp.asarray(g.standard_normal((batch, k, p)), dtype=dtype), c)
              for m, k, p, c in plist]
    best = (math.inf, math.inf)
    for _ in range(reps):
        _sync(xp)
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(blocks):
            for A, B, c in arrays:
                for _ in range(c):
                    A @ B
        _sync(xp)
        best = min(best, (time.perf_counter() - t0, time.process_time() - c0))
    return best


class Clock:
    """Wall and CPU seconds accumulated over ``with clock:`` blocks (CPU time is
    the fairer measure on a loaded shared machine with one BLAS thread)."""

    def __init__(self, xp):
        self.xp, self.wall, self.cpu = xp, 0.0, 0.0

    def __enter__(self):
        _sync(self.xp)
        self._t = (time.perf_counter(), time.process_time())

    def __exit__(self, *exc):
        _sync(self.xp)
        self.wall += time.perf_counter() - self._t[0]
        self.cpu += time.process_time() - self._t[1]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1024, help="tokens (1024)")
    ap.add_argument("--d", type=int, default=768, help="width (768)")
    ap.add_argument("--heads", type=int, default=12)
    ap.add_argument("--layers", type=int, default=12)
    ap.add_argument("--samples", type=int, default=8)
    ap.add_argument("--probes", type=int, default=8, help="Hutchinson cotangents per network")
    ap.add_argument("--chunk", type=int, default=1, help="networks sampled at once (memory)")
    ap.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    ap.add_argument("--backend", default="numpy", choices=("numpy", "cupy"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", default="1", help="BLAS threads (default 1)")
    a = ap.parse_args(argv)
    if a.probes < 2:
        ap.error("--probes must be >= 2 (the Hutchinson standard error needs two)")
    model = init_preset("gpt2", n=a.n, depth=a.layers, gamma=Fraction(a.n, a.d), heads=a.heads)
    if model.d != a.d:
        raise SystemExit(f"--n / --d must give the width exactly (d = {model.d})")
    xp = namespace(a.backend)
    dtype = getattr(xp, a.dtype)
    n, d, H, L, wide = a.n, a.d, a.heads, a.layers, 4 * a.d
    it = np.dtype(a.dtype).itemsize
    cache = a.chunk * L * (2 * H * n * n + 12 * n * d + 3 * n * wide) * it
    print(f"GPT-2 init: n = {n}, d = {d} (gamma = {Fraction(n, d)}), {H} heads of d_k = {d // H}, "
          f"{L} pre-LN causal blocks, GELU MLP 4d; {a.samples} networks, {a.probes} probes, "
          f"{a.dtype} on {a.backend}; gradient cache about {cache / 2**30:.2f} GiB per chunk")
    gen = as_generator(a.seed)
    sranks, grads, ses = [], [], []
    t_fwd, t_grad = Clock(xp), Clock(xp)
    for start in range(0, a.samples, a.chunk):
        b = min(a.chunk, a.samples - start)
        g_draw, g_probe = gen.spawn(2)
        dr = draw(model, batch=b, rng=g_draw, backend=a.backend, dtype=a.dtype)
        with t_fwd:
            traj = propagate(model, dr)
            sranks.append(np.stack([to_numpy(covariance_stable_rank(x)) for x in traj.X], axis=-1))
        with t_grad:
            v, se = grad_norms_sq(model, draws=dr, method="hutchinson", probes=a.probes,
                                  rng=g_probe, return_se=True, chunk=min(a.probes, 4))
        grads.append(v)
        ses.append(se)
        del dr, traj
    sr = np.concatenate(sranks)  # (samples, L + 1)
    gv = np.concatenate(grads)   # (samples, L)
    print("layer   srank(X_l X_l^T)        ||dX_L/dW_V,l||_F^2 (mean over networks ± SE)")
    for l in range(L + 1):
        s_mean = sr[:, l].mean()
        s_se = sr[:, l].std(ddof=1) / math.sqrt(len(sr)) if len(sr) > 1 else float("nan")
        line = f"{l:5d}   {s_mean:10.4g} ± {s_se:8.2g}"
        if l >= 1:
            g_mean = gv[:, l - 1].mean()
            g_se = gv[:, l - 1].std(ddof=1) / math.sqrt(len(gv)) if len(gv) > 1 else float("nan")
            line += f"     {g_mean:10.4g} ± {g_se:8.2g}"
        print(line)
    fwd, rev = products(n, d, H, wide)
    chunks = -(-a.samples // a.chunk)
    f_fwd = [chunks * t for t in floor_time(xp, dtype, a.chunk, fwd, L)]
    f_rev = [chunks * t for t in floor_time(xp, dtype, a.chunk, rev, L)]
    f_grad = [f + a.probes * r for f, r in zip(f_fwd, f_rev)]
    for what, clock, floor in (("forward + stable ranks", t_fwd, f_fwd),
                               (f"gradient norms ({a.probes} probes)", t_grad, f_grad)):
        print(f"{what}: wall {clock.wall:.2f} s vs matrix-product floor {floor[0]:.2f} s, ratio "
              f"{clock.wall / floor[0]:.2f}; CPU {clock.cpu:.2f} s vs {floor[1]:.2f} s, ratio "
              f"{clock.cpu / max(floor[1], 1e-9):.2f}")


if __name__ == "__main__":
    main()
