"""audit.pgop-overhead (D5, gapcheck's own grade-D claim): H(d+1)/d^2, 1.5645% for BERT-base."""
import pytest
import sympy

from numerics.checks import VerifyConfig, audit_pgop_overhead as check
from theory.companions import audit
from theory.registry import get


def test_registered_as_own_claim():
    r = get("audit.pgop-overhead")
    assert r.kind == "companion" and r.source.startswith("gapcheck's own claim (grade D")
    assert all(o.passed for o in r.symbolic_checks())


def test_bert_base_numbers():
    v = audit.pgop_overhead(768, 12)
    assert v == sympy.Rational(769, 49152) and float(v) == pytest.approx(0.015645345, rel=1e-8)
    assert audit.pgop_overhead(768, 12, per_position=True, n_max=512) == sympy.Rational(1, 96)


def test_default_run_passes(verify_config):
    out = check.run(verify_config)
    assert out and all(o.passed for o in out)


@pytest.mark.parametrize("name", sorted(check.NEGATIVE_CONTROLS))
def test_negative_control_rejected(name):
    out = check.run(VerifyConfig(level="quick"), predict=check.NEGATIVE_CONTROLS[name])
    assert any(not o.passed for o in out), f"perturbation {name!r} was accepted"
