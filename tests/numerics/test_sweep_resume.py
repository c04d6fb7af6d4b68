"""Nothing lost: a sweep killed with SIGKILL mid-run and resumed gives the
uninterrupted run's table, row for row, with no duplicate and no missing row;
a closed standard output ends quietly."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from gapcheck.numerics.cli import main
from gapcheck.numerics.sweep import COLUMNS, sweep

ARGS = ["--preset", "all", "--n", "12,16", "--depth", "4", "--samples", "12", "--chunk-samples", "1",
        "--seed", "7"]
TOTAL = 3 * 2 * 12  # groups (markov, key-query, identity) x n x blocks


def _cli(*args):
    return [sys.executable, "-m", "gapcheck.numerics.cli", "sweep", *args]


def test_sigkill_mid_run_then_resume_equals_an_uninterrupted_run(tmp_path, capsys):
    out = tmp_path / "store"
    proc = subprocess.Popen(_cli(*ARGS, "--out", str(out)), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            if out.exists() and len(list(out.glob("*.parquet"))) >= 3:
                break
            assert proc.poll() is None, proc.stderr.read().decode()
            time.sleep(0.005)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    done = len(list(out.glob("*.parquet")))
    assert 3 <= done < TOTAL  # killed mid-run
    csv_file = tmp_path / "t.csv"
    assert main(["sweep", *ARGS, "--out", str(out), "--csv", str(csv_file)]) == 0
    assert f"{TOTAL - done} chunks computed, {done} already in the store" in capsys.readouterr().err
    assert len(list(out.glob("*.parquet"))) == TOTAL and not list(out.glob(".*"))
    # the uninterrupted run, in memory
    ref = sweep("all", [12, 16], depth=4, samples=12, seed=7, chunk_samples=1).to_csv()
    got = csv_file.read_bytes().decode()
    assert got == ref  # row for row
    rows = got.splitlines()[1:]
    keys = [tuple(r.split(",")[:len(COLUMNS) - 1]) for r in rows]
    assert len(keys) == len(set(keys)) == 25 * 2 * 12 * 4  # no duplicate, none missing


def test_closed_stdout_pipe_ends_quietly():
    # 2000 samples x 2 layers of CSV (~90 kB) do not fit the pipe: writes after the
    # reader has gone fail with EPIPE
    proc = subprocess.Popen(_cli("--preset", "A", "--n", "4", "--depth", "2", "--samples", "2000"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.wait()
    assert first.decode().strip() == ",".join(COLUMNS)
    assert proc.returncode == 0 and err == ""
