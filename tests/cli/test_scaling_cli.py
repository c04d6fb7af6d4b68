"""``gapcheck scaling`` and :mod:`numerics.scaling`: the verdicts (consistent,
inconsistent, inconclusive with its reason), the figure, the JSON, and bad
input as one readable line."""
from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from gapcheck.numerics.scaling import STATISTICS, _judge, check_scaling, parse_prediction
from gapcheck.numerics.stats import LogLogFit
from gapcheck.theory.model import AttentionModel, Scale, preset

# Identity attention, depth 2: ||dX_2/dW_1||_F^2 = ||X_0||_F^2 ||W_2||_F^2 = n chi^2_{d^2}
# (sigma_V^2 = 1), so its mean is n d^2 = n^3 at gamma = 1 *exactly at every n*: a cheap
# law with no finite-n bias, computed by the Kronecker identity.
GRAD = ["--preset", "identity", "--depth", "2", "--statistic", "grad-norm", "--layer", "1",
        "--ns", "16", "32", "64", "--samples", "8", "--seed", "3"]


def test_consistent_law_exit_0_and_figure(gapcheck, tmp_path):
    plot = tmp_path / "fit.png"
    r = gapcheck("scaling", *GRAD, "--predict", "n**3", "--plot", plot)
    assert r.code == 0, r.out + r.err
    assert "verdict: CONSISTENT" in r.out
    assert plot.read_bytes().startswith(b"\x89PNG") and plot.stat().st_size > 10_000


def test_inconsistent_exponent_exit_1(gapcheck):
    r = gapcheck("scaling", *GRAD, "--exponent", "2.75")
    assert r.code == 1, r.out + r.err
    assert "verdict: INCONSISTENT: the prediction 2.75 lies outside" in r.out


def test_json_report_shape(gapcheck, tmp_path):
    r = gapcheck("scaling", *GRAD, "--exponent", "3", "--json", "--plot", tmp_path / "f.pdf")
    rep = json.loads(r.out)
    assert rep["verdict"] == "consistent" and rep["ns"] == [16, 32, 64]
    lo, hi = rep["ci"]
    assert lo <= rep["fitted_exponent"] <= hi and lo <= 3 <= hi
    assert len(rep["means"]) == 3 and rep["predicted_exponent"] == 3
    assert (tmp_path / "f.pdf").read_bytes().startswith(b"%PDF")


def test_readme_example_xavier_gap_ratio_is_not_sqrt_n(gapcheck):
    """Xavier keys/queries: sigma_A ~ 1/d, so s_1/s_2 ~ sqrt(n)/(2 sigma_A) ~ n^(3/2):
    the hypothesis 'gap ratio ~ sqrt(n)' is rejected; n^(3/2) is accepted."""
    base = ["scaling", "--attention", "key-query", "--sigma-qk2", "xavier", "--statistic",
            "gap-ratio", "--ns", "16", "32", "64", "--samples", "6"]
    bad = gapcheck(*base, "--predict", "sqrt(n)")
    assert bad.code == 1 and "INCONSISTENT" in bad.out
    good = gapcheck(*base, "--predict", "n**(3/2)/2")
    assert good.code == 0 and "CONSISTENT" in good.out, good.out


def test_inconclusive_when_the_statistic_vanishes():
    """Without the gap the attention has no outlier: a count of 0 has no power law."""
    r = check_scaling(preset("A-perp", n=16, depth=1), "outliers", 0, ns=(16, 24, 32),
                      samples=3, rng=0)
    assert r.verdict == "inconclusive" and "no power law" in r.why and r.fit is None


def test_inconclusive_when_the_ci_is_wide_or_drifting():
    wide = LogLogFit(slope=1.0, intercept=0.0, ci_low=0.4, ci_high=1.6, level=0.99, ns=(1, 2, 3))
    v, why = _judge(wide, 1.0, [0.9, 1.1], 0.25, [1.0, 2.0, 3.0], "srank")
    assert v == "inconclusive" and "wider than" in why
    drift = LogLogFit(slope=0.39, intercept=0.0, ci_low=0.34, ci_high=0.44, level=0.99, ns=(1, 2, 3))
    v, why = _judge(drift, 0.5, [0.2, 0.49], 0.25, [1.0, 2.0, 3.0], "gap-ratio")
    assert v == "inconclusive" and "pre-asymptotic" in why
    v, _ = _judge(drift, 0.5, [0.39, 0.39], 0.25, [1.0, 2.0, 3.0], "gap-ratio")
    assert v == "inconsistent"


def test_python_api_with_a_model_factory():
    """A model whose value variance depends on d (sigma_V^2 = 1/d): for identity attention
    at depth 2, ||dX_2/dW_1||_F^2 = n ||W_2||_F^2 has mean n d^2 / d = n^2."""
    r = check_scaling(lambda n: AttentionModel(n=n, depth=2, attention="identity",
                                               sigma_v2=Scale.xavier()), "grad-norm", "n**2",
                      ns=(16, 32, 64), samples=6, layer=1, rng=1)
    assert r.verdict == "consistent", r.summary()
    assert set(STATISTICS) >= {"srank", "gap-ratio", "grad-norm", "entropy", "outliers"}


def test_prediction_parsing():
    assert parse_prediction("3*d**-4/n", gamma=1)[1] == -5.0
    assert parse_prediction(0.5) == (None, 0.5)
    for bad in ("n**x", "log(n)", "-n", "n +", "exp(n)"):
        with pytest.raises(ValueError, match="predict"):
            parse_prediction(bad)


@pytest.mark.parametrize("extra, needle", [
    (["--statistic", "rank", "--exponent", "1"], "statistic must be one of"),
    (["--statistic", "srank", "--exponent", "1", "--gamma", "2"], "gamma must be in (0, 1]"),
    (["--statistic", "srank", "--exponent", "1", "--layer", "3"], "layer must be an integer"),
    (["--statistic", "srank", "--predict", "log(n)"], "no power-law exponent"),
    (["--statistic", "srank", "--exponent", "1", "--ns", "8", "8", "16"], "ns must list"),
    (["--statistic", "srank", "--exponent", "1", "--sigma-qk2", "-1"], "sigma_qk2 must be > 0"),
    (["--statistic", "srank", "--exponent", "1", "--preset", "B"], "preset must be one of"),
    (["--statistic", "srank", "--exponent", "1", "--plot", "out.txt"], "--plot must end in"),
    (["--statistic", "srank", "--exponent", "1", "--plot", "/nonexistent-dir/a/b.png"],
     "cannot write --plot"),
])
def test_bad_input_is_one_line(gapcheck, extra, needle):
    line = gapcheck("scaling", "--ns", "8", "16", "32", "--samples", "2", *extra).one_error_line()
    assert needle in line


def test_console_script_has_no_traceback():
    exe = shutil.which("gapcheck")
    assert exe, "the gapcheck console script is not installed (pip install -e .)"
    proc = subprocess.run([exe, "scaling", "--statistic", "srank", "--exponent", "1",
                           "--gamma", "0"], capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == "gapcheck: error: gamma must be in (0, 1] (got 0)"


def test_slope_bias_budget_is_explicit():
    """An exponent 0.02 outside a narrow CI: consistent within the default finite-n budget
    0.05, inconsistent with no budget (the budget is a stated parameter, not a loose z)."""
    fit = LogLogFit(slope=-0.979, intercept=0.0, ci_low=-0.999, ci_high=-0.958, level=0.99,
                    ns=(32, 64, 128, 256))
    local = [-0.98, -0.98, -0.99]
    assert _judge(fit, -1, local, 0.25, [1.0] * 4, "attention-deviation", 0.05)[0] == "consistent"
    assert _judge(fit, -1, local, 0.25, [1.0] * 4, "attention-deviation", 0.0)[0] == "inconsistent"
    assert _judge(fit, -1.2, local, 0.25, [1.0] * 4, "attention-deviation", 0.05)[0] == "inconsistent"
