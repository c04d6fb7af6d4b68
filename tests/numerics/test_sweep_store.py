"""Chunked sweeps: the Parquet store, resuming, refusing a different sweep,
validating outputs and memory before any work, float32 warnings."""
from __future__ import annotations

import json
import os

import numpy as np
import pyarrow.parquet as pq
import pytest

from gapcheck.numerics.cli import main
from gapcheck.numerics.store import SPEC_FILE, ParquetStore
from gapcheck.numerics.sweep import (COLUMNS, PrecisionWarning, SweepSpec, memory_estimate, plan,
                                     read_table, run_sweep, sweep)

SMALL = dict(presets=["A", "A(X)", "identity", "A-perp + LN"], ns=[6, 9], depth=3, samples=5)


def _keys(t):
    return list(zip(*(t.column(c).tolist() for c in COLUMNS[:-1])))


def test_table_does_not_depend_on_chunking():
    a = sweep(**SMALL, chunk_samples=5)
    b = sweep(**SMALL, chunk_samples=2)
    assert a.to_csv() == b.to_csv()
    assert len(a) == 4 * 2 * 5 * 3
    keys = _keys(a)
    assert len(set(keys)) == len(keys)
    # rows ordered by gamma, n, sample, preset (as given), measure, layer
    order = [(SMALL["ns"].index(k[1]), k[3], SMALL["presets"].index(k[0]), k[4]) for k in keys]
    assert order == sorted(order)
    # a different seed is a different table
    assert sweep(**SMALL, seed=1).to_csv() != a.to_csv()


def test_store_holds_tidy_columns_version_and_model(tmp_path):
    store = tmp_path / "s"
    t = sweep(**SMALL, chunk_samples=2, store=store)
    files = sorted(p.name for p in store.iterdir())
    assert SPEC_FILE in files
    chunks = [f for f in files if f.endswith(".parquet")]
    assert len(chunks) == 2 * 3 * 3  # n x groups (markov, key-query, identity) x blocks of 2
    data = pq.read_table(store)  # an ordinary Parquet dataset
    assert set(data.column_names) >= set(COLUMNS) | {"version", "model"}
    assert data.num_rows == len(t)
    from gapcheck.theory import __version__
    assert set(data.column("version").to_pylist()) == {__version__}
    models = set(data.column("model").to_pylist())
    assert any("attention='key-query'" in m and "n=9" in m for m in models)
    spec = json.loads((store / SPEC_FILE).read_text())
    assert spec["samples"] == 5 and spec["seed"] == 0 and spec["n"] == [6, 9]


def test_resume_skips_finished_chunks_and_redoes_broken_ones(tmp_path):
    store = tmp_path / "s"
    spec = SweepSpec.make(**{("presets" if k == "presets" else k): v for k, v in SMALL.items()},
                          chunk_samples=2)
    full = sweep(**SMALL, chunk_samples=2).to_csv()
    first = run_sweep(spec, ParquetStore(store))
    assert first["run"] == first["chunks"] == 18
    files = sorted(store.glob("*.parquet"))
    # a killed write leaves a temporary file; a copied-in half file has a broken footer
    (store / f".{files[0].name}.tmp-123-abcd").write_bytes(b"half a chunk")
    files[1].write_bytes(files[1].read_bytes()[: files[1].stat().st_size // 2])
    files[2].unlink()
    again = run_sweep(spec, ParquetStore(store))
    assert again["run"] == 2 and again["skipped"] == 16
    assert not list(store.glob(".*tmp*"))
    assert read_table(spec, ParquetStore(store)).to_csv() == full
    assert run_sweep(spec, ParquetStore(store))["run"] == 0


def test_a_different_sweep_on_the_same_store_is_refused(tmp_path, capsys):
    out = tmp_path / "s"
    args = ["sweep", "--preset", "A", "--n", "6", "--depth", "2", "--samples", "2", "--out", str(out)]
    assert main(args) == 0
    before = sorted(p.name for p in out.iterdir())
    capsys.readouterr()
    assert main(args[:-4] + ["--samples", "3", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "different sweep" in err and "samples: 2 in the store, 3 now" in err
    assert sorted(p.name for p in out.iterdir()) == before
    assert main(args) == 0  # the same command resumes (nothing to do)
    assert "0 chunks computed, 1 already in the store" in capsys.readouterr().err


@pytest.mark.parametrize("extra", [["--n", "1000000"], ["--samples", "1000000000"]])
def test_too_large_sweeps_are_refused_with_the_estimate(extra, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "store"
    assert main(["sweep", *extra, "--out", str(out), "--csv", str(tmp_path / "t.csv")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "memory" in err and "more than the limit" in err
    assert "TiB" in err or "PiB" in err or "GiB" in err
    assert list(tmp_path.iterdir()) == []  # no store, no CSV, nothing
    assert main(["sweep", *extra]) == 2  # to stdout: refused the same way
    assert "memory" in capsys.readouterr().err


def test_memory_estimate_is_checked_against_max_memory(capsys):
    spec = SweepSpec.make(["A"], [64], depth=4, samples=4)
    need = plan(spec)["total"]
    assert plan(spec, max_memory=need)["total"] == need
    with pytest.raises(ValueError, match=r"more than the limit .*--max-memory"):
        plan(spec, max_memory=need - 1)
    # peak depends on the chunk, not on the samples: 10x the samples, the same chunk
    big = SweepSpec.make(["A"], [64], depth=4, samples=40, chunk_samples=4)
    assert plan(big)["chunk_bytes"] == plan(spec)["chunk_bytes"]
    assert memory_estimate(spec, 64, 1.0, 8) > memory_estimate(spec, 64, 1.0, 4)
    assert main(["sweep", "--preset", "A", "--n", "64", "--depth", "4", "--max-memory", "1M"]) == 2
    assert "more than the limit 1.0 MiB (--max-memory)" in capsys.readouterr().err


def test_output_paths_are_checked_before_any_work(tmp_path, capsys):
    afile = tmp_path / "file"
    afile.write_text("x")
    cases = [(["--out", str(afile)], "not a directory"),
             (["--out", str(tmp_path / "d"), "--csv", str(tmp_path / "no" / "t.csv")], "does not exist"),
             (["--csv", str(tmp_path)], "is a directory")]
    notstore = tmp_path / "other"
    notstore.mkdir()
    (notstore / "data.txt").write_text("mine")
    cases.append((["--out", str(notstore)], "not a gapcheck sweep store"))
    for extra, msg in cases:
        assert main(["sweep", *extra]) == 2  # the default sweep: would take seconds
        err = capsys.readouterr().err
        assert msg in err and err.count("\n") == 1
    assert not (tmp_path / "d").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "other"]


def test_cli_out_and_csv_agree(tmp_path, capsys):
    out, csv_file = tmp_path / "s", tmp_path / "t.csv"
    args = ["sweep", "--preset", "A,A(X)-perp", "--n", "6,8", "--depth", "7", "--samples", "3"]
    assert main(args + ["--out", str(out), "--csv", str(csv_file)]) == 0
    err = capsys.readouterr().err
    assert "note: A(X)-perp" in err and "underflowed" in err
    text = csv_file.read_bytes().decode()
    assert text.startswith(",".join(COLUMNS)) and text.count("\n") == 1 + 2 * 3 * 7 + 2 * 3 * 5
    assert main(args) == 0
    assert capsys.readouterr().out == text
    spec = SweepSpec.make(["A", "A(X)-perp"], [6, 8], depth=7, samples=3)
    assert read_table(spec, ParquetStore(out)).to_csv() == text


def test_float32_warns_where_it_changes_the_result():
    # key-query attention with the gap removed and Xavier scaling contracts like X^3:
    # float32 underflows (1.2e-38) layers before float64 (2.2e-308)
    args = (["A(X)-perp", "A"], [16])
    t64 = sweep(*args, depth=8, samples=2)
    with pytest.warns(PrecisionWarning, match="underflowed .* smaller depth than in float64"):
        t32 = sweep(*args, depth=8, samples=2, dtype="float32")
    last64 = t64.where(preset="A(X)-perp").column("layer").max()
    last32 = t32.where(preset="A(X)-perp").column("layer").max()
    assert last32 < last64 < 8
    assert t32.where(preset="A").column("layer").max() == 8  # Markov attention is unaffected
    sr = t32.where(preset="A").column("value")
    assert np.all(sr >= 1 - 1e-6) and np.all(sr <= 16)


def test_cli_float32_warning_is_one_line(capsys):
    assert main(["sweep", "--preset", "A(X)-perp", "--n", "12", "--depth", "8", "--samples", "1",
                 "--dtype", "float32"]) == 0
    err = capsys.readouterr().err
    warn = [l for l in err.splitlines() if "warning" in l]
    assert len(warn) == 1 and "float32" in warn[0] and "--dtype float64" in warn[0]


def test_progress_shows_chunks_done_of_total(tmp_path, capsys):
    import rich.progress
    seen = []
    orig = rich.progress.Progress.add_task

    def spy(self, *a, **k):
        seen.append((k.get("total"), k.get("completed")))
        return orig(self, *a, **k)

    rich.progress.Progress.add_task = spy
    try:
        sweep(["A"], [6], depth=2, samples=4, chunk_samples=1, progress=True, store=tmp_path / "s")
        sweep(["A"], [6], depth=2, samples=4, chunk_samples=1, progress=True, store=tmp_path / "s")
    finally:
        rich.progress.Progress.add_task = orig
    assert seen == [(4, 0), (4, 4)]  # the resumed run starts at 4 of 4


def test_sweep_and_workers_bad_input():
    with pytest.raises(ValueError, match="not both"):
        sweep(["A"], [4], depth=1, samples=1, workers=2, scheduler="tcp://127.0.0.1:1")
    with pytest.raises(ValueError, match="workers"):
        sweep(["A"], [4], depth=1, samples=1, workers=0)
    with pytest.raises(ValueError, match="chunk_samples"):
        sweep(["A"], [4], depth=1, samples=1, chunk_samples=0)
    with pytest.raises(ValueError, match="scheduler"):
        sweep(["A"], [4], depth=1, samples=1, scheduler="tcp://127.0.0.1:1")
    assert not os.path.exists("tcp:")
