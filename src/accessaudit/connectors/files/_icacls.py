"""The text ``icacls PATH /T /C`` prints, read into the rows of a ``Get-Acl`` CSV export.

Layout (learn.microsoft.com/windows-server/administration/windows-commands/icacls, and real
output such as ``c:\\users\\Default NT AUTHORITY\\SYSTEM:(OI)(CI)(F)``): a file's first ACE
follows its path after one space; its further ACEs are indented to the same column; a blank
line ends the file. ``(OI)(CI)(IO)(NP)`` are inheritance flags, ``(I)`` marks an inherited
ACE, ``(DENY)`` a deny ACE, and the last group holds the rights: a simple right (``F`` full,
``M`` modify, ``RX`` read and execute, ``R`` read, ``W`` write, ``D`` delete, ``N`` none) or
a comma-separated list of specific rights (``RD,WD,AD,REA,WEA,X,DC,RA,WA,DE,RC,WDAC,WO,S,
AS,MA,GR,GW,GE,GA``). ``Mandatory Label\\...`` entries are integrity labels, not access, and
are counted only. With ``/C`` a file icacls could not read is one line, ``PATH: <reason>``
("Access is denied."), and the last line counts both: ``Successfully processed N files;
Failed processing M files``. That line is translated on non-English Windows, so it is read by
its two numbers, in that order; identities are written as Windows names them
(``VORDEFINIERT\\Administratoren``) and resolved, or reported unresolved, like any other.

Rights become a numeric access mask (the .NET ``FileSystemRights`` value), so the CSV path's
one rights mapping decides ``read`` / ``write`` / ``admin``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from accessaudit.connectors.base import SourceSettings
from accessaudit.connectors.files._csv import MAX_CSV_BYTES, file_error, open_text
from accessaudit.connectors.files._read import Rows
from accessaudit.errors import SourceError
from accessaudit.model import failures_error

__all__ = ["looks_like_icacls", "read_icacls"]

#: ``identity:(flags)(rights)`` at the end of a line.
_ACE = re.compile(r"(?P<identity>[^:]+):(?P<groups>(?:\([A-Z]+(?:,[A-Z]+)*\))+)\s*$")
_GROUP = re.compile(r"\(([A-Z,]+)\)")
_NUMBERS = re.compile(r"\d+")
_MAX_BAD_LINES = 1000
_EXAMPLES = 5
_FLAGS = frozenset({"OI", "CI", "IO", "NP", "I", "DENY"})
_INTEGRITY = frozenset({"NW", "NR", "NX"})
#: icacls' simple and specific rights as access-mask bits (winnt.h / FileSystemRights).
_RIGHTS = {
    "F": 0x1F01FF,
    "M": 0x1301BF,
    "RX": 0x1200A9,
    "R": 0x120089,
    "W": 0x100116,
    "D": 0x110000,
    "N": 0x0,
    "RD": 0x1,
    "WD": 0x2,
    "AD": 0x4,
    "REA": 0x8,
    "WEA": 0x10,
    "X": 0x20,
    "DC": 0x40,
    "RA": 0x80,
    "WA": 0x100,
    "DE": 0x10000,
    "RC": 0x20000,
    "WDAC": 0x40000,
    "WO": 0x80000,
    "S": 0x100000,
    "AS": 0x1000000,
    "MA": 0x2000000,
    "GA": 0x10000000,
    "GE": 0x20000000,
    "GW": 0x40000000,
    "GR": 0x80000000,
}
#: Identities that may follow a path on a file's first line, when the path has spaces too.
_KNOWN_PREFIXES = (
    "NT AUTHORITY\\",
    "BUILTIN\\",
    "NT SERVICE\\",
    "APPLICATION PACKAGE AUTHORITY\\",
    "CREATOR OWNER",
    "CREATOR GROUP",
    "Everyone",
    "S-1-",
    "Mandatory Label\\",
)


def looks_like_icacls(path: Path, settings: SourceSettings) -> bool:
    """Whether the file's first non-blank line is an icacls ACE line, not a CSV header.
    A file that cannot be read as text is left to the CSV reader, which says why."""
    try:
        with open_text(path, settings) as text:
            for _, line in zip(range(50), text, strict=False):
                if line.strip():
                    return _ACE.search(line.rstrip("\n")) is not None
    except SourceError:
        return False
    return False


def read_icacls(path: Path, settings: SourceSettings, domain: str) -> tuple[Rows, dict[str, Any]]:
    """The ACEs as rows (``path``, ``identity``, ``rights`` as a numeric mask,
    ``access_type``, ``inherited``) with their lines, and what the report must say: the files
    icacls could not read, its own counts, integrity labels skipped. ``domain`` (the
    source's NetBIOS domain) helps tell where a path with spaces ends."""
    label = path.name
    if path.stat().st_size > MAX_CSV_BYTES:
        raise file_error(
            settings.name, label, f"is over the limit of {MAX_CSV_BYTES:,} bytes; split it"
        )
    parsed = _Parsed(label, domain)
    with open_text(path, settings) as text:
        for block in _blocks(text):
            parsed.add(block)
            if len(parsed.bad) >= _MAX_BAD_LINES:
                break  # enough to say what is wrong; a garbage file is not read to its end
    if parsed.bad:
        raise failures_error(pd.DataFrame(parsed.bad), source=settings.name)
    if not parsed.lines:
        raise file_error(settings.name, label, "has no ACE lines (icacls output with no files)")
    frame = pd.DataFrame(parsed.columns, dtype="str")
    rows = Rows(
        frame=frame,
        lines=np.asarray(parsed.lines, dtype=np.int64),
        label=label,
        headers={c: c for c in frame.columns},
    )
    return rows, parsed.report()


def _blocks(text: Iterable[str]) -> Iterator[list[tuple[int, str]]]:
    """Lines grouped by file: a line at the margin and the indented lines after it."""
    block: list[tuple[int, str]] = []
    for number, raw in enumerate(text, start=1):
        line = raw.rstrip("\n").removeprefix("\ufeff")
        if not line.strip():
            if block:
                yield block
            block = []
        elif line.startswith((" ", "\t")) and block:
            block.append((number, line))
        else:
            if block:
                yield block
            block = [(number, line)]
    if block:
        yield block


class _Parsed:
    """What the blocks of one icacls output held, collected as they are read."""

    def __init__(self, label: str, domain: str) -> None:
        self.label = label
        self.domain = domain
        self.columns: dict[str, list[str]] = {
            k: [] for k in ("path", "identity", "rights", "access_type", "inherited")
        }
        self.lines: list[int] = []
        self.bad: list[dict[str, str]] = []
        self.failed: list[str] = []  # the first few, for the report
        self.failed_count = 0
        self.labels = 0
        self.trailer: tuple[int, int] | None = None

    def add(self, block: list[tuple[int, str]]) -> None:
        number, first = block[0]
        ace = _ACE.search(first)
        if ace is None:
            self._other(number, first)
            for line_number, line in block[1:]:
                self._problem(line_number, line, "is an indented line with no file before it")
            return
        path = self._path(number, first, block)
        if path is None:
            return
        self._ace(number, path, first[len(path) + 1 :])
        for line_number, line in block[1:]:
            self._ace(line_number, path, line.strip())

    def _path(self, number: int, first: str, block: list[tuple[int, str]]) -> str | None:
        """Where the first line's path ends: at the indent of the next ACE, or (one ACE) at
        the one space a known identity follows."""
        if len(block) > 1:
            indent = len(block[1][1]) - len(block[1][1].lstrip(" \t"))
            if indent > 1 and first[indent - 1 : indent] == " ":
                return first[: indent - 1]
            self._problem(number, first, "is not followed by ACEs indented to its path")
            return None
        before = first[: first.rindex(":(")]
        spaces = [i for i, c in enumerate(before) if c == " "]
        known = (*_KNOWN_PREFIXES, f"{self.domain}\\" if self.domain else "\\")
        fits = [i for i in spaces if before[i + 1 :].startswith(known)]
        if len(spaces) == 1 or len(fits) == 1:
            return before[: (fits or spaces)[0]]
        self._problem(
            number,
            first,
            "cannot tell where the path ends and the identity begins (spaces in both)",
        )
        return None

    def _ace(self, number: int, path: str, text: str) -> None:
        found = _ACE.fullmatch(text)
        if found is None:
            self._problem(number, text, "is not an ACE (identity:(rights))")
            return
        identity = found["identity"].strip()
        groups = _GROUP.findall(found["groups"])
        if identity.startswith("Mandatory Label\\") or set(groups) <= _INTEGRITY | _FLAGS:
            self.labels += 1  # an integrity label: no access is granted by it
            return
        mask = 0
        for group in groups:
            if group in _FLAGS:
                continue
            for code in group.split(","):
                if code not in _RIGHTS:
                    self._problem(number, text, f"has a right icacls does not print: {code}")
                    return
                mask |= _RIGHTS[code]
        self.columns["path"].append(path)
        self.columns["identity"].append(identity)
        self.columns["rights"].append(str(mask))
        self.columns["access_type"].append("Deny" if "DENY" in groups else "Allow")
        self.columns["inherited"].append("true" if "I" in groups else "false")
        self.lines.append(number)

    def _other(self, number: int, line: str) -> None:
        counts = _NUMBERS.findall(line)
        if ";" in line and len(counts) == 2:
            self.trailer = (int(counts[0]), int(counts[1]))
        elif ": " in line:
            self.failed_count += 1
            if len(self.failed) < _EXAMPLES:
                self.failed.append(f"{self.label}:{number} {line.strip()}")
        else:
            self._problem(number, line, "is neither an ACE, an error nor icacls' summary")

    def _problem(self, number: int, line: str, problem: str) -> None:
        self.bad.append(
            {
                "location": f"{self.label}:{number}",
                "column": "line",
                "value": line.strip()[:200],
                "problem": problem,
            }
        )

    def report(self) -> dict[str, Any]:
        """The icacls part of the source's report; ``partial_export`` when files went unread."""
        failed = max(self.failed_count, self.trailer[1] if self.trailer else 0)
        report: dict[str, Any] = {
            "format": "icacls",
            "icacls_summary": (
                {"processed": self.trailer[0], "failed": self.trailer[1]} if self.trailer else None
            ),
            "files_not_read": {"count": failed, "first": self.failed},
            "integrity_labels_skipped": self.labels,
            "warnings": [],
        }
        if failed:
            shown = "; ".join(self.failed[:3]) or "the lines are not in the file"
            report["partial_export"] = (
                f"icacls could not read {failed} files, whose permissions are not audited ({shown})"
            )
            report["warnings"].append(
                f"partial export: {report['partial_export']}; run icacls as an account that "
                "can read every folder (e.g. with the backup privilege)"
            )
        if self.trailer is None:
            report["warnings"].append(
                "no icacls summary line (Successfully processed N files; Failed processing M "
                "files): the output may have been cut short or run with /Q"
            )
        return report
