"""Sweeps at scale, measured in one run: speed against the matrix-product floor
(float64 and float32), Dask workers, peak memory, BLAS threads under a
competing busy process, and the CLI's start time.

The sweep is the paper's: all 25 configurations, n in {20, 40, 60, 80, 100,
150}, 10 layers, stable rank of X_l X_l^T, 5 samples (60 for the memory
line).  Prints, in order:

1. in-process float64 wall (best of --repeat) against the float64 floor (the
   matrix products the sweep cannot avoid, at the batched-dgemm rate measured
   now on one thread): the ratio is the share of the floor's rate reached;
2. the same in float32 against its own (sgemm) floor;
3. ``workers=2`` (a Dask LocalCluster of 2 worker processes, one thread
   each): the wall clock of the same sweep with the cluster's start, and on
   an already started cluster, against the in-process wall of line 1; then
   the CPU seconds each worker spends on one sweep, which bound the wall a
   machine with a free core per worker would reach.  On a shared 2-core
   machine under load the wall speed-up measures how many cores were free,
   not the code;
4. peak RSS of ``gapcheck sweep --samples 5`` and ``--samples 60`` (separate
   processes, ``--out`` a temporary store) and the estimate checked before work;
5. the same sweep (5 samples, a child process) while another process keeps a
   core busy: BLAS threads chosen by matrix size (one here) against BLAS's
   default (one per CPU);
6. the start: ``gapcheck --help`` and ``gapcheck list`` (the index of
   ``theory.listing``: no sympy), and ``gapcheck list`` made to ask the
   registry (as before the index), against ``python -c pass``; best of 7
   each, run in turn so that a change of load hits them alike.

    python benchmarks/bench_sweep_scale.py [--repeat 2] [--skip-rss] [--skip-busy]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_paper_sweep import DEPTH, NS, SAMPLES, dgemm_rate, matmul_flops  # noqa: E402

from gapcheck.numerics.blas import cpu_count  # noqa: E402
from gapcheck.numerics.sweep import SweepSpec, plan, sweep  # noqa: E402

PAPER = dict(presets="all", ns=NS, depth=DEPTH, samples=SAMPLES, measures="stable-rank")
CLI_GRID = ["--n", ",".join(map(str, NS)), "--depth", str(DEPTH)]


def _best(f, repeat):
    walls, cpus = [], []
    for _ in range(max(1, repeat)):
        t0, c0 = time.perf_counter(), time.process_time()
        f()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return min(walls), walls, min(cpus)


def floor_seconds(dtype, reps=20):
    """Seconds of the unavoidable products at the batched-gemm rate measured now
    (one thread), by the wall clock and by CPU time."""
    from threadpoolctl import threadpool_limits
    with threadpool_limits(1, user_api="blas"):
        dgemm_rate(dtype=dtype, reps=2)
        c0 = time.process_time()
        rate = dgemm_rate(dtype=dtype, reps=reps)
        cpu_rate = reps * 50 * 2 * 150 ** 3 / (time.process_time() - c0)
    return matmul_flops() / rate, rate, matmul_flops() / cpu_rate


def speed(repeat):
    import warnings

    from gapcheck.numerics.sweep import PrecisionWarning
    sweep("all", [8], depth=2, samples=2)  # warm-up
    out = {}
    for dtype in ("float64", "float32"):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", PrecisionWarning)
            ours, walls, cpu = _best(lambda: sweep(**PAPER, dtype=dtype), repeat)
        floor, rate, floor_cpu = floor_seconds(dtype)
        out[dtype] = ours
        out[dtype + "-cpu"] = cpu
        print(f"{dtype}: paper sweep in-process {ours:.2f} s best of {len(walls)} "
              f"({', '.join(f'{w:.2f}' for w in walls)}); floor {floor:.2f} s "
              f"({matmul_flops() / 1e9:.1f} Gflop at {rate / 1e9:.1f} Gflop/s, one thread): "
              f"{100 * floor / ours:.0f}% of the floor's rate by the wall clock; by CPU time "
              f"{cpu:.2f} s against {floor_cpu:.2f} s: {100 * floor_cpu / cpu:.0f}%")
        if caught:
            print(f"  {dtype} warning: {str(caught[0].message)[:150]}...")
    return out


def workers(inproc, inproc_cpu, k=2):
    import logging

    from distributed import Client, LocalCluster
    t0 = time.perf_counter()
    sweep(**PAPER, workers=k)
    with_start = time.perf_counter() - t0
    import dask
    with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}), \
            LocalCluster(n_workers=k, threads_per_worker=1, processes=True, dashboard_address=":0",
                         silence_logs=logging.ERROR) as c, Client(c) as cl:
        cl.run(lambda: __import__("gapcheck.numerics.sweep"))  # workers' imports done
        sweep(**PAPER, scheduler=c.scheduler_address)  # warm
        warm, walls, _ = _best(lambda: sweep(**PAPER, scheduler=c.scheduler_address), 2)
        # CPU seconds each worker process spends on one sweep: what the wall would be
        # with a free core per worker, whatever else runs on the machine now
        c0 = cl.run(time.process_time)
        sweep(**PAPER, scheduler=c.scheduler_address)
        c1 = cl.run(time.process_time)
    per_worker = sorted(c1[w] - c0[w] for w in c0)
    print(f"workers={k} (Dask LocalCluster, {k} processes x 1 thread; wall clock on this "
          f"{os.cpu_count()}-CPU machine, shared): {with_start:.2f} s with the cluster's start, "
          f"{warm:.2f} s on a started cluster; speed-up against in-process {inproc:.2f} s: "
          f"{inproc / with_start:.2f}x with start, {inproc / warm:.2f}x started")
    print(f"  CPU per worker for one sweep: {', '.join(f'{x:.2f}' for x in per_worker)} s "
          f"(in-process CPU {inproc_cpu:.2f} s): with a free core per worker the sweep would take "
          f"about {per_worker[-1]:.2f} s, a speed-up of {inproc_cpu / per_worker[-1]:.2f}x "
          f"(chunks are handed out largest first, numerics.sweep.chunk_cost; the largest, "
          f"n = 150 key-query, bounds it)")


def _child(code, args, env=None):
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                         env={**os.environ, **(env or {})})
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip().splitlines()[-1])
    return json.loads(out.stdout.strip().splitlines()[-1])


RSS_CHILD = """
import json, resource, sys, time
from gapcheck.numerics.cli import main
t0 = time.perf_counter()
rc = main(sys.argv[1:])
print(json.dumps({"rc": rc, "wall": time.perf_counter() - t0,
                  "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
"""


def rss():
    for samples in (5, 60):
        with tempfile.TemporaryDirectory() as tmp:
            r = _child(RSS_CHILD, ["sweep", *CLI_GRID, "--samples", str(samples), "--out",
                                   f"{tmp}/store"])
        est = plan(SweepSpec.make(**{**PAPER, "samples": samples}))
        print(f"peak RSS, gapcheck sweep --samples {samples:2d} --out DIR: "
              f"{r['rss'] / 2**20:.0f} MiB ({r['wall']:.1f} s; largest chunk estimated at "
              f"{est['chunk_bytes'] / 2**20:.0f} MiB before any work)")


BUSY_CHILD = """
import json, os, sys, time
import gapcheck.numerics.blas as blas
if sys.argv[1] == "default":
    blas.blas_threads = lambda n, **k: blas.cpu_count()
from gapcheck.numerics.sweep import sweep
sweep("all", [8], depth=2, samples=2)
t0 = time.perf_counter()
sweep("all", [20, 40, 60, 80, 100, 150], depth=10, samples=5)
print(json.dumps({"wall": time.perf_counter() - t0}))
"""


def busy():
    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        res = {}
        for way in ("by-size", "default"):
            out = subprocess.run([sys.executable, "-c", BUSY_CHILD, way], capture_output=True,
                                 text=True, env=env)
            res[way] = json.loads(out.stdout.strip().splitlines()[-1])["wall"]
    finally:
        hog.kill()
        hog.wait()
    print(f"with a competing busy process: BLAS threads by matrix size (1 here) "
          f"{res['by-size']:.2f} s; BLAS default ({cpu_count()} threads) {res['default']:.2f} s; "
          f"ratio {res['default'] / res['by-size']:.1f}x")


NO_INDEX = ("import gapcheck.theory.listing as l; l._index = lambda: None; "
            "from gapcheck.numerics.cli import main; main(['list'])")


def start(reps=7):
    exe = shutil.which("gapcheck")
    base = [exe] if exe else [sys.executable, "-m", "gapcheck.numerics.cli"]
    cmds = {"python -c pass": [sys.executable, "-c", "pass"],
            "gapcheck --help": base + ["--help"], "gapcheck list": base + ["list"],
            # what listing cost before the index: the registry, hence sympy and every result
            "gapcheck list from the registry": [sys.executable, "-c", NO_INDEX]}
    times = {k: [] for k in cmds}
    for _ in range(reps):  # in turn: a change of load hits all three alike
        for k, argv in cmds.items():
            t0 = time.perf_counter()
            subprocess.run(argv, stdout=subprocess.DEVNULL, check=True)
            times[k].append(time.perf_counter() - t0)
    best = {k: min(v) for k, v in times.items()}
    t_pass = best["python -c pass"]
    print(f"start (best of {reps}): python -c pass {t_pass:.3f} s; " + "; ".join(
        f"{k} {best[k]:.3f} s, ratio {best[k] / t_pass:.2f}" for k in cmds if k != "python -c pass"))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=2, help="timed runs of each sweep (best is kept)")
    p.add_argument("--skip-rss", action="store_true")
    p.add_argument("--skip-busy", action="store_true")
    p.add_argument("--skip-workers", action="store_true")
    args = p.parse_args(argv)
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the start "
          f"(other processes share the machine), numpy {np.__version__}, "
          f"peak RSS of this process so far "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    t = speed(args.repeat)
    if not args.skip_workers:
        workers(t["float64"], t["float64-cpu"])
    if not args.skip_rss:
        rss()
    if not args.skip_busy:
        busy()
    start()
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
