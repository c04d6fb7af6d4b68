"""One symbol table and one LaTeX printer for every formula gapcheck prints.

The sympy symbols of :mod:`theory` are named for code (``sigma_A2`` is the
variance ``sigma_A^2``, ``s2`` the lognormal parameter ``s^2``); sympy's own
printer would write them ``\\sigma_{A2}`` and ``s_{2}`` (read as "sigma_A
squared-ish" and "the second singular value"), Euler's constant as ``\\gamma``
(which is ``n/d`` here) and the digamma function as ``\\operatorname{polygamma}``.
:data:`SYMBOLS` says how each name is written, and :func:`latex` (a
:class:`sympy.printing.latex.LatexPrinter` that reads it) is what every LaTeX
producer calls: the laws' ``latex()``, ``Result.latex``, ``gapcheck latex``.

>>> import sympy
>>> sA2, sV2, s2, g = sympy.symbols("sigma_A2 sigma_V2 s2 gamma", positive=True)
>>> latex(sA2**3 * sV2**3)
'\\\\left(\\\\sigma_{A}^{2}\\\\right)^{3} \\\\left(\\\\sigma_{V}^{2}\\\\right)^{3}'
>>> latex(sympy.exp(s2) - 1)
'e^{s^{2}} - 1'
>>> latex(sympy.EulerGamma + g)
'\\\\gamma + \\\\gamma_{E}'
>>> latex(sympy.polygamma(0, g / 2))
'\\\\psi\\\\left(\\\\frac{\\\\gamma}{2}\\\\right)'

Statements, assumptions and formula names are written in words with ASCII
mathematics (``sigma_A^2 = exp(sigma_QK^4) - 1``); :func:`text_latex` turns
them into LaTeX text with the mathematics in ``$...$``, :func:`label_latex`
into a math-mode label:

>>> text_latex("srank(Sigma_l) -> 1 as n grows")
'$\\\\operatorname{srank}(\\\\Sigma_{l}) \\\\to 1$ as $n$ grows'
>>> label_latex("sigma_A^2 (lognormal)")
'\\\\sigma_{A}^{2}\\\\ \\\\text{(lognormal)}'
"""
from __future__ import annotations

import re
import unicodedata
from types import MappingProxyType

import sympy
from sympy.printing.latex import LatexPrinter
from ._validate import to_sympy

__all__ = ["SYMBOLS", "GREEK", "GapcheckLatexPrinter", "latex", "escape_text", "ascii_math",
           "text_latex", "label_latex"]

#: how each sympy symbol name used in :mod:`theory` is written in LaTeX
SYMBOLS = MappingProxyType({
    # variances: one symbol each (positive), written as the square they are
    "sigma_A2": r"\sigma_{A}^{2}",
    "sigma_V2": r"\sigma_{V}^{2}",
    "sigma_QK2": r"\sigma_{QK}^{2}",
    "sigma_a2": r"\sigma_{A}^{2}",
    "sigma_v2": r"\sigma_{v}^{2}",
    "sigma_w2": r"\sigma_{w}^{2}",
    "sigma_b2": r"\sigma_{b}^{2}",
    "alpha_A2": r"\alpha_{A}^{2}",
    "alpha_M2": r"\alpha_{M}^{2}",
    # the lognormal parameter: a variance s^2, not the second singular value s_2
    "s2": r"s^{2}",
    # standard deviations and ratios
    "sigma_A": r"\sigma_{A}",
    "sigma_V": r"\sigma_{V}",
    "sigma_QK": r"\sigma_{QK}",
    "gamma": r"\gamma",          # n/d; Euler's constant is \gamma_E
    "lambda": r"\lambda",
    "beta_eff": r"\beta_{\mathrm{eff}}",
    "epsilon": r"\varepsilon",
    "d_k": r"d_{k}",
    "d_v": r"d_{v}",
    # Frobenius norms carried as symbols (noci.uniform-gradients)
    "|X^T(I-J)X|_F^2": r"\|X^\top (I - J) X\|_F^{2}",
    "|X|_F^2": r"\|X\|_F^{2}",
    "|xbar|^2": r"\|\bar{x}\|^{2}",
})

#: Euler's constant (never \gamma: that is n/d here) and the polygamma family
EULER_GAMMA = r"\gamma_{E}"

#: ASCII names written as Greek letters in text and labels
GREEK = ("alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
         "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "phi", "chi", "psi", "omega",
         "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Phi", "Psi", "Omega")


#: ``<greek>_<sub>2``: a variance symbol (the rule behind the table's entries)
_VARIANCE = re.compile(r"(sigma|alpha|beta|tau|kappa)_([A-Za-z]+)2")


class GapcheckLatexPrinter(LatexPrinter):
    """sympy's LaTeX printer with :data:`SYMBOLS`, ``\\gamma_E`` for Euler's
    constant and ``\\psi`` for the digamma function."""

    def _print(self, expr, **kwargs):
        # sympy's EulerGamma prints itself (``_latex``) as \gamma: intercept it
        if expr is sympy.EulerGamma:
            return self._print_EulerGamma(expr)
        return super()._print(expr, **kwargs)

    def _print_Symbol(self, expr, style="plain"):
        if expr.name in SYMBOLS:
            return SYMBOLS[expr.name]
        m = _VARIANCE.fullmatch(expr.name)
        if m:                                   # a variance not in the table: sigma_NL2
            sub = m.group(2) if len(m.group(2)) <= 2 else r"\mathrm{" + m.group(2) + "}"
            return rf"\{m.group(1)}_{{{sub}}}^{{2}}"
        return super()._print_Symbol(expr, style=style)

    def _print_EulerGamma(self, expr):
        return EULER_GAMMA

    def _print_polygamma(self, expr, exp=None):
        n, x = expr.args
        head = r"\psi" if n == 0 else (r"\psi'" if n == 1 else rf"\psi^{{({self._print(n)})}}")
        body = rf"{head}\left({self._print(x)}\right)"
        return body if exp is None else rf"\left({body}\right)^{{{exp}}}"

    def _print_digamma(self, expr, exp=None):
        return self._print_polygamma(sympy.polygamma(0, expr.args[0]), exp)

    def _print_trigamma(self, expr, exp=None):
        return self._print_polygamma(sympy.polygamma(1, expr.args[0]), exp)


def latex(expr, **settings) -> str:
    """LaTeX of a sympy expression (or anything sympify accepts) through
    :class:`GapcheckLatexPrinter`."""
    if not isinstance(expr, sympy.Basic):
        expr = to_sympy(expr)
    return GapcheckLatexPrinter(settings).doprint(expr)


# ------------------------------------------------------------ words and ASCII math

_UNICODE_MATH = {
    "σ": r"\sigma", "γ": r"\gamma", "λ": r"\lambda", "μ": r"\mu", "ν": r"\nu", "α": r"\alpha",
    "β": r"\beta", "δ": r"\delta", "ε": r"\varepsilon", "θ": r"\theta", "π": r"\pi",
    "ψ": r"\psi", "χ": r"\chi", "τ": r"\tau", "Σ": r"\Sigma", "Δ": r"\Delta", "Ω": r"\Omega",
    "ℓ": r"\ell", "≤": r"\le", "≥": r"\ge", "≠": r"\ne", "≈": r"\approx", "∼": r"\sim",
    "→": r"\to", "⊠": r"\boxtimes", "⊗": r"\otimes", "×": r"\times", "·": r"\cdot",
    "√": r"\surd", "∞": r"\infty", "±": r"\pm", "∈": r"\in", "⊥": r"\perp", "∝": r"\propto",
    "²": "^2", "³": "^3", "½": r"\tfrac12",
}
_UNICODE_TEXT = {"–": "--", "—": "---", "’": "'", "‘": "`", "“": "``", "”": "''",
                 "…": r"\dots{}"}
_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
            "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
            "^": r"\textasciicircum{}", "<": r"\textless{}", ">": r"\textgreater{}"}


def escape_text(text: str) -> str:
    """Plain text as LaTeX text that pdflatex accepts (no mathematics
    recognised: see :func:`text_latex` for that).

    >>> escape_text("50% of n_l")
    '50\\\\% of n\\\\_l'
    """
    out = []
    for ch in str(text):
        if ch == "/":                            # paths and "keys/queries" may break after /
            out.append(r"/\allowbreak{}")
        elif ch in _SPECIAL:
            out.append(_SPECIAL[ch])
        elif ch in _UNICODE_MATH:
            out.append(f"${_UNICODE_MATH[ch]}$")
        elif ch in _UNICODE_TEXT:
            out.append(_UNICODE_TEXT[ch])
        elif ord(ch) < 128:
            out.append(ch)
        else:
            plain = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode()
            out.append(plain if plain else f"[U+{ord(ch):04X}]")
    return "".join(out)


_OPERATORS = {"srank": r"\operatorname{srank}", "rank": r"\operatorname{rank}",
              "tr": r"\operatorname{tr}", "diag": r"\operatorname{diag}",
              "softmax": r"\operatorname{softmax}", "res": r"\operatorname{res}",
              "supp": r"\operatorname{supp}", "Var": r"\operatorname{Var}",
              "Cov": r"\operatorname{Cov}", "E": r"\mathbb{E}", "exp": r"\exp", "log": r"\log",
              "max": r"\max", "min": r"\min", "sup": r"\sup", "inf": r"\inf",
              "liminf": r"\liminf", "limsup": r"\liminf", "lim": r"\lim", "det": r"\det",
              "arccos": r"\arccos", "acos": r"\arccos", "sigmoid": r"\operatorname{sigmoid}",
              "relu": r"\operatorname{relu}", "tanh": r"\tanh", "LN": r"\operatorname{LN}",
              "BN": r"\operatorname{BN}", "SA": r"\operatorname{SA}", "MP": r"\mathrm{MP}",
              "QC": r"\mathrm{QC}", "FC": r"\mathrm{FC}", "PD": r"\mathrm{PD}",
              "Binomial": r"\mathrm{Binomial}", "Exp": r"\mathrm{Exp}",
              "Uniform": r"\mathrm{Uniform}", "perp": r"\perp", "boxtimes": r"\boxtimes",
              "kron": r"\otimes", "oo": r"\infty", "infinity": r"\infty", "eps": r"\varepsilon",
              "epsilon": r"\varepsilon", "sqrt": r"\surd", "xbar": r"\bar{x}", "Vbar": r"\bar{V}", "ell": r"\ell"}
#: ASCII operators and the characters math mode needs escaped
_ASCII_OPERATORS = {"->": r"\to", "<=": r"\le", ">=": r"\ge", "!=": r"\ne", "+-": r"\pm",
                    "||": r"\|", "~": r"\sim", "*": r"\,", "%": r"\%", "#": r"\#", "&": r"\&",
                    "$": r"\$", "\\": r"\backslash ", "{": r"\{", "}": r"\}"}
_MATH_TOKEN = re.compile(r"->|<=|>=|!=|\+-|\|\||[A-Za-z][A-Za-z0-9]*|\d+(?:\.\d+)?|\s+|.")


def _group(tokens, i, open_, close):
    """Tokens of the balanced group starting at ``tokens[i] == open_``, and the
    index after its closing token (``None`` when unbalanced)."""
    depth = 0
    for j in range(i, len(tokens)):
        if tokens[j] == open_:
            depth += 1
        elif tokens[j] == close:
            depth -= 1
            if depth == 0:
                return tokens[i + 1:j], j + 1
    return None, None


def _word(tok: str, nxt: str | None) -> str:
    if tok in SYMBOLS:
        return SYMBOLS[tok]
    if tok in GREEK:
        return "\\" + ("varepsilon" if tok == "epsilon" else tok)
    if tok in _OPERATORS:
        return _OPERATORS[tok]
    if len(tok) == 2 and tok[0] == "d" and tok[1].isupper():   # dX_L/dW_l
        return r"\partial " + tok[1]
    m = re.fullmatch(r"([A-Za-z])(\d+)", tok)                   # X0, m2
    if m and not _LABEL.fullmatch(tok):
        return f"{m.group(1)}_{{{m.group(2)}}}"
    if tok == "R" and nxt == "^":                               # R^{d x d_k}
        return r"\mathbb{R}"
    if len(tok) > 1 and tok.isalpha() and not tok.isupper():
        return r"\mathrm{" + tok + "}"
    return tok


def _convert(tokens) -> str:
    out = []
    i = 0
    while i < len(tokens):
        t = tokens[i]
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if t in ("^", "_"):
            i += 1
            while i < len(tokens) and tokens[i].isspace():
                i += 1
            if i >= len(tokens):
                out.append("\\" + t if t == "_" else r"\hat{}")
                break
            u = tokens[i]
            if u in ("(", "{"):
                inner, end = _group(tokens, i, u, ")" if u == "(" else "}")
                if inner is not None:
                    out.append(f"{t}{{{_convert(inner)}}}")
                    i = end
                    continue
                out.append(t + "{}")             # unbalanced: the bracket prints as itself
                continue
            if u == "-" and i + 1 < len(tokens):                       # n^-1, n^-1/2
                end = i + 2
                if end + 1 < len(tokens) and tokens[end] == "/" and tokens[end + 1].isdigit():
                    end += 2
                out.append(f"{t}{{-{_convert(tokens[i + 1:end])}}}")
                i = end
                continue
            if t == "^" and u == "T":
                out.append(r"^{\top}")
            elif u == "perp":
                out.append(r"^{\perp}")
            else:
                body = u
                if u[0].isalpha() and (u in GREEK or u in SYMBOLS or u in _OPERATORS
                                       or len(u) > 2):
                    body = _word(u, None) if (u in GREEK or u in SYMBOLS or u in _OPERATORS) \
                        else r"\mathrm{" + u + "}"
                if t == "_" and out and out[-1].startswith("_{"):      # ratio_Q_V
                    out[-1] = out[-1][:-1] + "," + body + "}"
                else:
                    out.append(f"{t}{{{body}}}")
            i += 1
            continue
        if t == "sqrt" and nxt == "(":
            inner, end = _group(tokens, i + 1, "(", ")")
            if inner is not None:
                out.append(r"\sqrt{" + _convert(inner) + "}")
                i = end
                continue
        if t == "sqrt" and nxt is not None and nxt.isspace() and i + 2 < len(tokens) \
                and tokens[i + 2][:1].isalnum():                      # sqrt d
            out.append(r"\sqrt{" + _convert([tokens[i + 2]]) + "}")
            i += 3
            continue
        if t == "11" and nxt == "^":
            out.append(r"\mathbf{1}\mathbf{1}")
        elif t == "1" and nxt == "^" and i + 2 < len(tokens) and tokens[i + 2] == "T":
            out.append(r"\mathbf{1}")
        elif t == "x" and out and i + 1 < len(tokens) and tokens[i - 1].isspace() and nxt.isspace():
            out.append(r"\times")
        elif t[0].isalpha():
            out.append(_word(t, nxt))
        elif t in _ASCII_OPERATORS:
            out.append(_ASCII_OPERATORS[t])
        elif t in _UNICODE_MATH:
            out.append(_UNICODE_MATH[t])
        elif ord(t[0]) >= 128:
            out.append(r"\text{" + escape_text(t) + "}")
        else:
            out.append(t)
        i += 1
    # a control word followed by a letter needs a space (\to x, not \tox)
    text = ""
    for piece in out:
        if re.search(r"\\[A-Za-z]+$", text) and piece[:1].isalnum():
            text += " "
        text += piece
    return text.strip()


def ascii_math(text: str) -> str:
    """ASCII mathematics as LaTeX math-mode content.

    >>> ascii_math("sigma_A^(4l) n^(1 - 2l)")
    '\\\\sigma_{A}^{4l} n^{1 - 2l}'
    >>> ascii_math("||sqrt(n)(A - 11^T/n)||_2")
    '\\\\|\\\\sqrt{n}(A - \\\\mathbf{1}\\\\mathbf{1}^{\\\\top}/n)\\\\|_{2}'
    """
    return _convert(_MATH_TOKEN.findall(str(text)))


_STRONG = re.compile(r"[_^=<>~|]|->|[A-Za-z0-9][(\[]|(?<![A-Za-z])[A-Za-z0-9]{1,2}\)?/\(?[A-Za-z0-9]{1,2}(?![A-Za-z])"
                     r"|\d[A-Za-z]|\)\(|^[(\[{]*[A-Za-z]\d*[)\]},.;:]*$|[\u0370-\u03ff→≤≥≈∼⊠⊗√∞±∈⊥∝]")
#: single-letter words that are English, not variables
_ENGLISH = {"a", "A"}
#: labels of the companion statements (A1-A10, ..., E5): names, not subscripted symbols
_LABEL = re.compile(r"[A-E]\d{1,2}")
_WEAK = re.compile(r"^[(\[{]*(?:[A-Za-z]|\d+(?:\.\d+)?|[-+*/]|" + "|".join(_OPERATORS) + r")[)\]},.;:]*$")
_TRAIL = ",.;:"


#: in ``strict`` mode (citations, sources) only operators make mathematics
_STRICT = re.compile(r"[_^=<>~|]|->")


def _kind(word: str, strict: bool = False) -> str:
    if strict:
        return "strong" if _STRICT.search(word) else "text"
    core = word.strip("()[]{},.;:")
    if core in _ENGLISH:
        return "weak"
    if _LABEL.fullmatch(core):
        return "text"
    if core in GREEK or core in SYMBOLS or _STRONG.search(word):
        return "strong"
    if _WEAK.match(word):
        return "weak"
    return "text"


def _segments(text: str, weak_math: bool = False, strict: bool = False):
    """``(is_math, piece)`` pieces of ``text``: runs of words containing ASCII
    mathematics (at least one unambiguous token, or any mathematics-like word
    when ``weak_math``), and the words between.  A word ending in ``;`` or ``:``
    ends a run; brackets a run does not close, and trailing punctuation, stay
    text."""
    words = []
    for w in re.split(r"(\s+)", str(text).strip()):
        m = re.fullmatch(r"([(\[]?([A-Za-z]{3,})-)(\S*[_^]\S*)", w)   # finite-d_k: word, then math
        words += [m.group(1), m.group(3)] if m and m.group(2) not in GREEK else [w]
    kinds = [("space" if w.isspace() or not w else _kind(w, strict)) for w in words]
    segs, i = [], 0
    while i < len(words):
        if kinds[i] in ("weak", "strong"):
            j = i
            while j < len(words) and kinds[j] in ("weak", "strong", "space"):
                j += 1
                if words[j - 1][-1:] in ";:." and not words[j - 1].isspace():
                    break
            while j > i and kinds[j - 1] == "space":
                j -= 1
            # a weak tail that opens a bracket it does not close is text: "> 0 (0.06, ..."
            if "".join(words[i:j]).count("(") > "".join(words[i:j]).count(")"):
                for c in range(j - 1, i, -1):
                    if words[c].startswith("(") and all(kinds[x] != "strong" for x in range(c, j)):
                        j = c
                        while j > i and kinds[j - 1] == "space":
                            j -= 1
                        break
            strong = any(kinds[x] == "strong" for x in range(i, j)) or (
                weak_math and any(words[x].strip("()[],.;:") not in _ENGLISH
                                  and kinds[x] == "weak" for x in range(i, j)))
            if strong:
                run = "".join(words[i:j])
                pre, post = "", ""
                while True:                      # unbalanced brackets, punctuation: text
                    if run and run[-1] in _TRAIL:
                        post, run = run[-1] + post, run[:-1]
                    elif run.endswith(")") and run.count(")") > run.count("("):
                        post, run = ")" + post, run[:-1]
                    elif run.endswith("]") and run.count("]") > run.count("["):
                        post, run = "]" + post, run[:-1]
                    elif run.startswith("(") and run.count("(") > run.count(")"):
                        pre, run = pre + "(", run[1:]
                    elif run.startswith("[") and run.count("[") > run.count("]"):
                        pre, run = pre + "[", run[1:]
                    else:
                        break
                segs += [(False, pre), (True, run), (False, post)]
            else:
                segs.append((False, "".join(words[i:j])))
            i = j
        else:
            segs.append((False, words[i]))
            i += 1
    merged = []
    for m, piece in segs:
        if not piece:
            continue
        if merged and not m and not merged[-1][0]:
            merged[-1] = (False, merged[-1][1] + piece)
        else:
            merged.append((m, piece))
    return merged


def text_latex(text: str, strict: bool = False) -> str:
    """Words with ASCII mathematics as LaTeX text, the mathematics in ``$...$``;
    ``strict``: only words with an operator (``_ ^ = < > ~ | ->``) are
    mathematics (for sources and citations, where ``v1`` or ``A1`` are names)."""
    return "".join(f"${ascii_math(s)}$" if m else escape_text(s)
                   for m, s in _segments(text, strict=strict))


def label_latex(name: str) -> str:
    """A formula's name as math-mode LaTeX: names written in LaTeX already
    (with a backslash) stay as they are; ASCII mathematics is converted and
    words go into ``\\text{...}``."""
    name = str(name)
    if "\\" in name:
        return name
    parts = []
    for m, s in _segments(name, weak_math=True):
        if m:
            parts.append(ascii_math(s))
        elif s.strip():
            parts.append(r"\text{" + escape_text(s.strip()) + "}")
    return r"\ ".join(parts)
