"""LaTeX of the registered results: fragments, complete documents, compilation.

A result's LaTeX is its statement (``Result.statement_latex``) followed by the
fields of its symbolic prediction (``Result.prediction`` of
``Result.symbolic_model``, sympy expressions printed with
:func:`theory.symbols.latex`, the one symbol table), either symbolic or with
the depth and the ratio gamma = n/d specialised in the model.
:func:`document` assembles several results into a fragment (for
``\\input``) or a complete ``article``; :func:`compile_pdf` runs a real engine
(latexmk, pdflatex or tectonic) on it.

>>> from gapcheck.theory.registry import get
>>> print(result_block(get("prop3"), depth=2).splitlines()[0])
\\subsection*{prop3: Rank collapse in width}
>>> r"\\text{exponent} &= -3" in result_block(get("prop3"), depth=2)
True
"""
from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import sympy

from ..theory._validate import in_interval, integer, to_sympy
from ..theory.model import SYMBOLS
from ..theory.registry import Result
from ..theory.symbols import escape_text, label_latex, latex as formula_latex, text_latex

__all__ = ["FormulaError", "PARAMETERS", "specialise", "result_block", "document", "escape_text",
           "find_engine", "compile_pdf"]

#: the user-facing parameters: the model field each sets and the canonical symbol it binds
PARAMETERS = {"depth": SYMBOLS["l"], "gamma": SYMBOLS["gamma"]}

PREAMBLE = r"""\documentclass[11pt]{article}
\usepackage[T1]{fontenc}
\usepackage[utf8]{inputenc}
\usepackage[margin=2cm]{geometry}
\usepackage{amsmath,amssymb,amsfonts,mathtools,bm}
\usepackage{graphicx}
\allowdisplaybreaks
\setlength{\emergencystretch}{3em}
%(macros)s\title{%(title)s}
\date{}
\begin{document}
\maketitle
"""

def specialise(result: Result, depth=None, gamma=None) -> dict:
    """The model fields (``depth``, ``gamma``) to set in ``result``'s symbolic
    model for the given depth and gamma: those whose symbol (``l``, ``gamma``)
    its symbolic prediction depends on; a result that does not depend on a
    parameter simply ignores it.  ``depth`` must be an integer >= 1 and
    ``gamma`` a number in (0, 1] (``"1/2"`` is read exactly).

    >>> from gapcheck.theory.registry import get
    >>> specialise(get("prop3"), depth=3, gamma="1/2")
    {'depth': 3, 'gamma': 1/2}
    >>> specialise(get("dong.cubic"), depth=3)
    {}
    >>> specialise(get("prop3"), gamma=2)
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
    if not values:
        return {}
    try:
        free = set().union(*(to_sympy(v).free_symbols for v in _fields(result).values()))
    except Exception as exc:  # a result's own derivation failed: say which and why
        raise FormulaError(f"{result.id}: its formulas cannot be derived with symbolic parameters "
                           f"({type(exc).__name__}: {exc})") from None
    return {key: value for key, value in values.items() if PARAMETERS[key] in free}


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
    """A result's prediction could not be derived for the given parameters."""


def _fields(result: Result, **fields) -> dict:
    """The symbolic prediction's fields as formulas: build the statement's
    symbolic model, specialise ``fields`` (depth, gamma), predict (LaTeX is a
    view of the prediction, not a second derivation)."""
    prediction = result.prediction(result.symbolic_model(**fields))
    return {name.replace("_", " "): value for name, value in prediction.values().items()
            if isinstance(value, (sympy.Basic, int, float)) and not isinstance(value, bool)}


def _formula_lines(result: Result, fields: dict) -> list[tuple[str, str]]:
    try:
        formulas = _fields(result, **fields)
    except Exception as exc:  # a result's own derivation failed: say which and why
        raise FormulaError(f"{result.id}: its formulas cannot be derived with "
                           f"{fields or 'symbolic parameters'} ({type(exc).__name__}: {exc})") \
            from None
    return [(label_latex(str(name)), formula_latex(expr)) for name, expr in formulas.items()]


def result_block(result: Result, *, depth=None, gamma=None, on_error=None) -> str:
    """LaTeX of one result: heading, statement in words, the statement as a
    display, its assumptions, and its derived formulas in an ``align*``.

    When the result's prediction fails, :class:`FormulaError` is raised, or,
    with ``on_error`` given, ``on_error(message)`` is called and the block
    says in italics that the formulas are missing and why."""
    try:
        fields = specialise(result, depth, gamma)
    except FormulaError:
        fields = {}                       # the symbolic prediction fails: said below
    out = [rf"\subsection*{{{escape_text(result.id)}: {text_latex(result.title)}}}",
           rf"\noindent\textit{{{escape_text(result.kind.capitalize())}; "
           rf"{text_latex(result.source, strict=True)}.}} {text_latex(result.statement)}",
           display(result.statement_latex)]
    if result.assumptions:
        out.append(r"\noindent Assumptions:")
        out.append(r"\begin{itemize}")
        out.extend(rf"\item {text_latex(a)}" for a in result.assumptions)
        out.append(r"\end{itemize}")
    try:
        lines = _formula_lines(result, fields)
    except FormulaError as exc:
        if on_error is None:
            raise
        on_error(str(exc))
        out.append(r"\noindent\textit{Formulas not derived: " + escape_text(str(exc)) + "}")
        lines = []
    if lines:
        given = {"l" if k == "depth" else k: v for k, v in fields.items()}
        spec = ", ".join(f"{_param_tex(k)} = {formula_latex(to_sympy(_parse_number(k, v)))}"
                         for k, v in given.items())
        out.append(r"\noindent Derived formulas" + (f" (${spec}$)" if spec else " (symbolic)")
                   + ":")
        short = [(n, t) for n, t in lines if _width(n) + _width(t) <= ROW_CHARS]
        if short:
            out.append(r"\begin{align*}")
            out.append(" \\\\\n".join(f"{name} &= {tex}" for name, tex in short))
            out.append(r"\end{align*}")
        for name, tex in lines:           # too long for a row: the name, then the formula
            if (name, tex) not in short:
                out.append(rf"\noindent ${name}$:")
                out.append(display(tex))
    return "\n".join(out) + "\n"


#: macros every document needs: ``\srank`` and ``\gcfit{...}``, which sets a
#: formula in display style and shrinks it to the line only when it is wider
MACROS = r"""\providecommand{\srank}{\operatorname{srank}}
\ifdefined\gcbox\else\newsavebox{\gcbox}\fi
\providecommand{\gcfit}[1]{\sbox{\gcbox}{$\displaystyle #1$}%
\ifdim\wd\gcbox>0.98\linewidth\resizebox{0.98\linewidth}{!}{\usebox{\gcbox}}%
\else\usebox{\gcbox}\fi}
"""

#: visible characters of a formula row that fit a line (11pt, 2 cm margins)
ROW_CHARS = 70


def _width(tex: str) -> int:
    """A rough count of the characters ``tex`` shows (commands count as one)."""
    tex = re.sub(r"\\(?:left|right|big|Big|bigg|Bigg)\b", "", tex)
    tex = re.sub(r"\\(?:frac|tfrac|dfrac)", "", tex)
    tex = re.sub(r"\\(?:text|mathrm|operatorname|mathbb|mathbf)\{([^{}]*)\}", r"\1", tex)
    tex = re.sub(r"\\[A-Za-z]+", "x", tex)
    # binary operators and relations are set with space on both sides
    return len(re.sub(r"[{}^_\s]", "", tex)) + 2 * len(re.findall(r"[-+=<>]", tex))


def _top_level_pieces(tex: str) -> list[str]:
    """``tex`` split at its top-level ``\\quad`` separators (outside braces and
    ``\\left ... \\right``), each piece without the separating comma."""
    pieces, depth, start, i = [], 0, 0, 0
    while i < len(tex):
        if tex.startswith(r"\left", i) and not tex[i + 5:i + 6].isalpha():
            depth += 1
        elif tex.startswith(r"\right", i) and not tex[i + 6:i + 7].isalpha():
            depth -= 1
        elif tex[i] == "\\" and i + 1 < len(tex) and tex[i + 1] in "{}":
            i += 2
            continue
        elif tex[i] == "{":
            depth += 1
        elif tex[i] == "}":
            depth -= 1
        elif depth == 0 and (tex.startswith(r"\qquad", i) or tex.startswith(r"\quad", i)):
            sep = 6 if tex.startswith(r"\qquad", i) else 5
            if not tex[i + sep:i + sep + 1].isalpha():
                pieces.append(tex[start:i])
                i += sep
                start = i
                continue
        i += 1
    pieces.append(tex[start:])
    return [p.strip().rstrip(",").strip() for p in pieces if p.strip().rstrip(",").strip()]


def display(tex: str) -> str:
    r"""A displayed formula that fits the line: pieces separated by ``\quad``
    are packed onto lines of :data:`ROW_CHARS` characters, and a line still
    too wide is shrunk to the line width by ``\gcfit`` (never past the margin).

    >>> print(display(r"a = 1,\quad b = 2"))
    \begin{gather*}
    \gcfit{a = 1,\quad b = 2}
    \end{gather*}
    """
    tex = tex.strip()
    lines, current = [], []
    for piece in _top_level_pieces(tex) or [tex]:
        if current and _width(r",\quad ".join(current + [piece])) > ROW_CHARS:
            lines.append(current)
            current = []
        current.append(piece)
    lines.append(current)
    body = " \\\\\n".join(r"\gcfit{" + r",\quad ".join(line) + "}" for line in lines)
    return "\\begin{gather*}\n" + body + "\n\\end{gather*}"


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
        return ("% generated by `gapcheck latex`; needs amsmath, amssymb, graphicx\n"
                + MACROS + body)
    return PREAMBLE % {"title": escape_text(title), "macros": MACROS} + body + "\\end{document}\n"


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
    the PDF's path; the engine's ``.log`` is copied next to it.  ``OSError`` when no engine is installed or compilation
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
        for _ in range(4):   # a plain engine reruns while references are settling
            proc = subprocess.run(engine + [path.name], cwd=work, capture_output=True, text=True,
                                  timeout=timeout, stdin=subprocess.DEVNULL)
            log = Path(work) / f"{stem}.log"
            if proc.returncode != 0 or engine[0] in ("latexmk", "tectonic") or not log.exists() \
                    or not _RERUN.search(log.read_text(errors="replace")):
                break
        pdf = Path(work) / f"{stem}.pdf"
        if proc.returncode != 0 or not pdf.exists():
            log = Path(work) / f"{stem}.log"
            raise OSError(f"{engine[0]} failed: {_first_error(log, proc)}")
        target = out_dir / pdf.name
        shutil.copyfile(pdf, target)
        log = Path(work) / f"{stem}.log"
        if log.exists():                 # kept for readers (overfull boxes, warnings)
            shutil.copyfile(log, out_dir / log.name)
    return target


#: what a plain engine's log says when labels or table widths changed: run again
_RERUN = re.compile(r"Rerun to get|Label\(s\) may have changed|Table widths have changed. Rerun")


def _first_error(log: Path, proc) -> str:
    text = log.read_text(errors="replace") if log.exists() else (proc.stdout + proc.stderr)
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("!") or "error:" in line.lower():
            context = " ".join(s.strip() for s in lines[i:i + 3] if s.strip())
            return context[:300]
    return (lines[-1] if lines else f"exit code {proc.returncode}")[:300]
