"""``gapcheck latex``: every result's LaTeX compiles in a real engine, symbolic
and specialised; bad input is one readable line."""
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
    specialised to depth 3, gamma = 1/2 for the results whose formulas take a
    depth or gamma (the others print the same either way). Written once per
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
    """Result.formulas() must work with symbolic parameters and specialised
    ones; a failure is written as a note, warned about, and exits 1."""
    path, code, err = documents[name]
    assert code == 0 and "warning" not in err, err


def test_specialised_document_differs(documents):
    """--depth/--gamma reach the formulas: the specialised document differs and
    says which values it used."""
    sym, spec = (documents[k][0].read_text() for k in ("symbolic", "specialised"))
    assert spec.count("\\subsection*") >= 5
    assert re.search(r"Derived formulas \(\$(l|L|depth|layers) = 3", spec)


@needs_engine
def test_pdf_option_writes_a_pdf(gapcheck, tmp_path):
    rid = _cheap_result_with_formulas().id
    r = gapcheck("latex", rid, "--out", tmp_path / "one.tex", "--pdf")
    assert r.code == 0, r.err
    assert (tmp_path / "one.pdf").read_bytes().startswith(b"%PDF")


@needs_engine
def test_broken_document_is_reported_not_compiled(tmp_path):
    with pytest.raises(OSError, match="Undefined control sequence"):
        compile_pdf("\\documentclass{article}\\begin{document}$\\nosuchmacro$\\end{document}\n",
                    tmp_path)


def _cheap_result_with_formulas():
    from gapcheck.theory.registry import get
    for rid in ("lemma4", "lemma1"):
        try:
            r = get(rid)
        except ValueError:
            continue
        if r.formulas():
            return r
    return next(r for r in all_results() if r.formulas())


def test_fragment_has_statement_and_each_formula(gapcheck):
    r = _cheap_result_with_formulas()
    run = gapcheck("latex", r.id)
    assert run.code == 0, run.err
    assert not run.out.lstrip().startswith(r"\documentclass")
    assert r.statement_latex.strip() in run.out
    assert run.out.count("&=") == len(r.formulas())


def test_depth_changes_a_depth_dependent_result():
    from gapcheck.numerics import latex
    deep = [r for r in all_results() if "l" in latex.specialise(r, depth=3)
            or "depth" in latex.specialise(r, depth=3) or "L" in latex.specialise(r, depth=3)]
    assert deep, "no result's formulas take a depth parameter"
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
