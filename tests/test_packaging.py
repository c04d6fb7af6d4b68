"""One import package: the folders theory/ and numerics/ install as gapcheck.theory/.numerics."""
from __future__ import annotations

import pathlib
import subprocess
import sys
import pytest

tomllib = pytest.importorskip("tomllib", reason="tomllib is in the standard library from Python 3.11")

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_every_subpackage_is_listed_in_pyproject():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    on_disk = {"gapcheck." + ".".join(p.parent.relative_to(ROOT).parts)
               for top in ("theory", "numerics") for p in (ROOT / top).rglob("__init__.py")}
    assert on_disk == listed, f"missing: {sorted(on_disk - listed)}; stale: {sorted(listed - on_disk)}"
    assert config["package-dir"] == {"gapcheck.theory": "theory", "gapcheck.numerics": "numerics"}


def test_no_top_level_theory_outside_the_repository(tmp_path):
    code = ("import importlib.util as u, gapcheck.theory, gapcheck.numerics;"
            "print(u.find_spec('theory'), u.find_spec('numerics'))")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                         text=True, check=True)
    assert out.stdout.split() == ["None", "None"]


def test_package_code_imports_itself_relatively():
    offenders = []
    for top in ("theory", "numerics"):
        for path in (ROOT / top).rglob("*.py"):
            for i, line in enumerate(path.read_text().splitlines(), 1):
                s = line.strip()
                if s.startswith(("from theory", "from numerics", "import theory", "import numerics",
                                 "from gapcheck", "import gapcheck")):
                    offenders.append(f"{path.relative_to(ROOT)}:{i}: {s}")
    assert not offenders, "\n".join(offenders)
