"""Named initialisations of the transformers people train, as
:class:`~theory.model.AttentionModel` descriptions (issue 14).

:func:`init_preset` builds one at n tokens, depth L and ratio gamma = n/d;
``"NAME+gap"`` is the same initialisation with the paper's gap removal
(``remove_gap = 1``, the attention ``A - (1/n) 1 1^T``).  Variances are
written exactly; "std 0.02" is the variance ``0.02^2 = 1/2500`` whatever d is.
Every initialisation keeps a block's biases and LayerNorm affine parameters at
their initial values (0, and weight 1), so they do not appear.

The descriptions (sources in each builder's docstring):

======== ======== ============ ======= ====== ========== ===========================
name     LN       mask         MLP     heads  logits     weights
======== ======== ============ ======= ====== ========== ===========================
gpt2     pre      causal       GELU x4 12     1/sqrt(dk) std 0.02; W_O, W_2: 0.02/sqrt(2L)
bert     post     none         GELU x4 12     1/sqrt(dk) std 0.02
t5       pre      none         ReLU x4 12     1          fan-in (query 1/sqrt(d d_k))
mup      pre      causal       GELU x4 12     1/dk       fan-in 1/sqrt(fan_in)
xavier   post     none         none    1      1/sqrt(d)  the paper's: Xavier W_Q, W_K; N(0, 1) W_V
======== ======== ============ ======= ====== ========== ===========================

>>> m = init_preset("gpt2", n=1024, depth=12, gamma=sympy.Rational(4, 3))
>>> m.d, m.heads, m.key_width, m.sigma_V2, m.sigma_O2, m.isometry
(768, 12, 64, 1/2500, 1/60000, 'columns')
>>> init_preset("bert+gap", n=48, depth=2, heads=4).remove_gap
1
>>> init_preset("xavier", n=8, depth=2).beyond_paper() is None
True
"""
from __future__ import annotations

from types import MappingProxyType

import sympy

from . import _validate
from .model import MLP, PRESETS, AttentionModel, Scale, width

__all__ = ["INITS", "INIT_NAMES", "init_preset", "STD_002"]

#: the variance of "std 0.02" (GPT-2, BERT): 0.02^2, independent of d
STD_002 = sympy.Rational(1, 2500)


def gpt2(depth: int, heads: int, d) -> dict:
    """GPT-2 (Radford et al. 2019, "Language models are unsupervised multitask
    learners", section 2.3; the released code openai/gpt-2 ``model.py``): every
    weight N(0, 0.02^2); the residual projections (the attention's output
    projection W_O and the MLP's second matrix) scaled by 1/sqrt(N) with
    N = 2L residual layers, i.e. std 0.02/sqrt(2L) (the paper's rule as the
    Hugging Face GPT-2 implementation applies it at initialisation; the released
    TensorFlow code draws every weight with std 0.02); pre-LN blocks, causal
    mask, GELU MLP of width 4d, 12 heads in GPT-2 small, logits / sqrt(d_k).
    The final LayerNorm after the last block is not part of the stack."""
    residual = STD_002 / (2 * depth)
    return dict(attention="key-query", heads=heads, sigma_qk2=STD_002, sigma_v2=STD_002,
                out_proj=residual, causal=True, layernorm=True, ln_position="pre",
                skip="standard", mlp=MLP(width=4, activation="gelu", sigma_in2=STD_002,
                                         sigma_out2=residual))


def bert(depth: int, heads: int, d) -> dict:
    """BERT (Devlin et al. 2019, "BERT: pre-training of deep bidirectional
    transformers"; the released code google-research/bert ``modeling.py``,
    ``initializer_range = 0.02``): every weight with std 0.02 (the code's
    normal is truncated at 2 std; here untruncated, variance 0.02^2), post-LN
    blocks (LayerNorm after each residual sum), no mask, GELU MLP of width 4d,
    12 heads in BERT-base, logits / sqrt(d_k)."""
    return dict(attention="key-query", heads=heads, sigma_qk2=STD_002, sigma_v2=STD_002,
                out_proj=STD_002, causal=False, layernorm=True, ln_position="post",
                skip="standard", mlp=MLP(width=4, activation="gelu", sigma_in2=STD_002,
                                         sigma_out2=STD_002))


def t5(depth: int, heads: int, d) -> dict:
    """T5 (Raffel et al. 2020, "Exploring the limits of transfer learning with a
    unified text-to-text transformer"; the mesh-tensorflow initialisation of
    its attention and dense layers): fan-in weights, std 1/sqrt(d) for W_K,
    W_V and the MLP's first matrix, 1/sqrt(H d_k) = 1/sqrt(d) for W_O,
    1/sqrt(4d) for the MLP's second, and std 1/sqrt(d d_k) for W_Q, which
    replaces the 1/sqrt(d_k) of the logits (no temperature).  The model has
    one variance for W_Q and W_K; the logits' law depends on their product
    only, so both get the geometric mean ``1/(d sqrt(d_k))`` (a
    :class:`~theory.model.Scale` ``sqrt(H) d^(-3/2)``): a logit between
    tokens of norm sqrt(d) has variance 1.  Pre-LN blocks (T5's RMSNorm
    without centring is described by the package's LayerNorm), ReLU MLP of
    width 4d (T5-base: d_ff = 3072 = 4 x 768), no mask (the encoder), 12 heads."""
    return dict(attention="key-query", heads=heads,
                sigma_qk2=Scale.power(sympy.Rational(3, 2), factor=sympy.sqrt(heads)),
                sigma_v2=Scale.xavier(), out_proj=Scale.xavier(), temperature="none",
                causal=False, layernorm=True, ln_position="pre", skip="standard",
                mlp=MLP(width=4, activation="relu"))


def mup(depth: int, heads: int, d) -> dict:
    """muP attention (Yang et al. 2021, "Tensor Programs V: tuning large neural
    networks via zero-shot hyperparameter transfer", the attention logit
    scaled by 1/d_k instead of 1/sqrt(d_k)) on a GPT-style block (pre-LN,
    causal mask, GELU MLP of width 4d, 12 heads) with the fan-in variances
    muP gives hidden weights (1/d for W_Q, W_K, W_V, W_O and the MLP's first
    matrix, 1/(4d) for its second).  muP's optional zero initialisation of
    W_Q (which makes the first layer's attention exactly uniform) is not part
    of this preset: set ``sigma_qk2`` small to approach it."""
    return dict(attention="key-query", heads=heads, sigma_qk2=Scale.xavier(),
                sigma_v2=Scale.xavier(), out_proj=Scale.xavier(), temperature="linear",
                causal=True, layernorm=True, ln_position="pre", skip="standard",
                mlp=MLP(width=4, activation="gelu"))


def xavier(depth: int, heads: int, d) -> dict:
    """The paper's initialisation (Naderi, Nait Saada, Tanner, "Mind the Gap",
    arXiv 2410.07799, and the authors' code): one head, Xavier W_Q, W_K
    (variance 1/d), N(0, 1) values, the standard skip and post-LN: the paper's
    configuration "A(X) + skip + LN" (``heads`` other than 1 leaves the paper)."""
    fields = dict(PRESETS["A(X) + skip + LN"])
    if heads != 1:
        fields["heads"] = heads
    return fields


#: name -> (builder(depth, heads, d) -> fields, default number of heads)
INITS = MappingProxyType({"gpt2": (gpt2, 12), "bert": (bert, 12), "t5": (t5, 12),
                          "mup": (mup, 12), "xavier": (xavier, 1)})
#: every accepted name: each initialisation and its "+gap" variant
INIT_NAMES = tuple(INITS) + tuple(f"{k}+gap" for k in INITS)


def init_preset(name: str, *, n=100, depth=12, gamma=1, heads=None, **overrides) -> AttentionModel:
    """The named initialisation ``name`` (:data:`INIT_NAMES`) at n tokens,
    ``depth`` blocks and ratio ``gamma = n/d`` (``gamma > 1``: the isometric
    input with orthonormal columns); ``heads`` defaults to the architecture's
    (12; 1 for xavier) and must divide d; ``overrides`` replace any field.

    >>> init_preset("t5", n=96, depth=2, heads=2).sigma_QK2 ** 2 * 96 ** 2 * 48
    1
    >>> init_preset("gpt3", n=8)
    Traceback (most recent call last):
    ...
    ValueError: init must be one of 'gpt2', 'bert', 't5', 'mup', 'xavier', 'gpt2+gap', 'bert+gap', 't5+gap', 'mup+gap', 'xavier+gap' (got 'gpt3')
    """
    _validate.one_of("init", name, INIT_NAMES)
    base, gap = (name[:-4], 1) if name.endswith("+gap") else (name, 0)
    builder, default_heads = INITS[base]
    heads = default_heads if heads is None else _validate.integer("heads", heads, minimum=1)
    depth = _validate.integer("depth", depth, minimum=1)
    fields = builder(depth, heads, width(n, gamma))
    if gap:
        fields["remove_gap"] = 1
    if _validate._as_real("gamma", gamma) is not None and float(gamma) > 1:
        fields["isometry"] = "columns"
    fields.update(overrides)
    return AttentionModel(n=n, depth=depth, gamma=gamma, **fields)
