"""Model options of the command line: :func:`parse_scale` (a variance as a
number or a rule in d), and the options of the description beyond the paper
(issue 14) shared by ``gapcheck scaling`` and ``gapcheck sweep``: heads, d_k,
the causal mask, the LayerNorm position, the MLP, the output projection, the
temperature, the residual scale, the input's isometry and the named
initialisations (:mod:`theory.presets`).  (Outside :mod:`numerics.commands`,
whose modules are the subcommands, each imported only when run.)

>>> import argparse
>>> p = argparse.ArgumentParser()
>>> add_arguments(p)
>>> a = p.parse_args(["--heads", "4", "--causal", "--norm", "pre", "--mlp", "--out-proj", "xavier",
...                   "--residual-scale", "1/sqrt(2L)"])
>>> f = fields(a)
>>> f["heads"], f["causal"], f["layernorm"], f["ln_position"], f["skip"], f["out_proj"]
(4, True, True, 'pre', '1/sqrt(2L)', Scale.xavier())
>>> model(a, n=16, depth=3, gamma=1).mlp
MLP(width=4, activation='relu', sigma_in2=None, sigma_out2=None)
"""
from __future__ import annotations

import argparse
import re
from dataclasses import replace

import sympy

from ..theory.model import ACTIVATIONS, ISOMETRIES, LN_POSITIONS, MLP, SKIP_RULES, TEMPERATURES

__all__ = ["parse_scale", "number", "add_arguments", "fields", "model"]


def parse_scale(name: str, text: str):
    """A variance from the command line: a number, ``xavier`` / ``1/d``, or ``d^-a``.

    >>> parse_scale("sigma_qk2", "xavier")
    Scale.xavier()
    >>> parse_scale("sigma_qk2", "d^-0.5")
    Scale.power(0.5)
    >>> parse_scale("sigma_v2", "2")
    2
    """
    from ..theory.model import Scale

    t = text.strip().lower().replace(" ", "")
    if t in ("xavier", "1/d", "d^-1", "d**-1"):
        return Scale.xavier()
    m = re.fullmatch(r"d(?:\^|\*\*)\(?(-?[0-9.]+(?:/[0-9]+)?)\)?", t)
    if m:
        return Scale.power(number(name, m.group(1)) * -1)
    value = number(name, t)
    if value <= 0:
        raise ValueError(f"{name} must be > 0, 'xavier' or 'd^-a' (got {text!r})")
    return value


def number(name: str, text: str):
    """An exact number from the command line (an int, a fraction, or a float when
    written with a point)."""
    try:
        v = sympy.Rational(text)
    except (TypeError, ValueError, SyntaxError):
        raise ValueError(f"{name} must be a number, 'xavier' or 'd^-a' (got {text!r})") from None
    if v.is_Integer:
        return int(v)
    return float(v) if "." in text else v


def add_arguments(group) -> None:
    """Add the options to an argparse parser or argument group."""
    group.add_argument("--init", metavar="NAME",
                       help="a named initialisation: gpt2, bert, t5, mup, xavier, each also "
                            "NAME+gap (theory.presets); the options below override its fields")
    group.add_argument("--heads", type=int, metavar="H", help="attention heads (divides d; default 1)")
    group.add_argument("--d-k", type=int, metavar="K", dest="d_k",
                       help="key/query width per head (key-query attention; default d/H)")
    group.add_argument("--causal", action=argparse.BooleanOptionalAction, default=None,
                       help="causal mask (j > i masked); --no-causal removes an initialisation's")
    group.add_argument("--norm", choices=(*LN_POSITIONS, "none"),
                       help="LayerNorm after the residual sum (post), on the branch input (pre), "
                            "or none")
    group.add_argument("--mlp", nargs="?", const="relu", choices=(*ACTIVATIONS, "none"),
                       help="add the MLP sub-block (width 4d, fan-in variances), ReLU by default; "
                            "'none' removes an initialisation's")
    group.add_argument("--out-proj", metavar="SIGMA2", dest="out_proj",
                       help="output projection W_O with this variance: a number, 'xavier' or "
                            "'d^-a'; 'none' (the paper's identity) removes an initialisation's")
    group.add_argument("--temperature", choices=TEMPERATURES,
                       help="key-query logit scale: sqrt (1/sqrt(d_k), the paper's), linear "
                            "(1/d_k, muP), none (T5)")
    group.add_argument("--residual-scale", metavar="RULE", dest="residual_scale",
                       help=f"residual branch factor: {', '.join(SKIP_RULES)}, standard, upscaled "
                            f"or a number (replaces --skip)")
    group.add_argument("--isometry", choices=ISOMETRIES,
                       help="X_0 with orthonormal rows (gamma <= 1) or columns (gamma >= 1); "
                            "--init sets columns when gamma > 1")


def fields(args) -> dict:
    """The model fields the options set (none for an option not given)."""
    out = {}
    if args.heads is not None:
        out["heads"] = args.heads
    if args.d_k is not None:
        out["d_k"] = args.d_k
    if args.causal is not None:
        out["causal"] = bool(args.causal)
    if args.norm is not None:
        if getattr(args, "layernorm", None) and args.norm != "post":
            raise ValueError(f"give --layernorm (post-LN) or --norm {args.norm}, not both")
        out["layernorm"] = args.norm != "none"
        out["ln_position"] = "pre" if args.norm == "pre" else "post"
    if args.out_proj is not None:
        out["out_proj"] = (None if args.out_proj.strip().lower() == "none"
                           else parse_scale("out_proj", args.out_proj))
    if args.temperature is not None:
        out["temperature"] = args.temperature
    if args.residual_scale is not None:
        if getattr(args, "skip", None) is not None:
            raise ValueError("give --skip or --residual-scale, not both")
        r = args.residual_scale.strip().replace(" ", "")
        out["skip"] = r if r in (*SKIP_RULES, "standard", "upscaled") else \
            float(number("residual_scale", r))
    if args.isometry is not None:
        out["isometry"] = args.isometry
    return out


def model(args, *, n, depth, gamma, base=None, **other):
    """The described model at (n, depth, gamma): ``--init``'s named
    initialisation, else ``base(**fields)`` (a builder of the command's own
    description, e.g. a paper preset), with the options' fields and ``other``
    on top; ``--mlp ACT`` keeps an initialisation's MLP variances, and
    ``--mlp none``, ``--no-causal``, ``--out-proj none`` remove what it has.

    >>> p = argparse.ArgumentParser()
    >>> add_arguments(p)
    >>> m = model(p.parse_args(["--init", "gpt2", "--no-causal", "--mlp", "none", "--out-proj", "none"]),
    ...           n=24, depth=2, gamma=1)
    >>> m.causal, m.mlp, m.out_proj, m.ln_position, m.heads
    (False, None, None, 'pre', 12)
    >>> model(p.parse_args(["--init", "gpt2", "--mlp", "relu"]), n=24, depth=2, gamma=1).mlp.activation
    'relu'
    """
    from ..theory.model import AttentionModel
    from ..theory.presets import init_preset

    f = {**other, **fields(args)}
    if args.mlp == "none":
        f["mlp"] = None
    elif args.mlp is not None:
        mlp = (init_preset(args.init, n=n, depth=depth, gamma=gamma, **f).mlp
               if args.init is not None else None)
        f["mlp"] = MLP(activation=args.mlp) if mlp is None else replace(mlp, activation=args.mlp)
    if args.init is not None:
        heads = f.pop("heads", None)
        return init_preset(args.init, n=n, depth=depth, gamma=gamma, heads=heads, **f)
    if base is not None:
        return base(n=n, depth=depth, gamma=gamma, **f)
    return AttentionModel(n=n, depth=depth, gamma=gamma, **f)
