"""Empirical check of ``audit.head-recovery`` (D4), on the toolkit, against
:class:`theory.companions.audit.HeadRecovery` (fields in the statement's own
``n_X, H_X, d_k, r_O``, specialised per shape):

* ``kernel``: the kernel dimension of the head-sum map ``I_n (x) W_O^T`` (SVD,
  ``1e-9`` relative threshold) for Gaussian ``W_O`` of full and of reduced
  rank, against ``kernel`` at the measured rank;
* ``gauge``: the gauge symmetries leave the multi-head output unchanged
  (relative ``1e-12``; ``M, N`` well conditioned), and the null space of the
  exact parameter Jacobian of multi-head attention (several inputs stacked)
  has dimension ``gauge``; the spectral gap around it is reported (~1e-3
  against ~1e-16).

>>> from gapcheck.numerics.checks import VerifyConfig
>>> [c.label for c in CHECK.cases(VerifyConfig(level="quick"))]
['kernel', 'gauge']
"""
from __future__ import annotations

import numpy as np

from . import toolkit as T
from ..companions.heads import (gauge_transform, head_recovery_matrix, init_heads, kernel_dimension,
                                multihead_attention, numerical_rank, parameter_jacobian, require_numpy)
from ...theory.companions.audit import D_K, RANK_O, TOKENS, HEADS, specialise
from ...theory.registry import get

__all__ = ["CHECK", "run", "NEGATIVE_CONTROLS", "KERNEL_SHAPES"]

#: (n, H, d_k, d, rank of W_O or None for a full-rank draw)
KERNEL_SHAPES = ((6, 2, 4, 4, None), (5, 3, 2, 6, None), (4, 3, 2, 8, None), (4, 3, 2, 6, 4), (3, 4, 2, 8, 5))


class HeadRecoveryCheck(T.Check):
    result_id = "audit.head-recovery"

    def cases(self, config):
        ex = get(self.result_id).example()
        gauge = config.pick(((6, 4, 2, 2, 4),), ((6, 4, 2, 2, 4), (8, 6, 2, 3, 4)),
                            ((6, 4, 2, 2, 4), (8, 6, 2, 3, 4), (5, 6, 3, 2, 5)))
        return [T.Case(ex, KERNEL_SHAPES, 1, "kernel"), T.Case(ex, gauge, 1, "gauge")]

    def measure(self, config, case):
        require_numpy(config.backend, "numerics.checks.audit_head_recovery")
        gen = T.generator(config, self.result_id, case.label)
        rows = []
        if case.label == "kernel":
            for n, H, dk, d, rank in case.ns:
                Wo = gen.standard_normal((H * dk, d))
                if rank is not None:
                    Wo = gen.standard_normal((H * dk, rank)) @ gen.standard_normal((rank, d))
                rows.append({"n": n, "H": H, "d_k": dk, "d": d, "rank W_O": numerical_rank(Wo),
                             "kernel": kernel_dimension(head_recovery_matrix(n, Wo))})
            return rows
        for n, d, H, dk, nx in case.ns:
            p = init_heads(d, H, dk, rng=gen, backend=config.backend)
            X = gen.standard_normal((n, d))
            Q = np.linalg.qr(gen.standard_normal((2, H, dk, dk)))[0]
            M = Q[0] * gen.uniform(0.5, 2, (H, 1, dk))
            N = Q[1] * gen.uniform(0.5, 2, (H, 1, dk))
            Y, Yg = multihead_attention(X, p), multihead_attention(X, gauge_transform(p, M, N))
            Jm = parameter_jacobian([gen.standard_normal((n, d)) for _ in range(nx)], p)
            s = np.linalg.svd(Jm, compute_uv=False)
            k = numerical_rank(Jm)
            rows.append({"n": n, "d": d, "H": H, "d_k": dk, "inputs": nx,
                         "rel": float(np.linalg.norm(Yg - Y) / np.linalg.norm(Y)), "null": Jm.shape[1] - k,
                         "cut": (s[k - 1] / s[0], (s[k] / s[0]) if k < s.size else 0.0)})
        return rows

    def compare(self, config, case, rows, pred):
        out = []
        for row in rows:
            par = {k: v for k, v in row.items() if k not in ("kernel", "rel", "null", "cut")}
            if case.label == "kernel":
                want = specialise(pred.kernel, n=row["n"], H=row["H"], d_k=row["d_k"], r_O=row["rank W_O"])
                out.append(T.identity("kernel dimension of the head sum", par, measured=row["kernel"],
                                      predicted=want, judges=("kernel",), rtol=0.0))
                continue
            want = specialise(pred.gauge, H=row["H"], d_k=row["d_k"])
            out += [T.bound("gauge symmetries: relative change of the output", par, measured=row["rel"],
                            limit=1e-12, judges=("gauge",)),
                    T.identity("null space of the parameter Jacobian = gauge directions", par, measured=row["null"],
                               predicted=want, judges=("gauge",), rtol=0.0)]
        return out


CHECK = HeadRecoveryCheck()
CHECK.controls = (
    T.Control("kernel n(H-1)d_k always (literal abstract)",
              lambda m, pred: (lambda p: p.replace(kernel=p.kernel.subs(RANK_O, D_K)))(pred(m)), ("kernel",)),
    T.scale("gauge", 0.5, name="gauge only W_V/W_O (H d_k^2)"),
    T.Control("kernel ignores rank deficiency (W_O of rank H d_k)",
              lambda m, pred: (lambda p: p.replace(kernel=p.kernel.subs(RANK_O, HEADS * D_K)))(pred(m)),
              ("kernel",)),
)
run = CHECK.run
NEGATIVE_CONTROLS = CHECK.NEGATIVE_CONTROLS
