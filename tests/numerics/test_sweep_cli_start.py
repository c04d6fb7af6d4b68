"""A fast start: ``gapcheck --help`` imports none of the heavy libraries, and
only the module of the subcommand being run is imported."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from gapcheck.numerics import cli

HEAVY = ("numpy", "scipy", "sympy", "matplotlib", "pyarrow", "dask", "distributed", "mpmath")


def _imported_after(argv):
    code = ("import json, sys\nfrom gapcheck.numerics.cli import main\n"
            f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
            f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))\n"
            "print(json.dumps(sorted(m.rsplit('.', 1)[1] for m in sys.modules "
            "if m.startswith('gapcheck.numerics.commands.'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    heavy, commands = out.stdout.strip().splitlines()[-2:]
    return json.loads(heavy), json.loads(commands)


def test_help_imports_no_heavy_library():
    heavy, commands = _imported_after(["--help"])
    assert heavy == [] and commands == []


def test_only_the_subcommand_run_is_imported():
    heavy, commands = _imported_after(["sweep", "--help"])
    assert commands == ["sweep"] and "numpy" in heavy


def test_help_lines_are_the_subcommands_own(capsys):
    full = cli._parser("*")
    sub = next(a for a in full._actions if a.__class__.__name__ == "_SubParsersAction")
    own = {a.dest: a.help for a in sub._choices_actions}
    assert own == cli.COMMANDS  # edit cli.COMMANDS with a subcommand's help line
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    text = capsys.readouterr().out
    for name, line in cli.COMMANDS.items():
        assert name in text and line.split(";")[0][:30] in " ".join(text.split())


def test_unknown_subcommand_is_an_argparse_error(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["nonsense"])
    assert e.value.code == 2 and "invalid choice" in capsys.readouterr().err
