"""The one registry of measured statistics, shared by ``gapcheck scaling`` and
``gapcheck sweep``.

A :class:`Statistic` is a function of a sampled trajectory
(:class:`numerics.forward.Trajectory`) and a layer, returning one value per
sampled network (shape ``(batch,)``, numpy).  Names are unambiguous: the
signal's gap ratio (``gap-ratio-signal``, s_1/s_2 of X_l) and the attention's
(``gap-ratio-attention``, of A_l) are two statistics, and so are the gradient
norm (``grad-norm``) and its square (``grad-norm-sq``).  Each names the
results of :mod:`theory.registry` that predict it (``predicted_by``).

>>> sorted(STATISTICS)[:4]
['attention-deviation', 'entropy', 'entropy-deficit', 'frobenius-sq']
>>> get_statistic("grad-norm").description
'||dX_L/dW_l||_F (the norm, not its square: see grad-norm-sq)'
>>> get_statistic("gap-ratio")
Traceback (most recent call last):
...
ValueError: statistic 'gap-ratio' is ambiguous: use gap-ratio-signal (s_1/s_2 of the signal X_l) or gap-ratio-attention (s_1/s_2 of the attention A_l)
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..theory import _validate

__all__ = ["Statistic", "STATISTICS", "ALIASES", "get_statistic", "measure"]


@dataclass(frozen=True)
class Statistic:
    """A measured quantity ``fn(trajectory, layer) -> (batch,)`` (numpy).

    ``keep``: what the trajectory must keep (``"X"``, ``"A"``, ...);
    ``gradients``: ``fn`` also takes ``draws=`` (the networks' random draws,
    :func:`numerics.forward.draw`) to compute gradient norms;
    ``layer_from``: smallest valid layer; ``floor``: values below it are at
    float64 round-off; ``predicted_by``: ids of the results that predict it."""

    name: str
    description: str
    fn: Callable
    keep: tuple = ("X",)
    layer_from: int = 1
    gradients: bool = False
    floor: float = 0.0
    predicted_by: tuple = ()


def _np(x):
    from .backend import to_numpy
    return np.asarray(to_numpy(x), dtype=float)


def _srank(t, layer):
    from .measures import covariance_stable_rank
    return _np(covariance_stable_rank(t.X[layer]))


def _heads_mean(f, A):
    """``f`` of the attention ``A``; with H heads (batch, H, n, n), the mean over
    the heads of ``f`` of each head (a statistic of a multi-head layer)."""
    if len(A.shape) == 3:
        return _np(f(A))
    from .backend import get_namespace
    b, H, n = A.shape[0], A.shape[1], A.shape[-1]
    return _np(f(get_namespace(A).reshape(A, (b * H, n, n)))).reshape(b, H).mean(axis=1)


def _gap_attention(t, layer):
    from .measures import gap_ratio
    return _heads_mean(lambda A: gap_ratio(A, hermitian=False), t.A[layer])


def _gap_signal(t, layer):
    from .measures import gap_ratio
    return _np(gap_ratio(t.X[layer], hermitian=False))


def _top_sv(t, layer):
    from .measures import spectral_norm
    return _np(spectral_norm(t.X[layer], hermitian=False))


def _top_eig(t, layer):
    return _top_sv(t, layer) ** 2


def _frobenius_sq(t, layer):
    from .measures import frobenius_sq
    return _np(frobenius_sq(_np(t.X[layer])))


def _deviation(t, layer):
    from .measures import spectral_norm
    A = _np(t.A[layer])
    n = A.shape[-1]
    return _heads_mean(lambda A: spectral_norm(math.sqrt(n) * (A - 1.0 / n), hermitian=False), A)


def _row_entropy(A):
    A = np.clip(A, 1e-300, None)
    return -(A * np.log(A)).sum(axis=-1).mean(axis=-1)


def _entropy(t, layer):
    return _heads_mean(_row_entropy, _np(t.A[layer]))


def _entropy_deficit(t, layer):
    A = _np(t.A[layer])
    return math.log(A.shape[-1]) - _heads_mean(_row_entropy, A)


def _outliers(t, layer):
    from .measures import spectral_outliers
    A = _np(t.A[layer])
    return _heads_mean(lambda A: spectral_outliers(math.sqrt(A.shape[-1]) * A).astype(float), A)


def _grad_sq(t, layer, draws):
    from .gradients import grad_norms_sq
    return _np(grad_norms_sq(t.model, draws=draws))[:, layer - 1]


def _grad(t, layer, draws):
    return np.sqrt(_grad_sq(t, layer, draws))


STATISTICS: dict[str, Statistic] = {s.name: s for s in [
    Statistic("stable-rank", "stable rank ||S||_F^2/||S||_2^2 of S = X_l X_l^T", _srank,
              layer_from=0, predicted_by=("prop3", "prop5")),
    Statistic("srank-excess", "stable rank of X_l X_l^T minus 1 (-> 0 under rank collapse)",
              lambda t, l: _srank(t, l) - 1.0, layer_from=0, floor=1e-13,
              predicted_by=("prop3",)),
    Statistic("srank-fraction", "stable rank of X_l X_l^T divided by n",
              lambda t, l: _srank(t, l) / t.X[l].shape[-2], layer_from=0, predicted_by=("prop5",)),
    Statistic("gap-ratio-signal", "s_1/s_2 of the signal X_l", _gap_signal, layer_from=0,
              predicted_by=("thm10",)),
    Statistic("gap-ratio-attention", "s_1/s_2 of the attention A_l (~ sqrt(n)/(2 sigma_A))",
              _gap_attention, keep=("X", "A"), predicted_by=("thm2", "prop1")),
    Statistic("top-sv", "largest singular value s_1(X_l)", _top_sv, layer_from=0,
              predicted_by=("thm9",)),
    Statistic("top-eig", "largest eigenvalue of X_l X_l^T (s_1(X_l)^2)", _top_eig, layer_from=0,
              predicted_by=("prop7", "thm9")),
    Statistic("frobenius-sq", "||X_l||_F^2", _frobenius_sq, layer_from=0),
    Statistic("attention-deviation", "||sqrt(n)(A_l - 11^T/n)||_2 (0 for uniform attention)",
              _deviation, keep=("X", "A"), predicted_by=("lemma3", "thm2")),
    Statistic("grad-norm", "||dX_L/dW_l||_F (the norm, not its square: see grad-norm-sq)",
              _grad, gradients=True, predicted_by=("prop4", "prop6")),
    Statistic("grad-norm-sq", "||dX_L/dW_l||_F^2", _grad_sq, gradients=True,
              predicted_by=("prop4", "prop6")),
    Statistic("entropy", "mean row entropy of A_l", _entropy, keep=("X", "A")),
    Statistic("entropy-deficit", "log n minus the mean row entropy of A_l (0 for uniform "
              "attention)", _entropy_deficit, keep=("X", "A")),
    Statistic("outliers", "number of outlying singular values of sqrt(n) A_l: spikes separated "
              "from the bulk by more than 8 edge spacings, with delocalised singular vectors "
              "(numerics.measures.spectral_outliers)", _outliers, keep=("X", "A"),
              predicted_by=("thm2", "lemma3")),
]}

#: other names accepted for a statistic (same meaning everywhere)
ALIASES = {"srank": "stable-rank"}
#: names refused because they meant different things in different commands
AMBIGUOUS = {"gap-ratio": "use gap-ratio-signal (s_1/s_2 of the signal X_l) or "
                          "gap-ratio-attention (s_1/s_2 of the attention A_l)"}


def get_statistic(name) -> Statistic:
    """The registered statistic ``name`` (or an alias); a :class:`Statistic` passes through."""
    if isinstance(name, Statistic):
        return name
    if name in AMBIGUOUS:
        raise ValueError(f"statistic {name!r} is ambiguous: {AMBIGUOUS[name]}")
    _validate.one_of("statistic", ALIASES.get(name, name), tuple(STATISTICS))
    return STATISTICS[ALIASES.get(name, name)]


def measure(statistic, model, layer: int, *, batch: int, rng=None, backend: str = "numpy"):
    """Sample ``batch`` networks of ``model`` and return the statistic at ``layer``
    (numpy, shape ``(batch,)``).

    ``statistic``: a registered name, a :class:`Statistic`, or any callable
    ``fn(trajectory, layer)`` (which then sees ``X`` and ``A`` of every layer).

    >>> from gapcheck.theory.model import preset
    >>> measure("outliers", preset("A", n=32, depth=1), 1, batch=3, rng=0)
    array([1., 1., 1.])
    """
    from .forward import draw, propagate

    if callable(statistic) and not isinstance(statistic, Statistic):
        statistic = Statistic(getattr(statistic, "__name__", "statistic"), "user-defined",
                              statistic, keep=("X", "A"), layer_from=0)
    stat = get_statistic(statistic)
    if STATISTICS.get(stat.name) is stat and "A" in stat.keep and \
            model.attention == "identity" and not model.remove_gap:
        raise ValueError(f"statistic {stat.name} measures the attention A_l; this model has "
                         "identity attention (no A_l)")
    draws = draw(model, batch=batch, rng=rng, backend=backend)
    traj = propagate(model, draws, keep=stat.keep)
    out = stat.fn(traj, layer, draws=draws) if stat.gradients else stat.fn(traj, layer)
    out = np.asarray(_np(out), dtype=float).reshape(-1)
    if out.shape != (batch,):
        raise ValueError(f"statistic {stat.name} must return one value per sampled network "
                         f"(shape ({batch},)), got shape {out.shape}")
    return out
