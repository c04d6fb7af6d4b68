"""Sweeps over presets, widths and ratios: the tidy table behind ``gapcheck sweep``.

Columns ``preset, n, gamma, sample, layer, measure, value``; ``layer`` l = 1..L
is X_l, the output of the l-th layer (for gradient measures, l is the layer of
W_l and the output is X_L).  Rows are ordered by gamma, n, sample, preset (in
the order given), measure, layer.

**Chunks.**  A sweep is a set of independent chunks ``(gamma, n, group, block
of samples)``.  A *group* is the presets with the same kind of attention and
the same scales at (n, gamma): they share their random draws (common random
numbers: every preset's samples are exact samples of its own model; samples of
different presets in one group are dependent, which sharpens comparisons).
Sample ``s`` of a group at (n, gamma) is drawn from
``SeedSequence(seed, spawn_key=(group, n, gamma, s))``, a function of the root
seed and the coordinates only: the table does not depend on the order, the
place, or the block size in which chunks run (the Hutchinson probes of
estimated gradient norms, ``grad_method="hutchinson"``, are drawn per chunk
and so depend on the blocks too).  :func:`run_chunk` is the worker code, the
same in-process and on Dask workers.

**Store, resume, memory.**  Finished chunks go to a store
(:mod:`numerics.store`: a Parquet dataset with the tidy columns plus
``version`` and ``model``, the package version and the model's description);
re-running the same sweep on the same store skips finished chunks.  Before any
work, :func:`memory_estimate` bounds the memory of the largest chunk (and of
the bookkeeping) and :func:`plan` refuses what exceeds the limit.  Peak memory
depends on the chunk size (:data:`CHUNK_BUDGET`, :data:`CHUNK_CAP`), not on
``samples``.

A signal that underflows to zero (key-query attention with the gap removed
and Xavier scaling contracts like X_l ~ X_{l-1}^3) ends its rows early, and
``SweepTable.notes`` says where; in float32 this happens at a smaller depth
(smallest normal 1.2e-38 against 2.2e-308), and :class:`PrecisionWarning` says so.

>>> t = sweep(["A", "A-perp"], [8, 16], depth=2, samples=2, seed=0)
>>> len(t), t.columns
(16, ('preset', 'n', 'gamma', 'sample', 'layer', 'measure', 'value'))
>>> sorted(set(t.column("preset")))
['A', 'A-perp']
"""
from __future__ import annotations

import csv
import functools
import hashlib
import io
import json
import math
import os
import struct
import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from ..theory import __version__, _validate
from ..theory.model import BLOCKS, PRESETS, AttentionModel, preset as _preset

from .backend import namespace, to_numpy
from .blas import blas_limit
from .forward import Draws, draw, propagate
from .gradients import grad_norms_sq
from .measures import covariance_stable_rank, frobenius_sq, gap_ratio, spectral_norm
from .statistics import STATISTICS
from .store import MemoryStore, ParquetStore

__all__ = ["sweep", "run_sweep", "plan", "SweepSpec", "Chunk", "SweepTable", "run_chunk",
           "memory_estimate", "memory_limit", "sample_seed", "read_table", "iter_tables",
           "write_csv", "parse_size", "PrecisionWarning", "MEASURES", "COLUMNS", "CHUNK_BUDGET",
           "CHUNK_CAP"]

COLUMNS = ("preset", "n", "gamma", "sample", "layer", "measure", "value")

#: the statistics of the registry (numerics.statistics, shared with ``gapcheck scaling``) a
#: sweep tabulates at every layer; "gap-ratio" is kept as this table's older name of
#: gap-ratio-signal (s_1/s_2 of X_l, not of the attention)
MEASURES = {name: STATISTICS[name].description for name in (
    "stable-rank", "gap-ratio-signal", "top-sv", "frobenius-sq", "grad-norm", "grad-norm-sq")}
MEASURES["gap-ratio"] = "older name of gap-ratio-signal: " + MEASURES["gap-ratio-signal"]

#: automatic block size: the most samples whose chunk fits this many bytes ...
CHUNK_BUDGET = 256 * 2**20
#: ... and at most this many samples per chunk (granularity of resume and parallelism)
CHUNK_CAP = 32
#: bookkeeping per chunk (chunk record, file name, done set; a Dask task's state)
BYTES_PER_CHUNK = {"local": 400, "dask": 4096}
#: rows of the table held in memory, per row (numpy columns, Arrow pieces, sort)
BYTES_PER_ROW = 200
#: on disk, per row (Parquet, dictionary-encoded strings, compressed): an upper bound
DISK_BYTES_PER_ROW = 24

_F32 = np.finfo(np.float32)
_F64 = np.finfo(np.float64)


class PrecisionWarning(UserWarning):
    """float32 changed the result of a sweep (underflow at depth, rounding-limited values)."""


# --------------------------------------------------------------------------- table

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
        cols = [self.data[c].tolist() for c in COLUMNS]
        return zip(*cols)

    def to_csv(self, path=None) -> str | None:
        """Write CSV to ``path`` (or return it as a string)."""
        if path is None:
            buf = io.StringIO()
            write_csv([self], buf)
            return buf.getvalue()
        with open(path, "w", newline="") as f:
            write_csv([self], f)
        return None

    def to_pandas(self):
        import pandas as pd
        return pd.DataFrame({c: self.data[c] for c in COLUMNS})


def write_csv(tables, f) -> int:
    """Write the header and the rows of an iterable of tables to the text file ``f``."""
    w = csv.writer(f)
    w.writerow(COLUMNS)
    rows = 0
    for t in tables:
        w.writerows(t.rows())
        rows += len(t)
    return rows


# --------------------------------------------------------------------------- specification

@dataclass(frozen=True)
class Chunk:
    """One unit of work: samples ``start..stop-1`` of the presets ``presets``
    (indices into the spec) of one group at (gamma, n)."""

    gi: int
    n: int
    group: str
    block: int
    start: int
    stop: int
    presets: tuple

    @property
    def name(self) -> str:
        return f"g{self.gi:03d}-n{self.n:07d}-{self.group}-b{self.block:06d}"


def _words(x: int) -> list:
    return [x & 0xFFFFFFFF, (x >> 32) & 0xFFFFFFFF]


def _gamma_words(g: float) -> list:
    return _words(struct.unpack("<Q", struct.pack("<d", float(g)))[0])


@dataclass(frozen=True)
class SweepSpec:
    """A sweep's specification, validated (see :func:`sweep` for the fields)."""

    labels: tuple
    templates: tuple
    ns: tuple
    gammas: tuple
    depth: int
    samples: int
    measures: tuple
    seed: int = 0
    backend: str = "numpy"
    dtype: str = "float64"
    method: str = "auto"
    grad_method: str = "auto"
    probes: int = 32
    chunk_samples: int | None = None
    block: str = "stated"

    @classmethod
    def make(cls, presets="all", ns=(20, 40, 60, 80, 100, 150), *, depth=10, samples=5, gamma=1,
             measures=("stable-rank",), seed=0, backend="numpy", dtype=None, method="auto",
             grad_method="auto", probes=32, chunk_samples=None, block="stated") -> "SweepSpec":
        models = _parse_presets(presets)
        _validate.one_of("block", block, BLOCKS)
        if dtype is None:  # the convention's own: float32 for the authors' code
            dtype = AttentionModel(n=2, block=block).default_dtype
        ns = tuple(_validate.integer("n", n, minimum=2) for n in _as_list("ns", ns))
        # gamma > 1 (more tokens than features) is the models' to allow: isometry="columns"
        gammas = tuple(float(_validate.in_interval("gamma", g, 0, math.inf, hi_open=True))
                       for g in _as_list("gamma", gamma))
        depth = _validate.integer("depth", depth, minimum=1)
        samples = _validate.integer("samples", samples, minimum=1)
        measures = (measures,) if isinstance(measures, str) else tuple(measures)
        if not measures:
            raise ValueError("measures must name at least one measure")
        for m in measures:
            _validate.one_of("measure", m, tuple(MEASURES))
        seed = _validate.integer("seed", seed, minimum=0)
        _validate.one_of("dtype", dtype, ("float64", "float32"))
        _validate.one_of("method", method, ("auto", "exact", "lanczos", "power"))
        probes = _validate.integer("probes", probes, minimum=2)
        if chunk_samples is not None:
            chunk_samples = _validate.integer("chunk_samples", chunk_samples, minimum=1)
        namespace(backend)  # unknown backend / missing CuPy fail before any work
        spec = cls(tuple(models), tuple(models.values()), ns, gammas, depth, samples, measures,
                   seed, backend, dtype, method, grad_method, probes, chunk_samples, block)
        for g in gammas:  # every model at every grid point is valid before any work
            for n in ns:
                try:
                    _models(spec, n, g)
                except ValueError as exc:
                    raise ValueError(f"at n = {n}, gamma = {g:g}: {exc}") from None
        return spec

    def model(self, i: int, n: int, gamma: float) -> AttentionModel:
        return _models(self, n, gamma)[i]

    def groups(self, n: int, gamma: float) -> dict:
        """``{group name: (preset indices)}`` at (n, gamma), in order of first preset."""
        return dict(_groups(self, n, gamma))

    def block_size(self, n: int, gamma: float) -> int:
        if self.chunk_samples is not None:
            return min(self.chunk_samples, self.samples)
        per = memory_estimate(self, n, gamma, 2) - memory_estimate(self, n, gamma, 1)
        fixed = memory_estimate(self, n, gamma, 1) - per
        return max(1, min(self.samples, CHUNK_CAP, (CHUNK_BUDGET - fixed) // max(per, 1)))

    def chunks(self):
        """Every chunk, in the order of the table's rows."""
        for gi, g in enumerate(self.gammas):
            for n in self.ns:
                b = self.block_size(n, g)
                groups = self.groups(n, g)
                for block, start in enumerate(range(0, self.samples, b)):
                    for name, idx in groups.items():
                        yield Chunk(gi, n, name, block, start, min(start + b, self.samples), idx)

    def n_chunks(self) -> int:
        return sum(len(self.groups(n, g)) * -(-self.samples // self.block_size(n, g))
                   for g in self.gammas for n in self.ns)

    def n_rows(self) -> int:
        """An upper bound on the rows (layers cut by underflow are fewer)."""
        return (len(self.labels) * len(self.ns) * len(self.gammas) * self.samples * self.depth
                * len(self.measures))

    def describe(self) -> dict:
        """The JSON specification recorded in a store."""
        return {
            "format": 1,
            "presets": [lab if t is None else [lab, repr(t)] for lab, t in zip(self.labels, self.templates)],
            "n": list(self.ns), "gamma": list(self.gammas), "depth": self.depth,
            "samples": self.samples, "measures": list(self.measures), "seed": self.seed,
            "backend": self.backend, "dtype": self.dtype, "method": self.method,
            "grad_method": self.grad_method, "probes": self.probes,
            "chunk_samples": self.chunk_samples,
            "blocks": {f"{g!r}/{n}": self.block_size(n, g) for g in self.gammas for n in self.ns},
            # recorded only when not the default, so stores written before --block still resume
            **({"block": self.block} if self.block != "stated" else {}),
        }


@functools.lru_cache(maxsize=256)
def _models(spec: SweepSpec, n: int, gamma: float) -> tuple:
    """The models of ``spec`` at (n, gamma) (built once: a model validates its fields)."""
    return tuple(_preset(lab, n=n, depth=spec.depth, gamma=gamma, block=spec.block) if t is None
                 else t.replace(n=n, depth=spec.depth, gamma=gamma)
                 for lab, t in zip(spec.labels, spec.templates))


@functools.lru_cache(maxsize=256)
def _groups(spec: SweepSpec, n: int, gamma: float) -> tuple:
    out = {}
    for i, m in enumerate(_models(spec, n, gamma)):
        key = repr((m.attention, m.ensemble, m.sigma_a2, m.sigma_V2, m.sigma_QK2))
        if m.beyond_fields():  # what else the draws depend on (the paper's keys unchanged)
            key += repr((m.heads, m.key_width, m.causal, m.sigma_O2, m.isometry,
                         None if m.mlp is None else (m.mlp.width, m.mlp.variances(m.d))))
        name = f"{m.attention}-{hashlib.sha256(key.encode()).hexdigest()[:10]}"
        out.setdefault(name, []).append(i)
    return tuple((k, tuple(v)) for k, v in out.items())


def _parse_presets(presets) -> dict:
    if isinstance(presets, str):
        presets = list(PRESETS) if presets == "all" else [presets]
    if isinstance(presets, dict):
        for k, v in presets.items():
            if not isinstance(v, AttentionModel):
                raise ValueError(f"presets[{k!r}] must be an AttentionModel (got {type(v).__name__})")
        if not presets:
            raise ValueError("presets must name at least one preset")
        return {str(k): v for k, v in presets.items()}
    out = {}
    for name in presets:
        _preset(name, n=2, depth=1)  # validates the name
        out[name] = None
    if not out:
        raise ValueError("presets must name at least one preset")
    return out


def _as_list(name, values):
    values = list(values) if isinstance(values, (list, tuple, np.ndarray, range)) else [values]
    if not values:
        raise ValueError(f"{name} must not be empty")
    return values


# --------------------------------------------------------------------------- memory

@functools.lru_cache(maxsize=1024)  # asked for every chunk; the models' widths are sympy-exact
def memory_estimate(spec: SweepSpec, n: int, gamma: float, samples: int) -> int:
    """Bytes one chunk of ``samples`` samples at (n, gamma) needs at its peak (the
    largest group; an upper estimate, before any allocation).

    Draws (per-sample draws and their concatenation: twice), one preset's
    trajectory X_0..X_L, the attention and product temporaries, and the
    measures' stacked float64 copies, Gram matrices, Lanczos vectors and
    eigen-solver workspace."""
    it = 4 if spec.dtype == "float32" else 8
    b, L = int(samples), spec.depth
    d = int(math.ceil(n / gamma - 1e-9))
    nd, dd, nn = n * d, d * d, n * n
    models = [spec.model(i, n, gamma) for i in range(len(spec.labels))]
    kinds = {m.attention for m in models}
    H = max(int(m.heads) for m in models)
    qk = max(2 * d * int(m.heads) * int(m.key_width) + (dd if m.heads == 1 else 0)
             for m in models if m.attention == "key-query") if "key-query" in kinds else 0
    wide = max(0 if m.mlp is None else int(m.mlp.width) * d for m in models)
    extra = (dd if any(m.out_proj is not None for m in models) else 0) + 2 * d * wide
    draws = nd + L * dd + (L * H * nn if "markov" in kinds else 0) + L * qk + L * extra
    traj = (L + 1) * nd
    temps = 4 * H * nn + 3 * nd + 2 * n * wide
    meas = 0
    for m in spec.measures:
        if m.startswith("grad"):
            # (beyond one head / without an MLP: the cached softmax per head, the MLP's
            # hidden pre-activations per probe; both 0 for the paper's models)
            meas = max(meas, 8 * L * dd + 4 * spec.probes * nd + 4 * L * nd
                       + 2 * L * (H - 1) * nn + (spec.probes + L) * n * wide)
        else:
            meas = max(meas, 3 * L * nd + 3 * L * nn + L * min(n, 50) * n)
    return int(1.25 * b * (it * (2 * draws + traj + temps) + 8 * meas)) + 2**20


def memory_limit(max_memory=None) -> tuple:
    """``(bytes, where it comes from)``: ``max_memory`` if given, else the machine's
    memory (or the cgroup's limit, if lower)."""
    if max_memory is not None:
        return int(max_memory), "--max-memory"
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    where = "this machine's memory"
    try:
        cg = open("/sys/fs/cgroup/memory.max").read().strip()
        if cg.isdigit() and int(cg) < total:
            total, where = int(cg), "this container's memory limit"
    except OSError:
        pass
    return int(total), where


def _size(b: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if b < 1024 or unit == "PiB":
            return f"{b:.1f} {unit}" if unit != "B" else f"{int(b)} B"
        b /= 1024
    return f"{b:.1f} PiB"  # pragma: no cover


def parse_size(text) -> int:
    """``"4G"``, ``"512M"``, ``"2.5GiB"``, ``"1000000"`` -> bytes."""
    s = str(text).strip().upper().replace("IB", "").replace("B", "")
    mult = {"K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}
    try:
        if s and s[-1] in mult:
            v = float(s[:-1]) * mult[s[-1]]
        else:
            v = float(s)
    except ValueError:
        raise ValueError(f"--max-memory must be a size like 4G, 512M or a number of bytes "
                         f"(got {text!r})") from None
    if not v > 0 or not math.isfinite(v):
        raise ValueError(f"--max-memory must be positive (got {text!r})")
    return int(v)


def plan(spec: SweepSpec, *, workers: int = 1, max_memory=None, in_memory_table=False,
         dask=False, store_dir=None) -> dict:
    """Check, before any allocation, that the sweep fits: the largest chunk times
    the chunks that run at once on this machine, plus the bookkeeping of all
    chunks (and the table, if it is held in memory), against
    :func:`memory_limit`; the store's size against the free disk.  Returns the
    figures; raises one ``ValueError`` line naming the estimate and the limit."""
    limit, where = memory_limit(max_memory)
    worst, worst_at = 0, None
    for g in spec.gammas:
        for n in spec.ns:
            b = spec.block_size(n, g)
            est = memory_estimate(spec, n, g, b)
            if est > worst:
                worst, worst_at = est, (n, g, b)
    n_chunks = sum(len(spec.groups(n, g)) * -(-spec.samples // spec.block_size(n, g))
                   for g in spec.gammas for n in spec.ns)
    book = n_chunks * BYTES_PER_CHUNK["dask" if dask else "local"]
    rows = spec.n_rows()
    table = rows * BYTES_PER_ROW if in_memory_table else 0
    total = worst * max(1, workers) + book + table
    if total > limit:
        n, g, b = worst_at
        parts = [f"{_size(worst)} for the largest chunk: n = {n}, gamma = {g:g}, {b} "
                 f"sample{'s' * (b != 1)}{f', times {workers} workers' if workers > 1 else ''}"]
        if book > limit / 100:
            parts.append(f"{_size(book)} to track {n_chunks:,} chunks")
        if table > limit / 100:
            parts.append(f"{_size(table)} for {rows:,} rows in memory (write them with --out DIR)")
        raise ValueError(f"the sweep needs about {_size(total)} of memory ({'; '.join(parts)}), "
                         f"more than the limit {_size(limit)} ({where}); lower --n, --samples or "
                         f"--depth, or set --chunk-samples")
    disk = None
    if store_dir is not None:
        import shutil
        p = os.path.abspath(store_dir)
        while not os.path.exists(p):
            p = os.path.dirname(p)
        free = shutil.disk_usage(p).free
        disk = rows * DISK_BYTES_PER_ROW
        if disk > free:
            raise ValueError(f"the sweep's store needs about {_size(disk)} of disk "
                             f"({rows:,} rows), more than the {_size(free)} free at {p!r}")
    return {"chunk_bytes": worst, "chunks": n_chunks, "bookkeeping": book, "table": table,
            "total": total, "limit": limit, "disk": disk, "rows": rows}


# --------------------------------------------------------------------------- the worker

def sample_seed(seed: int, group: str, n: int, gamma: float, s: int) -> np.random.SeedSequence:
    """The stream of sample ``s`` of ``group`` at (n, gamma): root seed and
    coordinates only (the group's hash, n, gamma's float64 bits, s)."""
    g = int(group.rsplit("-", 1)[1], 16)
    return np.random.SeedSequence(seed, spawn_key=(*_words(g), *_words(n), *_gamma_words(gamma),
                                                    *_words(s)))


def _draw_block(spec: SweepSpec, chunk: Chunk, model: AttentionModel, gamma: float) -> Draws:
    """The draws of samples start..stop-1, each from its own stream, stacked."""
    parts = [draw(model, batch=1, backend=spec.backend, dtype=spec.dtype,
                  rng=np.random.default_rng(sample_seed(spec.seed, chunk.group, chunk.n, gamma, s)))
             for s in range(chunk.start, chunk.stop)]
    out = Draws.concat(parts, namespace(spec.backend))
    parts.clear()
    return out


def run_chunk(spec: SweepSpec, chunk: Chunk, workers: int = 1):
    """Compute one chunk: a ``pyarrow.Table`` of its rows (the tidy columns,
    ``version`` and ``model``), with the chunk's notes in the schema metadata.
    The same code runs in-process and on Dask workers."""
    import pyarrow as pa
    gamma = spec.gammas[chunk.gi]
    ids = np.arange(chunk.start, chunk.stop)
    b = ids.size
    cols = {c: [] for c in (*COLUMNS, "version", "model")}
    notes = []
    probe_ss = np.random.SeedSequence(spec.seed, spawn_key=(
        *_words(int(chunk.group.rsplit("-", 1)[1], 16)), *_words(chunk.n), *_gamma_words(gamma),
        0xFFFFFFFF, *_words(chunk.start), *_words(chunk.stop)))
    with blas_limit(chunk.n, workers=workers):
        dr = None
        for i in chunk.presets:
            model = spec.model(i, chunk.n, gamma)
            if dr is None:
                dr = _draw_block(spec, chunk, model, gamma)
            label = spec.labels[i]
            for meas in spec.measures:
                try:
                    vals, layers, note = _measure(model, dr, meas, spec.method, spec.grad_method,
                                                  spec.probes, probe_ss)
                except OverflowError as exc:
                    raise ValueError(f"{label}, n={chunk.n}, gamma={gamma:g}: {exc}") from None
                if note:
                    notes.append(f"{label}, n={chunk.n}, gamma={gamma:g}: {note}")
                if vals is None:
                    continue
                nl = vals.shape[0]
                k = nl * b
                cols["preset"].append(np.full(k, label, dtype=object))
                cols["n"].append(np.full(k, chunk.n, dtype=np.int64))
                cols["gamma"].append(np.full(k, gamma))
                cols["sample"].append(np.repeat(ids, nl))  # sample-major, then layer
                cols["layer"].append(np.tile(np.asarray(layers, dtype=np.int64), b))
                cols["measure"].append(np.full(k, meas, dtype=object))
                cols["value"].append(np.asarray(vals, dtype=np.float64).T.reshape(-1))
                cols["version"].append(np.full(k, __version__, dtype=object))
                cols["model"].append(np.full(k, repr(model), dtype=object))
            dr.__dict__.pop("_traj", None)  # one preset's trajectory in memory at a time
    empty = {"preset": pa.string(), "n": pa.int64(), "gamma": pa.float64(), "sample": pa.int64(),
             "layer": pa.int64(), "measure": pa.string(), "value": pa.float64(),
             "version": pa.string(), "model": pa.string()}
    schema = pa.schema([(c, t) for c, t in empty.items()],
                       metadata={"gapcheck.notes": json.dumps(notes), "gapcheck.chunk": chunk.name})
    arrays = [pa.array(np.concatenate(v) if v else [], type=schema.field(c).type)
              for c, v in cols.items()]
    return pa.Table.from_arrays(arrays, schema=schema)


def _measure(model, dr, meas, method, grad_method, probes, ss):
    """The statistic ``meas`` of ``model`` on the draws ``dr``: values
    (layers, samples), layer numbers, and a note (underflow)."""
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
    elif meas in ("gap-ratio", "gap-ratio-signal"):
        v = gap_ratio(X, method=method, hermitian=False)
    elif meas == "top-sv":
        v = spectral_norm(X, method, hermitian=False)
    else:
        v = frobenius_sq(xp.astype(X, xp.float64))
    return to_numpy(v), np.arange(1, L + 1), traj.stopped


# --------------------------------------------------------------------------- running

class _NoBar:
    def update(self, k=1):
        pass

    def close(self):
        pass


class _RichBar:
    """chunks done / total, elapsed, estimated time left (rich, on stderr)."""

    def __init__(self, total, done):
        from rich.console import Console
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                                   TimeElapsedColumn, TimeRemainingColumn)
        self.p = Progress(TextColumn("sweep"), BarColumn(), MofNCompleteColumn(),
                          TextColumn("chunks"), TimeElapsedColumn(), TextColumn("left"),
                          TimeRemainingColumn(), console=Console(stderr=True), transient=True)
        self.p.start()
        self.task = self.p.add_task("sweep", total=total, completed=done)

    def update(self, k=1):
        self.p.advance(self.task, k)

    def close(self):
        self.p.stop()


def run_sweep(spec: SweepSpec, store, *, scheduler=None, workers=None, progress=False,
              max_memory=None) -> dict:
    """Run the chunks of ``spec`` not yet in ``store`` (a :class:`ParquetStore`,
    :class:`MemoryStore`, or a directory), in-process, on a new
    ``LocalCluster`` of ``workers`` processes, or on the ``dask.distributed``
    scheduler at ``scheduler``.  Returns counts and timings."""
    if scheduler is not None and workers is not None:
        raise ValueError("give --scheduler or --workers, not both")
    if workers is not None:
        workers = _validate.integer("workers", workers, minimum=1)
    if not hasattr(store, "write"):
        store = ParquetStore(store)
    plan(spec, workers=workers or 1, max_memory=max_memory, dask=bool(scheduler or workers),
         in_memory_table=isinstance(store, MemoryStore),
         store_dir=getattr(store, "path", None))
    store.open(spec.describe())
    chunks = list(spec.chunks())
    done = store.done()
    todo = [c for c in chunks if c.name not in done]
    bar = _RichBar(len(chunks), len(chunks) - len(todo)) if progress else _NoBar()
    t0 = time.perf_counter()
    try:
        if not todo:
            pass
        elif scheduler is None and workers is None:
            for c in todo:
                store.write(c.name, run_chunk(spec, c))
                bar.update()
        else:
            # largest first: a big chunk started last leaves the other workers idle
            # (measured: the n = 150 key-query chunk ran alone for a third of the wall)
            _run_dask(spec, sorted(todo, key=lambda c: -chunk_cost(spec, c)), store, bar,
                      scheduler=scheduler, workers=workers, max_memory=max_memory)
    finally:
        bar.close()
    return {"chunks": len(chunks), "skipped": len(chunks) - len(todo), "run": len(todo),
            "seconds": time.perf_counter() - t0}


def chunk_cost(spec: SweepSpec, chunk: Chunk) -> int:
    """A rough cost of ``chunk`` (flops of its layers' products), to hand the
    largest chunks out first: per sample and preset, ``n d^2 + n^2 d`` per
    layer (three times that for key-query attention: the logits), times the
    MLP's ``8 n d^2`` where there is one; probes multiply gradient measures.

    >>> spec = SweepSpec.make(["A", "A(X)"], (20, 40), depth=2, samples=2)
    >>> sorted(spec.chunks(), key=lambda c: -chunk_cost(spec, c))[0].n
    40
    """
    g = spec.gammas[chunk.gi]
    m = spec.model(chunk.presets[0], chunk.n, g)
    n, d = chunk.n, int(m.d)
    per = (n * d * d + n * n * d) * (3 if m.attention == "key-query" else 1)
    if m.mlp is not None:
        per += 8 * int(m.mlp.width) * n * d * d
    grads = sum(meas.startswith("grad") for meas in spec.measures)
    work = len(spec.measures) - grads + grads * (2 + spec.probes)
    return (chunk.stop - chunk.start) * len(chunk.presets) * spec.depth * per * work


def _reachable(address: str) -> None:
    """Fail fast (one line) when nothing listens at a tcp:// scheduler address."""
    import socket
    from urllib.parse import urlsplit
    u = urlsplit(address if "://" in address else f"tcp://{address}")
    if u.scheme != "tcp":
        return
    try:
        socket.create_connection((u.hostname, u.port or 8786), timeout=5).close()
    except (OSError, ValueError) as exc:
        raise ValueError(f"--scheduler {address!r}: no dask.distributed scheduler answered "
                         f"({exc})") from None


def _run_dask(spec, todo, store, bar, *, scheduler, workers, max_memory):
    import logging

    from distributed import Client, LocalCluster, as_completed
    cluster = None
    if scheduler is not None:
        _reachable(scheduler)
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError) as exc:
            raise ValueError(f"--scheduler {scheduler!r}: no dask.distributed scheduler answered "
                             f"({exc})") from None
        infos = client.scheduler_info().get("workers", {}).values()
        limits = [w.get("memory_limit") or 0 for w in infos]
        need = max(memory_estimate(spec, n, g, spec.block_size(n, g)) for g in spec.gammas for n in spec.ns)
        if limits and min(limits) and need > min(limits):
            client.close()
            raise ValueError(f"a chunk needs about {_size(need)} of memory, more than the "
                             f"{_size(min(limits))} a worker of {scheduler!r} may use")
        share = 1
    else:
        import dask
        limit, _ = memory_limit(max_memory)
        # Dask's default MALLOC_TRIM_THRESHOLD_=65536 turns off glibc's dynamic mmap
        # threshold: every temporary array is a fresh mmap, and the sweep runs ~1.7x
        # slower (measured); the workers keep glibc's defaults
        with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                   dashboard_address=":0", silence_logs=logging.ERROR,
                                   memory_limit=max(limit // workers, 2**28))
        client = Client(cluster)
        share = workers
    try:
        spec_f = client.scatter(spec, broadcast=True)
        window = 2 * max(1, sum(w.get("nthreads", 1) for w in
                                client.scheduler_info().get("workers", {}).values()))
        it = iter(todo)
        by_key = {}
        ac = as_completed()

        def submit(c):
            fut = client.submit(run_chunk, spec_f, c, share, pure=False, key=f"gapcheck-{c.name}-"
                                f"{os.getpid()}-{time.monotonic_ns()}")
            by_key[fut.key] = c
            ac.add(fut)

        for c in [next(it, None) for _ in range(window)]:
            if c is not None:
                submit(c)
        for fut in ac:
            c = by_key.pop(fut.key)
            store.write(c.name, fut.result())
            fut.release()
            bar.update()
            nxt = next(it, None)
            if nxt is not None:
                submit(nxt)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def iter_tables(spec: SweepSpec, store):
    """The stored table as :class:`SweepTable` pieces in row order, one (gamma,
    n, block) at a time (memory bounded by a chunk per group); the notes of all
    chunks are on each piece's ``notes`` (cumulative)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    labels = pa.array(list(spec.labels))
    measures = pa.array(list(spec.measures))
    notes = []
    current, pieces = None, []

    def flush(pieces):
        t = pa.concat_tables(pieces)
        keys = [np.asarray(t.column("sample")), np.asarray(pc.index_in(t.column("preset"), labels)),
                np.asarray(pc.index_in(t.column("measure"), measures)),
                np.asarray(t.column("layer"))]
        order = np.lexsort(keys[::-1])
        data = {c: t.column(c).to_numpy(zero_copy_only=False)[order] for c in COLUMNS}
        for c in ("preset", "measure"):
            data[c] = data[c].astype(object)
        return SweepTable(data, notes)

    for c in spec.chunks():
        t = store.read(c.name)
        meta = t.schema.metadata or {}
        notes.extend(json.loads(meta.get(b"gapcheck.notes", b"[]")))
        at = (c.gi, c.n, c.block)
        if current is not None and at != current and pieces:
            yield flush(pieces)
            pieces = []
        current = at
        pieces.append(t)
    if pieces:
        yield flush(pieces)


def read_table(spec: SweepSpec, store) -> SweepTable:
    """The whole stored table in memory."""
    pieces = list(iter_tables(spec, store))
    if not pieces:
        return SweepTable({c: np.array([]) for c in COLUMNS}, [])
    data = {c: np.concatenate([p.data[c] for p in pieces]) for c in COLUMNS}
    return SweepTable(data, list(pieces[-1].notes))


def _precision_warnings(spec: SweepSpec, notes) -> None:
    if spec.dtype != "float32":
        return
    under = [n for n in notes if "underflowed" in n]
    if under:
        warnings.warn(
            f"float32 changed the result: the signal underflowed to zero at a smaller depth than in "
            f"float64 (float32's smallest normal is {_F32.tiny:.1e}, float64's {_F64.tiny:.1e}); "
            f"{len(under)} preset/n points end early, e.g. {under[0]}; rerun with --dtype float64",
            PrecisionWarning, stacklevel=3)


def sweep(presets="all", ns=(20, 40, 60, 80, 100, 150), *, depth=10, samples=5, gamma=1,
          measures=("stable-rank",), seed=0, backend="numpy", dtype=None,
          method="auto", grad_method="auto", probes=32, progress=False, store=None,
          scheduler=None, workers=None, chunk_samples=None, max_memory=None,
          block="stated") -> SweepTable:
    """Sample every preset at every (n, gamma) and tabulate the measures.

    ``presets``: "all", a preset name, a list of names, or a dict
    ``{label: AttentionModel}`` (its n, gamma and depth are replaced by the
    grid's).  ``method`` is the spectral-norm method of the measures,
    ``grad_method``/``probes`` those of :func:`numerics.gradients.grad_norms_sq`.
    ``store``: a directory (Parquet dataset; resumed if it holds this sweep) or
    ``None`` (in memory).  ``scheduler`` / ``workers``: run the chunks on a
    ``dask.distributed`` cluster (see :func:`run_sweep`).  ``chunk_samples``:
    samples per chunk (default: as many as fit :data:`CHUNK_BUDGET`, at most
    :data:`CHUNK_CAP`).  ``max_memory``: bytes (default: the machine's memory).
    ``block``: the convention of the named presets, ``"stated"`` or
    ``"paper-code"`` (the authors' code, :class:`~theory.model.AttentionModel`;
    a template model keeps its own); ``dtype=None`` is the convention's own
    (float64 stated, float32 for the authors' code).
    """
    spec = SweepSpec.make(presets, ns, depth=depth, samples=samples, gamma=gamma,
                          measures=measures, seed=seed, backend=backend, dtype=dtype,
                          method=method, grad_method=grad_method, probes=probes,
                          chunk_samples=chunk_samples, block=block)
    st = MemoryStore() if store is None else (store if hasattr(store, "write") else ParquetStore(store))
    run_sweep(spec, st, scheduler=scheduler, workers=workers, progress=progress,
              max_memory=max_memory)
    table = read_table(spec, st)
    _precision_warnings(spec, table.notes)
    return table
