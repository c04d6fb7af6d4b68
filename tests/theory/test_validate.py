"""theory._validate.to_sympy: exact numbers, and never an evaluation of text
(sympify would run it: the package parses user text with theory.expressions)."""
from fractions import Fraction

import numpy as np
import pytest
import sympy

from gapcheck.theory._validate import to_sympy


def test_numbers_are_exact_where_they_can_be():
    assert to_sympy(3) == sympy.Integer(3) and to_sympy(np.int64(3)).is_Integer
    assert to_sympy(Fraction(4, 5)) == sympy.Rational(4, 5)
    assert isinstance(to_sympy(0.8), sympy.Float)
    assert to_sympy((1, Fraction(1, 2))) == sympy.Tuple(1, sympy.Rational(1, 2))
    g = sympy.Symbol("gamma", positive=True)
    assert to_sympy(g) is g


@pytest.mark.parametrize("text", ["1/3", "__import__('os').getcwd()", "x + 1"])
def test_text_is_refused_not_evaluated(text, monkeypatch):
    called = []
    monkeypatch.setattr(sympy, "sympify", lambda *a, **k: called.append(a))
    with pytest.raises(ValueError, match="got the text"):
        to_sympy(text)
    with pytest.raises(ValueError, match="got the text"):
        to_sympy((1, text))  # nested text too
    assert called == []


def test_bools_are_refused():
    with pytest.raises(ValueError, match="bool"):
        to_sympy(True)
