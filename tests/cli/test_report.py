"""``gapcheck report``: the verification report compiles in a real LaTeX engine
with no line over the margin by more than 1 pt and no undefined reference (the
log is read by :func:`numerics.report.log_problems`, which a deliberately bad
document shows can fail); the document holds, per result, the statement, the
assumptions, the derived formulas, every check (measured, predicted,
tolerance), the figure and the findings, and a first section with every
finding; bad input is one readable line with exit code 2.

The default suite compiles a small report (two cheap results, quick level, no
figures, one figure through the assembly); the full report is ``slow``."""
from __future__ import annotations

import pytest
import sympy

from gapcheck.numerics import report
from gapcheck.numerics.latex import compile_pdf, find_engine
from gapcheck.theory.registry import CheckOutcome, all_results, get

ENGINE = find_engine()
needs_engine = pytest.mark.skipif(
    ENGINE is None, reason="no LaTeX engine (pdflatex/tectonic): run .ci/install-latex.sh")

#: results whose quick checks take well under a second each
CHEAP = ("noci.rank-one-zero", "dong.skip-conserves")
#: the assembly tests' results: a paper result with findings, a companion with
#: findings, two that share a figure (cheap derivations, a few seconds in all)
ASSEMBLED = ("prop3", "dong.residual-norms", "dong.depth", "dong.skip-conserves")


def _entry(result, outcomes):
    verdict = "pass" if outcomes and all(o.passed for o in outcomes) else "fail"
    return {"id": result.id, "title": result.title, "statement": result.statement,
            "verdict": verdict, "seconds": 0.5, "checks": [o.to_json() for o in outcomes],
            "outcomes": outcomes}


def _fake_entries(results):
    """Outcomes made up for the assembly tests (no sampling): one symbolic,
    one numeric with a long list, one failing."""
    l = sympy.Symbol("l", positive=True)
    sA2 = sympy.Symbol("sigma_A2", positive=True)
    outcomes = [
        CheckOutcome("variance = closed form", {"l": l}, measured=2 * l, predicted=2 * l,
                     passed=True, tolerance="exact"),
        CheckOutcome("a very wide formula", {"n": 64},
                     measured=(1 + l * (1 + sA2)) * sA2 ** (4 * l) + sympy.exp(sA2) / (l + 7),
                     predicted=sA2, passed=True, tolerance="exact"),
        CheckOutcome("bulk_sum_normalised_over_many_widths", {"n": 64, "sigma_A2": 0.25},
                     measured=[1.0, 2.0, 3.5e-7, 4.0, 5.0, 6.0], predicted=1.234567e6,
                     passed=False, tolerance="4 SE (normal, false alarm 1e-05)",
                     detail="SE 0.025"),
    ]
    return [_entry(r, outcomes) for r in results]


# ------------------------------------------------------------ the assembly (no engine)

@pytest.fixture(scope="module")
def assembled(tmp_path_factory):
    """The report of :data:`ASSEMBLED` with made-up outcomes and one figure
    (``dong-collapse``, drawn as a small placeholder plot when matplotlib is
    installed), assembled once: deriving the formulas takes seconds."""
    results = [get(i) for i in ASSEMBLED]
    figures = {}
    try:
        from gapcheck.numerics.figures import pyplot, save
    except ImportError:  # pragma: no cover - the figures module itself needs nothing
        pass
    else:
        try:
            plt = pyplot()
        except ImportError:
            plt = None
        if plt is not None:
            fig, ax = plt.subplots(figsize=(6, 3))
            ax.plot([1, 2, 3], [1, 4, 9], label="measured")
            ax.legend()
            files = save(fig, tmp_path_factory.mktemp("fig"), "demo")
            figures["dong-collapse"] = (files, "A placeholder for the figure.")
    return report.document(results, _fake_entries(results), level="quick", seed=7,
                           figures=figures), figures


def test_document_holds_every_part_of_a_result(assembled):
    text, _ = assembled
    assert text.startswith(r"\documentclass") and text.rstrip().endswith(r"\end{document}")
    first = text.index(r"\section{Errata and findings}")
    assert first < text.index(r"\section{Verdicts}") < text.index(r"\label{res:prop3}")
    prop3 = text[text.index(r"\label{res:prop3}"):text.index(r"\label{res:dong.residual-norms}")]
    heading = text[:text.index(r"\label{res:prop3}")].splitlines()[-1] + prop3.splitlines()[0]
    assert "(Proposition 3)" in heading                         # the paper's numbering
    assert r"\operatorname{srank}" in prop3                      # the statement, in mathematics
    assert "Assumptions:" in prop3 and "Derived formulas" in prop3
    assert "Findings" in prop3 and "Proposition 3" in prop3
    table = text[first:text.index(r"\section{Verdicts}")]
    for rid in ("prop3", "dong.residual-norms"):                # every finding, in the table too
        for finding in get(rid).findings:
            assert report.text_latex(finding) in table
    assert r"Proposition 3, \S\ref{res:prop3}" in table
    assert r"companion, \S\ref{res:dong.residual-norms}" in table
    # the checks: symbolic values as formulas (2 l, not 2*l), wide ones below the table
    assert "$2 l$" in prop3 and "2*l" not in prop3
    assert "see (1)" in prop3 and r"\item[(1)]" in prop3
    assert r"\textbf{FAIL}" in prop3 and "4 SE" in prop3 and "(6 values)" in prop3
    assert r"1.235\times 10^{6}" in prop3 and r"$\sigma_{A}^{2} = 0.25$" in prop3
    assert r"bulk\_\allowbreak{}sum" in prop3                     # a long name may break
    # the level the checks ran at is stated
    assert r"level \texttt{quick}" in text and "root seed 7" in text
    assert r"\textasciicircum" not in text


def test_a_shared_figure_is_shown_once_and_referred_to(assembled):
    text, figures = assembled
    if not figures:
        pytest.skip("matplotlib is not installed: no figure to include")
    assert text.count(r"\label{fig:dong-collapse}") == 1
    depth = text[text.index(r"\label{res:dong.depth}"):text.index(r"\label{res:dong.skip-conserves}")]
    assert r"\includegraphics" in depth and "placeholder" in depth
    skip = text[text.index(r"\label{res:dong.skip-conserves}"):]
    assert r"figure \hyperref[fig:dong-collapse]{\texttt{dong-collapse}} (\S\ref{res:dong.depth})" in skip
    # a figure that was not drawn is neither shown nor referred to
    assert "key-query-bulk" not in text


def test_figure_table_names_registered_figures_and_results():
    from gapcheck.numerics.commands.figures import select
    ids = {r.id for r in all_results()}
    try:
        known = set(select())
    except ImportError:
        pytest.skip("matplotlib is not installed: no figure is registered")
    for name, results in report.FIGURES_OF.items():
        assert name in known, f"FIGURES_OF names an unregistered figure {name!r}"
        assert results and set(results) <= ids, (name, set(results) - ids)


def test_log_parser_finds_wide_lines_and_undefined_references():
    log = ("Overfull \\hbox (0.99pt too wide) in paragraph at lines 3--4\n"
           "Overfull \\hbox (1.5pt too wide) in alignment at lines 9--9\n"
           "Overfull \\vbox (30.0pt too high) has occurred while \\output is active\n"
           "LaTeX Warning: Reference `res:x' on page 2 undefined on input line 40.\n"
           "LaTeX Warning: Label `res:y' multiply defined.\n")
    problems = report.log_problems(log)
    assert len(problems) == 3, problems
    assert "1.5pt" in problems[0] and "res:x" in problems[1] and "res:y" in problems[2]
    assert report.log_problems(log.replace("1.5pt", "0.5pt").splitlines()[0]) == []


# ------------------------------------------------------------ compiled (engine)

@needs_engine
def test_log_check_can_fail(tmp_path):
    """A line 40 pt too wide and a reference to nothing are found in a real log."""
    doc = (r"\documentclass{article}\begin{document}"
           r"\noindent\rule{\dimexpr\linewidth+40pt\relax}{1pt} see \ref{nowhere}"
           r"\end{document}")
    pdf = compile_pdf(doc, tmp_path)
    problems = report.log_problems(pdf.with_suffix(".log").read_text(errors="replace"))
    assert any("Overfull" in p for p in problems), problems
    assert any("undefined" in p for p in problems), problems


@needs_engine
def test_assembled_report_compiles_cleanly(assembled, tmp_path):
    """Wide formulas, long identifiers, lists and a figure: nothing over the
    margin, no undefined reference."""
    text, _ = assembled
    pdf = compile_pdf(text, tmp_path, timeout=300)
    assert report.log_problems(pdf.with_suffix(".log").read_text(errors="replace")) == []


@needs_engine
def test_report_command_compiles_a_small_report(gapcheck, tmp_path):
    out = tmp_path / "small.pdf"
    r = gapcheck("report", *CHEAP, "--out", out, "--no-figures", "--tex")
    assert r.code == 0, r.err
    assert out.read_bytes().startswith(b"%PDF")
    text = out.with_suffix(".tex").read_text()
    assert r"Figures are left out" in text and r"level \texttt{quick}" in text
    for rid in CHEAP:
        assert rf"\label{{res:{rid}}}" in text
    log = out.with_suffix(".log").read_text(errors="replace")
    assert report.log_problems(log) == []
    assert "LaTeX: " not in r.err


# ------------------------------------------------------------ bad input

def test_unknown_id_is_one_line(gapcheck, tmp_path):
    line = gapcheck("report", "prop99", "--out", tmp_path / "r.pdf").one_error_line()
    assert "prop99" in line


def test_unwritable_out_is_one_line(gapcheck, tmp_path):
    line = gapcheck("report", "lemma1", "--out", tmp_path / "missing" / "r.pdf").one_error_line()
    assert "cannot write --out" in line
    line = gapcheck("report", "lemma1", "--out", tmp_path).one_error_line()
    assert "directory" in line
    line = gapcheck("report", "lemma1", "--out", tmp_path / "r.txt").one_error_line()
    assert ".pdf" in line


def test_no_engine_is_one_line(gapcheck, tmp_path, monkeypatch):
    monkeypatch.setattr("gapcheck.numerics.latex.find_engine", lambda: None)
    line = gapcheck("report", "lemma1", "--out", tmp_path / "r.pdf").one_error_line()
    assert "no LaTeX engine" in line
    assert not (tmp_path / "r.pdf").exists()


def test_a_result_whose_checks_raise_is_reported_failed(monkeypatch):
    """One broken check module fails its result, with the error, and the
    other results still run."""
    from gapcheck.numerics.checks import VerifyConfig
    from gapcheck.numerics.commands import report as command, verify as verify_module

    real = verify_module.verify

    def flaky(ids, config, **kwargs):
        if ids == ["lemma1"]:
            raise ImportError("cannot import name 'X'")
        return real(ids, config, **kwargs)

    monkeypatch.setattr(verify_module, "verify", flaky)
    lines = []
    entries = command.run_checks([get("lemma1"), get("dong.skip-conserves")],
                                 VerifyConfig(level="quick"), log=lines.append)
    assert [e["verdict"] for e in entries] == ["fail", "pass"]
    assert "ImportError: cannot import name 'X'" in entries[0]["checks"][0]["measured"]
    assert lines[0].startswith("[1/2] lemma1: fail") and lines[1].startswith("[2/2] dong.skip")


# ------------------------------------------------------------ the full report

@pytest.mark.slow
@needs_engine
def test_full_report_compiles_cleanly(gapcheck, tmp_path):
    """Every result, quick level, with figures: nothing over the margin, no
    undefined reference, every result and every finding in the document."""
    out = tmp_path / "report.pdf"
    r = gapcheck("report", "--out", out, "--tex")
    assert r.code in (0, 1), r.err                  # 1: a check failed, still reported
    assert "gapcheck: warning" not in r.err, r.err
    text = out.with_suffix(".tex").read_text()
    for result in all_results():
        assert rf"\label{{res:{result.id}}}" in text
    assert report.log_problems(out.with_suffix(".log").read_text(errors="replace")) == []
