"""The sweep table and the ``gapcheck sweep`` command."""
from __future__ import annotations

import csv
import io

import numpy as np
import pytest

from gapcheck.theory.model import AttentionModel, preset
from gapcheck.numerics.cli import main
from gapcheck.numerics.forward import sample
from gapcheck.numerics.measures import covariance_stable_rank
from gapcheck.numerics.sweep import COLUMNS, SweepSpec, sample_seed, sweep


def test_sweep_table_layout_and_values():
    t = sweep(["A", "A(X) + LN"], [6, 10], depth=3, samples=2, seed=4,
              measures=["stable-rank", "grad-norm-sq"])
    assert t.columns == COLUMNS
    assert len(t) == 2 * 2 * 3 * 2 * 2  # presets x ns x layers x samples x measures
    assert set(t.column("layer")) == {1, 2, 3}
    sr = t.where(measure="stable-rank").column("value")
    assert np.all(sr >= 1 - 1e-12) and np.all(sr <= 10 + 1e-9)
    assert t.to_csv() == sweep(["A", "A(X) + LN"], [6, 10], depth=3, samples=2, seed=4,
                               measures=["stable-rank", "grad-norm-sq"]).to_csv()
    assert t.to_csv() != sweep(["A", "A(X) + LN"], [6, 10], depth=3, samples=2, seed=5,
                               measures=["stable-rank", "grad-norm-sq"]).to_csv()


def test_sweep_values_are_the_models_stable_ranks():
    # recompute each sample from its own stream: seed and coordinates only
    t = sweep(["A-perp + LN"], [8], depth=2, samples=3, seed=1)
    spec = SweepSpec.make(["A-perp + LN"], [8], depth=2, samples=3, seed=1)
    (group,) = spec.groups(8, 1.0)
    model = preset("A-perp + LN", n=8, depth=2)
    want = [covariance_stable_rank(sample(model, batch=1, rng=np.random.default_rng(
        sample_seed(1, group, 8, 1.0, s))).X[2])[0] for s in range(3)]
    np.testing.assert_allclose(t.where(layer=2).column("value"), want, rtol=1e-12)
    # a different root seed or sample index gives other values
    other = covariance_stable_rank(sample(model, batch=1, rng=np.random.default_rng(
        sample_seed(2, group, 8, 1.0, 0))).X[2])[0]
    assert abs(other - want[0]) > 1e-6 and abs(want[1] - want[0]) > 1e-6


def test_sweep_custom_models_and_underflow_notes():
    t = sweep({"mine": AttentionModel(n=2, attention="key-query", sigma_qk2=2.0)}, [5], depth=2,
              samples=2)
    assert set(t.column("preset")) == {"mine"}
    u = sweep(["A(X)-perp"], [8], depth=8, samples=1)
    assert u.notes and "underflowed" in u.notes[0]
    assert max(u.column("layer")) < 8


def test_sweep_bad_input():
    with pytest.raises(ValueError, match="measure"):
        sweep(["A"], [4], measures=["rank"])
    with pytest.raises(ValueError, match="preset"):
        sweep(["B"], [4])
    with pytest.raises(ValueError, match="n must"):
        sweep(["A"], [1])
    with pytest.raises(ValueError, match="gamma"):
        sweep(["A"], [4], gamma=2)
    with pytest.raises(ValueError, match="depth"):
        sweep(["A"], [4], depth=0)


def test_cli_sweep_writes_the_tidy_csv(tmp_path, capsys):
    out = tmp_path / "s.csv"
    rc = main(["sweep", "--preset", "A,A-perp", "--preset", "identity", "--n", "4,6", "--depth",
               "2", "--samples", "2", "--gamma", "1,0.5", "--measure", "stable-rank,gap-ratio",
               "--csv", str(out)])
    assert rc == 0
    rows = list(csv.DictReader(out.open()))
    assert tuple(rows[0]) == COLUMNS
    assert len(rows) == 3 * 2 * 2 * 2 * 2 * 2
    assert {r["measure"] for r in rows} == {"stable-rank", "gap-ratio"}
    assert {r["gamma"] for r in rows} == {"1.0", "0.5"}


def test_cli_sweep_csv_dash_is_standard_output(tmp_path, capsys, monkeypatch):
    """``--csv -`` prints the table (alone, or next to the --out store) and writes
    no file named '-'."""
    monkeypatch.chdir(tmp_path)
    argv = ["sweep", "--preset", "A", "--n", "6", "--depth", "2", "--samples", "2", "--csv", "-"]
    assert main(argv) == 0
    alone = capsys.readouterr().out
    assert main([*argv, "--out", str(tmp_path / "store")]) == 0
    both = capsys.readouterr().out
    assert alone == both and len(list(csv.DictReader(io.StringIO(alone)))) == 2 * 2
    assert not (tmp_path / "-").exists() and (tmp_path / "store").is_dir()


@pytest.mark.parametrize("argv, msg", [
    (["sweep", "--preset", "B"], "--preset"),
    (["sweep", "--n", "x"], "--n"),
    (["sweep", "--n", "1"], "n must"),
    (["sweep", "--gamma", "0"], "gamma"),
    (["sweep", "--measure", "rank"], "measure"),
    (["sweep", "--out", "x.csv"], "--csv FILE"),
    (["sweep", "--workers", "0"], "--workers"),
    (["sweep", "--max-memory", "lots"], "--max-memory"),
])
def test_cli_sweep_bad_input_exits_2(argv, msg, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert msg in err and err.count("\n") == 1
