"""``gapcheck figures --paper``: every figure of the paper about initialisation
is written (the list is pinned), with its caption and the caption index; the
figures read without the text: every drawn artist is in a legend, the
predictions and both conventions are drawn, and no two legend entries of one
axes look alike in greyscale (marker, line style, filling, line weight).

One quick run of all the figures (module fixture) feeds the checks."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("matplotlib", reason="the figures need the plots extra (matplotlib)")

from gapcheck.numerics.checks import VerifyConfig  # noqa: E402
from gapcheck.numerics.figures.paper_figures import (  # noqa: E402
    NOT_REGENERATED, PAPER_FIGURES, paper_figure_files, unlabelled_artists, write_paper_figures)

#: the paper's figures about initialisation (arXiv v1 numbering); 3, 6, 8 are not
EXPECTED = ["fig1", "fig2", "fig4", "fig5", "fig7", "fig9"]
#: figures with configurations whose curve the authors' block changes (standard skip)
BOTH_CONVENTIONS = {"fig2", "fig4", "fig7", "fig9"}
PREDICTION_WORDS = ("Prop ", "Thm ", "Lemma ", "kq.bulk")


def _handle_key(handle):
    """What tells a legend entry apart without colour."""
    from matplotlib.collections import PathCollection
    from matplotlib.container import ErrorbarContainer

    if isinstance(handle, ErrorbarContainer):
        handle = handle[0]
    if isinstance(handle, PathCollection):
        verts = np.round(handle.get_paths()[0].vertices, 2).ravel()
        hollow = len(handle.get_facecolors()) == 0
        return ("scatter", tuple(verts), hollow)
    marker = handle.get_marker()
    marker = None if marker in ("None", "", None, " ") else marker
    face = handle.get_markerfacecolor()
    hollow = isinstance(face, str) and face in ("white", "none")
    return (marker, handle.get_linestyle() if handle.get_linestyle() != "None" else None,
            hollow, handle.get_linewidth() >= 2.5)


@pytest.fixture(scope="module")
def drawn(tmp_path_factory):
    out = tmp_path_factory.mktemp("paper-figures")
    seen = {}

    def check(key, fig):
        labels = [t.get_text() for ax in fig.axes if ax.get_legend()
                  for t in ax.get_legend().get_texts()]
        keys = []
        for ax in fig.axes:
            handles, names = ax.get_legend_handles_labels()
            keys.append((ax.get_title(), [(n, _handle_key(h)) for h, n in zip(handles, names)]))
        seen[key] = dict(missing=unlabelled_artists(fig), labels=labels, keys=keys)

    files = write_paper_figures(out, VerifyConfig(level="quick"), check=check)
    return out, files, seen


def test_the_list_of_paper_figures_is_pinned():
    assert list(PAPER_FIGURES) == EXPECTED
    assert set(NOT_REGENERATED) == {"fig3", "fig6", "fig8"}
    assert [f.number for f in PAPER_FIGURES.values()] == [int(k[3:]) for k in EXPECTED]


def test_every_file_is_written(drawn):
    out, files, _ = drawn
    assert sorted(p.name for p in files) == sorted(paper_figure_files())
    for key in EXPECTED:
        png, pdf = out / f"{key}.png", out / f"{key}.pdf"
        assert png.read_bytes().startswith(b"\x89PNG") and png.stat().st_size > 20_000, key
        assert pdf.read_bytes().startswith(b"%PDF"), key


def test_captions_say_what_the_paper_shows_and_what_the_package_finds(drawn):
    out, _, _ = drawn
    index = (out / "CAPTIONS.md").read_text()
    for key, f in PAPER_FIGURES.items():
        caption = (out / f"{key}.md").read_text()
        assert caption.startswith(f"**Figure {f.number}: "), key
        shows, _, finds = caption.partition("The package finds:")
        assert "The paper's figure shows" in shows and f.paper in shows, key
        assert any(c.isdigit() for c in finds) and len(finds) > 80, (key, finds)
        assert caption.strip() in index and f"({key}.png)" in index, key
    for key in NOT_REGENERATED:
        assert f"Figure {key[3:]}:" in index


def test_every_drawn_artist_is_in_a_legend(drawn):
    _, _, seen = drawn
    assert set(seen) == set(EXPECTED)
    for key, s in seen.items():
        assert s["missing"] == [], (key, s["missing"])


def test_predictions_and_both_conventions_are_drawn(drawn):
    _, _, seen = drawn
    for key, s in seen.items():
        assert any(w in label for label in s["labels"] for w in PREDICTION_WORDS), key
        code = any("[authors' code]" in label for label in s["labels"])
        assert code == (key in BOTH_CONVENTIONS), key


def test_legend_entries_differ_in_greyscale(drawn):
    _, _, seen = drawn
    for key, s in seen.items():
        for title, entries in s["keys"]:
            looks = [k for _, k in entries]
            same = [(a, b) for i, (a, ka) in enumerate(entries) for b, kb in entries[i + 1:]
                    if ka == kb]
            assert len(set(looks)) == len(looks), (key, title, same)


def test_unlabelled_artists_finds_a_mark_without_a_legend_entry():
    from gapcheck.numerics.figures import pyplot

    plt = pyplot()
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1], label="measured")
    ax.errorbar([0, 1], [1, 2], yerr=[0.1, 0.1], label="with bars")
    ax.legend()
    assert unlabelled_artists(fig) == []
    ax.plot([0, 1], [1, 0])  # no label
    ax.plot([0, 1], [2, 2], label="drawn after the legend")
    missing = unlabelled_artists(fig)
    plt.close(fig)
    assert len(missing) == 2 and "drawn after the legend" in missing[1]


def test_paper_cli(gapcheck, tmp_path):
    r = gapcheck("figures", "--paper", "--quick", "--only", "fig5", "--out", tmp_path)
    assert r.code == 0, r.err
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(paper_figure_files(["fig5"]))
    listed = gapcheck("figures", "--paper", "--list")
    assert listed.code == 0 and all(k in listed.out for k in EXPECTED + list(NOT_REGENERATED))


@pytest.mark.parametrize("argv, needle", [
    (["figures", "--paper", "--only", "fig3"], "unknown paper figure 'fig3'"),
    (["figures", "--paper", "--only", "fig1", "--out", "/proc/gapcheck-figures"],
     "cannot write figures to /proc/gapcheck-figures"),
])
def test_paper_bad_input_is_one_line(gapcheck, argv, needle):
    assert needle in gapcheck(*argv).one_error_line()


def test_greyscale_key_ignores_colour_only():
    from gapcheck.numerics.figures import pyplot

    plt = pyplot()
    fig, ax = plt.subplots()
    a, = ax.plot([0, 1], [0, 1], "o-", color="C0")
    b, = ax.plot([0, 1], [1, 0], "o-", color="C1")
    c, = ax.plot([0, 1], [1, 0], "o-", color="C1", mfc="white")
    d, = ax.plot([0, 1], [1, 0], "s--", color="C1")
    plt.close(fig)
    assert _handle_key(a) == _handle_key(b)
    assert len({_handle_key(h) for h in (a, c, d)}) == 3


def test_same_seed_same_figure(tmp_path):
    """Every random draw (networks and Hutchinson probes) comes from the root seed:
    Figure 5 (LayerNorm and key-query gradients by Hutchinson probes, n d > 256) twice,
    the same caption."""
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        write_paper_figures(out, VerifyConfig(level="quick", seed=7), ["fig5"])
    caption = [(out / "fig5").with_suffix(".md").read_text() for out in (a, b)]
    assert caption[0] == caption[1]
