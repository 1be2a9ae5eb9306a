"""Property tests of the file readers (issue 11): whatever bytes or cells a file holds, each
connector (hr-csv, data-inventory, ntfs-acl, grants-csv) either returns tables that meet their
schemas, whose references the snapshot stage resolves into valid grants, or raises our own
SourceError naming where, never another exception, within a time and memory bound.

Examples are few and derandomised so the suite stays fast and CI runs are reproducible; the
strategies lean on the values that broke readers before (quotes, delimiters, CR, NUL, far
dates, SIDs, UNC paths, formulas, header names in another case).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from accessaudit.connectors import CollectContext, SourceResult, SourceSettings, find_manifests
from accessaudit.connectors.files import (
    collect_grants,
    collect_hr,
    collect_inventory,
    collect_ntfs_acl,
)
from accessaudit.errors import SourceError
from accessaudit.model import REFERENCES, TABLES
from accessaudit.resolve import resolve_references

AS_OF = pd.Timestamp("2026-11-21", tz="UTC")
#: Per call: generous for a file of a few kilobytes, far below any blow-up. Memory is the
#: growth of the process's peak resident size (ru_maxrss, KiB on Linux) during the call.
SECONDS = 10.0
PEAK_GROWTH_KIB = 300 * 1024
PROPERTY = settings(
    max_examples=25,
    deadline=None,  # the bound is asserted per call below, with a clearer message
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=False,
)

Collect = Callable[[SourceSettings, Any, CollectContext], SourceResult]
READERS: dict[str, tuple[Collect, tuple[str, ...], dict[str, Any]]] = {
    "hr-csv": (
        collect_hr,
        (
            "employee_id",
            "name",
            "email",
            "status",
            "worker_type",
            "manager_id",
            "start_date",
            "end_date",
        ),
        {},
    ),
    "data-inventory": (
        collect_inventory,
        ("resource", "type", "path", "owner", "sensitivity", "retention_days", "last_modified"),
        {},
    ),
    "ntfs-acl": (
        collect_ntfs_acl,
        ("Path", "IdentityReference", "FileSystemRights", "AccessControlType", "IsInherited"),
        {"domain": "CORP"},
    ),
    "grants-csv": (
        collect_grants,
        ("principal", "resource", "right", "inherited", "deny"),
        {},
    ),
}

WORDS = st.sampled_from(
    [
        "",
        " ",
        "active",
        "Terminated",
        "leave",
        "contractor",
        "9999-12-31",
        "0001-01-01",
        "2026-02-30",
        "2026-11-21T08:00:00Z",
        "31/01/2026",
        '=HYPERLINK("http://x")',
        "S-1-5-21-1000-2000-3000-1105",
        "CORP\\alice",
        "BUILTIN\\Administrators",
        "\\\\fs01\\finance\\payroll",
        "Microsoft.PowerShell.Core\\FileSystem::\\\\FS01\\Finance\\",
        "FullControl",
        "Modify, Synchronize",
        "268435456",
        "Synchronize",
        "Deny",
        "Allow",
        "true",
        "maybe",
        "confidential",
        "Highly Confidential",
        "select",
        "1001",
        "1e400",
        "-1",
        '"',
        ",",
        ";",
        "\n",
        "\r",
        "\x00",
        "\ufeff",
        "\ud7ff",
    ]
)
TEXT = st.one_of(WORDS, st.text(max_size=12))


def _header(columns: tuple[str, ...]) -> st.SearchStrategy[list[str]]:
    """Mostly the connector's columns (some dropped, some in another case, some repeated),
    sometimes anything at all."""
    known = st.lists(
        st.sampled_from(columns).map(lambda c: c.upper() if c.endswith("e") else c),
        min_size=1,
        max_size=len(columns) + 2,
    )
    return st.one_of(st.just(list(columns)), known, st.lists(TEXT, min_size=1, max_size=4))


@st.composite
def _csv_bytes(draw: st.DrawFn, columns: tuple[str, ...]) -> bytes:
    header = draw(_header(columns))
    rows = draw(st.lists(st.lists(TEXT, max_size=len(header) + 1), max_size=8))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=draw(st.sampled_from(["\n", "\r\n", "\r"])))
    if draw(st.booleans()):
        buffer.write("#TYPE System.Management.Automation.PSCustomObject\n")
    writer.writerow(header)
    writer.writerows(rows)
    text = buffer.getvalue()
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "latin-1"]))
    return text.encode(encoding, errors="replace")


CELLS = st.one_of(
    st.none(),
    TEXT.map(lambda s: ILLEGAL_CHARACTERS_RE.sub("", s)),
    st.integers(min_value=-(10**15), max_value=10**15),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.datetimes(min_value=dt.datetime(1900, 3, 1), max_value=dt.datetime(9999, 12, 31)),
    st.dates(min_value=dt.date(1900, 3, 1), max_value=dt.date(9999, 12, 31)),
)


@st.composite
def _xlsx_bytes(draw: st.DrawFn, columns: tuple[str, ...]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append([ILLEGAL_CHARACTERS_RE.sub("", h) for h in draw(_header(columns))])
    for row in draw(st.lists(st.lists(CELLS, max_size=len(columns) + 1), max_size=6)):
        sheet.append(row)
    # What Excel users and report generators add: titles above the header, merged ranges,
    # formulas (never calculated here: openpyxl saves no result), hidden rows.
    if draw(st.booleans()):
        sheet.insert_rows(1, draw(st.integers(min_value=1, max_value=3)))
        sheet["A1"] = ILLEGAL_CHARACTERS_RE.sub("", draw(TEXT)) or "Report"
    if draw(st.booleans()):
        sheet.cell(draw(st.integers(1, 8)), draw(st.integers(1, 4)), "=1+1")
    for _ in range(draw(st.integers(min_value=0, max_value=2))):
        row, col = draw(st.integers(1, 8)), draw(st.integers(1, 4))
        sheet.merge_cells(
            start_row=row,
            start_column=col,
            end_row=row + draw(st.integers(0, 3)),
            end_column=col + draw(st.integers(0, 2)),
        )
    if draw(st.booleans()):
        sheet.row_dimensions[draw(st.integers(1, 8))].hidden = True
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _directory() -> SourceResult:
    accounts = TABLES["accounts"].conform(
        pd.DataFrame(
            {
                "account_id": ["corp:alice"],
                "system": "corp",
                "native_id": ["S-1-5-21-1000-2000-3000-1105"],
                "login": ["alice"],
                "sid": ["S-1-5-21-1000-2000-3000-1105"],
                "kind": "user",
                "enabled": True,
            }
        )
    )
    return SourceResult("corp", "active-directory", {"accounts": accounts})


def _read_within_bounds(connector: str, data: bytes, suffix: str) -> None:
    """Read ``data`` as ``connector``'s file; valid tables or a located SourceError."""
    collect, _, options = READERS[connector]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"export{suffix}"
        path.write_bytes(data)
        settings_ = SourceSettings(
            name="src", connector=connector, path=path, options=options, base_dir=Path(folder)
        )
        manifest = find_manifests()[connector]
        peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        try:
            result = collect(settings_, manifest, CollectContext(as_of=AS_OF))
            for name, frame in result.tables.items():
                TABLES[name].check(frame)
            if result.references is not None:
                REFERENCES.check(result.references)
            for resolved in resolve_references([_directory(), result]):
                for name, frame in resolved.tables.items():
                    TABLES[name].check(frame)
        except SourceError as error:
            refused: SourceError | None = error
        else:
            refused = None
        elapsed = time.perf_counter() - started
        growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before
        if refused is not None:
            assert refused.location, f"no location in {refused}"
        assert elapsed < SECONDS, f"{connector} took {elapsed:.1f} s"
        assert growth < PEAK_GROWTH_KIB, f"{connector} grew the peak by {growth / 1024:.0f} MiB"


def _each_connector(strategy: Callable[[tuple[str, ...]], st.SearchStrategy[bytes]]) -> Any:
    return st.sampled_from(sorted(READERS)).flatmap(
        lambda name: st.tuples(st.just(name), strategy(READERS[name][1]))
    )


@PROPERTY
@given(case=_each_connector(_csv_bytes))
def test_any_csv_gives_valid_tables_or_a_located_source_error(case: tuple[str, bytes]) -> None:
    connector, data = case
    _read_within_bounds(connector, data, ".csv")


@PROPERTY
@given(case=_each_connector(_xlsx_bytes))
def test_any_xlsx_gives_valid_tables_or_a_located_source_error(case: tuple[str, bytes]) -> None:
    connector, data = case
    _read_within_bounds(connector, data, ".xlsx")


@PROPERTY
@given(
    connector=st.sampled_from(sorted(READERS)),
    data=st.binary(max_size=600),
    suffix=st.sampled_from([".csv", ".xlsx"]),
)
def test_any_bytes_give_valid_tables_or_a_located_source_error(
    connector: str, data: bytes, suffix: str
) -> None:
    _read_within_bounds(connector, data, suffix)


ICACLS_IDENTITIES = st.sampled_from(
    [
        "NT AUTHORITY\\SYSTEM",
        "BUILTIN\\Administrators",
        "CORP\\alice",
        "CORP\\Domain Users",
        "Everyone",
        "S-1-5-21-1000-2000-3000-1105",
        "Mandatory Label\\High Mandatory Level",
        "",
        ":",
    ]
)
ICACLS_GROUPS = st.lists(
    st.sampled_from(["OI", "CI", "IO", "NP", "I", "DENY", "F", "M", "RX", "N", "GR,GE", "NW"])
    | st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ,", min_size=1, max_size=6),
    min_size=0,
    max_size=4,
)


@st.composite
def _icacls_bytes(draw: st.DrawFn) -> bytes:
    """icacls-shaped text: files with indented ACEs, error lines, summaries, stray lines."""
    lines: list[str] = []
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        path = draw(st.sampled_from(["D:\\Data", "D:\\HR Data", "\\\\fs01\\finance", "X"]))
        aces = [
            f"{draw(ICACLS_IDENTITIES)}:" + "".join(f"({g})" for g in draw(ICACLS_GROUPS))
            for _ in range(draw(st.integers(min_value=1, max_value=3)))
        ]
        indent = " " * draw(st.sampled_from([len(path) + 1, len(path), 2]))
        lines += [f"{path} {aces[0]}", *(indent + ace for ace in aces[1:])]
        lines += draw(
            st.lists(st.sampled_from(["", f"{path}: Access is denied.", "x"]), max_size=2)
        )
    lines += draw(
        st.lists(
            st.sampled_from(["Successfully processed 3 files; Failed processing 1 files", ""]),
            max_size=2,
        )
    )
    text = draw(st.sampled_from(["\n", "\r\n"])).join(lines)
    return text.encode(draw(st.sampled_from(["utf-8", "utf-16", "cp850"])), errors="replace")


@PROPERTY
@given(data=_icacls_bytes())
def test_any_icacls_text_gives_valid_references_or_a_located_source_error(data: bytes) -> None:
    _read_within_bounds("ntfs-acl", data, ".txt")
