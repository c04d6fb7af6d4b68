"""The docstring examples of every module of the installed package, run as tests.

The package installs as ``gapcheck.theory`` / ``gapcheck.numerics`` from the
folders ``theory/`` and ``numerics/`` at the repository root, so pytest's
``--doctest-modules`` (which imports files by path, as top-level ``theory.*``)
would load a second copy of every module. This walks the installed package
instead and runs each module's doctests with the same option flags.
"""
from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import gapcheck.numerics
import gapcheck.theory


def _modules() -> list[str]:
    names = []
    for pkg in (gapcheck.theory, gapcheck.numerics):
        names.append(pkg.__name__)
        for info in pkgutil.walk_packages(pkg.__path__, prefix=pkg.__name__ + "."):
            names.append(info.name)
    return sorted(names)


MODULES = _modules()


def test_walk_finds_the_package():
    assert "gapcheck.theory.laws.base" in MODULES
    assert "gapcheck.numerics.checks.prop3" in MODULES


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    tests = [t for t in finder.find(module, name) if t.examples]
    for test in tests:
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} doctest examples failed in {name}"
