"""Parameter validation shared by ``theory`` and ``numerics``.

Every public function checks its parameters here, so that bad input gets one
clear ``ValueError`` naming the parameter and the allowed range, instead of a
traceback from deep inside numpy or a silent ``nan``.

Parameters may be exact numbers (``int``, ``fractions.Fraction``,
``sympy.Rational``), floats, or sympy ``Symbol``s.  A symbol is accepted
wherever a number is, because a symbolic parameter is how a user asks for a
formula; its assumptions (``positive=True``) are the user's responsibility.

>>> positive("ratio", 2)
2
>>> positive("ratio", 0)
Traceback (most recent call last):
...
ValueError: ratio must be > 0 (got 0)
>>> integer("order", 2.5, minimum=1)
Traceback (most recent call last):
...
ValueError: order must be an integer >= 1 (got 2.5)
"""
from __future__ import annotations

import math
import numbers
from fractions import Fraction

import sympy

__all__ = ["positive", "nonnegative", "integer", "in_interval", "to_sympy", "one_of"]


def _is_symbolic(value) -> bool:
    return isinstance(value, sympy.Basic) and bool(value.free_symbols)


def to_sympy(value):
    """Exact sympy version of ``value``: ints and Fractions become Rationals,
    floats stay floats (``sympy.Float``), symbols pass through, tuples become
    ``sympy.Tuple`` and lists lists, elementwise.  Text is refused (``sympify``
    would evaluate it): user text is parsed by :mod:`theory.expressions`.

    >>> to_sympy((1, 0.5)), to_sympy([Fraction(1, 3)])
    ((1, 0.5), [1/3])
    >>> to_sympy("1/3")
    Traceback (most recent call last):
    ...
    ValueError: expected a number or a sympy expression, got the text '1/3' (parse it with theory.expressions)
    """
    if isinstance(value, sympy.Basic):
        return value
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got the bool {value!r}")
    if isinstance(value, numbers.Integral):
        return sympy.Integer(int(value))
    if isinstance(value, Fraction):
        return sympy.Rational(value.numerator, value.denominator)
    if isinstance(value, numbers.Real):
        return sympy.Float(float(value))
    if isinstance(value, (str, bytes)):
        # sympify would evaluate the text; user text goes through theory.expressions
        raise ValueError(f"expected a number or a sympy expression, got the text {value!r} "
                         "(parse it with theory.expressions)")
    if isinstance(value, tuple):
        return sympy.Tuple(*(to_sympy(v) for v in value))
    if isinstance(value, list):
        return [to_sympy(v) for v in value]
    return sympy.sympify(value, strict=True)


def _as_real(name: str, value):
    """Return a float for comparison, or None when ``value`` is symbolic."""
    if _is_symbolic(value):
        return None
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, sympy.Basic)):
        raise ValueError(f"{name} must be a real number (got {value!r})")
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a real number (got {value!r})") from None
    if math.isnan(x):
        raise ValueError(f"{name} must be a real number (got nan)")
    return x


def positive(name: str, value):
    """``value`` if it is > 0 (or symbolic), else ``ValueError``."""
    x = _as_real(name, value)
    if x is not None and not (x > 0 and math.isfinite(x)):
        raise ValueError(f"{name} must be > 0 (got {value!r})")
    return value


def nonnegative(name: str, value):
    """``value`` if it is >= 0 (or symbolic), else ``ValueError``."""
    x = _as_real(name, value)
    if x is not None and not (x >= 0 and math.isfinite(x)):
        raise ValueError(f"{name} must be >= 0 (got {value!r})")
    return value


def integer(name: str, value, minimum: int | None = None, maximum: int | None = None):
    """``int(value)`` if ``value`` is an integer in [minimum, maximum]; symbols pass."""
    rng = (f" >= {minimum}" if minimum is not None else "") + (
        f" and <= {maximum}" if maximum is not None else "")
    if _is_symbolic(value):
        return value
    ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if isinstance(value, sympy.Integer):
        ok = True
    if not ok:
        raise ValueError(f"{name} must be an integer{rng} (got {value!r})")
    v = int(value)
    if (minimum is not None and v < minimum) or (maximum is not None and v > maximum):
        raise ValueError(f"{name} must be an integer{rng} (got {value!r})")
    return v


def in_interval(name: str, value, lo, hi, *, lo_open: bool = True, hi_open: bool = False):
    """``value`` if it lies in the interval, e.g. (0, 1] with the defaults."""
    x = _as_real(name, value)
    if x is None:
        return value
    lo_ok = x > lo if lo_open else x >= lo
    hi_ok = x < hi if hi_open else x <= hi
    if not (lo_ok and hi_ok):
        interval = f"{'(' if lo_open else '['}{lo}, {hi}{')' if hi_open else ']'}"
        raise ValueError(f"{name} must be in {interval} (got {value!r})")
    return value


def one_of(name: str, value, allowed):
    """``value`` if it is one of ``allowed``, else ``ValueError`` listing them."""
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))} (got {value!r})")
    return value
