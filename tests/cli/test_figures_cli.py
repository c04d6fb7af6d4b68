"""``gapcheck figures``: every registered figure is written as PNG and PDF
(quick sizes); unknown names and unwritable folders are one readable line."""
from __future__ import annotations

import pytest

from gapcheck.numerics.commands.figures import select

PAPER = ["fig1-markov-spectrum", "fig2-srank-depth", "fig4-srank-width", "fig5-gradients",
         "fig7-keyquery-outliers", "prop7-bulk", "prop8-bulk"]


def test_paper_figures_are_registered():
    assert set(PAPER) <= set(select())


@pytest.mark.parametrize("name", sorted(select()))
def test_figure_is_written(gapcheck, tmp_path, name):
    r = gapcheck("figures", "--quick", "--out", tmp_path, "--only", name)
    assert r.code == 0, r.err
    png, pdf = tmp_path / f"{name}.png", tmp_path / f"{name}.pdf"
    assert png.read_bytes().startswith(b"\x89PNG") and png.stat().st_size > 20_000
    assert pdf.read_bytes().startswith(b"%PDF")


def test_list(gapcheck):
    r = gapcheck("figures", "--list")
    assert r.code == 0
    assert all(name in r.out for name in PAPER)


@pytest.mark.parametrize("argv, needle", [
    (["figures", "--only", "fig99"], "unknown figure 'fig99'"),
    (["figures", "--only", "prop7-bulk", "--out", "/proc/gapcheck-figures"],
     "cannot write figures to /proc/gapcheck-figures"),
])
def test_bad_input_is_one_line(gapcheck, argv, needle):
    assert needle in gapcheck(*argv).one_error_line()
