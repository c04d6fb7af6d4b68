"""Sweeps over presets, widths and ratios: the tidy table behind ``gapcheck sweep``.

Columns ``preset, n, gamma, sample, layer, measure, value``; ``layer`` l = 1..L
is X_l, the output of the l-th layer (for gradient measures, l is the layer of
W_l and the output is X_L).  Presets with the same kind of attention share
their random draws at each (n, gamma) (common random numbers: every preset's
samples are exact samples of its own model; samples of different presets are
dependent, which sharpens comparisons between them).  A signal that
underflows to zero (key-query attention with the gap removed and Xavier
scaling contracts like X_l ~ X_{l-1}^3) ends its rows early, and
``SweepTable.notes`` says where.

>>> t = sweep(["A", "A-perp"], [8, 16], depth=2, samples=2, seed=0)
>>> len(t), t.columns
(16, ('preset', 'n', 'gamma', 'sample', 'layer', 'measure', 'value'))
>>> sorted(set(t.column("preset")))
['A', 'A-perp']
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

import numpy as np

from ..theory import _validate
from ..theory.model import PRESETS, AttentionModel, preset as _preset

from .backend import namespace, to_numpy
from .forward import draw, propagate
from .gradients import grad_norms_sq
from .measures import covariance_stable_rank, frobenius_sq, gap_ratio, spectral_norm

__all__ = ["sweep", "SweepTable", "MEASURES", "COLUMNS"]

COLUMNS = ("preset", "n", "gamma", "sample", "layer", "measure", "value")

MEASURES = {
    "stable-rank": "stable rank ||S||_F^2/||S||_2^2 of S = X_l X_l^T",
    "gap-ratio": "s_1(X_l) / s_2(X_l)",
    "top-sv": "largest singular value s_1(X_l)",
    "frobenius-sq": "||X_l||_F^2",
    "grad-norm": "||dX_L/dW_l||_F",
    "grad-norm-sq": "||dX_L/dW_l||_F^2",
}


@dataclass
class SweepTable:
    """A tidy table (one row per preset, n, gamma, sample, layer, measure)."""

    data: dict
    notes: list = field(default_factory=list)
    columns: tuple = COLUMNS

    def __len__(self) -> int:
        return len(self.data["value"])

    def column(self, name: str) -> np.ndarray:
        _validate.one_of("column", name, COLUMNS)
        return self.data[name]

    def where(self, **conditions) -> "SweepTable":
        """Rows whose columns equal the given values."""
        mask = np.ones(len(self), dtype=bool)
        for k, v in conditions.items():
            _validate.one_of("column", k, COLUMNS)
            mask &= self.data[k] == v
        return SweepTable({k: a[mask] for k, a in self.data.items()}, list(self.notes))

    def rows(self):
        cols = [self.data[c] for c in COLUMNS]
        for i in range(len(self)):
            yield tuple(c[i].item() if hasattr(c[i], "item") else c[i] for c in cols)

    def to_csv(self, path=None) -> str | None:
        """Write CSV to ``path`` (or return it as a string)."""
        buf = io.StringIO() if path is None else open(path, "w", newline="")
        with buf if path is not None else _nullctx(buf):
            w = csv.writer(buf)
            w.writerow(COLUMNS)
            for r in self.rows():
                w.writerow([repr(x) if isinstance(x, float) else x for x in r])
            if path is None:
                return buf.getvalue()
        return None

    def to_pandas(self):
        import pandas as pd
        return pd.DataFrame({c: self.data[c] for c in COLUMNS})


class _nullctx:
    def __init__(self, x):
        self.x = x

    def __enter__(self):
        return self.x

    def __exit__(self, *a):
        return False


def _parse_presets(presets):
    if isinstance(presets, str):
        presets = list(PRESETS) if presets == "all" else [presets]
    if isinstance(presets, dict):
        for k, v in presets.items():
            if not isinstance(v, AttentionModel):
                raise ValueError(f"presets[{k!r}] must be an AttentionModel (got {type(v).__name__})")
        return dict(presets)
    out = {}
    for name in presets:
        _preset(name, n=2, depth=1)  # validates the name
        out[name] = None
    if not out:
        raise ValueError("presets must name at least one preset")
    return out


def _as_list(name, values, kind):
    values = list(values) if isinstance(values, (list, tuple, np.ndarray, range)) else [values]
    if not values:
        raise ValueError(f"{name} must not be empty")
    return values


def sweep(presets="all", ns=(20, 40, 60, 80, 100, 150), *, depth=10, samples=5, gamma=1,
          measures=("stable-rank",), seed=0, backend="numpy", dtype="float64",
          method="auto", grad_method="auto", probes=32, progress=False) -> SweepTable:
    """Sample every preset at every (n, gamma) and tabulate the measures.

    ``presets``: "all", a preset name, a list of names, or a dict
    ``{label: AttentionModel}`` (its n, gamma and depth are replaced by the
    grid's).  ``method`` is the spectral-norm method of the measures,
    ``grad_method``/``probes`` those of :func:`numerics.gradients.grad_norms_sq`.
    """
    models = _parse_presets(presets)
    ns = [_validate.integer("n", n, minimum=2) for n in _as_list("ns", ns, int)]
    gammas = [_validate.in_interval("gamma", g, 0, 1) for g in _as_list("gamma", gamma, float)]
    depth = _validate.integer("depth", depth, minimum=1)
    samples = _validate.integer("samples", samples, minimum=1)
    measures = [measures] if isinstance(measures, str) else list(measures)
    for m in measures:
        _validate.one_of("measure", m, tuple(MEASURES))
    _validate.integer("seed", seed, minimum=0)
    namespace(backend)  # unknown backend / missing CuPy fail before any work
    chunks = {c: [] for c in COLUMNS}
    notes = []
    grid = [(gi, g, n) for gi, g in enumerate(gammas) for n in ns]
    bar = _progress(progress, len(grid) * len(models))
    for gi, g, n in grid:
        shared = {}
        ss = np.random.SeedSequence([seed, gi, n])
        for label, template in models.items():
            if template is None:
                model = _preset(label, n=n, depth=depth, gamma=g)
            else:
                model = template.replace(n=n, depth=depth, gamma=g)
            key = (model.attention, model.ensemble, model.sigma_a2, model.sigma_V2, model.sigma_QK2)
            if key not in shared:
                shared[key] = draw(model, batch=samples, rng=np.random.default_rng(ss),
                                   backend=backend, dtype=dtype)
            dr = shared[key]
            for meas in measures:
                vals, layers, note = _measure(model, dr, meas, method, grad_method, probes, ss)
                if note:
                    notes.append(f"{label}, n={n}, gamma={g}: {note}")
                if vals is None:
                    continue
                nl = vals.shape[0]
                chunks["preset"].append(np.full(nl * samples, label, dtype=object))
                chunks["n"].append(np.full(nl * samples, n))
                chunks["gamma"].append(np.full(nl * samples, float(g)))
                chunks["sample"].append(np.tile(np.arange(samples), nl))
                chunks["layer"].append(np.repeat(layers, samples))
                chunks["measure"].append(np.full(nl * samples, meas, dtype=object))
                chunks["value"].append(vals.reshape(-1))
            bar.update(1)
    bar.close()
    data = {c: (np.concatenate(v) if v else np.array([])) for c, v in chunks.items()}
    return SweepTable(data, notes)


def _measure(model, dr, meas, method, grad_method, probes, ss):
    """Values (layers, samples), layer numbers, and a note."""
    if meas.startswith("grad"):
        g = grad_norms_sq(model, draws=dr, method=grad_method, probes=probes,
                          rng=np.random.default_rng(ss.spawn(1)[0]))
        vals = g.T if meas == "grad-norm-sq" else np.sqrt(g.T)
        return vals, np.arange(1, model.depth + 1), None
    cache = dr.__dict__.setdefault("_traj", {})
    if model not in cache:
        cache[model] = propagate(model, dr, on_underflow="stop")
    traj = cache[model]
    L = traj.depth
    if L == 0:
        return None, None, traj.stopped
    xp = namespace(traj.backend)
    X = xp.stack(traj.X[1:], axis=0)  # (L, batch, n, d)
    if meas == "stable-rank":
        v = covariance_stable_rank(X, method)
    elif meas == "gap-ratio":
        v = gap_ratio(X, method=method, hermitian=False)
    elif meas == "top-sv":
        v = spectral_norm(X, method, hermitian=False)
    else:
        v = frobenius_sq(xp.astype(X, xp.float64))
    return to_numpy(v), np.arange(1, L + 1), traj.stopped


class _NoBar:
    def update(self, k):
        pass

    def close(self):
        pass


def _progress(progress, total):
    if not progress:
        return _NoBar()
    from tqdm import tqdm
    return tqdm(total=total, desc="sweep", unit="model", leave=False)
