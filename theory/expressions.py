"""Safe parsing of a user's formula (``gapcheck scaling --predict``).

A formula is read with Python's :mod:`ast` parser (which only *parses*; it
runs nothing) and every node is checked against a whitelist before a sympy
object is built from it by hand.  Nothing is ever passed to ``eval``,
``exec`` or ``sympy.sympify`` (which evaluates Python).

Allowed: numbers (integers, decimals, ``27/4`` stays an exact rational),
the names ``n``, ``d``, ``gamma``, ``pi``, ``E``, the operators
``+ - * / **`` (``^`` is read as ``**``, as mathematicians write powers) and unary ``-``/``+``, parentheses, and the one-argument
functions ``sqrt``, ``log``, ``exp``.  Anything else (attribute access,
subscripts, calls of other names, keywords, lambdas, comprehensions, strings)
is refused with one ``ValueError`` naming what was found.  Numeric powers are
bounded (``|exponent| <= 64``, results below ``10**300``) so that
``10**10**10`` is refused instead of computed.

>>> parse_expression("sqrt(27/4)/d")
3*sqrt(3)/(2*d)
>>> parse_expression("3*d**-4/n")
3/(d**4*n)
>>> parse_expression("n**(3/2)/2 + 0.5")
n**(3/2)/2 + 1/2
>>> parse_expression("2*n^-0.5") == parse_expression("2*n**(-1/2)")
True
>>> parse_expression("__import__('os').system('true')")
Traceback (most recent call last):
...
ValueError: predict: only numbers, n, d, gamma, pi, E, + - * / ** (or ^), parentheses and sqrt/log/exp are allowed (found a call of a non-name in "__import__('os').system('true')")
"""
from __future__ import annotations

import ast
import math

import sympy

__all__ = ["parse_expression", "SYMBOLS", "FUNCTIONS", "MAX_LENGTH", "MAX_EXPONENT"]

N, D, GAMMA = sympy.symbols("n d gamma", positive=True)

#: names a formula may use
SYMBOLS = {"n": N, "d": D, "gamma": GAMMA, "pi": sympy.pi, "E": sympy.E}
#: one-argument functions a formula may call
FUNCTIONS = {"sqrt": sympy.sqrt, "log": sympy.log, "exp": sympy.exp}
#: longest formula accepted (characters)
MAX_LENGTH = 200
#: largest |exponent| of a power whose base is a number
MAX_EXPONENT = 64
#: largest number of syntax nodes
MAX_NODES = 100
_MAX_LOG10 = 300  # numbers beyond 10**300 are refused

_BINOPS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
           ast.Mult: lambda a, b: a * b, ast.Div: lambda a, b: a / b,
           ast.Pow: lambda a, b: a ** b}
_UNARY = {ast.USub: lambda a: -a, ast.UAdd: lambda a: a}


class _Refused(ValueError):
    pass


def _allowed() -> str:
    return ("only numbers, n, d, gamma, pi, E, + - * / ** (or ^), parentheses and sqrt/log/exp "
            "are allowed")


def _log10_size(value) -> float:
    """log10 |value| of a numeric sympy object (0 for 0), without computing huge powers."""
    if value == 0:
        return 0.0
    try:
        return float(sympy.log(abs(sympy.N(value, 15)), 10))
    except (TypeError, ValueError, OverflowError):
        return math.inf


def _number(node) -> sympy.Expr:
    v = node.value
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise _Refused(f"the constant {v!r}")
    if isinstance(v, float):
        if not math.isfinite(v):
            raise _Refused(f"the non-finite number {v!r}")
        out = sympy.Rational(repr(v))
    else:
        if abs(v) >= 10 ** _MAX_LOG10:
            raise _Refused("a number beyond 10**300")
        out = sympy.Integer(v)
    if out != 0 and abs(out) >= sympy.Integer(10) ** _MAX_LOG10:
        raise _Refused("a number beyond 10**300")
    return out


def _power(base, exponent):
    if exponent.is_number:
        if not exponent.is_real:
            raise _Refused("a complex exponent")
        if abs(float(exponent)) > MAX_EXPONENT:
            raise _Refused(f"the exponent {exponent} (|exponent| <= {MAX_EXPONENT})")
        if base.is_number and abs(float(exponent)) * _log10_size(base) > _MAX_LOG10:
            raise _Refused(f"a power beyond 10**{_MAX_LOG10}")
    elif base.is_number:
        raise _Refused("a number raised to a power of n, d or gamma (no power law)")
    return sympy.Pow(base, exponent)


def _build(node):
    if isinstance(node, ast.Expression):
        return _build(node.body)
    if isinstance(node, ast.Constant):
        return _number(node)
    if isinstance(node, ast.Name):
        if node.id not in SYMBOLS:
            raise _Refused(f"the name {node.id!r}")
        return SYMBOLS[node.id]
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        left, right = _build(node.left), _build(node.right)
        if isinstance(node.op, ast.Pow):
            return _power(left, right)
        if isinstance(node.op, ast.Div) and right == 0:
            raise _Refused("a division by zero")
        return _BINOPS[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_build(node.operand))
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name):
            raise _Refused("a call of a non-name")
        if node.func.id not in FUNCTIONS:
            raise _Refused(f"a call of {node.func.id!r}")
        if node.keywords or len(node.args) != 1 or isinstance(node.args[0], ast.Starred):
            raise _Refused(f"{node.func.id} with other than one plain argument")
        arg = _build(node.args[0])
        if node.func.id == "exp" and arg.is_number and float(arg) > _MAX_LOG10 * math.log(10):
            raise _Refused(f"a power beyond 10**{_MAX_LOG10}")
        return FUNCTIONS[node.func.id](arg)
    what = {ast.Attribute: "an attribute access", ast.Subscript: "a subscript",
            ast.Lambda: "a lambda", ast.ListComp: "a comprehension",
            ast.GeneratorExp: "a comprehension", ast.SetComp: "a comprehension",
            ast.DictComp: "a comprehension", ast.Compare: "a comparison",
            ast.BoolOp: "a boolean operator", ast.IfExp: "a conditional"}.get(type(node))
    raise _Refused(what or f"the syntax {type(node).__name__}")


def parse_expression(text: str, *, name: str = "predict") -> sympy.Expr:
    """The sympy expression a formula describes (symbols ``n``, ``d``, ``gamma``
    positive), or one ``ValueError`` starting with ``name``."""
    if not isinstance(text, str):
        raise ValueError(f"{name} must be a formula as text (got {type(text).__name__})")
    shown = text if len(text) <= 60 else text[:57] + "..."
    if len(text) > MAX_LENGTH:
        raise ValueError(f"{name} must be at most {MAX_LENGTH} characters (got {len(text)})")
    if not text.strip():
        raise ValueError(f"{name} must not be empty")
    try:
        # "^" is a power here (never Python's xor): replaced before parsing, so that
        # it keeps the precedence of ** ("2*n^2" is 2*(n**2))
        tree = ast.parse(text.strip().replace("^", "**"), mode="eval")
    except SyntaxError:
        raise ValueError(f"{name}: {shown!r} is not a formula ({_allowed()})") from None
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise ValueError(f"{name}: {shown!r} has more than {MAX_NODES} syntax nodes")
    try:
        expr = _build(tree)
    except _Refused as exc:
        raise ValueError(f'{name}: {_allowed()} (found {exc} in "{shown}")') from None
    except (OverflowError, ZeroDivisionError, TypeError, ValueError) as exc:
        raise ValueError(f"{name}: {shown!r} cannot be built ({type(exc).__name__})") from None
    if expr.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
        raise ValueError(f"{name}: {shown!r} is not finite")
    return expr
