"""The ``gapcheck`` command line.

Each subcommand lives in its own module under :mod:`numerics.commands`,
exposing ``add_parser(subparsers)`` which registers the subcommand and sets
``func`` (``func(args) -> exit code``).  Errors are one readable line on
stderr and exit code 2 (``--debug`` for the traceback); a failed check exits 1.
"""
from __future__ import annotations

import argparse
import importlib
import sys

#: subcommand modules, in the order ``gapcheck --help`` lists them
COMMAND_MODULES = ["list", "verify", "latex", "scaling", "sweep", "figures"]


class CLIError(Exception):
    """An error reported to the user as one line."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="gapcheck",
        description="Check the theory of rank collapse and signal propagation in softmax "
                    "attention at initialisation ('Mind the Gap').")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = p.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        try:
            mod = importlib.import_module(f"gapcheck.numerics.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"gapcheck.numerics.commands.{name}":
                continue  # subcommand not built yet
            raise
        mod.add_parser(sub)
    return p


def main(argv=None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
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
