"""Every file the package ships or documents cites only what the repository has.

The package's derivations live in ``docs/derivations.md`` (one section per
result id).  This test scans the package folders (theory, numerics,
proofs_notebooks, tests, docs, benchmarks) and README.md for

* names of reference files that are not part of the repository (the
  reference summaries the project started from, or anything under a sibling
  ``shared/`` folder): never allowed;
* path-like tokens (``dir/name.md``, ``../x/y.py``, ``name.md``): each must
  name a file of the repository, relative to the repository root or to the
  citing file;
* ``docs/derivations.md, section <id>``: the section must exist (a heading
  ``## <id> ...`` in that file).

The checker itself is tested on synthetic text, so it can fail.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCANNED = ("theory", "numerics", "proofs_notebooks", "tests", "docs", "benchmarks")
TEXT_SUFFIXES = {".py", ".md", ".txt", ".toml", ".cfg", ".tex", ".sh", ".rst", ".yml", ".yaml"}
DERIVATIONS = "docs/derivations.md"

# built by concatenation so that this file does not match itself
_FORBIDDEN = re.compile("|".join([
    "THEORY" + "_REFERENCE",
    r"\b" + "COMPAN" + r"IONS\b",
    r"(?:^|[\s`'\"(/])(?:\.\./)+" + "sha" + r"red\b",
    r"\b" + "sha" + r"red/theory\b",
]))
_EXT = r"(?:md|py|tex|ipynb|toml|txt|cfg|sh|rst|yml|yaml)"
# a path with at least one '/', or a bare *.md name
_PATH = re.compile(r"(?<![\w./~<>$-])((?:\.{1,2}/)*[A-Za-z_][\w.-]*(?:/[\w.-]+)+\." + _EXT + r"|[A-Za-z_][\w.-]*\.md)\b")
_ABS = re.compile(r"(?<![\w.~-])(/(?:work|home|root|mnt)/[\w./-]+)")
_URL = re.compile(r"[a-z]+://\S+")
_SECTION = re.compile(re.escape(DERIVATIONS) + r"`{0,2},?\s+(?:the\s+)?sections?\s+([\w.-]*[\w*])")
#: names of files the package *writes* (``--report DIR`` writes DIR/report.md; ``figures
#: --paper`` writes a caption figN.md per figure and the index CAPTIONS.md), not citations
OUTPUT_NAMES = {"report.md", "figN.md", "CAPTIONS.md"}


def scanned_files(root: Path = ROOT):
    files = [root / "README.md"]
    for top in SCANNED:
        for p in sorted((root / top).rglob("*")):
            if p.is_file() and p.suffix in TEXT_SUFFIXES and "__pycache__" not in p.parts \
                    and not any(part.startswith(".") for part in p.relative_to(root).parts):
                files.append(p)
    return files


def derivation_sections(root: Path = ROOT) -> set[str]:
    text = (root / DERIVATIONS).read_text(encoding="utf-8")
    return {m.group(1) for m in re.finditer(r"^##\s+([\w.-]+)\s", text, flags=re.M)}


def citation_problems(text: str, where: Path, root: Path = ROOT,
                      sections: set[str] | None = None) -> list[str]:
    """Problems with the citations in ``text`` (a file at ``where``)."""
    problems = []
    text = _URL.sub(" ", text)
    flat = re.sub(r"\s*\n\s*(?:#\s*)?", " ", text)   # citations may wrap over lines
    for m in _FORBIDDEN.finditer(text):
        problems.append(f"cites a file outside the repository: {m.group(0).strip()!r}")
    for m in _ABS.finditer(text):
        problems.append(f"cites an absolute machine path: {m.group(1)!r}")
    names = None
    for m in _PATH.finditer(text):
        token = m.group(1)
        first = token.split("/")[0]
        if token in OUTPUT_NAMES or (first.isupper() and "/" in token):
            continue                      # an output name, or a placeholder folder (DIR/...)
        if "/" not in token:
            if names is None:
                names = {p.name for p in root.rglob("*.md")}
            if token not in names:
                problems.append(f"cites {token!r}, which is not in the repository")
            continue
        candidates = [root / token, where.parent / token]
        if token.endswith(".ipynb"):     # notebooks are generated from their jupytext twins
            candidates += [c.with_suffix(".py") for c in candidates]
        if not any(c.exists() for c in candidates):
            problems.append(f"cites {token!r}, which does not exist in the repository")
    if sections is not None:
        for m in _SECTION.finditer(flat):
            name = m.group(1)
            if name.endswith("*"):       # "sections gg.*": some section of that family
                ok = any(s.startswith(name[:-1]) for s in sections)
            else:
                ok = name in sections
            if not ok:
                problems.append(f"cites {DERIVATIONS}, section {name!r}, which has no heading there")
    return problems


def test_no_file_cites_a_path_outside_the_repository():
    sections = derivation_sections()
    bad = {}
    for path in scanned_files():
        if path == Path(__file__).resolve():
            continue                      # the checker's own synthetic examples
        problems = citation_problems(path.read_text(encoding="utf-8"), path, sections=sections)
        if problems:
            bad[str(path.relative_to(ROOT))] = problems
    assert not bad, "\n".join(f"{k}: {v}" for k, v in bad.items())


def test_every_result_has_a_derivation_section():
    from gapcheck.theory.registry import all_results
    sections = derivation_sections()
    missing = [r.id for r in all_results() if r.id not in sections]
    assert not missing, f"{DERIVATIONS} has no section for {missing}"


@pytest.mark.parametrize("text, expected", [
    ("see THEORY" + "_REFERENCE.md section 6", "outside the repository"),
    ("as in COMPAN" + "IONS.md A7", "outside the repository"),
    ("read ../sha" + "red/theory/notes.md", "outside the repository"),
    ("see docs/no_such_page.md", "does not exist"),
    ("see ``theory/results/prop99.py``", "does not exist"),
    ("see NOT_HERE.md", "not in the repository"),
    ("written from /wor" + "k/main/docs/x.md", "absolute machine path"),
    ("docs/derivations.md, section prop99", "has no heading"),
    ("docs/derivations.md, sections zz.*", "has no heading"),
    ("(docs/derivations.md,\n    # section nosuch)", "has no heading"),
])
def test_checker_rejects_bad_citations(text, expected):
    problems = citation_problems(text, ROOT / "theory" / "x.py", sections=derivation_sections())
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize("text", [
    "docs/derivations.md, section prop3",
    "``docs/derivations.md``, sections gg.*",
    "see README.md and docs/DESIGN.md",
    "writes DIR/report.md and report.md",
    "run proofs_notebooks/spectral_gap.ipynb",
    "one module per result: theory/results/prop3.py",
    "https://example.org/COMPAN" + "IONS-free/a/b.md is a URL",
    "gapcheck latex --out results.tex",
])
def test_checker_accepts_good_citations(text):
    assert citation_problems(text, ROOT / "theory" / "x.py", sections=derivation_sections()) == []
