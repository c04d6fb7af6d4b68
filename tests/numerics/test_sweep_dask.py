"""Sweeps on Dask: a real LocalCluster (2 worker processes) gives exactly the
in-process table, through --scheduler ADDRESS and through --workers K."""
from __future__ import annotations

import logging

import pytest

from gapcheck.numerics.cli import main
from gapcheck.numerics.sweep import sweep

distributed = pytest.importorskip("distributed", reason="dask.distributed is a core dependency")

GRID = dict(presets=["A", "A(X)", "A(X)-perp", "identity", "A + skip + LN"], ns=[6, 10], depth=7,
            samples=3, measures=["stable-rank", "grad-norm-sq"], chunk_samples=2)


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0", silence_logs=logging.ERROR) as c:
        yield c


def test_existing_scheduler_gives_the_in_process_table(cluster, tmp_path):
    here = sweep(**GRID)
    there = sweep(**GRID, scheduler=cluster.scheduler_address, store=tmp_path / "s")
    assert len(here) > 0 and here.to_csv() == there.to_csv()  # exactly, row for row
    assert here.notes == there.notes and any("underflowed" in n for n in here.notes)
    with distributed.Client(cluster.scheduler_address) as c:
        # both worker processes computed chunks (2 n x 3 groups x 2 blocks = 12)
        executed = c.run(lambda dask_worker: dask_worker.state.executed_count)
        assert len(executed) == 2 and all(k > 0 for k in executed.values())
        assert sum(executed.values()) >= 12


def test_cli_workers_gives_the_in_process_table(tmp_path, capsys):
    args = ["sweep", "--preset", "A,A(X)", "--n", "6,8", "--depth", "3", "--samples", "4",
            "--chunk-samples", "1"]
    assert main(args) == 0
    local = capsys.readouterr().out
    csv_file = tmp_path / "t.csv"
    assert main(args + ["--workers", "2", "--out", str(tmp_path / "s"), "--csv", str(csv_file)]) == 0
    assert csv_file.read_bytes().decode() == local
    assert len(list((tmp_path / "s").glob("*.parquet"))) == 2 * 2 * 4
