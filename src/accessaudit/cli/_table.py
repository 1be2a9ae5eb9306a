"""Console tables and lines that fit an 80-column terminal; ``--wide`` leaves them whole.

A table whose natural width is too wide has its widest columns wrapped (never below 8
characters) until it fits; numbers are never wrapped. Lines of text wrap at word boundaries,
so a digest or a path stays whole on its own line.

>>> print(table([["corp", "a long description " * 3]], ["source", "about"], width=40))
source    about
--------  ------------------------------
corp      a long description a long
          description a long description
"""

from __future__ import annotations

import argparse
import re
import textwrap
from collections.abc import Iterable, Sequence

__all__ = ["TERMINAL_WIDTH", "add_wide_option", "fit_lines", "table"]

TERMINAL_WIDTH = 80
_GAP = 2  # tabulate's "simple" format puts two spaces between columns
_NARROWEST = 8
_DIGEST = re.compile(r"\b[0-9a-f]{64}\b")
_HEADER_PADDING = 2  # tabulate's MIN_PADDING: a column is at least its header plus two


def add_wide_option(parser: argparse.ArgumentParser) -> None:
    """``--wide``: tables and lines at their natural width instead of 80 columns."""
    parser.add_argument(
        "--wide",
        action="store_true",
        help="print tables and lines at full width (default: fit 80 columns)",
    )


def table(
    rows: Iterable[Sequence[object]],
    headers: Sequence[str],
    *,
    wide: bool = False,
    width: int = TERMINAL_WIDTH,
) -> str:
    """``rows`` under ``headers`` as a tabulate "simple" table, wrapped to ``width``."""
    # Imported here: commands that print JSON only never need it (40 ms of their start).
    from tabulate import tabulate

    body = [["" if value is None else value for value in row] for row in rows]
    if wide or not headers:
        return tabulate(body, headers=list(headers))
    natural = [
        max([len(str(h)) + _HEADER_PADDING, *(len(str(row[i])) for row in body if i < len(row))])
        for i, h in enumerate(headers)
    ]
    budget = width - _GAP * (len(headers) - 1)
    limits = list(natural)
    while sum(limits) > budget:
        widest = max(range(len(limits)), key=limits.__getitem__)
        if limits[widest] <= _NARROWEST:
            break
        limits[widest] -= 1
    caps: list[int | None] = [c if c < n else None for c, n in zip(limits, natural, strict=True)]
    if not any(caps):
        return tabulate(body, headers=list(headers))
    header_caps = [max(1, (c or n) - _HEADER_PADDING) for c, n in zip(caps, natural, strict=True)]
    return tabulate(body, headers=list(headers), maxcolwidths=caps, maxheadercolwidths=header_caps)


def fit_lines(texts: Iterable[str], *, wide: bool = False, width: int = TERMINAL_WIDTH) -> str:
    """Lines of text, each wrapped at spaces to ``width`` (indented after the first) unless
    ``wide``. A line that carries a SHA-256 digest is never wrapped: scripts and auditors
    copy it whole (``Snapshot digest …: <hex>``)."""
    out: list[str] = []
    for text in texts:
        if wide or len(text) <= width or _DIGEST.search(text):
            out.append(text)
        else:
            out.extend(
                textwrap.wrap(
                    text,
                    width=width,
                    subsequent_indent="  ",
                    break_long_words=False,
                    break_on_hyphens=False,
                )
            )
    return "\n".join(out)
