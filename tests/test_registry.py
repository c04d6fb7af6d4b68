"""The registry itself: every result of the paper is there, each is a
complete checked object, and each has its own test module."""
import importlib
import pathlib

import pytest

from gapcheck.theory.registry import all_results, get
from gapcheck.theory.results import ORDER

TESTS = pathlib.Path(__file__).resolve().parent
PAPER_IDS = [name.replace("_", ".") if name == "def1_1" else name for name in ORDER]
RESULTS = all_results()


def test_every_result_of_the_paper_is_registered():
    ids = [r.id for r in RESULTS]
    assert ids[: len(PAPER_IDS)] == PAPER_IDS
    assert len(set(ids)) == len(ids)
    assert len(PAPER_IDS) == 15


def test_unknown_id_names_the_known_ones():
    with pytest.raises(ValueError, match="unknown result id 'prop99'.*prop3"):
        get("prop99")


@pytest.mark.parametrize("result", RESULTS, ids=lambda r: r.id)
def test_result_is_complete(result):
    assert result.title and result.statement and result.statement_latex
    assert result.assumptions, "a result states its assumptions"
    assert result.kind in {"definition", "proposition", "lemma", "theorem", "companion"}
    if result.kind == "companion":
        assert "grade" in result.source, "companions carry their confidence grade"
    assert result.symbolic_checks is not None or result.empirical_check is not None
    assert result.latex(), "a result renders as LaTeX"
    if result.empirical_check is not None:
        stem = "".join(c if c.isalnum() else "_" for c in result.id)
        assert result.empirical_check == f"gapcheck.numerics.checks.{stem}"


@pytest.mark.parametrize("result", [r for r in RESULTS if r.empirical_check],
                         ids=lambda r: r.id)
def test_empirical_check_has_negative_controls(result):
    mod = importlib.import_module(result.empirical_check)
    assert callable(mod.run)
    assert mod.NEGATIVE_CONTROLS, f"{result.id}: a check must be shown to reject wrong predictions"


@pytest.mark.parametrize("rid", PAPER_IDS)
def test_each_paper_result_has_its_own_test_module(rid):
    stem = rid.replace(".", "_")
    assert list((TESTS / "results").glob(f"test_{stem}_*.py")), f"no tests/results/test_{stem}_*.py"


def _contract_ids() -> list[str]:
    from tests.contract import ResultContract
    ids = []
    for folder in ("results", "companions"):
        for path in sorted((TESTS / folder).glob("test_*.py")):
            mod = importlib.import_module(f"tests.{folder}.{path.stem}")
            ids += [obj.result_id for name, obj in vars(mod).items()
                    if name.startswith("Test") and isinstance(obj, type) and issubclass(obj, ResultContract)]
    return ids


def test_every_result_has_exactly_one_contract_class():
    """Each registered result's symbolic checks, empirical check and negative
    controls run through one ResultContract subclass in its test module."""
    ids = _contract_ids()
    assert sorted(ids) == sorted(r.id for r in RESULTS)


def test_order_does_not_depend_on_import_order():
    """Importing a companion module first (as test collection may) must not
    put the companions before the paper's results."""
    import subprocess
    import sys
    code = ("import theory.companions.gg, theory.results\n"
            "from theory.registry import all_results\n"
            "print(','.join(r.id for r in all_results()))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    ids = out.stdout.strip().split(",")
    assert ids[: len(PAPER_IDS)] == PAPER_IDS
    assert ids[len(PAPER_IDS)].startswith("gg.")
