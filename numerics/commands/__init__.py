"""Subcommands of ``gapcheck`` (one module each; see :mod:`numerics.cli`)."""
