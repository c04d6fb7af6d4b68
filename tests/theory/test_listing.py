"""The index behind ``gapcheck list`` (theory.listing): equal to the registry,
fresh, used only when fresh, and listing with it imports no heavy library."""
from __future__ import annotations

import json
import subprocess
import sys

from gapcheck.theory import listing

REGENERATE = "the index is stale: run `python -m gapcheck.theory.listing --write`"


def test_index_is_fresh_and_equal_to_the_registry():
    ix = listing._index()
    assert ix is not None, REGENERATE
    fp, rows = ix
    assert fp == listing.fingerprint(), REGENERATE
    from_index = [listing.Listed(*(tuple(v) if isinstance(v, list) else v for v in row))
                  for row in rows]
    assert from_index == listing.from_registry(), REGENERATE


def test_rendered_index_round_trips():
    ns = {}
    exec(listing.render_index(), ns)
    assert ns["FINGERPRINT"] == listing.fingerprint()
    assert [tuple(r[:3]) for r in ns["RESULTS"]] == [(r.id, r.title, r.kind)
                                                       for r in listing.from_registry()]


def test_a_stale_index_is_never_used(monkeypatch):
    real = listing.from_registry()
    fake = [("fake.id", "t", "lemma", "s", "st", [], None, [])]
    monkeypatch.setattr(listing, "_registry_loaded", lambda: False)
    monkeypatch.setattr(listing, "_index", lambda: ("old", fake))
    assert listing.listed() == real
    # the same rows with the current fingerprint are read from the index
    monkeypatch.setattr(listing, "_index", lambda: (listing.fingerprint(), fake))
    assert [r.id for r in listing.listed()] == ["fake.id"]
    # ... unless the registry is imported already
    monkeypatch.setattr(listing, "_registry_loaded", lambda: True)
    assert listing.listed() == real


def test_fingerprint_follows_the_sources(tmp_path, monkeypatch):
    (tmp_path / "results").mkdir()
    (tmp_path / "companions").mkdir()
    (tmp_path / "registry.py").write_text("x = 1\n")
    (tmp_path / "results" / "a.py").write_text("TITLE = 'a'\n")
    monkeypatch.setattr(listing, "_HERE", tmp_path)
    before = listing.fingerprint()
    (tmp_path / "results" / "a.py").write_text("TITLE = 'b'\n")
    assert listing.fingerprint() != before
    (tmp_path / "results" / "a.py").write_text("TITLE = 'a'\n")
    assert listing.fingerprint() == before
    (tmp_path / "companions" / "new.py").write_text("")
    assert listing.fingerprint() != before


def test_list_imports_no_heavy_library_nor_the_registry():
    code = ("import io, json, sys, contextlib\nfrom gapcheck.numerics.cli import main\n"
            "buf = io.StringIO()\nwith contextlib.redirect_stdout(buf):\n"
            "    rc = main(['list', '--json'])\n"
            "print(json.dumps([rc, len(json.loads(buf.getvalue())), sorted(m for m in "
            "('numpy', 'scipy', 'sympy', 'mpmath', 'gapcheck.theory.results', "
            "'gapcheck.theory.registry') if m in sys.modules)]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    rc, count, heavy = json.loads(out.stdout.strip().splitlines()[-1])
    assert rc == 0 and count == len(listing.from_registry())
    assert heavy == [], REGENERATE if not listing.index_is_fresh() else heavy
