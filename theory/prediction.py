"""What a result predicts for one model: typed, frozen records.

A registered :class:`~theory.registry.Result` offers ``predict(model)``, which
reads the one description of the network (:class:`~theory.model.AttentionModel`,
or the description type the result is about) and returns a :class:`Prediction`:
a frozen dataclass whose fields are named after what the statement predicts
(``exponent``, ``constant``, ``mean``, ``variance``, ``edge``, ``law``...).
A model with symbolic fields gives the symbolic prediction, a numeric model
gives numbers, and the two agree: ``predict(numeric)`` equals
``predict(symbolic).subs(numeric.bindings())`` (the registry test walks every
result).

Nothing is read out of a string key and nothing is evaluated at a dummy ``n``:
checks read the fields, LaTeX prints them, and negative controls are
perturbations of them (:meth:`Prediction.replace`).

>>> import sympy
>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class Rate(Prediction):
...     exponent: object
...     constant: object
>>> n, l = sympy.symbols("n l", positive=True)
>>> p = Rate(exponent=1 - 2 * l, constant=1 + l)
>>> p.subs({l: 2}).values()
{'exponent': -3, 'constant': 3}
>>> p.subs({l: 2}).numeric()
{'exponent': -3.0, 'constant': 3.0}
>>> p.replace(constant=2 * p.constant).constant
2*l + 2
>>> equal(p.subs({l: 2}), Rate(exponent=-3, constant=sympy.Integer(3)))
True
"""
from __future__ import annotations

import dataclasses
import numbers
from dataclasses import dataclass
from typing import Any, Mapping

import sympy

from .symbols import latex as symbols_latex
from ._validate import to_sympy

__all__ = ["Prediction", "PowerLaw", "equal", "as_float"]


def _subs(value, mapping):
    if isinstance(value, sympy.Basic):
        return value.subs(mapping)
    if isinstance(value, Prediction) or isinstance(value, PowerLaw):
        return value.subs(mapping)
    if isinstance(value, tuple):
        return tuple(_subs(v, mapping) for v in value)
    if hasattr(value, "subs") and callable(value.subs):
        return value.subs(mapping)
    return value


def as_float(value) -> Any:
    """A number as ``float`` (sympy numbers included); other values unchanged.

    >>> as_float(sympy.Rational(1, 4)), as_float(sympy.sqrt(4)), as_float("law")
    (0.25, 2.0, 'law')
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, sympy.Basic) and value.is_number:
        v = complex(value.evalf(30))
        if v.imag != 0:
            raise ValueError(f"prediction value {value} is not real")
        return v.real
    if isinstance(value, tuple):
        return tuple(as_float(v) for v in value)
    return value


@dataclass(frozen=True)
class PowerLaw:
    """``statistic ~ constant * n^exponent`` as n grows, the model otherwise fixed.

    ``statistic`` names an entry of the statistics registry
    (``numerics.statistics``), ``layer`` the layer it is measured at (``None``:
    the statistic needs none). This is what ``gapcheck scaling --predict
    theory`` reads.
    """

    statistic: str
    exponent: Any
    constant: Any = None
    layer: int | None = None

    def subs(self, mapping) -> "PowerLaw":
        return dataclasses.replace(self, exponent=_subs(self.exponent, mapping),
                                   constant=_subs(self.constant, mapping))


@dataclass(frozen=True)
class Prediction:
    """Base of every result's prediction record (subclasses add the fields)."""

    def values(self) -> dict[str, Any]:
        """Field name -> value, in declaration order."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def subs(self, mapping: Mapping) -> "Prediction":
        """The same prediction with symbols replaced (a symbolic prediction
        specialised to a model: ``p.subs(model.bindings())``)."""
        return dataclasses.replace(self, **{k: _subs(v, mapping) for k, v in self.values().items()})

    def numeric(self) -> dict[str, Any]:
        """Field name -> float for the numeric fields (others unchanged)."""
        return {k: as_float(v) for k, v in self.values().items()}

    def replace(self, **changes) -> "Prediction":
        """A perturbed copy (negative controls are built this way)."""
        unknown = set(changes) - set(self.values())
        if unknown:
            raise ValueError(f"{type(self).__name__} has no field(s) {sorted(unknown)}; "
                             f"fields: {sorted(self.values())}")
        return dataclasses.replace(self, **changes)

    def scaling_laws(self) -> tuple[PowerLaw, ...]:
        """The power laws in n this prediction states (none by default)."""
        return ()

    def latex(self) -> str:
        """One ``name = formula`` line per field that is a sympy expression."""
        lines = []
        for name, value in self.values().items():
            if isinstance(value, (sympy.Basic, numbers.Number)):
                lines.append(f"\\mathrm{{{name.replace('_', ' ')}}} = {symbols_latex(value)}")
        return "\n".join(lines)


def _same(a, b, rtol) -> bool:
    if isinstance(a, (Prediction, PowerLaw)) or isinstance(b, (Prediction, PowerLaw)):
        return type(a) is type(b) and equal(a, b, rtol=rtol)
    if isinstance(a, tuple) or isinstance(b, tuple):
        return (isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b)
                and all(_same(x, y, rtol) for x, y in zip(a, b)))
    if isinstance(a, (sympy.Basic, numbers.Number)) and isinstance(b, (sympy.Basic, numbers.Number)):
        a, b = to_sympy(a), to_sympy(b)
        if a.is_number and b.is_number:
            fa, fb = complex(a.evalf(30)), complex(b.evalf(30))
            return abs(fa - fb) <= rtol * max(abs(fa), abs(fb), 1e-300)
        return sympy.simplify(a - b) == 0
    if hasattr(a, "moments") and hasattr(b, "moments"):
        return _same(tuple(a.moments(4)), tuple(b.moments(4)), rtol)
    return a == b


def equal(a: Prediction | PowerLaw, b: Prediction | PowerLaw, *, rtol: float = 1e-12) -> bool:
    """Field-by-field equality: exact for symbolic fields, to ``rtol`` for numbers
    (laws compare by their first four moments)."""
    if type(a) is not type(b):
        return False
    fa = {f.name: getattr(a, f.name) for f in dataclasses.fields(a)}
    fb = {f.name: getattr(b, f.name) for f in dataclasses.fields(b)}
    return fa.keys() == fb.keys() and all(_same(fa[k], fb[k], rtol) for k in fa)
