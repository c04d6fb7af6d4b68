"""Every notebook in ``proofs_notebooks/`` executes, at small size.

The notebooks are jupytext percent-format ``.py`` files (no outputs in git);
each is converted with jupytext and run with nbclient in a fresh kernel with
``GAPCHECK_NOTEBOOK_SIZE=small``.  A notebook states its verdict with
``assert``, so a failed check fails its test.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "proofs_notebooks"
NOTEBOOKS = sorted(p for p in NOTEBOOK_DIR.glob("*.py") if not p.name.startswith("_"))
#: seconds one notebook may take at small size before the test fails
TIMEOUT = 240


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 5, f"expected the five paper notebooks in {NOTEBOOK_DIR}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes(path, monkeypatch):
    jupytext = pytest.importorskip("jupytext", reason="pip install 'gapcheck[notebooks]'")
    nbclient = pytest.importorskip("nbclient", reason="pip install 'gapcheck[notebooks]'")
    text = path.read_text()
    assert text.lstrip().startswith("# ---") or "# %%" in text, \
        f"{path.name} is not a jupytext percent-format notebook"
    nb = jupytext.reads(text, fmt="py:percent")
    assert sum(c.cell_type == "code" for c in nb.cells) >= 3
    assert any(c.cell_type == "markdown" for c in nb.cells)
    monkeypatch.setenv("GAPCHECK_NOTEBOOK_SIZE", "small")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    client = nbclient.NotebookClient(nb, timeout=TIMEOUT, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOK_DIR)}})
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as exc:
        # the kernel's traceback names the failing cell and the assertion
        plain = re.sub(r"\x1b\[[0-9;]*m", "", str(exc))  # drop the kernel's colours
        pytest.fail(f"{path.name} failed:\n{plain}", pytrace=False)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not any(o.get("output_type") == "error" for o in outputs)
