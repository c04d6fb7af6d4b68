"""The README's Python examples run (so the documentation cannot drift), and
its two set-up commands are the ones CI runs."""
import doctest
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_readme_examples_run():
    result = doctest.testfile(str(ROOT / "README.md"), module_relative=False,
                              optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 3 and result.failed == 0


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert ci in readme, f"README does not show CI's test command {ci!r}"
    assert "pip install -e . && gapcheck verify" in readme
