"""Helpers for the command-line tests: run ``gapcheck`` in-process and
capture its exit code, standard output and standard error."""
from __future__ import annotations

import pytest

from gapcheck.numerics.cli import main


class Run:
    def __init__(self, code, out, err):
        self.code, self.out, self.err = code, out, err

    def one_error_line(self) -> str:
        """The error must be one readable line, without a traceback."""
        lines = [s for s in self.err.splitlines() if s.strip()]
        assert self.code == 2, (self.code, self.err)
        assert len(lines) == 1 and lines[0].startswith("gapcheck: error: "), self.err
        assert "Traceback" not in self.err
        return lines[0]


@pytest.fixture
def gapcheck(capsys):
    """``gapcheck(*argv)`` runs the CLI in this process and returns a ``Run``."""
    def run(*argv):
        try:
            code = main([str(a) for a in argv])
        except SystemExit as exc:  # argparse usage errors
            code = exc.code
        cap = capsys.readouterr()
        return Run(code, cap.out, cap.err)
    return run
