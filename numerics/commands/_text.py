"""Plain-text layout shared by the commands that print tables (``list``,
``verify``): the output width, fitting a cell into a column, and wrapping a
paragraph with a hanging indent without cutting words.

>>> fit("Rank collapse in width", 10)
'Rank co...'
>>> fit("prop3", 8)
'prop3   '
>>> print(wrap("measured 1.5, predicted 1 (tolerance 4 SE)", 24, indent=4))
    measured 1.5,
      predicted 1
      (tolerance 4 SE)
"""
from __future__ import annotations

import os
import shutil
import sys
import textwrap

#: width when the output is not a terminal and COLUMNS is not set
DEFAULT_WIDTH = 100
#: never lay out narrower than this (columns would lose their content)
MIN_WIDTH = 40


def output_width(stream=None) -> int:
    """Columns to lay out for: ``COLUMNS`` when set, else the terminal's
    width when ``stream`` (stdout) is a terminal, else :data:`DEFAULT_WIDTH`."""
    cols = os.environ.get("COLUMNS", "").strip()
    if cols.isdigit() and int(cols) > 0:
        return max(MIN_WIDTH, int(cols))
    stream = stream if stream is not None else sys.stdout
    try:
        if stream.isatty():
            return max(MIN_WIDTH, shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns)
    except (AttributeError, ValueError, OSError):
        pass
    return DEFAULT_WIDTH


def fit(text: str, width: int, align: str = "<") -> str:
    """``text`` in exactly ``width`` columns: padded, or shortened with
    ``...`` at the end (at a word boundary when one is near)."""
    text = " ".join(str(text).split())
    if width <= 0:
        return ""
    if len(text) <= width:
        return f"{text:{align}{width}}"
    if width <= 3:
        return text[:width]
    cut = text[: width - 3]
    space = cut.rfind(" ")
    if space >= max(1, (width - 3) * 3 // 4):
        cut = cut[:space]
    return f"{cut.rstrip(' ,;:')}...".ljust(width)


def wrap(text: str, width: int, indent: int = 0, hang: int = 2) -> str:
    """``text`` wrapped to ``width`` columns, first line indented by
    ``indent``, the following by ``indent + hang``; words are kept whole
    unless one alone is wider than a line."""
    return textwrap.fill(" ".join(str(text).split()), width=width,
                         initial_indent=" " * indent, subsequent_indent=" " * (indent + hang),
                         break_long_words=True, break_on_hyphens=False)


def writable_dir(path, what: str):
    """``path`` as a created directory; one ``OSError`` naming it ("cannot write
    {what} to ...") when it cannot be written (checked with a probe file, before
    any work)."""
    from pathlib import Path
    out = Path(path)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".gapcheck-write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise OSError(f"cannot write {what} to {out}: {exc.strerror or exc}") from None
    return out
