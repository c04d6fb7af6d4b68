"""``gapcheck latex``: every result's LaTeX compiles in a real engine, symbolic
and specialised, with no overfull box over 1 pt (the log is read); symbols are
printed as the table of :mod:`theory.symbols` says (``\\sigma_{A}^{2}``,
``\\gamma_{E}``, ``\\psi``), statements are mathematics, not escaped ASCII;
bad input is one readable line."""
from __future__ import annotations

import re

import pytest

from gapcheck.numerics.latex import compile_pdf, find_engine
from gapcheck.theory.registry import all_results

ENGINE = find_engine()
needs_engine = pytest.mark.skipif(
    ENGINE is None, reason="no LaTeX engine (pdflatex/tectonic): run .ci/install-latex.sh")


@pytest.fixture(scope="module")
def documents(tmp_path_factory):
    """The standalone document of every result, symbolic (through the CLI), and
    specialised to depth 3, gamma = 1/2 for the results whose predictions depend
    on the depth or gamma (the others print the same either way). Written once per
    module: deriving every formula takes seconds."""
    import contextlib
    import io

    from gapcheck.numerics import latex
    from gapcheck.numerics.cli import main
    out = tmp_path_factory.mktemp("latex")
    docs = {}
    path = out / "symbolic.tex"
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["latex", "--standalone", "--out", str(path)])
    docs["symbolic"] = (path, code, err.getvalue())
    deep = [r for r in all_results() if latex.specialise(r, depth=3, gamma="1/2")]
    warnings = []
    path = out / "specialised.tex"
    path.write_text(latex.document(deep, depth=3, gamma="1/2", standalone=True,
                                   on_error=warnings.append))
    docs["specialised"] = (path, 1 if warnings else 0, "\n".join(f"warning: {w}" for w in warnings))
    return docs


@needs_engine
@pytest.mark.parametrize("name", ["symbolic", "specialised"])
def test_every_result_compiles(documents, tmp_path, name):
    path, code, err = documents[name]
    text = path.read_text()
    assert text.startswith(r"\documentclass") and text.rstrip().endswith(r"\end{document}")
    if name == "symbolic":
        for result in all_results():
            assert f"\\subsection*{{{result.id.replace('_', chr(92) + '_')}" in text
    pdf = compile_pdf(path, tmp_path)
    assert pdf.exists() and pdf.read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize("name", ["symbolic", "specialised"])
def test_every_result_derives_its_formulas(documents, name):
    """Every result's prediction must be derivable for the symbolic model and
    the specialised one; a failure is written as a note, warned about, and exits 1."""
    path, code, err = documents[name]
    assert code == 0 and "warning" not in err, err


def test_specialised_document_differs(documents):
    """--depth/--gamma reach the predictions: the specialised document differs and
    says which values it used."""
    sym, spec = (documents[k][0].read_text() for k in ("symbolic", "specialised"))
    assert spec.count("\\subsection*") >= 5
    assert re.search(r"Derived formulas \(\$(l|L|depth|layers) = 3", spec)


@needs_engine
def test_pdf_option_writes_a_pdf(gapcheck, tmp_path):
    rid = _cheap_result().id
    r = gapcheck("latex", rid, "--out", tmp_path / "one.tex", "--pdf")
    assert r.code == 0, r.err
    assert (tmp_path / "one.pdf").read_bytes().startswith(b"%PDF")


@needs_engine
def test_broken_document_is_reported_not_compiled(tmp_path):
    with pytest.raises(OSError, match="Undefined control sequence"):
        compile_pdf("\\documentclass{article}\\begin{document}$\\nosuchmacro$\\end{document}\n",
                    tmp_path)


def _cheap_result():
    from gapcheck.theory.registry import get
    return get("lemma1")


def _field_names(result):
    """The symbolic prediction's numeric-valued fields, named as the LaTeX rows are
    (underscores as spaces), read from the prediction record itself."""
    import dataclasses

    import sympy
    pred = result.prediction(result.symbolic_model())
    return [f.name.replace("_", " ") for f in dataclasses.fields(pred)
            if isinstance(getattr(pred, f.name), (sympy.Basic, int, float))
            and not isinstance(getattr(pred, f.name), bool)]


def test_fragment_has_statement_and_each_formula(gapcheck):
    from gapcheck.numerics.latex import _top_level_pieces
    from gapcheck.theory.symbols import label_latex
    r = _cheap_result()
    run = gapcheck("latex", r.id)
    assert run.code == 0, run.err
    assert not run.out.lstrip().startswith(r"\documentclass")
    assert all(piece in run.out for piece in _top_level_pieces(r.statement_latex))
    # each field of the prediction once: a row of the align*, or (too wide for a row) its own display
    names = _field_names(r)
    assert names == ["mean", "variance"]
    for name in names:
        label = label_latex(name)
        assert run.out.count(f"{label} &=") + run.out.count(f"${label}$:") == 1, label


def test_depth_changes_a_depth_dependent_result():
    from gapcheck.numerics import latex
    deep = [r for r in all_results() if "l" in latex.specialise(r, depth=3)
            or "depth" in latex.specialise(r, depth=3) or "L" in latex.specialise(r, depth=3)]
    assert deep, "no result's prediction depends on the depth"
    r = deep[0]
    assert latex.result_block(r, depth=3) != latex.result_block(r)


@pytest.mark.parametrize("argv, needle", [
    (["latex", "no-such-result"], "unknown result id 'no-such-result'"),
    (["latex", "--depth", "0"], "depth must be an integer >= 1"),
    (["latex", "--depth", "two"], "depth must be a number"),
    (["latex", "--gamma", "3/2"], "gamma must be in (0, 1]"),
    (["latex", "--out", "/nonexistent-dir/x/y.tex"], "cannot write --out"),
    (["latex", "--pdf"], "--pdf needs --out"),
])
def test_bad_input_is_one_line(gapcheck, argv, needle):
    line = gapcheck(*argv).one_error_line()
    assert needle in line


# ------------------------------------------------------------ overfull boxes

def overfull_boxes(log_text: str) -> list[float]:
    """The widths (pt) by which boxes stick out, as the engine's log reports them."""
    return [float(x) for x in re.findall(r"Overfull \\hbox \(([\d.]+)pt too wide\)", log_text)]


@needs_engine
@pytest.mark.parametrize("name", ["symbolic", "specialised"])
def test_no_overfull_box_over_one_point(documents, tmp_path, name):
    path, _, _ = documents[name]
    pdf = compile_pdf(path, tmp_path)
    log = pdf.with_suffix(".log").read_text(errors="replace")
    boxes = overfull_boxes(log)
    assert all(b <= 1.0 for b in boxes), f"overfull boxes (pt): {boxes}"
    assert "Undefined control sequence" not in log and "LaTeX Error" not in log


@needs_engine
def test_overfull_check_can_fail(tmp_path):
    """A line that cannot fit is reported by the log reader (the check above can fail)."""
    wide = r"\documentclass{article}\begin{document}\[" + "x+" * 200 + r"x\]\end{document}" + "\n"
    log = compile_pdf(wide, tmp_path).with_suffix(".log").read_text(errors="replace")
    assert max(overfull_boxes(log)) > 100


@needs_engine
def test_long_formula_is_fitted_not_pushed_into_the_margin(tmp_path):
    """display() packs pieces onto lines and shrinks a line still too wide."""
    from gapcheck.numerics.latex import MACROS, PREAMBLE, display
    wide = ",\\quad ".join(f"a_{{{i}}} = " + " + ".join(f"x_{{{j}}}" for j in range(12))
                           for i in range(4))
    single = " + ".join(f"y_{{{j}}}" for j in range(90))
    tex = (PREAMBLE % {"title": "t", "macros": MACROS} + display(wide) + display(single)
           + "\\end{document}\n")
    log = compile_pdf(tex, tmp_path).with_suffix(".log").read_text(errors="replace")
    assert all(b <= 1.0 for b in overfull_boxes(log)), overfull_boxes(log)
    assert display(wide).count("\\gcfit{") >= 2          # split at the \quad separators


# ------------------------------------------------------------ symbols as written

def _block(text: str, rid: str) -> str:
    start = text.index(f"\\subsection*{{{rid}:")
    end = text.find("\\subsection*", start + 1)
    return text[start:end if end > 0 else None]


def test_symbol_table_is_what_prints(documents):
    """sigma_A2 prints as sigma_A squared (never sigma_{A2}), s2 as s^2, Euler's
    constant as gamma_E, the digamma as psi; words are mathematics, not
    escaped ASCII."""
    text = documents["symbolic"][0].read_text()
    assert r"\sigma_{A}^{2}" in text and r"\sigma_{V}^{2}" in text
    for bad in (r"\sigma_{A2}", r"\sigma_{V2}", r"\sigma_{QK2}", r"\sigma_{w2}", r"\alpha_{A2}",
                "polygamma", "textasciicircum", r"\sigma_{NL2}"):
        assert bad not in text, bad
    # prop7's mean: (sigma_A^2 sigma_V^2)^l, not sigma_{A2}^l sigma_{V2}^l
    assert re.search(r"\\left\(\\sigma_\{A\}\^\{2\} \\sigma_\{V\}\^\{2\}\\right\)\^\{l\}",
                     _block(text, "prop7"))
    # def1.1: the lognormal relative variance e^{s^2} - 1 (s^2 a variance, not s_2)
    d11 = _block(text, "def1.1")
    assert r"e^{s^{2}} - 1" in d11 and "s_{2}" not in d11
    # Euler's constant: gamma_E, and gamma (= n/d) does not appear in its formulas
    fc = _block(text, "bn.fc-vs-lyapunov")
    assert r"\gamma_{E}" in fc and r"\psi\left(" in fc
    rows = [line for line in fc.splitlines() if r"\gamma_{E}" in line]
    assert rows and not any(re.search(r"\\gamma(?!_\{E\})", line) for line in rows), rows
    assert r"\gamma_{E}" in _block(text, "gg.entropy")
    # a statement in words, as mathematics
    assert r"$\sigma_{A}^{2} = \exp(\sigma_{QK}^{4}) - 1$" in _block(text, "prop1")


def test_printer_reads_the_table():
    import sympy

    from gapcheck.theory.symbols import SYMBOLS, latex
    for name, tex in SYMBOLS.items():
        assert latex(sympy.Symbol(name, positive=True)) == tex
    sA2 = sympy.Symbol("sigma_A2", positive=True)
    assert latex(sA2**3) == r"\left(\sigma_{A}^{2}\right)^{3}"
    assert latex(sympy.EulerGamma) == r"\gamma_{E}"
    assert latex(sympy.Symbol("gamma")) == r"\gamma"
    x = sympy.Symbol("x")
    assert latex(sympy.polygamma(0, x)) == r"\psi\left(x\right)"
    assert latex(sympy.polygamma(1, x)) == r"\psi'\left(x\right)"
    assert latex(sympy.Symbol("sigma_NL2")) == r"\sigma_{NL}^{2}"   # the rule


@pytest.mark.parametrize("words, tex", [
    ("srank(Sigma_l) -> 1 as n grows", r"$\operatorname{srank}(\Sigma_{l}) \to 1$ as $n$ grows"),
    ("gamma = n/d in (0, 1]", r"$\gamma = n/d$ in (0, 1]"),
    ("W_Q, W_K in R^{d x d_k}, i.i.d. N(0, sigma_QK^2)",
     r"$W_{Q}, W_{K}$ in $\mathbb{R}^{d \times d_{k}}$, i.i.d. $N(0, \sigma_{QK}^{2})$"),
    ("||A - 11^T/n||_2 = O(n^-1/2)", r"$\|A - \mathbf{1}\mathbf{1}^{\top}/n\|_{2} = O(n^{-1/2})$"),
    ("Random Markov matrix, 50% of keys/queries", r"Random Markov matrix, 50\% of keys/\allowbreak{}queries"),
])
def test_words_become_mathematics(words, tex):
    from gapcheck.theory.symbols import text_latex
    assert text_latex(words) == tex


@pytest.mark.parametrize("rid", ["prop3", "thm9", "def1.1"])
def test_result_latex_uses_the_symbol_table(rid):
    """Result.latex (the statement and the fields of predict) prints through theory.symbols."""
    from gapcheck.theory.registry import get
    tex = get(rid).latex()
    assert r"\sigma_{A2}" not in tex and "s_{2}" not in tex
    assert any(t in tex for t in (r"\sigma_{A}^{2}", r"\sigma_{V}^{2}", "s^{2}"))
