"""The --predict parser: a whitelist, never eval. Injection attempts are refused
with one clear error and leave no trace; formulas that evaluate to complex,
negative or huge numbers are refused."""
from __future__ import annotations

import os

import pytest
import sympy

from gapcheck.numerics.scaling import parse_prediction, prediction_values
from gapcheck.theory.expressions import D, GAMMA, N, parse_expression

INJECTIONS = [
    "__import__('os').system('touch PWNED')",
    "__import__(\"os\").system(\"touch PWNED\")",
    "n.__class__.__mro__[1].__subclasses__()",
    "(lambda: __import__('os').system('touch PWNED'))()",
    "[__import__('os').system('touch PWNED') for _ in (1,)]",
    "{x: 1 for x in (1,)}",
    "open('PWNED', 'w')",
    "exec('import os')",
    "eval('1')",
    "sqrt.__globals__",
    "n if n else n",
    "'touch PWNED'",
    "10**10**10",
    "9**9**9",
    "exp(10**5)",
    "n**(10**10)",
    "sqrt(n, 2)",
    "log(n, base=2)",
    "Symbol('x')",
    "n; import os",
    "n" * 300,
]


@pytest.mark.parametrize("text", INJECTIONS)
def test_injection_attempts_are_refused_without_side_effect(text, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=r"^predict"):
        parse_prediction(text)
    assert not (tmp_path / "PWNED").exists() and os.listdir(tmp_path) == []


@pytest.mark.parametrize("text, expected", [
    ("sqrt(27/4)/d", sympy.sqrt(sympy.Rational(27, 4)) / D),
    ("3*d**-4/n", 3 / (D ** 4 * N)),
    ("n**(3/2)/2", N ** sympy.Rational(3, 2) / 2),
    ("0.5*n", N / 2),
    ("exp(-1)*gamma*n", sympy.exp(-1) * GAMMA * N),
    ("(1 + 1/n)**2", (1 + 1 / N) ** 2),
    ("-(-n)", N),
    ("2*pi*log(E)", 2 * sympy.pi),
])
def test_formulas_build_the_exact_sympy_objects(text, expected):
    assert sympy.simplify(parse_expression(text) - expected) == 0


def test_rationals_stay_exact():
    assert parse_expression("27/4") == sympy.Rational(27, 4)
    assert parse_expression("0.1") == sympy.Rational(1, 10)


@pytest.mark.parametrize("text, needle", [
    ("sqrt(n - 100)", "predict is"),      # complex over the grid
    ("n - 100", "predict is -68 at n = 32"),  # negative over the grid
    ("n - 40", "predict is -8 at n = 32"),
])
def test_complex_or_negative_over_the_grid_is_refused(text, needle):
    expr, _ = parse_prediction(text)
    with pytest.raises(ValueError, match="must be real and > 0 over the grid") as e:
        prediction_values(expr, [32, 64, 128, 256])
    assert needle in str(e.value)


def test_d_and_gamma_are_substituted():
    assert parse_prediction("2*sqrt(d)", gamma=sympy.Rational(1, 2)) == (
        2 * sympy.sqrt(2) * sympy.sqrt(N), 0.5)
    assert parse_prediction("gamma*n", gamma=sympy.Rational(1, 4))[0] == N / 4
    assert parse_prediction(-1.5) == (None, -1.5)
    for bad in ("log(n)", "exp(n)", "2**n", "n +", "x*n"):
        with pytest.raises(ValueError, match="predict"):
            parse_prediction(bad)


def test_caret_is_a_power_with_the_precedence_of_double_star():
    """Researchers write n^-0.5: it is n**(-1/2), and 2*n^2 is 2*(n**2), not (2*n)**2 (which
    Python's xor precedence would give if ^ were mapped after parsing)."""
    import sympy
    from gapcheck.theory.expressions import parse_expression
    n = sympy.Symbol("n", positive=True)
    assert parse_expression("n^-0.5") == n ** sympy.Rational(-1, 2)
    assert parse_expression("2*n^2") == 2 * n ** 2
    assert parse_expression("n^(3/2)/d") == parse_expression("n**(3/2)/d")
