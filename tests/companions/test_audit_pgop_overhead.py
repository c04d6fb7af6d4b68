"""audit.pgop-overhead (D5, gapcheck's own grade-D claim): H(d+1)/d^2, 1.5645% for BERT-base."""
import pytest
import sympy

from gapcheck.theory.companions import audit
from gapcheck.theory.registry import get
from tests.contract import ResultContract


def test_registered_as_own_claim():
    r = get("audit.pgop-overhead")
    assert r.kind == "companion" and r.source.startswith("gapcheck's own claim (grade D")


def test_bert_base_numbers():
    v = audit.pgop_overhead(768, 12)
    assert v == sympy.Rational(769, 49152) and float(v) == pytest.approx(0.015645345, rel=1e-8)
    assert audit.pgop_overhead(768, 12, per_position=True, n_max=512) == sympy.Rational(1, 96)


def test_prediction_is_the_bert_base_overhead():
    r = get("audit.pgop-overhead")
    p = r.prediction(r.example())
    assert p.overhead.subs({audit.FEATURES: 768, audit.HEADS: 12}) == sympy.Rational(769, 49152)


class TestContract(ResultContract):
    result_id = "audit.pgop-overhead"
