"""LaTeX of the registered results: fragments, complete documents, compilation.

A result's LaTeX is its statement (``Result.statement_latex``) followed by the
formulas it derives (``Result.formulas(**params)``, sympy expressions printed
with :func:`sympy.latex`), either symbolic or specialised to a depth and a
ratio gamma = n/d.  :func:`document` assembles several results into a
fragment (for ``\\input``) or a complete ``article``; :func:`compile_pdf`
runs a real engine (latexmk, pdflatex or tectonic) on it.

>>> from gapcheck.theory.registry import Result
>>> import sympy
>>> l = sympy.Symbol("l", positive=True)
>>> r = Result("demo", "A demo", "proposition", "here", "Grows like n^l.",
...            ("n large",), r"\\mathbb{E}\\,X = n^{l}",
...            formulas=lambda depth=l: {"exponent": depth + 1})
>>> print(result_block(r, depth=2).splitlines()[0])
\\subsection*{demo: A demo}
>>> r"\\text{exponent} &= 3" in result_block(r, depth=2)
True
"""
from __future__ import annotations

import inspect
import re
import shutil
import subprocess
import tempfile
import unicodedata
from pathlib import Path

import sympy

from ..theory._validate import in_interval, integer, to_sympy
from ..theory.registry import Result

__all__ = ["FormulaError", "PARAMETER_NAMES", "specialise", "result_block", "document", "escape_text",
           "find_engine", "compile_pdf"]

#: the user-facing parameters and the keyword names a result's ``formulas`` may use for them
#: (where ``formulas`` takes both ``L`` and ``l``, ``L`` is the depth and ``l`` a layer index)
PARAMETER_NAMES = {"depth": ("depth", "L", "layers", "l"), "gamma": ("gamma",)}

PREAMBLE = r"""\documentclass[11pt]{article}
\usepackage[T1]{fontenc}
\usepackage[utf8]{inputenc}
\usepackage[margin=2cm]{geometry}
\usepackage{amsmath,amssymb,amsfonts,mathtools,bm}
\allowdisplaybreaks
\providecommand{\srank}{\operatorname{srank}}
\title{%(title)s}
\date{}
\begin{document}
\maketitle
"""

_UNICODE = {
    "σ": r"$\sigma$", "γ": r"$\gamma$", "λ": r"$\lambda$", "μ": r"$\mu$", "ν": r"$\nu$",
    "α": r"$\alpha$", "β": r"$\beta$", "δ": r"$\delta$", "ε": r"$\varepsilon$",
    "θ": r"$\theta$", "π": r"$\pi$", "ψ": r"$\psi$", "χ": r"$\chi$", "τ": r"$\tau$",
    "Σ": r"$\Sigma$", "Δ": r"$\Delta$", "Ω": r"$\Omega$", "ℓ": r"$\ell$",
    "≤": r"$\le$", "≥": r"$\ge$", "≠": r"$\ne$", "≈": r"$\approx$", "∼": r"$\sim$",
    "→": r"$\to$", "⊠": r"$\boxtimes$", "⊗": r"$\otimes$", "×": r"$\times$", "·": r"$\cdot$",
    "√": r"$\surd$", "∞": r"$\infty$", "±": r"$\pm$", "∈": r"$\in$", "⊥": r"$\perp$",
    "–": "--", "—": "---", "’": "'", "‘": "`", "“": "``", "”": "''", "…": r"\dots{}",
    "²": r"$^2$", "³": r"$^3$", "⁻": r"$^-$", "¹": r"$^1$", "½": r"$\frac12$",
}
_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
            "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
            "^": r"\textasciicircum{}", "<": r"\textless{}", ">": r"\textgreater{}"}


def escape_text(text: str) -> str:
    """Plain text (a statement in words) as LaTeX text that pdflatex accepts.

    >>> escape_text("srank -> 1 as n_l grows, 50% of σ^2")
    'srank -\\\\textgreater{} 1 as n\\\\_l grows, 50\\\\% of $\\\\sigma$\\\\textasciicircum{}2'
    """
    out = []
    for ch in str(text):
        if ch in _SPECIAL:
            out.append(_SPECIAL[ch])
        elif ch in _UNICODE:
            out.append(_UNICODE[ch])
        elif ord(ch) < 128:
            out.append(ch)
        else:
            plain = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode()
            out.append(plain if plain else f"[U+{ord(ch):04X}]")
    return "".join(out)


def _parameter_keywords(formulas) -> tuple[set[str], bool]:
    try:
        sig = inspect.signature(formulas)
    except (TypeError, ValueError):
        return set(), True
    names = {p.name for p in sig.parameters.values()
             if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    var_kw = any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())
    return names, var_kw


def specialise(result: Result, depth=None, gamma=None) -> dict:
    """The keyword arguments of ``result.formulas`` for the given depth and gamma.

    The user-facing ``depth`` maps to the first of ``depth``, ``L``, ``layers``,
    ``l`` that the result's ``formulas`` accepts (``gamma`` to ``gamma``); a result that does
    not depend on a parameter simply ignores it.  ``depth`` must be an integer
    >= 1 and ``gamma`` a number in (0, 1] (``"1/2"`` is read exactly).

    >>> from gapcheck.theory.registry import Result
    >>> r = Result("x", "x", "lemma", "s", "s", (), "x", formulas=lambda l=1, gamma=1: {})
    >>> specialise(r, depth=3, gamma="1/2")
    {'l': 3, 'gamma': 1/2}
    >>> specialise(r, gamma=2)
    Traceback (most recent call last):
    ...
    ValueError: gamma must be in (0, 1] (got 2)
    """
    values = {}
    if depth is not None:
        values["depth"] = integer("depth", _parse_number("depth", depth), minimum=1)
    if gamma is not None:
        g = _parse_number("gamma", gamma)
        in_interval("gamma", g, 0, 1)
        values["gamma"] = to_sympy(g)
    names, var_kw = _parameter_keywords(result.formulas)
    kwargs = {}
    for key, value in values.items():
        for alias in PARAMETER_NAMES[key]:
            if alias in names:
                kwargs[alias] = value
                break
    return kwargs


def _parse_number(name: str, value):
    if isinstance(value, str):
        try:
            parsed = sympy.Rational(value.strip())
        except (TypeError, ValueError, SyntaxError):
            raise ValueError(f"{name} must be a number such as 2, 0.5 or 1/2 (got {value!r})") \
                from None
        return int(parsed) if parsed.is_Integer else parsed
    return value


class FormulaError(ValueError):
    """A result's ``formulas`` could not be evaluated for the given parameters."""


def _formula_lines(result: Result, kwargs: dict) -> list[tuple[str, str]]:
    try:
        formulas = result.formulas(**kwargs)
    except Exception as exc:  # a result's own derivation failed: say which and why
        raise FormulaError(f"{result.id}: its formulas cannot be derived with "
                           f"{kwargs or 'symbolic parameters'} ({type(exc).__name__}: {exc})") \
            from None
    lines = []
    for name, expr in formulas.items():
        tex = sympy.latex(expr) if isinstance(expr, sympy.Basic) else sympy.latex(
            sympy.sympify(expr))
        lines.append((_name_latex(str(name)), tex))
    return lines


def _name_latex(name: str) -> str:
    """A formula name as math: ``s_2`` stays math, ``\\sigma_A`` is LaTeX
    already, anything else (``mean``, ``srank_limit``) becomes ``\\text{...}``."""
    if "\\" in name or re.fullmatch(r"[A-Za-z](_\{?[A-Za-z0-9]+\}?)?", name):
        return name
    return r"\text{" + escape_text(name) + "}"


def result_block(result: Result, *, depth=None, gamma=None, on_error=None) -> str:
    """LaTeX of one result: heading, statement in words, the statement as a
    display, its assumptions, and its derived formulas in an ``align*``.

    When the result's ``formulas`` fail, :class:`FormulaError` is raised, or,
    with ``on_error`` given, ``on_error(message)`` is called and the block
    says in italics that the formulas are missing and why."""
    kwargs = specialise(result, depth, gamma)
    out = [rf"\subsection*{{{escape_text(result.id)}: {escape_text(result.title)}}}",
           rf"\noindent\textit{{{escape_text(result.kind.capitalize())}; "
           rf"{escape_text(result.source)}.}} {escape_text(result.statement)}",
           r"\begin{equation*}", result.statement_latex.strip(), r"\end{equation*}"]
    if result.assumptions:
        out.append(r"\noindent Assumptions:")
        out.append(r"\begin{itemize}")
        out.extend(rf"\item {escape_text(a)}" for a in result.assumptions)
        out.append(r"\end{itemize}")
    try:
        lines = _formula_lines(result, kwargs)
    except FormulaError as exc:
        if on_error is None:
            raise
        on_error(str(exc))
        out.append(r"\noindent\textit{Formulas not derived: " + escape_text(str(exc)) + "}")
        lines = []
    if lines:
        spec = ", ".join(f"{_param_tex(k)} = {sympy.latex(v)}" for k, v in kwargs.items())
        out.append(r"\noindent Derived formulas" + (f" (${spec}$)" if spec else " (symbolic)")
                   + ":")
        out.append(r"\begin{align*}")
        out.append(" \\\\\n".join(f"{name} &= {tex}" for name, tex in lines))
        out.append(r"\end{align*}")
    return "\n".join(out) + "\n"


def _param_tex(name: str) -> str:
    return {"gamma": r"\gamma", "depth": "L"}.get(name, name)


def document(results, *, depth=None, gamma=None, standalone: bool = False,
             title: str = "Mind the Gap: statements and derived formulas", on_error=None) -> str:
    """LaTeX of several results: a fragment, or a complete ``article`` when
    ``standalone`` (compile it with :func:`compile_pdf`).  ``on_error``: see
    :func:`result_block`."""
    results = list(results)
    if not results:
        raise ValueError("no results to write: the registry is empty or no id was given")
    body = "\n".join(result_block(r, depth=depth, gamma=gamma, on_error=on_error)
                     for r in results)
    if not standalone:
        return ("% generated by `gapcheck latex`; needs amsmath, amssymb\n"
                r"\providecommand{\srank}{\operatorname{srank}}" + "\n" + body)
    return PREAMBLE % {"title": escape_text(title)} + body + "\\end{document}\n"


def find_engine() -> list[str] | None:
    """The command line of an installed LaTeX engine (latexmk, pdflatex,
    tectonic, in that order), or ``None``."""
    if shutil.which("latexmk") and shutil.which("pdflatex"):
        return ["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error", "-quiet"]
    if shutil.which("pdflatex"):
        return ["pdflatex", "-interaction=nonstopmode", "-halt-on-error"]
    if shutil.which("tectonic"):
        return ["tectonic", "--keep-logs"]
    return None


def compile_pdf(tex: str | Path, out_dir: str | Path | None = None, *,
                engine: list[str] | None = None, timeout: float = 120) -> Path:
    """Compile a complete LaTeX document (text or a ``.tex`` path) and return
    the PDF's path.  ``OSError`` when no engine is installed or compilation
    fails, with the first LaTeX error line of the log."""
    engine = engine or find_engine()
    if engine is None:
        raise OSError("no LaTeX engine found (install pdflatex with .ci/install-latex.sh, "
                      "or tectonic)")
    if isinstance(tex, Path) or (isinstance(tex, str) and tex.endswith(".tex")
                                 and "\n" not in tex):
        src = Path(tex)
        text = src.read_text()
        stem = src.stem
    else:
        text, stem = str(tex), "gapcheck"
    out_dir = Path(out_dir) if out_dir is not None else Path(tempfile.mkdtemp(prefix="gapcheck-tex-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="gapcheck-tex-") as work:
        path = Path(work) / f"{stem}.tex"
        path.write_text(text)
        proc = subprocess.run(engine + [path.name], cwd=work, capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)
        pdf = Path(work) / f"{stem}.pdf"
        if proc.returncode != 0 or not pdf.exists():
            log = Path(work) / f"{stem}.log"
            raise OSError(f"{engine[0]} failed: {_first_error(log, proc)}")
        target = out_dir / pdf.name
        shutil.copyfile(pdf, target)
    return target


def _first_error(log: Path, proc) -> str:
    text = log.read_text(errors="replace") if log.exists() else (proc.stdout + proc.stderr)
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("!") or "error:" in line.lower():
            context = " ".join(s.strip() for s in lines[i:i + 3] if s.strip())
            return context[:300]
    return (lines[-1] if lines else f"exit code {proc.returncode}")[:300]
