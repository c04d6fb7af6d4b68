"""``gapcheck sweep``: sample presets over a grid of n (and gamma) and store
the tidy table ``preset,n,gamma,sample,layer,measure,value``.

``--out DIR`` is a Parquet dataset written chunk by chunk (re-running the same
command resumes it); ``--csv FILE`` exports CSV; with neither, CSV goes to
standard output.  ``--workers K`` runs the chunks on a new Dask
``LocalCluster``, ``--scheduler ADDRESS`` on an existing ``dask.distributed``
cluster; by default they run in this process.  Everything that can be checked
(options, output paths, memory) is checked before any work."""
from __future__ import annotations

import os
import sys
import tempfile
import time
import warnings

from ...theory.model import PRESETS

from .. import model_options as _model_args
from ..store import check_out_dir, check_out_file
from ..sweep import (MEASURES, ParquetStore, PrecisionWarning, SweepSpec, _precision_warnings,
                     iter_tables, parse_size, plan, run_sweep, write_csv)


def _csv_list(kind, name):
    def parse(text):
        try:
            vals = [kind(t) for t in str(text).split(",") if t.strip()]
        except ValueError:
            raise ValueError(f"{name} must be a comma-separated list of {kind.__name__}s "
                             f"(got {text!r})") from None
        if not vals:
            raise ValueError(f"{name} must not be empty")
        return vals
    return parse


def ratio(text: str) -> float:
    """A ratio from the command line: a decimal or a fraction such as 4/3."""
    from fractions import Fraction
    return float(Fraction(text.strip()))


def add_parser(sub):
    s = sub.add_parser(
        "sweep", help="sample presets over a grid of n; chunked, resumable, on Dask, stored as Parquet",
        description="Sample the paper's configurations over a grid of widths and store the "
                    "columns preset,n,gamma,sample,layer,measure,value (layer l = 1..L is X_l). "
                    "--out DIR is a Parquet dataset written chunk by chunk: re-running the same "
                    "command resumes it.")
    s.add_argument("--preset", action="append", default=None, metavar="NAME|all",
                   help="preset name (repeat, or comma-separate; default: all). "
                        f"Names: {', '.join(PRESETS)}")
    s.add_argument("--n", default="20,40,60,80,100,150", help="widths, comma-separated")
    s.add_argument("--depth", type=int, default=10, help="number of layers L")
    s.add_argument("--samples", type=int, default=5, help="independent samples per point")
    s.add_argument("--gamma", default="1", help="ratio(s) n/d, comma-separated: (0, 1] for the paper's input (orthonormal "
                        "rows); > 1 (more tokens than features) with --isometry columns or --init")
    s.add_argument("--measure", default="stable-rank",
                   help=f"measure(s), comma-separated: {', '.join(MEASURES)}")
    s.add_argument("--seed", type=int, default=0, help="root seed")
    s.add_argument("--backend", default="numpy", choices=("numpy", "cupy", "array-api-strict"))
    s.add_argument("--dtype", default=None, choices=("float64", "float32"),
                   help="float32 is faster; the signal underflows at a smaller depth (warned). "
                        "Default: the block's own (float64 stated, float32 paper-code)")
    s.add_argument("--block", default="stated", choices=("stated", "paper-code"),
                   help="the block as the paper states it, or as the authors' code runs it "
                        "(output doubled under the standard skip, float32, d = int(n/gamma))")
    s.add_argument("--probes", type=int, default=32,
                   help="Hutchinson probes for gradient norms where they are not exact")
    s.add_argument("--out", default=None, metavar="DIR",
                   help="the sweep's Parquet dataset (created, or resumed if it holds this sweep)")
    s.add_argument("--csv", default=None, metavar="FILE",
                   help="also export the table as CSV; '-' is standard output (the default without --out)")
    s.add_argument("--workers", type=int, default=None, metavar="K",
                   help="run the chunks on a new Dask LocalCluster of K processes")
    s.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="run the chunks on an existing dask.distributed scheduler "
                        "(e.g. tcp://10.0.0.5:8786)")
    s.add_argument("--chunk-samples", type=int, default=None, metavar="S",
                   help="samples per chunk (default: as many as fit 256 MiB, at most 32)")
    s.add_argument("--max-memory", default=None, metavar="SIZE",
                   help="memory limit for the estimate checked before any work, e.g. 4G "
                        "(default: this machine's memory)")
    s.add_argument("--progress", action="store_true", default=None,
                   help="show chunks done / total and the time left (default: when stderr is a "
                        "terminal)")
    _model_args.add_arguments(s.add_argument_group(
        "beyond the paper's model (applied to every --preset; --init NAME sweeps that "
        "initialisation instead)"))
    s.set_defaults(func=run)
    return s


def _beyond_templates(args, names, ns, gammas):
    """``{label: model}`` for the options beyond the paper (None when none is
    given): ``--init NAME``, or each paper preset with the options' fields,
    labelled by the preset and the fields."""
    from ...theory.model import preset

    f = _model_args.fields(args)
    if args.init is None and not f and args.mlp is None:
        return None
    at = dict(n=ns[0], depth=args.depth, gamma=gammas[0])
    block = {} if args.block == "stated" else {"block": args.block}
    if args.init is not None:
        if args.preset:
            raise ValueError("give --preset (the paper's configurations) or --init, not both")
        return {args.init: _model_args.model(args, **at, **block)}
    names = list(PRESETS) if names == "all" else names
    out = {}
    for name in names:
        m = _model_args.model(args, **at, base=lambda **kw: preset(name, **kw), **block)
        out[f"{name} | {'+'.join(m.beyond_fields()) or 'paper'}"] = m
    return out


def _presets(values):
    if not values:
        return "all"
    names = [p.strip() for v in values for p in v.split(",") if p.strip()]
    if "all" in names:
        return "all"
    for name in names:
        if name not in PRESETS:
            raise ValueError(f"--preset must be 'all' or one of the 25 paper configurations "
                             f"({', '.join(PRESETS)}) (got {name!r})")
    return names


def run(args) -> int:
    t0 = time.perf_counter()
    if args.workers is not None and args.workers < 1:
        raise ValueError(f"--workers must be an integer >= 1 (got {args.workers})")
    if args.workers is not None and args.scheduler:
        raise ValueError("give --workers or --scheduler, not both")
    ns, gammas = _csv_list(int, "--n")(args.n), _csv_list(ratio, "--gamma")(args.gamma)
    templates = _beyond_templates(args, _presets(args.preset), ns, gammas)
    spec = SweepSpec.make(
        _presets(args.preset) if templates is None else templates, ns, depth=args.depth,
        samples=args.samples, gamma=gammas,
        measures=_csv_list(str, "--measure")(args.measure), seed=args.seed,
        backend=args.backend, dtype=args.dtype, probes=args.probes,
        chunk_samples=args.chunk_samples, block=args.block)
    out = check_out_dir(args.out) if args.out else None
    to_stdout = args.csv == "-"  # "-": standard output, as without --out (and next to --out)
    csv_path = check_out_file(args.csv) if args.csv and not to_stdout else None
    max_memory = parse_size(args.max_memory) if args.max_memory is not None else None
    figures = plan(spec, workers=args.workers or 1, max_memory=max_memory,
                   dask=bool(args.workers or args.scheduler), store_dir=out or tempfile.gettempdir())
    progress = sys.stderr.isatty() if args.progress is None else args.progress
    with tempfile.TemporaryDirectory(prefix="gapcheck-sweep-") as tmp:
        store = ParquetStore(out if out is not None else os.path.join(tmp, "store"))
        info = run_sweep(spec, store, scheduler=args.scheduler, workers=args.workers,
                         progress=progress, max_memory=max_memory)
        notes = []
        if csv_path is not None:
            tmp_csv = csv_path.with_name(f".{csv_path.name}.tmp-{os.getpid()}")
            try:
                with open(tmp_csv, "w", newline="") as f:
                    rows = write_csv(_noting(iter_tables(spec, store), notes), f)
                os.replace(tmp_csv, csv_path)
            finally:
                if tmp_csv.exists():
                    tmp_csv.unlink()
        elif out is None or to_stdout:
            rows = write_csv(_noting(iter_tables(spec, store), notes), sys.stdout)
        else:
            rows = None
            for t in _noting(iter_tables(spec, store), notes):
                pass
    where = [str(p) for p in (out, csv_path) if p is not None]
    if where:
        done = (f"{info['run']} chunks computed, {info['skipped']} already in the store"
                if info["skipped"] else f"{info['run']} chunks")
        print(f"gapcheck sweep: {done}{f', {rows} rows' if rows is not None else ''} -> "
              f"{' and '.join(where)} ({time.perf_counter() - t0:.2f} s; largest chunk about "
              f"{figures['chunk_bytes'] / 2**20:.0f} MiB)", file=sys.stderr)
    for note in notes:
        print(f"gapcheck sweep: note: {note}", file=sys.stderr)
    _warn_precision(spec, notes)
    return 0


def _noting(tables, notes):
    for t in tables:
        notes[:] = t.notes
        yield t


def _warn_precision(spec, notes):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PrecisionWarning)
        _precision_warnings(spec, notes)
    for w in caught:
        print(f"gapcheck sweep: warning: {w.message}", file=sys.stderr)
