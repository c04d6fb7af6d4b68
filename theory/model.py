"""One description of an attention-only stack at initialisation.

:class:`AttentionModel` is read by ``numerics`` to sample and by ``theory`` to
predict, so no parameter is spelled twice.  :data:`PRESETS` and
:func:`preset` give the 25 configurations of the paper's experiments, named
after its figure legends.

>>> m = preset("A-perp + skip + LN", n=20, depth=3)
>>> m.d, m.sigma_A2, m.remove_gap, m.skip_alpha, m.layernorm
(20, 1, 1, 1, True)
>>> preset("A(X)", n=64, gamma=0.5).sigma_QK2
1/128
>>> len(PRESETS)
25
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Callable, Union

import sympy

from . import _validate
from .ensembles import ENSEMBLES, Ensemble

__all__ = ["Scale", "AttentionModel", "PRESETS", "preset", "ATTENTIONS", "SKIPS",
           "LAYERNORM_EPS", "SYMBOLS", "width"]

ATTENTIONS = ("markov", "identity", "key-query")
SKIPS = (None, "standard", "upscaled")
#: "stated": the model as the paper states it; "paper-code": as the authors'
#: code runs it (see :class:`AttentionModel`, ``block``)
BLOCKS = ("stated", "paper-code")
#: epsilon of the LayerNorm (PyTorch's default, as in the authors' code)
LAYERNORM_EPS = 1e-5

#: the canonical symbols of a symbolic model (:meth:`AttentionModel.symbolic`);
#: every symbolic prediction is written in these, and
#: :meth:`AttentionModel.bindings` maps them to a numeric model's values
SYMBOLS = MappingProxyType({
    "n": sympy.Symbol("n", positive=True, integer=True),
    "l": sympy.Symbol("l", positive=True, integer=True),
    "gamma": sympy.Symbol("gamma", positive=True),
    "sigma_A2": sympy.Symbol("sigma_A2", positive=True),
    "sigma_V2": sympy.Symbol("sigma_V2", positive=True),
    "sigma_QK2": sympy.Symbol("sigma_QK2", positive=True),
})


def _exact(name, value):
    """An exact sympy number: ints and Rationals as they are, a float as the
    shortest decimal that prints it (``0.8`` -> 4/5), so that a float and the
    Fraction it stands for give the same width."""
    if isinstance(value, float):
        return sympy.Rational(repr(value))
    return _validate.to_sympy(value)


def width(n, gamma):
    """The width ``d`` for ``n`` tokens at ratio ``gamma = n/d``: ``n / gamma``
    rounded half up, computed exactly (the one rounding rule of the package;
    exact ``n / gamma`` when either is symbolic).

    >>> from fractions import Fraction
    >>> width(2, Fraction(4, 5)), width(2, 0.8), width(5, 0.5), width(3, 0.4)
    (3, 3, 10, 8)
    """
    ratio = _exact("n", n) / _exact("gamma", gamma)
    if ratio.free_symbols:
        return ratio
    return int(sympy.floor(ratio + sympy.Rational(1, 2)))


@dataclass(frozen=True)
class Scale:
    """A variance that depends on the width d: ``d ** (-alpha)``.

    >>> Scale.xavier()(50)
    1/50
    >>> Scale.power(0.5)(100)
    0.1
    >>> Scale.power(0)
    Scale.power(0)
    """

    alpha: object = 1
    name: str = "power"

    @classmethod
    def xavier(cls) -> "Scale":
        """Xavier/Glorot for a square d x d matrix: variance 2/(d + d) = 1/d."""
        return cls(1, "xavier")

    @classmethod
    def power(cls, alpha) -> "Scale":
        """Variance ``d ** (-alpha)`` (any real alpha)."""
        _validate._as_real("alpha", alpha)
        return cls(alpha, "power")

    def __call__(self, d):
        alpha = self.alpha
        if isinstance(alpha, float) and not isinstance(d, sympy.Basic):
            return float(d) ** (-alpha)
        return _validate.to_sympy(d) ** (-_validate.to_sympy(alpha))

    def __repr__(self) -> str:
        return "Scale.xavier()" if self.name == "xavier" else f"Scale.power({self.alpha!r})"


Number = Union[int, float, sympy.Basic]


@dataclass(frozen=True)
class AttentionModel:
    """An attention-only stack of ``depth`` single-head layers at initialisation.

    Conventions (those of ``docs/derivations.md``, section 0, and of the
    authors' code, ``model.py`` / ``atttention/*.py`` of
    thizirinait/Mind-the-Gap-...):

    * **Input.** ``n`` tokens, width ``d =`` :func:`width` ``(n, gamma)``,
      ``n / gamma`` rounded half up, exactly (the authors truncate,
      ``int(n / gamma)``; the two agree whenever n / gamma is an integer, as
      in all their runs); ``X_0`` has
      orthonormal rows (``X_0 X_0^T = I_n``), Haar distributed: the first n
      rows of a Haar orthogonal ``d x d`` matrix.
    * **Layer.** ``Z_l = A_l X_{l-1} W_l`` with ``W_l`` a ``d x d`` matrix of
      i.i.d. ``N(0, sigma_V^2)`` entries, ``sigma_V^2 = 1`` by default (not
      ``1/d``).  The authors write the product as ``(sqrt(n) A)(X W / sqrt(n))``;
      the two ``sqrt(n)`` cancel, so it is exactly ``A X W``.
    * **Skip.** With ``skip`` set, ``Z_l = X_{l-1} + alpha A_l X_{l-1} W_l``
      with ``alpha = 1`` ("standard"), ``alpha = 1/sqrt(d)`` ("upscaled": the
      authors' ``scale_residual``, i.e. the skip branch up-weighted by
      ``sqrt(d)`` against the attention branch), or the given float.
    * **LayerNorm** (post-norm, after the residual sum, as in the authors'
      block): each token (row) is centred over its d features and divided by
      ``sqrt(var + eps)`` (biased variance, ``eps =`` :data:`LAYERNORM_EPS`,
      no affine parameters: weight 1, bias 0 at initialisation).
      ``X_l = LN(Z_l)``, else ``X_l = Z_l``.
    * **Block** (``block``): ``"stated"`` (default) is the model above.
      ``"paper-code"`` is the block of the authors' code, which made the
      paper's figures: run with ``mlp=False`` and the standard skip, it
      passes the output through a second residual with an identity MLP, so
      ``X_l = 2 LN(Z_l)`` (``2 Z_l`` without LayerNorm; no factor with the
      upscaled skip or no skip, :attr:`output_scale`); it samples in float32
      (:attr:`default_dtype`) and truncates the width, ``d = int(n / gamma)``.
      For Random Markov attention the factor 2 cancels in every
      scale-invariant measure; for key-query attention it scales the next
      layer's logits by 4.
    * **Attention** ``A_l`` (fresh and independent at every layer):

      - ``"markov"``: Random Markov matrix ``D^{-1} M`` (Definition 1.1),
        entries of ``M`` drawn from ``ensemble`` (a name in
        ``theory.ensembles.ENSEMBLES`` or a callable ``sampler(rng, shape)``
        returning non-negative numpy arrays); ``sigma_a2`` chooses the
        relative variance of the lognormal family (``None``: the ensemble's
        own, 1 for the paper's lognormal ``s2 = log 2``).
      - ``"identity"``: ``A_l = I_n``.
      - ``"key-query"``: ``A_l = softmax(X_{l-1} W_Q W_K^T X_{l-1}^T / sqrt(d_k))``
        row-wise, with ``d_k = d`` (one head) and ``W_Q, W_K`` d x d with
        i.i.d. ``N(0, sigma_QK^2)`` entries, evaluated on the layer's input
        ``X_{l-1}`` (after the previous LayerNorm, if any).  The paper uses
        Xavier scaling ``sigma_QK^2 = 1/d`` (the default).
    * **Gap removal** (on the attention only, never on the signal):
      ``remove_gap = 1`` replaces ``A_l`` by ``A_l - (1/n) 1 1^T``
      ("A-perp"); ``remove_gap = k >= 2`` subtracts the top-k singular
      triplets of ``A_l`` (beyond the paper: removes the outliers that
      key-query attention develops with depth).
    * ``sigma_v2`` and ``sigma_qk2`` are numbers or :class:`Scale` rules in d;
      the resolved values are :attr:`sigma_V2` and :attr:`sigma_QK2`.

    >>> m = AttentionModel(n=8, depth=2, gamma=0.5)
    >>> m.d, m.sigma_V2, m.sigma_A2
    (16, 1, 1)
    >>> AttentionModel(n=1, depth=2)
    Traceback (most recent call last):
    ...
    ValueError: n must be an integer >= 2 (got 1)
    """

    n: Number
    depth: int = 1
    gamma: Number = 1
    attention: str = "markov"
    ensemble: Union[str, Callable] = "lognormal"
    sigma_a2: Number | None = None
    sigma_qk2: Union[Number, Scale] = field(default_factory=Scale.xavier)
    remove_gap: int = 0
    sigma_v2: Union[Number, Scale] = 1
    layernorm: bool = False
    skip: Union[None, str, float] = None
    block: str = "stated"

    def __post_init__(self):
        _validate.integer("n", self.n, minimum=2)
        _validate.integer("depth", self.depth, minimum=1)
        _validate.in_interval("gamma", self.gamma, 0, 1)
        _validate.one_of("attention", self.attention, ATTENTIONS)
        if not callable(self.ensemble):
            _validate.one_of("ensemble", self.ensemble, tuple(ENSEMBLES))
        if self.sigma_a2 is not None:
            _validate.positive("sigma_a2", self.sigma_a2)
            if not callable(self.ensemble):
                ENSEMBLES[self.ensemble].with_relative_variance(self.sigma_a2)
        for name in ("sigma_qk2", "sigma_v2"):
            value = getattr(self, name)
            if not isinstance(value, Scale):
                _validate.positive(name, value)
        if isinstance(self.n, sympy.Basic) and self.n.free_symbols:
            _validate.integer("remove_gap", self.remove_gap, minimum=0)
        else:
            _validate.integer("remove_gap", self.remove_gap, minimum=0, maximum=int(self.n) - 1)
        _validate.one_of("block", self.block, BLOCKS)
        if not isinstance(self.layernorm, bool):
            raise ValueError(f"layernorm must be True or False (got {self.layernorm!r})")
        if isinstance(self.skip, str) or self.skip is None:
            _validate.one_of("skip", self.skip, SKIPS)
        elif isinstance(self.skip, bool) or not isinstance(self.skip, (numbers.Real, sympy.Basic)):
            raise ValueError(f"skip must be None, 'standard', 'upscaled' or a residual "
                             f"strength alpha > 0 (got {self.skip!r})")
        else:
            _validate.positive("skip", self.skip)

    # ----- derived quantities -------------------------------------------------
    @property
    def d(self):
        """Width :func:`width` ``(n, gamma)`` (exact ``n / gamma`` when symbolic);
        under ``block="paper-code"`` the authors' ``int(n / gamma)``, the floor
        of the exact ratio.

        >>> AttentionModel(n=5, gamma=0.4).d, AttentionModel(n=5, gamma=0.4, block="paper-code").d
        (13, 12)
        """
        if self.block == "paper-code":
            ratio = _exact("n", self.n) / _exact("gamma", self.gamma)
            return ratio if ratio.free_symbols else int(sympy.floor(ratio))
        return width(self.n, self.gamma)

    @property
    def output_scale(self):
        """The factor every layer's output is multiplied by: 2 under
        ``block="paper-code"`` with the standard skip (the authors' block
        with ``mlp=False`` adds its identity "MLP" output to its input through
        the second residual, ``y + 1 * y``), else 1.  With the upscaled skip
        or no skip their second residual is not taken, so the factor is 1.

        >>> AttentionModel(n=4, skip="standard", block="paper-code").output_scale
        2
        >>> AttentionModel(n=4, skip="upscaled", block="paper-code").output_scale
        1
        """
        return 2 if self.block == "paper-code" and self.skip == "standard" else 1

    @property
    def default_dtype(self) -> str:
        """The floating-point type the model is sampled in when none is given:
        ``"float32"`` (PyTorch's default) under ``block="paper-code"``, else
        ``"float64"``."""
        return "float32" if self.block == "paper-code" else "float64"

    @classmethod
    def symbolic(cls, **fields) -> "AttentionModel":
        """A model whose n, depth, gamma and scales are the :data:`SYMBOLS`
        (``fields`` override any of them, or set the architecture).

        For Markov attention the relative variance is the symbol ``sigma_A2``
        (a lognormal ensemble carries any value); for key-query attention the
        key/query variance is ``sigma_QK2`` unless a :class:`Scale` is given.

        >>> m = AttentionModel.symbolic()
        >>> m.d, m.sigma_A2, m.sigma_V2, m.depth
        (n/gamma, sigma_A2, sigma_V2, l)
        >>> AttentionModel.symbolic(attention="key-query", depth=1).sigma_QK2
        sigma_QK2
        """
        S = SYMBOLS
        base = dict(n=S["n"], depth=S["l"], gamma=S["gamma"], sigma_v2=S["sigma_V2"],
                    sigma_qk2=S["sigma_QK2"])
        attention = fields.get("attention", "markov")
        if attention == "markov" and not callable(fields.get("ensemble")):
            base.update(ensemble=fields.get("ensemble", "lognormal"), sigma_a2=S["sigma_A2"])
        return cls(**{**base, **fields})

    def symbolic_like(self) -> "AttentionModel":
        """The symbolic model (:meth:`symbolic`) with this model's architecture
        (attention, gap removal, LayerNorm, skip; a custom ensemble kept):
        what a numeric model's prediction is the specialisation of.

        >>> AttentionModel(n=8, gamma=0.5, remove_gap=1).symbolic_like().remove_gap
        1
        """
        arch = {k: getattr(self, k) for k in ("attention", "remove_gap", "layernorm", "skip", "block")}
        if self.attention == "markov" and callable(self.ensemble):
            arch["ensemble"] = self.ensemble
        return AttentionModel.symbolic(**arch)

    def bindings(self) -> dict:
        """The :data:`SYMBOLS` -> this model's values (exact where they are):
        ``predict(symbolic).subs(model.bindings())`` is the prediction for
        this model.

        >>> b = AttentionModel(n=8, depth=2, gamma=0.5, sigma_v2=2).bindings()
        >>> [b[SYMBOLS[k]] for k in ("n", "l", "gamma", "sigma_V2")]
        [8, 2, 1/2, 2]
        """
        S = SYMBOLS
        out = {S["n"]: _validate.to_sympy(self.n), S["l"]: _validate.to_sympy(self.depth),
               S["gamma"]: _exact("gamma", self.gamma),
               S["sigma_V2"]: _exact("sigma_v2", self.sigma_V2),
               S["sigma_QK2"]: _exact("sigma_qk2", self.sigma_QK2)}
        if self.attention != "key-query" and self.sigma_A2 is not None:
            out[S["sigma_A2"]] = _exact("sigma_a2", self.sigma_A2)
        return out

    def value(self, name: str):
        """The exact value of the canonical symbol ``name`` for this model
        (the symbol itself for a symbolic model).

        >>> AttentionModel(n=8, gamma=0.5).value("gamma")
        1/2
        """
        if name not in SYMBOLS:
            raise ValueError(f"name must be one of {sorted(SYMBOLS)} (got {name!r})")
        b = self.bindings()
        if SYMBOLS[name] not in b:
            raise ValueError(f"{name} is not defined for {self.attention} attention")
        return b[SYMBOLS[name]]

    @property
    def gamma_effective(self):
        """``n / d`` after rounding d."""
        return sympy.Rational(int(self.n), self.d) if isinstance(self.d, int) else self.gamma

    @property
    def ensemble_law(self) -> Ensemble | None:
        """The :class:`~theory.ensembles.Ensemble` of the Markov entries
        (``None`` for a custom sampler or non-Markov attention)."""
        if self.attention != "markov" or callable(self.ensemble):
            return None
        law = ENSEMBLES[self.ensemble]
        return law if self.sigma_a2 is None else law.with_relative_variance(self.sigma_a2)

    @property
    def sigma_A2(self):
        """Relative variance sigma_A^2 of the attention's entries.

        Markov: the ensemble's (or the declared ``sigma_a2`` of a custom
        sampler).  Key-query: the first-layer value of Proposition 1 at finite
        ``d_k = d``, ``(1 - 2 v / d_k)^(-d_k/2) - 1`` with ``v = sigma_QK^4``
        (``oo`` once ``d_k <= 2 v``).  Identity: 0.
        """
        if self.attention == "identity":
            return sympy.Integer(0)
        if self.attention == "key-query":
            from .key_query import within_row_sigma_A2
            return within_row_sigma_A2(_validate.to_sympy(self.d), _validate.to_sympy(self.sigma_QK2) ** 2)
        law = self.ensemble_law
        if law is None:
            return self.sigma_a2
        return law.sigma_A2

    @property
    def sigma_V2(self):
        """Variance of the value entries, resolved at width d."""
        return self.sigma_v2(self.d) if isinstance(self.sigma_v2, Scale) else self.sigma_v2

    @property
    def sigma_QK2(self):
        """Variance of the key/query entries, resolved at width d."""
        return self.sigma_qk2(self.d) if isinstance(self.sigma_qk2, Scale) else self.sigma_qk2

    @property
    def skip_alpha(self):
        """Residual strength alpha of ``X + alpha A X W`` (``None`` without skip)."""
        if self.skip is None:
            return None
        if self.skip == "standard":
            return 1
        if self.skip == "upscaled":
            return 1 / sympy.sqrt(_validate.to_sympy(self.d))
        return self.skip

    @property
    def depends_on_input(self) -> bool:
        """Whether the attention is a function of X (key-query)."""
        return self.attention == "key-query"

    @property
    def is_linear(self) -> bool:
        """Whether X_L is linear in X_0 and in each W_l (no LayerNorm, attention
        independent of X)."""
        return not self.layernorm and not self.depends_on_input

    def replace(self, **changes) -> "AttentionModel":
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)


_BASES = {
    "A": dict(attention="markov", remove_gap=0),
    "A-perp": dict(attention="markov", remove_gap=1),
    "A(X)": dict(attention="key-query", remove_gap=0),
    "A(X)-perp": dict(attention="key-query", remove_gap=1),
}
_SUFFIXES = {
    "": dict(),
    " + LN": dict(layernorm=True),
    " + skip": dict(skip="standard"),
    " + upscaled skip": dict(skip="upscaled"),
    " + skip + LN": dict(skip="standard", layernorm=True),
    " + upscaled skip + LN": dict(skip="upscaled", layernorm=True),
}
# the paper's experiments: lognormal Random Markov (sigma_A^2 = 1), N(0, 1)
# values, Xavier keys/queries
_COMMON = dict(ensemble="lognormal", sigma_a2=None, sigma_v2=1, sigma_qk2=Scale.xavier())

#: the paper's 25 configurations: name -> fields of :class:`AttentionModel`
#: other than n, depth, gamma
PRESETS = MappingProxyType({
    **{base + suffix: MappingProxyType({**_COMMON, **b, **s})
       for base, b in _BASES.items() for suffix, s in _SUFFIXES.items()},
    "identity": MappingProxyType({**_COMMON, "attention": "identity"}),
})


def preset(name: str, *, n=100, depth=10, gamma=1, **overrides) -> AttentionModel:
    """The paper's configuration ``name`` at width n, depth and ratio gamma.

    >>> preset("A(X)-perp + upscaled skip + LN", n=10, depth=2).skip
    'upscaled'
    >>> preset("B", n=10)
    Traceback (most recent call last):
    ...
    ValueError: preset must be one of the 25 paper configurations ('A', 'A + LN', ...) (got 'B')
    """
    if name not in PRESETS:
        raise ValueError(f"preset must be one of the 25 paper configurations ('A', 'A + LN', ...) "
                         f"(got {name!r})")
    return AttentionModel(n=n, depth=depth, gamma=gamma, **{**PRESETS[name], **overrides})
