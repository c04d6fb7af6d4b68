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

import functools

import math
import numbers
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Callable, Union

import sympy

from . import _validate
from .ensembles import ENSEMBLES, Ensemble

__all__ = ["Scale", "MLP", "AttentionModel", "PRESETS", "preset", "ATTENTIONS", "SKIPS",
           "SKIP_RULES", "LN_POSITIONS", "TEMPERATURES", "ISOMETRIES", "ACTIVATIONS",
           "BEYOND_PAPER", "LAYERNORM_EPS", "SYMBOLS", "width"]

ATTENTIONS = ("markov", "identity", "key-query")
SKIPS = (None, "standard", "upscaled")
#: residual branch factors that are rules in the depth L (Noci et al. 2022; GPT-2's
#: 1/sqrt(2L) is on the weights, see :mod:`theory.presets`)
SKIP_RULES = ("1/sqrt(L)", "1/sqrt(2L)")
#: where the LayerNorm sits: after the residual sum (the paper's) or on the branch input
LN_POSITIONS = ("post", "pre")
#: logit scale of key-query attention: 1/sqrt(d_k) (the paper's), 1/d_k (muP), 1 (T5)
TEMPERATURES = ("sqrt", "linear", "none")
#: the isometric input: orthonormal rows (gamma <= 1, the paper's) or columns (gamma >= 1)
ISOMETRIES = ("rows", "columns")
#: MLP activations ("gelu": the tanh form of GPT-2's and BERT's released code)
ACTIVATIONS = ("relu", "gelu")
#: the fields beyond the paper's model, in the order :meth:`AttentionModel.beyond_paper` names them
BEYOND_PAPER = ("heads", "d_k", "out_proj", "causal", "ln_position", "mlp", "skip",
                "temperature", "isometry")
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
    # beyond the paper (issue 14): the number of heads and the output projection's variance
    "H": sympy.Symbol("H", positive=True, integer=True),
    "sigma_O2": sympy.Symbol("sigma_O2", positive=True),
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
    if isinstance(n, bool) or isinstance(gamma, bool):  # True == 1 would share 1's cache entry
        return _width.__wrapped__(n, gamma)
    try:
        return _width(n, gamma)
    except TypeError:  # an unhashable argument: computed (and refused) without the cache
        return _width.__wrapped__(n, gamma)


@functools.lru_cache(maxsize=4096)
def _width(n, gamma):
    # cached: a sweep asks the width of the same (n, gamma) for every chunk and sample,
    # and each exact computation goes through sympy
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
    #: a constant factor: the variance ``factor * d ** (-alpha)`` (1 for every
    #: paper configuration; T5's query/key rule has ``sqrt(H)``, see :mod:`theory.presets`)
    factor: object = 1

    @classmethod
    def xavier(cls) -> "Scale":
        """Xavier/Glorot for a square d x d matrix: variance 2/(d + d) = 1/d."""
        return cls(1, "xavier")

    @classmethod
    def power(cls, alpha, factor=1) -> "Scale":
        """Variance ``factor * d ** (-alpha)`` (any real alpha, factor > 0).

        >>> Scale.power(sympy.Rational(3, 2), factor=2)(4)
        1/4
        """
        _validate._as_real("alpha", alpha)
        _validate.positive("factor", factor)
        return cls(alpha, "power", factor)

    def __call__(self, d):
        alpha = self.alpha
        if isinstance(alpha, float) and not isinstance(d, sympy.Basic):
            value = float(d) ** (-alpha)
            return value if self.factor == 1 else float(self.factor) * value
        value = _validate.to_sympy(d) ** (-_validate.to_sympy(alpha))
        return value if self.factor == 1 else _validate.to_sympy(self.factor) * value

    def __repr__(self) -> str:
        if self.name == "xavier":
            return "Scale.xavier()"
        if self.factor != 1:
            return f"Scale.power({self.alpha!r}, factor={self.factor!r})"
        return f"Scale.power({self.alpha!r})"


Number = Union[int, float, sympy.Basic]


def _resolve(value, d):
    """A variance given as a number or a :class:`Scale` rule, at width d."""
    return value(d) if isinstance(value, Scale) else value


@dataclass(frozen=True)
class MLP:
    """The MLP sub-block of a transformer block (beyond the paper's
    attention-only stack): ``act(Y W_1) W_2`` with ``W_1`` d x (width d) of
    i.i.d. ``N(0, sigma_in2)`` and ``W_2`` (width d) x d of i.i.d.
    ``N(0, sigma_out2)`` entries, no biases (zero at initialisation).

    ``sigma_in2`` / ``sigma_out2`` are numbers or :class:`Scale` rules in d;
    ``None`` is the fan-in rule, ``1/d`` and ``1/(width d)``.  ``activation``
    is ``"relu"`` or ``"gelu"``, the tanh form
    ``x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`` used by the released
    GPT-2 and BERT code.

    >>> MLP().variances(64)
    (1/64, 1/256)
    >>> MLP(width=0)
    Traceback (most recent call last):
    ...
    ValueError: mlp width must be an integer >= 1 (got 0)
    """

    width: int = 4
    activation: str = "relu"
    sigma_in2: Union[Number, Scale, None] = None
    sigma_out2: Union[Number, Scale, None] = None

    def __post_init__(self):
        _validate.integer("mlp width", self.width, minimum=1)
        _validate.one_of("mlp activation", self.activation, ACTIVATIONS)
        for name in ("sigma_in2", "sigma_out2"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, Scale):
                _validate.positive(f"mlp {name}", value)

    def variances(self, d):
        """``(sigma_in^2, sigma_out^2)`` resolved at width d."""
        d_ = _validate.to_sympy(d)
        s_in = 1 / d_ if self.sigma_in2 is None else _resolve(self.sigma_in2, d)
        s_out = 1 / (self.width * d_) if self.sigma_out2 is None else _resolve(self.sigma_out2, d)
        return s_in, s_out


def _beyond_reason(fields, m) -> str | None:
    """The reason naming ``fields`` of model ``m`` that are beyond the paper's model."""
    if not fields:
        return None
    words = {
        "heads": lambda: f"heads = {m.heads} (the paper's layers have one head)",
        "d_k": lambda: f"d_k = {m.d_k} (the paper's d_k = d)",
        "out_proj": lambda: "an output projection W_O (the paper's W_O = I)",
        "causal": lambda: "a causal mask (the paper's attention is unmasked)",
        "ln_position": lambda: "pre-LN (the paper's LayerNorm follows the residual sum)",
        "mlp": lambda: "an MLP block (the paper's stack is attention-only)",
        "skip": lambda: f"the depth-scaled residual {m.skip} (the paper's skips: standard, upscaled)",
        "temperature": lambda: (f"the logit scale {'1/d_k' if m.temperature == 'linear' else '1'} "
                                f"(the paper's 1/sqrt(d_k))"),
        "isometry": lambda: "more tokens than features, X_0 with orthonormal columns "
                            "(the paper's gamma <= 1, orthonormal rows)",
    }
    return "beyond the paper's model: " + "; ".join(words[k]() for k in fields)


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
    * **Beyond the paper** (every field optional; the defaults are the model
      above, and :meth:`beyond_paper` names the fields that leave it):

      - ``heads = H`` (H divides d): each layer has H independent attentions
        ``A_h`` (fresh draws, or key-query heads with their own ``d x d_k``
        blocks of ``W_Q, W_K``) and the branch is
        ``[A_1 X W_V^1, ..., A_H X W_V^H] W_O``, ``W_V^h`` the h-th block of
        ``d / H`` columns of the d x d value matrix ``W_V``; ``d_k`` is the
        key/query width per head (default ``d / H``; the values keep
        ``d / H``).
      - ``out_proj``: ``None`` (``W_O = I``, the paper's) or the variance
        (number or :class:`Scale`) of a d x d ``W_O`` with i.i.d. Gaussian
        entries, :attr:`sigma_O2`.
      - ``causal``: the mask ``j > i`` (key-query: logits ``-inf``; Markov:
        ``M_ij = 0``, then rows normalised).  Gap removal stays
        ``A - (1/n) 1 1^T`` (``remove_gap = 1``).
      - ``ln_position``: ``"post"`` (the paper's, ``X' = LN(X + a B(X))``)
        or ``"pre"`` (``X' = X + a B(LN(X))``; needs ``layernorm=True``).
      - ``mlp``: an :class:`MLP`, the block's second sub-block with its own
        residual (same factor a) and its own LayerNorm (same position).
      - ``skip``: also the depth rules :data:`SKIP_RULES`, ``a = 1/sqrt(L)``
        or ``1/sqrt(2L)`` with ``L = depth``.
      - ``temperature`` (key-query): the logits' factor ``1/sqrt(d_k)``
        (``"sqrt"``), ``1/d_k`` (``"linear"``, muP) or 1 (``"none"``, T5).
      - ``isometry = "columns"``: more tokens than features (``gamma >= 1``),
        ``X_0`` with orthonormal columns (``X_0^T X_0 = I_d``), Haar
        distributed; the default ``"rows"`` needs ``gamma <= 1``.

      Trajectory ``X_l`` is the residual stream after block l (no final
      LayerNorm).

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
    heads: int = 1
    d_k: int | None = None
    out_proj: Union[None, Number, Scale] = None
    causal: bool = False
    ln_position: str = "post"
    mlp: MLP | None = None
    temperature: str = "sqrt"
    isometry: str = "rows"

    def __post_init__(self):
        _validate.integer("n", self.n, minimum=2)
        _validate.integer("depth", self.depth, minimum=1)
        _validate.one_of("isometry", self.isometry, ISOMETRIES)
        if self.isometry == "rows":
            if _validate._as_real("gamma", self.gamma) is not None and float(self.gamma) > 1:
                raise ValueError(f"gamma must be in (0, 1] (got {self.gamma!r}); more tokens than "
                                 f"features (gamma > 1) needs isometry='columns'")
            _validate.in_interval("gamma", self.gamma, 0, 1)
        else:
            _validate.in_interval("gamma", self.gamma, 1, math.inf, lo_open=False, hi_open=True)
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
            _validate.one_of("skip", self.skip, SKIPS + SKIP_RULES)
        elif isinstance(self.skip, bool) or not isinstance(self.skip, (numbers.Real, sympy.Basic)):
            raise ValueError(f"skip must be None, 'standard', 'upscaled' or a residual "
                             f"strength alpha > 0 (got {self.skip!r})")
        else:
            _validate.positive("skip", self.skip)
        self._validate_beyond()

    def _validate_beyond(self):
        """The fields beyond the paper (issue 14)."""
        heads = _validate.integer("heads", self.heads, minimum=1)
        d = self.d
        if isinstance(d, int):
            if d < 1:
                raise ValueError(f"gamma must leave a width d = n/gamma >= 1 (got gamma={self.gamma!r})")
            if isinstance(heads, int) and d % heads:
                raise ValueError(f"heads must divide the width d = {d} (got heads={heads})")
        if self.d_k is not None:
            _validate.integer("d_k", self.d_k, minimum=1)
            if self.attention != "key-query":
                raise ValueError(f"d_k applies to key-query attention only (got d_k={self.d_k!r} "
                                 f"with attention={self.attention!r})")
        if self.out_proj is not None and not isinstance(self.out_proj, Scale):
            if isinstance(self.out_proj, bool):
                raise ValueError(f"out_proj must be None, a variance > 0 or a Scale "
                                 f"(got {self.out_proj!r})")
            _validate.positive("out_proj", self.out_proj)
        if not isinstance(self.causal, bool):
            raise ValueError(f"causal must be True or False (got {self.causal!r})")
        _validate.one_of("ln_position", self.ln_position, LN_POSITIONS)
        if self.ln_position == "pre" and not self.layernorm:
            raise ValueError("ln_position='pre' needs layernorm=True (without LayerNorm there is "
                             "no position)")
        if self.mlp is not None and not isinstance(self.mlp, MLP):
            raise ValueError(f"mlp must be None or a theory.model.MLP (got {self.mlp!r})")
        _validate.one_of("temperature", self.temperature, TEMPERATURES)
        if self.temperature != "sqrt" and self.attention != "key-query":
            raise ValueError(f"temperature applies to key-query attention only (got "
                             f"temperature={self.temperature!r} with attention={self.attention!r})")
        if self.block == "paper-code" and (self.heads != 1 or self.mlp is not None
                                           or self.out_proj is not None or self.ln_position != "post"):
            raise ValueError("block='paper-code' is the authors' single-head attention-only "
                             "post-LN block: heads, out_proj, mlp and ln_position keep their defaults")

    def beyond_paper(self, allowed=()) -> str | None:
        """``None`` for the paper's model, else a reason naming every field
        (of :data:`BEYOND_PAPER`, less those in ``allowed``) that leaves it:
        what a result's ``applies`` returns for a model its statement does
        not cover (see :class:`~theory.registry.Result`, ``holds_beyond``).

        >>> AttentionModel(n=8, gamma=0.5).beyond_paper() is None
        True
        >>> AttentionModel(n=8, gamma=0.5, heads=2, causal=True).beyond_paper()
        "beyond the paper's model: heads = 2 (the paper's layers have one head); a causal mask (the paper's attention is unmasked)"
        >>> AttentionModel(n=8, gamma=0.5, heads=2).beyond_paper(allowed=("heads",)) is None
        True
        """
        for name in allowed:
            _validate.one_of("allowed", name, BEYOND_PAPER)
        return _beyond_reason([k for k in self.beyond_fields() if k not in allowed], self)

    def beyond_fields(self) -> tuple[str, ...]:
        """The names (of :data:`BEYOND_PAPER`) of the fields set beyond the paper's model.

        >>> AttentionModel(n=8, attention="key-query", temperature="linear", skip="1/sqrt(L)").beyond_fields()
        ('skip', 'temperature')
        """
        out = []
        if self.heads != 1:
            out.append("heads")
        if self.d_k is not None and self.d_k != self.d_head:
            out.append("d_k")
        if self.out_proj is not None:
            out.append("out_proj")
        if self.causal:
            out.append("causal")
        if self.ln_position != "post":
            out.append("ln_position")
        if self.mlp is not None:
            out.append("mlp")
        if self.skip in SKIP_RULES:
            out.append("skip")
        if self.temperature != "sqrt":
            out.append("temperature")
        if self.isometry != "rows":
            out.append("isometry")
        return tuple(out)

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
        (attention, gap removal, LayerNorm, skip, and the fields beyond the paper:
        heads, d_k, mask, LN position, MLP, temperature, isometry; an output
        projection's variance becomes the symbol ``sigma_O2``; a custom ensemble kept):
        what a numeric model's prediction is the specialisation of.

        >>> AttentionModel(n=8, gamma=0.5, remove_gap=1).symbolic_like().remove_gap
        1
        """
        arch = {k: getattr(self, k) for k in ("attention", "remove_gap", "layernorm", "skip", "block",
                                              "heads", "d_k", "causal", "ln_position", "mlp",
                                              "temperature", "isometry")}
        if self.attention == "markov" and callable(self.ensemble):
            arch["ensemble"] = self.ensemble
        if self.out_proj is not None:
            arch["out_proj"] = self.out_proj if isinstance(self.out_proj, Scale) else SYMBOLS["sigma_O2"]
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
        out[S["H"]] = _validate.to_sympy(self.heads)
        if self.out_proj is not None:
            out[S["sigma_O2"]] = _exact("out_proj", self.sigma_O2)
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
        if self.skip in SKIP_RULES:
            L = _validate.to_sympy(self.depth)
            return 1 / sympy.sqrt(L if self.skip == "1/sqrt(L)" else 2 * L)
        return self.skip

    @property
    def d_head(self):
        """The value width per head, ``d / heads``."""
        d = self.d
        return d // self.heads if isinstance(d, int) and isinstance(self.heads, int) \
            else _validate.to_sympy(d) / _validate.to_sympy(self.heads)

    @property
    def key_width(self):
        """The key/query width per head d_k: ``d_k`` if given, else ``d / heads``."""
        return self.d_head if self.d_k is None else self.d_k

    @property
    def logit_scale(self):
        """The factor of the key-query logits: ``1/sqrt(d_k)`` (``temperature="sqrt"``),
        ``1/d_k`` (``"linear"``) or 1 (``"none"``), exact.

        >>> AttentionModel(n=8, gamma=0.5, attention="key-query", heads=4, temperature="linear").logit_scale
        1/4
        """
        dk = _validate.to_sympy(self.key_width)
        return {"sqrt": 1 / sympy.sqrt(dk), "linear": 1 / dk, "none": sympy.Integer(1)}[self.temperature]

    @property
    def sigma_O2(self):
        """Variance of the output projection's entries at width d (``None``: W_O = I)."""
        return None if self.out_proj is None else _resolve(self.out_proj, self.d)

    @property
    def depends_on_input(self) -> bool:
        """Whether the attention is a function of X (key-query)."""
        return self.attention == "key-query"

    @property
    def is_linear(self) -> bool:
        """Whether X_L is linear in X_0 and in each W_l (no LayerNorm, attention
        independent of X)."""
        return not self.layernorm and not self.depends_on_input and self.mlp is None

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
