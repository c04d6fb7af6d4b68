"""``gapcheck scaling``: sanity-check a scaling hypothesis (see :mod:`numerics.scaling`).

Describe the model (``--preset NAME`` or its fields), the statistic and the
predicted law; the command sweeps n, fits the exponent under the correction
models of :mod:`numerics.scaling` (bootstrap CIs), extends the grid while the
answer is inconclusive and ``--budget`` allows, prints the verdict and writes
a log-log figure with ``--plot FILE``.

Exit code: 0 consistent, 1 inconsistent, 3 inconclusive, 2 bad input.

Example (Xavier keys/queries make attention uniform)::

    gapcheck scaling --attention key-query --sigma-qk2 xavier \\
        --statistic attention-deviation --predict "sqrt(27/4)/d"
"""
from __future__ import annotations

import json
import sys

from .. import model_options as _model_args
from ..model_options import number as _number, parse_scale
from ..scaling import check_scaling
from ..statistics import STATISTICS

EXIT = {"consistent": 0, "inconsistent": 1, "inconclusive": 3}


def add_parser(sub):
    p = sub.add_parser(
        "scaling", help="sanity-check a scaling hypothesis: sweep n, fit the exponent, judge",
        description="Sweep n with gamma = n/d fixed, measure a statistic, fit its exponent "
                    "with a bootstrap CI and compare with a predicted law. Exit code 0 "
                    "consistent, 1 inconsistent, 3 inconclusive.")
    m = p.add_argument_group("model (theory.model.AttentionModel)")
    m.add_argument("--preset", metavar="NAME",
                   help="one of the paper's 25 configurations, e.g. 'A', 'A-perp + skip + LN', "
                        "'A(X)'; the options below override its fields")
    m.add_argument("--attention", choices=("markov", "identity", "key-query"))
    m.add_argument("--ensemble", help="Random Markov entries: lognormal, exponential, uniform")
    m.add_argument("--sigma-a2", metavar="V", help="relative variance of the Markov entries")
    m.add_argument("--sigma-qk2", metavar="S",
                   help="key/query variance: a number, 'xavier' (1/d) or 'd^-a' (e.g. d^-0.5)")
    m.add_argument("--sigma-v2", metavar="S", help="value variance: a number, 'xavier' or 'd^-a'")
    m.add_argument("--remove-gap", metavar="K", type=int,
                   help="0 keep the gap, 1 use A - 11^T/n, k >= 2 remove the top k")
    m.add_argument("--layernorm", action="store_true", default=None, help="post-LayerNorm")
    m.add_argument("--skip", help="standard, upscaled, or a residual strength alpha > 0")
    m.add_argument("--depth", metavar="L", type=int, help="number of layers (default 1)")
    m.add_argument("--gamma", metavar="G", help="n/d in (0, 1], e.g. 1/2 (default 1); > 1 with "
                                                 "--isometry columns or --init")
    _model_args.add_arguments(p.add_argument_group(
        "beyond the paper's model (heads, masks, LN position, MLP, named initialisations)"))
    s = p.add_argument_group("statistic and prediction")
    s.add_argument("--statistic", required=True, metavar="NAME",
                   help="; ".join(f"{k}: {v.description}" for k, v in STATISTICS.items()))
    s.add_argument("--layer", type=int, help="layer of the statistic (default: the last)")
    pred = s.add_mutually_exclusive_group(required=True)
    pred.add_argument("--predict", metavar="EXPR",
                      help="predicted law, a formula in n, d = n/gamma and gamma (numbers, "
                           "+ - * / **, sqrt, log, exp), e.g. 'sqrt(n)/2'; or 'theory': the "
                           "power law of the registry's results that apply to the model")
    pred.add_argument("--exponent", metavar="A", help="predicted exponent, e.g. -1 or 1/2")
    r = p.add_argument_group("sweep and output")
    s.add_argument("--judge-constant", action="store_true",
                   help="judge the formula's constant too (default: the exponent only)")
    r.add_argument("--ns", nargs="+", type=int, default=[32, 64, 128, 256], metavar="N",
                   help="starting grid of n, at least 4 sizes (default 32 64 128 256)")
    r.add_argument("--samples", type=int, default=32, help="samples per n (default 32)")
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--budget", type=float, default=120.0, metavar="SECONDS",
                   help="time the grid extension may spend (largest n doubled while "
                        "inconclusive; default 120, 0 keeps the grid)")
    r.add_argument("--max-n", type=int, default=2048, help="largest n of an extension (2048)")
    r.add_argument("--level", type=float, default=0.99,
                   help="1 - false-inconsistent probability of the call (default 0.99)")
    r.add_argument("--resolution", type=float, default=0.25,
                   help="'consistent' needs the exponent's interval inside prediction ± this "
                        "(default 0.25)")
    r.add_argument("--backend", default="numpy", choices=("numpy", "cupy"))
    r.add_argument("--plot", metavar="FILE", help="write the log-log figure (.png or .pdf)")
    r.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=run)
    return p


def build_model(args, n: int):
    """The ``AttentionModel`` the options describe, at width n."""
    from ...theory.model import preset

    fields = {}
    if args.attention is not None:
        fields["attention"] = args.attention
    if args.ensemble is not None:
        fields["ensemble"] = args.ensemble
    if args.sigma_a2 is not None:
        fields["sigma_a2"] = _number("sigma_a2", args.sigma_a2)
    if args.sigma_qk2 is not None:
        fields["sigma_qk2"] = parse_scale("sigma_qk2", args.sigma_qk2)
    if args.sigma_v2 is not None:
        fields["sigma_v2"] = parse_scale("sigma_v2", args.sigma_v2)
    if args.remove_gap is not None:
        fields["remove_gap"] = args.remove_gap
    if args.layernorm:
        fields["layernorm"] = True
    if args.skip is not None:
        fields["skip"] = args.skip if args.skip in ("standard", "upscaled") else \
            float(_number("skip", args.skip))
    depth = 1 if args.depth is None else args.depth
    gamma = 1 if args.gamma is None else _number("gamma", args.gamma)
    if args.init is not None and args.preset is not None:
        raise ValueError("give --preset (the paper's configurations) or --init, not both")
    base = None if args.preset is None else (lambda **kw: preset(args.preset, **kw))
    return _model_args.model(args, n=n, depth=depth, gamma=gamma, base=base, **fields)


def run(args) -> int:
    template = build_model(args, min(args.ns))
    prediction = args.predict if args.predict is not None else float(
        _number("exponent", args.exponent))
    if args.plot:
        from pathlib import Path
        target = Path(args.plot)
        if target.suffix.lower() not in (".png", ".pdf", ".svg"):
            raise ValueError(f"--plot must end in .png, .pdf or .svg (got {args.plot!r})")
        if target.is_dir() or not target.parent.is_dir():
            raise OSError(f"cannot write --plot {target}: "
                          f"{'it is a folder' if target.is_dir() else 'its folder does not exist'}")
    report = check_scaling(template, args.statistic, prediction, ns=args.ns, layer=args.layer,
                           samples=args.samples, rng=args.seed, backend=args.backend,
                           level=args.level, resolution=args.resolution,
                           constant=args.judge_constant, budget=args.budget,
                           max_n=args.max_n)
    if args.plot:
        try:
            report.plot(args.plot)
        except OSError as exc:
            raise OSError(f"cannot write --plot {args.plot}: {exc.strerror or exc}") from None
    if args.json:
        print(json.dumps(report.to_json(), indent=1))
    else:
        print(f"model: {report.model}")
        for n, m, se in zip(report.ns, report.means, report.ses):
            print(f"  n = {n:6d}   {report.statistic} = {m:.6g} ± {se:.2g} (SE)")
        print(report.summary())
        if args.plot:
            print(f"wrote {args.plot}", file=sys.stderr)
    return EXIT[report.verdict]
