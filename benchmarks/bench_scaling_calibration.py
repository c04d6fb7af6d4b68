"""Size and power of ``gapcheck scaling``'s verdicts, measured in one run.

For every law of :data:`numerics.calibration.CATALOGUE` (15 exponents the
package derives: Props 3-7, Theorems 2 and 10, the Xavier key-query laws,
gradient norms with and without the gap, the depth-2 A-perp stable rank ~ n),
``--seeds`` seeds judge the true exponent and the exponent moved by -0.25 and
+0.25, on the catalogue's grid with grid extension up to its ``max_n`` (no
time budget, so the run is deterministic).  The three hypotheses of an entry
share one set of samples (a perturbation changes only the prediction), drawn
for all seeds at once.

Prints one line per entry, then the false-inconsistent rate at the truth (the
contract: <= 1% per call), the fraction of perturbed calls answered
"inconsistent" (the power), and the number answered "consistent" (the
contract: none).  The last line prints the false-inconsistent rate and the power.

    python benchmarks/bench_scaling_calibration.py [--seeds 50] [--samples 16] [--entries a,b]

Run of 2026-12-03 (commit d282cc8's verdict code, 50 seeds, 16 samples, on 2
shared cores, the catalogue split over two processes with --entries): at the
truth 0 of 750 calls inconsistent (95% upper bound 0.004); at +-0.25, 0 of 1500
consistent, 804 inconsistent (0.54), the rest inconclusive. Resolved (50/50
consistent at the truth, 100/100 inconsistent at +-0.25): the gradient norms of
Props 4 and 6 at L = 1, Prop 4 at L = 2, the Xavier attention deviation and gap
ratio. Mostly inconclusive on n <= 256 with 16 samples: the srank-excess laws
(Prop 3, Xavier; noisy), the stable ranks of Prop 5, Prop 7's top eigenvalue
and the slow Theorem 2 / 10 gap ratios (inconsistent for -0.25 in 47-50 seeds).
"""
from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # small batched matrices on a shared machine

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402

from scipy.stats import beta  # noqa: E402

from gapcheck.numerics.calibration import CATALOGUE, run_entry  # noqa: E402


def _upper(k, n, level=0.95):
    """One-sided Clopper-Pearson upper bound of a rate from k of n."""
    return 1.0 if k == n else float(beta.ppf(level, k + 1, n - k))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=50)
    ap.add_argument("--samples", type=int, default=16)
    ap.add_argument("--entries", help="comma-separated names (default: the whole catalogue)")
    ap.add_argument("--json", metavar="FILE", help="also write the counts as JSON")
    args = ap.parse_args(argv)
    names = [e.name for e in CATALOGUE]
    chosen = names if not args.entries else args.entries.split(",")
    unknown = set(chosen) - set(names)
    if unknown:
        ap.error(f"unknown entries {sorted(unknown)}; choose from {names}")
    t0 = time.perf_counter()
    tallies, rows = [], []
    for e in CATALOGUE:
        if e.name not in chosen:
            continue
        t = time.perf_counter()
        tally = run_entry(e, seeds=args.seeds, samples=args.samples)
        tallies.append(tally)
        print(f"{tally.line()}  ({time.perf_counter() - t:.0f} s)", flush=True)
        rows.append({"entry": e.name, "result": e.result, "statistic": e.statistic,
                     "exponent": e.exponent, "seeds": tally.seeds,
                     "counts": {str(k): v for k, v in tally.counts.items()},
                     "largest_n": tally.largest_n,
                     "inconclusive_reasons_truth": tally.reasons[0.0][:3]})
    calls = sum(t.seeds for t in tallies)
    false_inc = sum(t.counts[0.0]["inconsistent"] for t in tallies)
    perturbed = 2 * calls
    power = sum(t.counts[s]["inconsistent"] for t in tallies for s in (-0.25, 0.25))
    wrong = sum(t.perturbed_consistent for t in tallies)
    inconclusive = perturbed - power - wrong
    worst = max(tallies, key=lambda t: t.false_inconsistent)
    weakest = min(tallies, key=lambda t: t.power)
    print(f"\n{len(tallies)} entries x {args.seeds} seeds, {args.samples} samples per n and seed, "
          f"{time.perf_counter() - t0:.0f} s")
    print(f"truth: inconsistent {false_inc}/{calls} (95% upper bound "
          f"{_upper(false_inc, calls):.4f}); worst entry {worst.entry.name} "
          f"{worst.false_inconsistent:.3f}")
    print(f"exponent +-0.25: inconsistent {power}/{perturbed}, inconclusive {inconclusive}, "
          f"consistent {wrong} (contract: 0); weakest entry {weakest.entry.name} "
          f"{weakest.power:.2f}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)
    print(f"false-inconsistent rate {false_inc / calls:.4f}; power {power / perturbed:.3f} "
          f"(inconsistent or inconclusive, never consistent: "
          f"{(perturbed - wrong) / perturbed:.3f})")


if __name__ == "__main__":
    main()
