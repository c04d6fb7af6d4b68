"""The verification report: one LaTeX document, compiled to PDF, that gives for
every registered result its statement, assumptions and derived formulas (the
blocks of :mod:`numerics.latex`, a view of the symbolic prediction), the
verdict of each check (measured, predicted, tolerance), the result's figure
where the package draws one, and its findings; a first section collects every
finding in one table, citing the paper's numbering.

The assembly (:func:`document` and the helpers it calls) only formats what it
is given: outcomes come from :func:`numerics.commands.verify.verify` (as JSON
records), figures from :mod:`numerics.figures`.  :func:`build` runs both and
compiles; :func:`log_problems` reads the engine's log for what a reader would
see as a defect (a line over the margin by more than 1 pt, an undefined
reference).

>>> _number(0.000123456)
'$1.235\\\\times 10^{-4}$'
>>> _number(12.5), _number(3), _number(True)
('$12.5$', '$3$', 'yes')
>>> paper_reference("Mind the Gap (arXiv 2410.07799 v1), Proposition 3 (rate constant derived here)")
'Proposition 3'
>>> log_problems("Overfull \\\\hbox (0.5pt too wide) in paragraph\\nOverfull \\\\hbox (12.3pt too wide) in alignment")
['Overfull \\\\hbox (12.3pt too wide) in alignment']
"""
from __future__ import annotations

import datetime
import math
import re
import tempfile
from pathlib import Path

import sympy

from ..theory.registry import Result
from ..theory.symbols import (GREEK, SYMBOLS, ascii_math, escape_text, latex as formula_latex,
                              text_latex)
from . import latex as _latex

__all__ = ["FIGURES_OF", "figures_of", "paper_reference", "document", "log_problems", "build",
           "OVERFULL_LIMIT_PT"]

#: registered figure -> the results it illustrates (the first of them shows it,
#: the others refer to it); a test keeps both sides equal to the registries
FIGURES_OF = {
    "fig1-markov-spectrum": ("def1.1", "thm2", "lemma3"),
    "fig7-keyquery-outliers": ("prop1",),
    "fig4-srank-width": ("prop3", "prop5"),
    "fig2-srank-depth": ("prop3", "prop5"),
    "fig5-gradients": ("prop4", "prop6"),
    "prop7-bulk": ("prop7",),
    "prop8-bulk": ("prop8", "lemma4"),
    "gg-entropy": ("gg.entropy",),
    "gg-phase-diagram": ("gg.trainability", "gg.depth-collapse"),
    "noci-depth-scaling": ("noci.depth-scaling",),
    "bn-soft-rank": ("bn.sqrt-d", "bn.soft-rank"),
    "bn-lyapunov-fc": ("bn.lyapunov", "bn.fc-vs-lyapunov"),
    "bn-orthogonality-gap": ("bn.orthogonality-gap",),
    "dong-collapse": ("dong.cubic", "dong.depth", "dong.skip-conserves"),
    "audit-ln-rank": ("audit.ln-rank",),
    "key-query-bulk": ("kq.bulk",),
}

#: an overfull line up to this many points is invisible; beyond it, a defect
OVERFULL_LIMIT_PT = 1.0

_PAPER_REF = re.compile(r"\b(Definition|Proposition|Theorem|Lemma|Figure|Corollary) (\d+(?:\.\d+)*)")


def figures_of(result_ids) -> dict[str, tuple[str, ...]]:
    """The figures that illustrate any of ``result_ids``, each with the ids it
    illustrates among them (in :data:`FIGURES_OF`'s order)."""
    wanted = set(result_ids)
    return {name: tuple(i for i in ids if i in wanted)
            for name, ids in FIGURES_OF.items() if wanted.intersection(ids)}


def paper_reference(source: str) -> str | None:
    """The paper's numbering of a result ("Proposition 3"), read from its
    source, for a result of Mind the Gap; ``None`` for the companions."""
    if not source.startswith("Mind the Gap"):
        return None
    m = _PAPER_REF.search(source)
    return f"{m.group(1)} {m.group(2)}" if m else None


# ------------------------------------------------------------------ formatting

def _number(x) -> str:
    """A number as LaTeX: four significant digits, powers of ten beyond
    [1e-3, 1e5); booleans as yes/no."""
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int):
        return f"${x}$" if abs(x) < 10**7 else _number(float(x))
    x = float(x)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return r"$\infty$" if x > 0 else r"$-\infty$"
    if x == 0 or 1e-3 <= abs(x) < 1e5:
        return f"${x:.4g}$"
    mant, exp = f"{x:.3e}".split("e")
    return f"${mant}\\times 10^{{{int(exp)}}}$"


#: snake_case identifiers (``mean_length``): words, not a subscripted symbol
_SNAKE = re.compile(r"[a-z]{2,}(?:_[a-z0-9]+)+")
#: a number in Python's exponent notation (``1e-05``)
_E_NUMBER = re.compile(r"(?<![\w.])(\d(?:\.\d+)?)e([-+]?)0*(\d+)(?![\w.])")


def _e_number(m) -> str:
    sign = "-" if m.group(2) == "-" else ""
    power = f"10^({sign}{m.group(3)})"
    return power if m.group(1) == "1" else f"{m.group(1)} \u00d7 {power}"


def _cell_text(text: str) -> str:
    """Words (with ASCII mathematics) for a narrow table cell: a snake_case
    identifier stays a word that may break after its underscores, and
    ``1e-05`` is written as a power of ten."""
    out, run = [], []

    def flush():
        joined = "".join(run)
        if joined.strip():
            lead = joined[:len(joined) - len(joined.lstrip())]
            trail = joined[len(joined.rstrip()):]
            out.append((" " if lead else "") + text_latex(joined) + (" " if trail else ""))
        elif joined:
            out.append(" ")
        run.clear()

    for tok in re.split(r"(\s+)", _E_NUMBER.sub(_e_number, str(text))):
        core = tok.strip("(),.;:")
        if core and _SNAKE.fullmatch(core) and core.split("_")[0] not in GREEK:
            flush()
            out.append(escape_text(tok).replace(r"\_", r"\_\allowbreak{}"))
        else:
            run.append(tok)
    flush()
    return "".join(out).strip()


def _breakable(tex: str) -> str:
    """Cell LaTeX whose inline mathematics may break after ``/`` and ``,``
    (a narrow column has room for little more than a word)."""
    parts = re.split(r"(?<!\\)(\$)", tex)
    inside = False
    for i, part in enumerate(parts):
        if part == "$":
            inside = not inside
        elif inside:
            parts[i] = re.sub(r"(?<!\\)/", r"/\\allowbreak{}", part).replace(", ", r",\allowbreak{} ")
    return "".join(parts)


def _key(name: str) -> str:
    """A parameter's name: a symbol of the table (``sigma_A2``), a letter or a
    Greek name in mathematics; other names (``samples``) as words."""
    m = re.fullmatch("(" + "|".join(GREEK) + r")2", name)
    if m:                                                   # alpha2: a variance alpha^2
        return rf"\{m.group(1)}^{{2}}"
    if name in SYMBOLS or re.fullmatch(r"(?:[A-Za-z]|" + "|".join(GREEK) + r")(?:_[A-Za-z0-9]+)?",
                                       name):
        return formula_latex(sympy.Symbol(name))
    return None


#: a formula wider than this (visible characters) leaves its table cell for a
#: numbered display below the table
CELL_CHARS = 16


def _value(x, limit: int = 4, wide=None) -> str:
    """A measured or predicted value of an outcome (number, sympy expression,
    string, list, mapping, array) for a table cell; long lists show their
    first values.  A formula too wide for the cell is appended to ``wide``
    (when given) and the cell refers to it by number."""
    if x is None:
        return "--"
    if hasattr(x, "tolist") and not isinstance(x, sympy.Basic):
        x = x.tolist()
    if isinstance(x, (bool, int, float)):
        return _number(x)
    if x is sympy.true or x is sympy.false:
        return _number(bool(x))
    if isinstance(x, sympy.Basic):
        if x.is_number:
            try:
                return _number(int(x) if x.is_Integer else float(x))
            except TypeError:
                pass
        return _formula_cell(formula_latex(x), wide)
    if isinstance(x, dict):
        return "; ".join(f"{_cell_text(k)}: {_value(v, 2, wide)}" for k, v in list(x.items())[:limit]) \
            + ("; \\dots" if len(x) > limit else "")
    if isinstance(x, (list, tuple)):
        shown = ", ".join(_value(v, 2, wide) for v in x[:limit])
        if len(x) <= limit:
            return f"[{shown}]" if isinstance(x, list) else f"({shown})"
        return f"[{shown}, \\dots] ({len(x)} values)"
    text = str(x)
    try:
        return _number(float(text))
    except ValueError:
        pass
    if _FORMULA_TEXT.search(text) and not re.search(r"[A-Za-z]{3,} [A-Za-z]{3,}", text):
        return _formula_cell(ascii_math(_VARIANCE_NAME.sub(r"(\1_\2^2)", text.replace("**", "^"))),
                             wide)
    return _cell_text(text)


def _formula_cell(tex: str, wide=None) -> str:
    """A formula in a cell, or, when wider than :data:`CELL_CHARS` and ``wide``
    is given, a reference to its entry in ``wide`` (one entry per formula)."""
    if wide is None or _latex._width(tex) <= CELL_CHARS:
        return f"${tex}$"
    if tex not in wide:
        wide.append(tex)
    return f"see ({wide.index(tex) + 1})"


#: a value given as the text of a formula (``sigma_V2**(L - 1)/gamma**L``)
_FORMULA_TEXT = re.compile(r"\*\*|[\w)]\*[\w(]|[\w)]/[\w(]")
#: a variance's code name in such a text: ``sigma_V2`` is sigma_V^2
_VARIANCE_NAME = re.compile(r"\b(sigma|alpha|beta|tau|kappa)_([A-Za-z]+)2\b")


def _params(params: dict) -> str:
    parts = []
    for k, v in params.items():
        if k == "case" and isinstance(v, str):       # a case is named by its own words
            parts.append(_cell_text(v))
            continue
        key, val = _key(str(k)), _value(v, 3)
        if key is not None and val.startswith("$") and val.endswith("$") and val.count("$") == 2:
            parts.append(f"${key} = {val[1:-1]}$")
        elif key is not None:
            parts.append(f"${key} =$ {val}")
        else:
            parts.append(f"{_cell_text(k)} $=$ {val}")
    return ", ".join(parts) if parts else "--"


_ROLE = re.compile(r":\w+:`~?([^`]+)`")


def _docstring_caption(fn) -> str:
    """A figure function's docstring as caption text (reST roles and literals
    as plain words)."""
    doc = " ".join((fn.__doc__ or "").split())
    doc = _ROLE.sub(lambda m: m.group(1).rsplit(".", 1)[-1], doc).replace("``", "")
    return doc


# ------------------------------------------------------------------ the document

#: packages beyond :data:`numerics.latex.PREAMBLE` (placed before ``\begin{document}``)
PACKAGES = r"""\IfFileExists{lmodern.sty}{\usepackage{lmodern}}{}
\usepackage{array,longtable,booktabs,caption}
\usepackage[hidelinks]{hyperref}
\setcounter{tocdepth}{1}
\makeatletter
\IfFileExists{etoolbox.sty}{\usepackage{etoolbox}\patchcmd{\l@section}{1.5em}{2.3em}{}{}}{}
\makeatother
\newcolumntype{P}[1]{>{\raggedright\arraybackslash}p{#1}}
\newlength{\gcrow}
"""

_LEVEL_WORDS = {
    "quick": "the smallest grids (seconds per result): an indication, not the verdict of the "
             "default level that the test suite and \\texttt{gapcheck verify} run",
    "default": "the level the test suite and \\texttt{gapcheck verify} run",
    "thorough": "larger $n$ and more samples than the test suite",
}


def _label(result_id: str) -> str:
    return f"res:{result_id}"


def _where(result: Result) -> str:
    ref = paper_reference(result.source)
    head = rf"\textbf{{{escape_text(result.id)}}}"
    ref_text = ref if ref is not None else "companion"
    return rf"{head}\newline {ref_text}, \S\ref{{{_label(result.id)}}}"


def findings_section(results) -> str:
    """The first section: every finding of every result in one table, with the
    paper's numbering (or "companion") and the section of the result."""
    rows = [(r, f) for r in results for f in r.findings]
    out = [r"\section{Errata and findings}\label{sec:findings}",
           "Where simulation or the package's own derivation departs from the paper's statement "
           "(an erratum) or goes beyond it (a sharper constant, a rate, a finite-$n$ "
           "correction), the registry records a finding.  All of them, result by result "
           "(the paper's results by the paper's numbering, then the companion works):"]
    if not rows:
        return "\n".join(out + [r"\par\noindent\textit{No result in this report records a finding.}"])
    out += [r"{\small", _longtable((0.18, 0.82)), r"\toprule",
            r"Result & Finding \\", r"\midrule", r"\endhead",
            r"\bottomrule", r"\endfoot"]
    previous = None
    for r, f in rows:
        where = _where(r) if r is not previous else ""
        if r is not previous and previous is not None:
            out.append(r"\midrule")
        elif previous is not None:
            out.append(r"\addlinespace[3pt]")
        out.append(f"{where} & {text_latex(f)} \\\\")
        previous = r
    out += [r"\end{longtable}", "}"]
    return "\n".join(out)


def summary_section(results, entries) -> str:
    """One line per result: verdict, checks passed/total and time."""
    by_id = {e["id"]: e for e in entries}
    out = [r"\section{Verdicts}\label{sec:verdicts}",
           r"{\small", _longtable((0.27, 0.47, 0.09, 0.09, 0.08)),
           r"\toprule", r"Result & Title & Verdict & Checks & Time \\", r"\midrule",
           r"\endhead", r"\bottomrule", r"\endfoot"]
    for r in results:
        e = by_id[r.id]
        passed = sum(c["passed"] for c in e["checks"])
        verdict = "pass" if e["verdict"] == "pass" else r"\textbf{FAIL}"
        ref = paper_reference(r.source)
        name = escape_text(r.id) + (f" ({ref})" if ref else "")
        out.append(rf"\hyperref[{_label(r.id)}]{{{name}}} & {text_latex(r.title)} & {verdict} & "
                   rf"{passed}/{len(e['checks'])} & {float(e.get('seconds') or 0):.1f}\,s \\")
    out += [r"\end{longtable}", "}"]
    return "\n".join(out)


def checks_table(checks, outcomes=None, heading: str = "") -> str:
    """The outcomes of one result: check, parameters, measured, predicted,
    tolerance, verdict; formulas too wide for a cell, then each detail, in
    lists below the table.  ``checks``: the JSON records; ``outcomes``: the
    :class:`~theory.registry.CheckOutcome` records themselves, when at hand
    (symbolic values are then printed as formulas).  ``heading`` opens the
    table (its first head), so that it never stands alone at a page's foot."""
    if not checks:
        return (r"\par\noindent " + heading + r" \textbf{No check ran} (a result without "
                r"checks fails).")
    raw = outcomes if outcomes is not None and len(outcomes) == len(checks) else None
    wide: list[str] = []
    out = [r"{\footnotesize", r"\setlength{\tabcolsep}{3pt}",
           _longtable((0.22, 0.17, 0.16, 0.16, 0.22, 0.07))]
    columns = [r"\toprule", r"Check & Parameters & Measured & Predicted & Tolerance & Verdict \\",
               r"\midrule"]
    if heading:
        out += [r"\multicolumn{6}{@{}l@{}}{\normalsize " + heading + r"} \\[4pt]", *columns,
                r"\endfirsthead"]
    out += [*columns, r"\endhead", r"\bottomrule", r"\endfoot"]
    for k, c in enumerate(checks):
        o = raw[k] if raw is not None else None
        measured = _value(o.measured if o is not None else c["measured"], wide=wide)
        predicted = _value(o.predicted if o is not None else c["predicted"], wide=wide)
        params = dict(o.params) if o is not None else (c.get("params") or {})
        verdict = "pass" if c["passed"] else r"\textbf{FAIL}"
        cells = [_cell_text(c["name"]), _params(params), measured, predicted,
                 _cell_text(c.get("tolerance") or "--"), verdict]
        out.append(" & ".join(_breakable(x) for x in cells) + r" \\ \addlinespace[2pt]")
    out += [r"\end{longtable}", "}"]
    if wide:
        out += [r"{\footnotesize\noindent Formulas referred to in the table:", r"\begin{itemize}"]
        out += [rf"\item[({k})] \gcfit{{{tex}}}" for k, tex in enumerate(wide, 1)]
        out += [r"\end{itemize}}"]
    details = [c for c in checks if c.get("detail")]
    if details:
        out += [r"{\footnotesize\noindent Details:", r"\begin{itemize}"]
        out += [rf"\item \textit{{{_cell_text(c['name'])}}}: {_cell_text(c['detail'])}"
                for c in details]
        out += [r"\end{itemize}}"]
    return "\n".join(out)


def _longtable(fractions) -> str:
    """``\\begin{longtable}`` whose ragged-right columns take these fractions
    of the line left after the column separators (so the table never runs
    into the margin, whatever the paper size)."""
    seps = 2 * (len(fractions) - 1)
    cols = "".join(rf"P{{{f}\gcrow}}" for f in fractions)
    return (rf"\setlength{{\gcrow}}{{\dimexpr\linewidth-{seps}\tabcolsep-1pt\relax}}"
            "\n" + rf"\begin{{longtable}}{{@{{}}{cols}@{{}}}}")


def _figure_block(name: str, files, caption: str) -> str:
    pictures = [f for f in files if str(f).endswith(".png")] or list(files)
    # one unbreakable box: the caption never parts from its picture at a page break
    out = [r"\par\medskip\noindent\begin{minipage}{\linewidth}\centering",
           rf"\phantomsection\label{{fig:{name}}}"]
    for f in pictures:
        out.append(rf"\includegraphics[width=\linewidth,height=0.36\textheight,keepaspectratio]"
                   rf"{{{Path(f).resolve().as_posix()}}}\par")
    out.append(rf"\captionof*{{figure}}{{\textbf{{Figure \texttt{{{escape_text(name)}}}}} "
               rf"(\texttt{{gapcheck figures -{{}}-only {escape_text(name)}}}). "
               rf"{_cell_text(caption)}}}")
    out.append(r"\end{minipage}\par\medskip")
    return "\n".join(out)


def result_section(result: Result, entry: dict, figures=(), *, shown_in=None,
                   on_error=None) -> str:
    """One result: the block of :func:`numerics.latex.result_block` (statement,
    assumptions, derived formulas) under a numbered, labelled section, then
    the verdict and the checks, the figures, and the findings.

    ``figures``: ``(name, files, caption)`` of the figures shown here;
    ``shown_in``: figure name -> the result id whose section shows it, for the
    figures of this result drawn in another section."""
    block = _latex.result_block(result, on_error=on_error)
    head, _, body = block.partition("\n")
    if not head.startswith(r"\subsection*{"):          # the block's own heading, replaced
        raise ValueError(f"unexpected heading of the LaTeX block of {result.id}: {head[:60]}")
    ref = paper_reference(result.source)
    title = f"{escape_text(result.id)}: {text_latex(result.title)}" + (f" ({ref})" if ref else "")
    out = [rf"\section{{{title}}}\label{{{_label(result.id)}}}", body.rstrip()]
    passed = sum(c["passed"] for c in entry["checks"])
    verdict = "pass" if entry["verdict"] == "pass" else r"\textbf{FAIL}"
    heading = (rf"\textbf{{Checks.}}\quad Verdict: {verdict}, {passed} of {len(entry['checks'])} "
               rf"checks passed ({float(entry.get('seconds') or 0):.1f}\,s).")
    out.append(checks_table(entry["checks"], entry.get("outcomes"), heading=heading))
    for name, files, caption in figures:
        out.append(_figure_block(name, files, caption))
    elsewhere = [(n, i) for n, i in (shown_in or {}).items() if i != result.id]
    if elsewhere:
        out.append(r"\noindent See also " + "; ".join(
            rf"figure \hyperref[fig:{n}]{{\texttt{{{escape_text(n)}}}}} (\S\ref{{{_label(i)}}})"
            for n, i in elsewhere) + ".")
    if result.findings:
        against = ref if ref is not None else "the cited work"
        out += [rf"\par\medskip\noindent\textbf{{Findings}} (where the package departs from or "
                rf"sharpens {against}):\par\nopagebreak",
                r"\begin{itemize}"]
        out += [rf"\item {text_latex(f)}" for f in result.findings]
        out.append(r"\end{itemize}")
    return "\n".join(out) + "\n"


def document(results, entries, *, level: str, seed: int, backend: str = "numpy",
             figures: dict | None = None, figure_note: str = "", on_error=None,
             title: str = "Mind the Gap: verification report") -> str:
    """The complete report.

    ``entries``: one record per result as :func:`numerics.commands.verify.verify`
    returns them; ``figures``: figure name -> ``(files, caption)`` of the
    figures drawn (their results from :data:`FIGURES_OF`); ``figure_note``:
    a sentence on figures left out (``--no-figures``, matplotlib missing)."""
    results = list(results)
    if not results:
        raise ValueError("no results to report")
    by_id = {e["id"]: e for e in entries}
    missing = [r.id for r in results if r.id not in by_id]
    if missing:
        raise ValueError(f"no check outcomes for {', '.join(missing)}")
    figures = dict(figures or {})
    ids = [r.id for r in results]
    owner = {name: ids_[0] for name, ids_ in figures_of(ids).items() if name in figures}
    n_fail = sum(by_id[i]["verdict"] != "pass" for i in ids)
    n_checks = sum(len(by_id[i]["checks"]) for i in ids)
    n_ok = sum(c["passed"] for i in ids for c in by_id[i]["checks"])
    try:
        from importlib.metadata import version
        pkg = f"gapcheck {version('gapcheck')}"
    except Exception:  # pragma: no cover - not installed as a distribution
        pkg = "gapcheck"
    today = datetime.date.today().isoformat()
    n_paper = sum(r.source.startswith("Mind the Gap") for r in results)
    covers = (f"{n_paper} from \\emph{{Mind the Gap}} (Naderi, Nait Saada, Tanner, arXiv 2410.07799), "
              "by the paper's numbering" if n_paper else "")
    if len(results) > n_paper:
        covers += (" and " if covers else "") + f"{len(results) - n_paper} from companion works"
    intro = [
        r"\noindent This report is generated by \texttt{gapcheck report} "
        rf"({escape_text(pkg)}, {today}).  It covers {len(results)} "
        rf"result{'s' if len(results) != 1 else ''}: {covers}.  For each result it gives the "
        r"statement, its assumptions, the formulas the package derives for it (symbolic), every "
        r"check with the measured and the predicted value and the tolerance, the figure where the "
        r"package draws one, and the findings.",
        "",
        rf"\noindent\textbf{{Level.}} The checks ran at level \texttt{{{escape_text(level)}}}, "
        rf"{_LEVEL_WORDS.get(level, '')}; root seed {seed}, backend \texttt{{{escape_text(backend)}}}; "
        rf"the same command with the same seed reproduces every number.  "
        rf"\textbf{{{len(results) - n_fail} of {len(results)} results pass}} "
        rf"({n_ok} of {n_checks} checks).",
    ]
    if figure_note:
        intro += ["", r"\noindent " + figure_note]
    body = [*intro, r"\bigskip", r"\tableofcontents", r"\bigskip", "", findings_section(results), "",
            summary_section(results, entries), ""]
    for r in results:
        mine = [(name, *figures[name]) for name, o in owner.items() if o == r.id]
        shown_in = {name: o for name, o in owner.items() if r.id in FIGURES_OF[name]}
        body.append(result_section(r, by_id[r.id], [(n, f, c) for n, f, c in mine],
                                   shown_in=shown_in, on_error=on_error))
    return (_latex.PREAMBLE % {"title": escape_text(title), "macros": PACKAGES + _latex.MACROS}
            + "\n".join(body) + "\\end{document}\n")


# ------------------------------------------------------------------ the log

_OVERFULL = re.compile(r"^Overfull \\hbox \(([\d.]+)pt too wide\).*$", re.M)
_UNDEFINED = re.compile(r"^(?:LaTeX|Package \w+) Warning: (?:Reference|Citation|Hyper reference)"
                        r" .* undefined.*$|^LaTeX Warning: There were undefined references\.$"
                        r"|^LaTeX Warning: Label .* multiply defined\.$", re.M)


def log_problems(log_text: str, limit_pt: float = OVERFULL_LIMIT_PT) -> list[str]:
    """The lines of a LaTeX log that a reader would see as defects: overfull
    lines wider than ``limit_pt``, undefined references and labels defined twice."""
    problems = [m.group(0).strip() for m in _OVERFULL.finditer(log_text)
                if float(m.group(1)) > limit_pt]
    problems += [m.group(0).strip() for m in _UNDEFINED.finditer(log_text)]
    return problems


# ------------------------------------------------------------------ running it

def draw_figures(names, out_dir: Path, config, log=None) -> tuple[dict, list[str]]:
    """Run the registered figure functions ``names`` into ``out_dir``:
    name -> ``(files, caption)``, and the figures that failed (one line each)."""
    from .commands.figures import select

    drawn, failed = {}, []
    for name, fn in select(list(names)).items():
        try:
            files = [Path(f) for f in fn(out_dir, config)]
        except Exception as exc:  # one figure's failure is reported, the rest go on
            failed.append(f"figure {name} failed: {type(exc).__name__}: {exc}")
            continue
        drawn[name] = (files, _docstring_caption(fn))
        if log is not None:
            log(f"figure {name}")
    return drawn, failed


def build(results, entries, out: Path, config, *, figures: bool = True, keep_tex: bool = False,
          log=None) -> dict:
    """Draw the figures, assemble the document and compile it to ``out``.

    Returns ``{"pdf", "tex" (when kept), "log", "problems" (see
    :func:`log_problems`), "warnings"}``.  With ``keep_tex`` the source goes
    next to the PDF and its figures into ``<stem>-figures/``; otherwise both
    live in a temporary folder."""
    out = Path(out)
    warnings: list[str] = []
    with tempfile.TemporaryDirectory(prefix="gapcheck-report-") as tmp:
        fig_dir = out.parent / f"{out.stem}-figures" if keep_tex else Path(tmp) / "figures"
        drawn, note = {}, ""
        if figures:
            try:
                import matplotlib  # noqa: F401
            except ImportError:
                note = ("Figures are left out: matplotlib is not installed "
                        "(\\texttt{pip install 'gapcheck[plots]'}).")
            else:
                fig_dir.mkdir(parents=True, exist_ok=True)
                drawn, failed = draw_figures(figures_of([r.id for r in results]), fig_dir,
                                             config, log)
                warnings += failed
                if failed:
                    note = "Figures that could not be drawn: " + "; ".join(
                        escape_text(f) for f in failed) + "."
        else:
            note = r"Figures are left out (\texttt{-{}-no-figures})."
        text = document(results, entries, level=config.level, seed=config.seed,
                        backend=config.backend, figures=drawn, figure_note=note,
                        on_error=warnings.append)
        tex = out.with_suffix(".tex") if keep_tex else Path(tmp) / f"{out.stem}.tex"
        tex.write_text(text)
        pdf = _latex.compile_pdf(tex, Path(tmp) / "build", timeout=600)
        log_path = pdf.with_suffix(".log")
        log_text = log_path.read_text(errors="replace") if log_path.exists() else ""
        out.write_bytes(pdf.read_bytes())
        kept_log = out.with_suffix(".log")
        kept_log.write_text(log_text)
    info = {"pdf": out, "log": kept_log, "problems": log_problems(log_text),
            "warnings": warnings}
    if keep_tex:
        info["tex"] = tex
    return info
