"""``gapcheck scaling`` and ``gapcheck sweep`` with the options beyond the
paper's model (issue 14): the described model, the sweep's table, bad input in
one line."""
from __future__ import annotations

import argparse
import csv
import io
import json
from fractions import Fraction

import pytest

from gapcheck.theory.model import MLP, AttentionModel, Scale, preset
from gapcheck.theory.presets import init_preset
from gapcheck.numerics.commands import scaling

SCALING = ("scaling", "--statistic", "stable-rank", "--exponent", "0", "--ns", "16", "24", "32",
           "48", "--samples", "4", "--budget", "0", "--depth", "2")


def _args(*argv):
    p = argparse.ArgumentParser()
    scaling.add_parser(p.add_subparsers())
    return p.parse_args(["scaling", "--statistic", "stable-rank", "--exponent", "0", *argv])


@pytest.mark.parametrize("argv, want", [
    (["--init", "gpt2", "--heads", "2", "--depth", "3"],
     init_preset("gpt2", n=16, depth=3, heads=2)),
    (["--init", "t5+gap", "--heads", "4", "--mlp", "gelu"],
     init_preset("t5+gap", n=16, depth=1, heads=4).replace(
         mlp=MLP(activation="gelu"))),
    (["--init", "gpt2", "--heads", "2", "--gamma", "4/3", "--norm", "post"],
     init_preset("gpt2", n=16, depth=1, heads=2, gamma=Fraction(4, 3), ln_position="post")),
    (["--preset", "A(X) + skip + LN", "--heads", "4", "--causal", "--norm", "pre",
      "--temperature", "linear", "--d-k", "3", "--out-proj", "d^-0.5"],
     preset("A(X) + skip + LN", n=16, depth=1, heads=4, causal=True, ln_position="pre",
            temperature="linear", d_k=3, out_proj=Scale.power(0.5))),
    (["--attention", "key-query", "--mlp", "--residual-scale", "1/sqrt(L)", "--depth", "4"],
     AttentionModel(n=16, depth=4, attention="key-query", mlp=MLP(), skip="1/sqrt(L)")),
    (["--gamma", "2", "--isometry", "columns", "--norm", "none"],
     AttentionModel(n=16, gamma=2, isometry="columns")),
    # removing what an initialisation has: each flag takes away exactly its field
    (["--init", "gpt2", "--heads", "2", "--no-causal"],
     init_preset("gpt2", n=16, depth=1, heads=2, causal=False)),
    (["--init", "gpt2", "--heads", "2", "--mlp", "none", "--out-proj", "none"],
     init_preset("gpt2", n=16, depth=1, heads=2, mlp=None, out_proj=None)),
    (["--init", "mup", "--heads", "2", "--no-causal", "--temperature", "sqrt"],
     init_preset("mup", n=16, depth=1, heads=2, causal=False, temperature="sqrt")),
])
def test_options_describe_the_model(argv, want):
    assert scaling.build_model(_args(*argv), 16) == want


def test_init_keeps_its_mlp_variances_when_the_activation_changes():
    m = scaling.build_model(_args("--init", "gpt2", "--heads", "2", "--mlp", "relu"), 16)
    assert m.mlp.activation == "relu" and m.mlp.sigma_out2 == init_preset(
        "gpt2", n=16, depth=1, heads=2).mlp.sigma_out2


def test_scaling_runs_an_initialisation(gapcheck):
    run = gapcheck(*SCALING, "--init", "bert", "--heads", "4", "--json")
    assert run.code in (0, 1, 3), run.err
    report = json.loads(run.out)
    assert "heads=4" in report["model"] and len(report["means"]) == 4


@pytest.mark.parametrize("extra, needle", [
    (["--init", "gpt3"], "init must be one of"),
    (["--init", "gpt2"], "heads must divide the width d = 16 (got heads=12)"),
    (["--preset", "A", "--init", "bert"], "give --preset (the paper's configurations) or --init"),
    (["--heads", "3"], "heads must divide the width d = 16"),
    (["--norm", "pre"], "ln_position='pre' needs"),  # --norm pre sets layernorm: not this one
    (["--layernorm", "--norm", "pre"], "give --layernorm (post-LN) or --norm pre, not both"),
    (["--skip", "standard", "--residual-scale", "1/sqrt(L)"], "give --skip or --residual-scale"),
    (["--residual-scale", "1/L"], "residual_scale must be a number"),
    (["--temperature", "linear"], "temperature applies to key-query attention only"),
    (["--out-proj", "-1"], "out_proj must be > 0"),
    (["--gamma", "4/3"], "needs isometry='columns'"),
])
def test_bad_options_are_one_line(gapcheck, extra, needle):
    if extra == ["--norm", "pre"]:  # valid: pre-LN with LayerNorm on
        assert scaling.build_model(_args(*extra), 16).ln_position == "pre"
        return
    assert needle in gapcheck(*SCALING, *extra).one_error_line()


def test_memory_estimate_grows_with_heads_and_mlp():
    from gapcheck.numerics.scaling import _memory_bytes
    from gapcheck.numerics.statistics import get_statistic
    stat = get_statistic("entropy")
    base = AttentionModel(n=64, depth=4, attention="key-query")
    b0 = _memory_bytes(base, 8, stat)
    # 8 attentions per layer kept (and 7 more temporaries) against 1 + 4 n d of the rest
    assert _memory_bytes(base.replace(heads=8), 8, stat) > 3 * b0 > 0
    assert _memory_bytes(base.replace(mlp=MLP()), 8, stat) > 3 * b0  # 8 d^2 weights, 4 n d hidden


def test_sweep_with_options_and_an_initialisation(gapcheck, tmp_path):
    out = tmp_path / "t.csv"
    run = gapcheck("sweep", "--preset", "A,A(X) + skip + LN", "--heads", "2", "--causal", "--n",
                   "8,16", "--depth", "2", "--samples", "2", "--csv", out)
    assert run.code == 0, run.err
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert {r["preset"] for r in rows} == {"A | heads+causal", "A(X) + skip + LN | heads+causal"}
    assert len(rows) == 2 * 2 * 2 * 2
    run = gapcheck("sweep", "--init", "mup+gap", "--heads", "2", "--n", "8,16", "--depth", "2",
                   "--samples", "2", "--measure", "stable-rank,grad-norm-sq")
    assert run.code == 0, run.err
    rows = list(csv.DictReader(io.StringIO(run.out)))
    assert {r["preset"] for r in rows} == {"mup+gap"} and {r["measure"] for r in rows} == {
        "stable-rank", "grad-norm-sq"}
    assert "give --preset" in gapcheck("sweep", "--preset", "A", "--init", "gpt2").one_error_line()


def test_sweep_groups_keep_the_papers_streams():
    """A paper preset's group (and so its sample streams) is the same whether or
    not a model beyond the paper is swept next to it."""
    from gapcheck.numerics.sweep import SweepSpec
    a = SweepSpec.make(["A"], (8,), depth=2, samples=2)
    b = SweepSpec.make({"A": preset("A", n=8, depth=2), "A heads": preset("A", n=8, depth=2, heads=2)},
                       (8,), depth=2, samples=2)
    ga, gb = a.groups(8, 1.0), b.groups(8, 1.0)
    assert list(ga) == [list(gb)[0]] and len(gb) == 2


def test_sweep_more_tokens_than_features(gapcheck, tmp_path):
    """gamma > 1 (GPT-2-small's 1024 tokens over d = 768) with orthonormal columns:
    the CLI's table is the in-process sweep's, d = n/gamma caps the stable rank,
    and the row isometry at gamma > 1 is refused in one line before any file."""
    from gapcheck.numerics.sweep import SweepSpec, sweep
    out = tmp_path / "t.csv"
    run = gapcheck("sweep", "--preset", "A(X) + skip + LN", "--isometry", "columns", "--n", "24,48",
                   "--gamma", "2,4/3", "--depth", "2", "--samples", "2", "--csv", out)
    assert run.code == 0, run.err
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert {float(r["gamma"]) for r in rows} == {2.0, 4 / 3} and len(rows) == 2 * 2 * 2 * 2
    m = preset("A(X) + skip + LN", n=24, depth=2, isometry="columns")
    table = sweep({"A(X) + skip + LN | isometry": m}, [24, 48], depth=2, samples=2,
                  gamma=[2, 4 / 3])
    assert [float(r["value"]) for r in rows] == pytest.approx(
        [float(v) for v in table.column("value")], rel=1e-12)
    for r in rows:  # rank(X X^T) <= d = n / gamma < n
        assert 1 <= float(r["value"]) <= int(r["n"]) / float(r["gamma"]) + 1e-9
    # the swept model's width is n / gamma (not n gamma) and its input has orthonormal
    # columns, X_0^T X_0 = I_d, at both ratios (the stable ranks above sit far below d)
    import numpy as np
    from gapcheck.numerics.forward import draw
    spec = SweepSpec.make({"A(X) + skip + LN | isometry": m}, [24, 48], depth=2, samples=1,
                          gamma=[2, 4 / 3])
    for n, g, d in ((24, 2.0, 12), (48, 4 / 3, 36)):
        mm = spec.model(0, n, g)
        X0 = draw(mm, rng=0).X0[0]
        assert mm.d == d and X0.shape == (n, d)
        assert np.allclose(X0.T @ X0, np.eye(d), atol=1e-12)
    line = gapcheck("sweep", "--n", "24", "--gamma", "2", "--depth", "2",
                    "--out", tmp_path / "store").one_error_line()
    assert "gamma = 2" in line and "isometry='columns'" in line
    assert not (tmp_path / "store").exists()
    with pytest.raises(ValueError, match="needs isometry='columns'"):
        SweepSpec.make(["A"], (24,), depth=2, samples=1, gamma=[1, 2])
