"""The ``gapcheck`` command line.

Each subcommand lives in its own module under :mod:`numerics.commands`,
exposing ``add_parser(subparsers)`` which registers the subcommand and sets
``func`` (``func(args) -> exit code``).  Errors are one readable line on
stderr and exit code 2 (``--debug`` for the traceback); a failed check exits 1.

A fast start: only the module of the subcommand being run is imported
(numpy, scipy, sympy come with it); ``gapcheck --help`` imports none of them,
and lists the subcommands from :data:`COMMANDS` (a test keeps those lines equal
to each module's own ``help``).  A closed standard output (``gapcheck list |
head -3``) ends quietly with exit code 0.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys

#: subcommand -> its one-line help, in the order ``gapcheck --help`` lists them
COMMANDS = {
    "list": "every result id with its title and source",
    "verify": "run the checks of the given results (default: all)",
    "latex": "LaTeX of the results' statements and derived formulas",
    "scaling": "sanity-check a scaling hypothesis: sweep n, fit the exponent, judge",
    "sweep": "sample presets over a grid of n; chunked, resumable, on Dask, stored as Parquet",
    "figures": "reproduce the paper's figures as PNG and PDF",
    "report": "compile the verification report (LaTeX -> PDF)",
}
COMMAND_MODULES = list(COMMANDS)


class CLIError(Exception):
    """An error reported to the user as one line."""


def _command_in(argv) -> str | None:
    """The subcommand named in ``argv`` (global options may come first)."""
    for tok in argv:
        if tok in COMMANDS:
            return tok
        if not tok.startswith("-"):
            return None
    return None


def _parser(command: str | None = "*") -> argparse.ArgumentParser:
    """The parser; the subcommand ``command`` (every one for ``"*"``) gets its full
    arguments from its module, the others only their name and help line."""
    p = argparse.ArgumentParser(
        prog="gapcheck",
        description="Check the theory of rank collapse and signal propagation in softmax "
                    "attention at initialisation ('Mind the Gap').")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = p.add_subparsers(dest="command", required=True)
    for name, help_line in COMMANDS.items():
        if command in ("*", name):
            try:
                mod = importlib.import_module(f"gapcheck.numerics.commands.{name}")
            except ModuleNotFoundError as exc:
                if exc.name == f"gapcheck.numerics.commands.{name}":
                    continue  # subcommand not built yet
                raise
            mod.add_parser(sub)
        else:
            sub.add_parser(name, help=help_line)
    return p


def _quiet_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's final flush of a
    closed pipe raises nothing."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # pragma: no cover - no real fd (captured)
        pass


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = _parser(_command_in(argv))
    args = parser.parse_args(argv)
    try:
        rc = int(args.func(args) or 0)
        sys.stdout.flush()
        return rc
    except BrokenPipeError:  # the reader closed the pipe (| head): not an error
        _quiet_stdout()
        return 0
    except (ValueError, ImportError, OSError, CLIError) as exc:
        if args.debug:
            raise
        print(f"gapcheck: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # pragma: no cover
        print("gapcheck: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
