"""Which writer to stream the Excel report with: measured, same data, same run.

Writes the report's big sheets (Findings, one sheet per rule that fired, Accounts, Access) of a
snapshot saved by ``audit_bench.py --keep DIR`` with each writer, each run in a fresh process,
interleaved:

* ``streamed``  ``reports.xlsx.ReportBook``: openpyxl's public API writes the workbook and its
                formatting, our SpreadsheetML rows are streamed into its sheet parts
* ``previous``  (with ``--previous-src SRC``) the writer of another source tree, e.g. main's
                ``write_frame``: column-converted row XML handed to openpyxl's write-only
                internals (``openpyxl<3.2``)
* ``openpyxl``  openpyxl's public write-only API: ``sheet.append`` of cells from
                ``cell_value`` / ``severity_cell``
* ``xlsxwriter`` xlsxwriter in ``constant_memory`` mode, strings never formulas, numbers or
                links, one ``write_string`` / ``write_number`` / ``write_datetime`` /
                ``write_boolean`` per cell with the type chosen once per column

    python bench/audit_bench.py --keep /tmp/bench --no-baseline     # makes /tmp/bench
    git archive main src | tar -x -C /tmp/main-src
    python bench/excel_bench.py /tmp/bench --runs 3 --previous-src /tmp/main-src/src
    python bench/excel_bench.py /tmp/bench --runs 1 --check --previous-src /tmp/main-src/src

``--check`` compares every cell of each workbook with the first writer's (value, data type,
number format, fill colour, bold and font colour), read back with openpyxl.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import itertools
import json
import math
import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

WRITERS = ("streamed", "previous", "openpyxl", "xlsxwriter")


def report_frames(work: Path) -> dict[str, pd.DataFrame]:
    """The sheets of the report as ``write_report`` builds them (Summary left out)."""
    from accessaudit.audit import run_audit
    from accessaudit.policy import Policy
    from accessaudit.reports import excel
    from accessaudit.rules import RULES
    from accessaudit.snapshot import Snapshot

    snapshot = Snapshot.load(work / "snapshot")
    policy = Policy.from_mapping(json.loads((work / "policy.json").read_text()), origin="p")
    result = run_audit(snapshot, policy)
    findings = result.findings.loc[:, list(excel._FINDING_WIDTHS)]
    frames = {"Findings": findings}
    for rule_id in RULES:
        part = findings[findings["rule"] == rule_id]
        if len(part):
            frames[rule_id] = excel._spread_evidence(part)
    frames["Accounts"] = excel._accounts_table(snapshot)
    frames["Access"] = excel._access_table(snapshot)
    return frames


def write_streamed(frames: dict[str, pd.DataFrame], path: Path) -> None:
    from accessaudit.reports.xlsx import ReportBook

    book = ReportBook()
    for name, frame in frames.items():
        book.write_frame(name, frame, severity=["severity"])
    book.save(path)


def write_previous(frames: dict[str, pd.DataFrame], path: Path) -> None:
    """main's writer (2026-12-03): ``write_frame`` through openpyxl's write-only internals."""
    from openpyxl import Workbook

    from accessaudit.reports import xlsx

    book = Workbook(write_only=True)
    styles = xlsx.CellStyles()  # type: ignore[attr-defined]
    for name, frame in frames.items():
        xlsx.write_frame(  # type: ignore[attr-defined]
            book.create_sheet(name), frame, special={"severity": styles.severity}, styles=styles
        )
    xlsx.atomic_save(book, path)  # type: ignore[attr-defined]


def write_openpyxl(frames: dict[str, pd.DataFrame], path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font, PatternFill

    from accessaudit.reports._sheetdata import clean_text, display_text
    from accessaudit.reports.xlsx import DATE_FORMAT, SEVERITY_COLOURS, rows_of

    book = Workbook(write_only=True)
    header_font, header_fill = Font(bold=True, color="FFFFFF"), PatternFill("solid", "1F3864")
    severity = {
        word: (Font(bold=True, color="FFFFFF" if word in ("critical", "high") else "000000"),
               PatternFill("solid", fgColor=colour))
        for word, colour in SEVERITY_COLOURS.items()
    }  # fmt: skip

    def cell(sheet: Any, value: object, styled: bool = False) -> Any:
        if value is None or value is pd.NA or value is pd.NaT:
            return None
        if isinstance(value, float) and math.isnan(value):
            return None
        if isinstance(value, pd.Timestamp | dt.datetime):
            stamp = pd.Timestamp(value)
            if stamp.tzinfo is not None:
                stamp = stamp.tz_convert("UTC").tz_localize(None)
            made = WriteOnlyCell(sheet, value=stamp.to_pydatetime())
            made.number_format = DATE_FORMAT
            return made
        if isinstance(value, bool | int | float | np.number):
            return value
        text = clean_text(display_text(value))
        made = WriteOnlyCell(sheet)
        made.value, made.data_type = text, "s"  # never a formula or an error
        if styled and text in severity:
            made.font, made.fill = severity[text]
        return made

    for name, frame in frames.items():
        sheet = book.create_sheet(name)
        header = []
        for column in frame.columns:
            made = cell(sheet, str(column))
            made.font, made.fill = header_font, header_fill
            header.append(made)
        sheet.append(header)
        styled = [c == "severity" for c in frame.columns]
        for values in rows_of(frame):
            sheet.append([cell(sheet, v, s) for v, s in zip(values, styled, strict=True)])
    book.save(path)


def write_xlsxwriter(frames: dict[str, pd.DataFrame], path: Path) -> None:
    import xlsxwriter

    from accessaudit.reports._sheetdata import display_text
    from accessaudit.reports.xlsx import DATE_FORMAT, SEVERITY_COLOURS

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(
        buffer,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
        },
    )
    header = book.add_format({"bold": True, "font_color": "#FFFFFF", "bg_color": "#1F3864"})
    date = book.add_format({"num_format": DATE_FORMAT})
    severity = {
        word: book.add_format(
            {"bg_color": "#" + colour, "bold": True,
             "font_color": "#FFFFFF" if word in ("critical", "high") else "#000000"}
        )
        for word, colour in SEVERITY_COLOURS.items()
    }  # fmt: skip
    for name, frame in frames.items():
        sheet = book.add_worksheet(name)
        sheet.write_row(0, 0, [str(c) for c in frame.columns], header)
        columns = []
        for column in frame.columns:
            values = frame[column]
            if isinstance(values.dtype, pd.DatetimeTZDtype):
                naive = values.dt.tz_convert("UTC").dt.tz_localize(None)
                columns.append([None if pd.isna(v) else v for v in naive.dt.to_pydatetime()])
            else:
                columns.append(values.astype(object).tolist())
        text, number, when, truth = (
            sheet.write_string,
            sheet.write_number,
            sheet.write_datetime,
            sheet.write_boolean,
        )
        severity_at = [i for i, c in enumerate(frame.columns) if c == "severity"]
        for row, cells in enumerate(zip(*columns, strict=True), start=1):
            for at, value in enumerate(cells):
                kind = type(value)
                if kind is str:
                    if not value:  # an empty text cell reads back as no value: write none
                        continue
                    text(row, at, value, severity.get(value) if at in severity_at else None)
                elif value is None or value is pd.NA or value is pd.NaT:
                    continue
                elif kind is bool or kind is np.bool_:
                    truth(row, at, bool(value))
                elif kind is float and math.isnan(value):
                    continue
                elif kind in (int, float) or isinstance(value, np.number):
                    number(row, at, value)
                elif isinstance(value, dt.datetime):
                    when(row, at, value, date)
                elif shown := display_text(value):  # an empty list shows nothing
                    text(row, at, shown)
    book.close()
    path.write_bytes(buffer.getvalue())


def _cells(path: Path) -> Iterator[tuple[Any, ...]]:
    """Every non-empty cell: sheet, row, column, value, type, number format, fill, font."""
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True)
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.value is not None:
                    # Colours without their alpha byte, which Excel ignores in fills and
                    # fonts (openpyxl writes 00, xlsxwriter FF as Excel does).
                    font = cell.font.color.rgb if cell.font.color is not None else None
                    yield (
                        sheet.title, cell.row, cell.column, cell.value, cell.data_type,
                        cell.number_format, _rgb(cell.fill.fgColor.rgb), bool(cell.font.b),
                        _rgb(font),
                    )  # fmt: skip


def _rgb(colour: object) -> object:
    return colour[2:] if isinstance(colour, str) and len(colour) == 8 else None


def _compare(reference: Path, other: Path) -> tuple[int, int, list[tuple[Any, ...]]]:
    """Cells compared, cells different, and the first few differences (cell pairs)."""
    compared, different, examples = 0, 0, []
    for mine, theirs in itertools.zip_longest(_cells(reference), _cells(other)):
        compared += 1
        if mine != theirs:
            different += 1
            if len(examples) < 5:
                examples.append((mine, theirs))
    return compared, different, examples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("work", type=Path, help="folder of audit_bench.py --keep")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--check", action="store_true", help="compare every cell with streamed")
    parser.add_argument("--previous-src", type=Path, help="src folder of the previous writer")
    parser.add_argument("--writers", nargs="+", choices=WRITERS, help="which (default: all)")
    parser.add_argument("--only", choices=WRITERS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    writers = [
        w for w in (args.writers or WRITERS) if w != "previous" or args.previous_src is not None
    ]
    if args.only:
        frames = report_frames(args.work)
        rows = sum(len(f) for f in frames.values())
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        started, cpu = time.perf_counter(), time.process_time()
        globals()[f"write_{args.only}"](frames, args.work / f"excel-{args.only}.xlsx")
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            json.dumps(
                {"seconds": seconds, "cpu": cpu, "rows": rows, "peak_mb": peak,
                 "peak_before_mb": before}
            )
        )  # fmt: skip
        return 0
    figures: dict[str, list[dict[str, float]]] = {w: [] for w in writers}
    for run in range(args.runs):
        for writer in writers:
            env = dict(os.environ)
            if writer == "previous":
                env["PYTHONPATH"] = str(args.previous_src.resolve())
            child = subprocess.run(
                [sys.executable, __file__, str(args.work), "--only", writer],
                capture_output=True, text=True, check=True, env=env,
            )  # fmt: skip
            figures[writer].append(json.loads(child.stdout.strip().splitlines()[-1]))
            print(f"run {run + 1} {writer:<10} {figures[writer][-1]}", flush=True)
    for writer, runs in figures.items():
        wall = sorted(r["seconds"] for r in runs)
        cpu = sorted(r["cpu"] for r in runs)
        print(
            f"{writer:<10} wall {wall[len(wall) // 2]:6.2f} s ({wall[0]:.2f}-{wall[-1]:.2f})"
            f"  cpu {cpu[len(cpu) // 2]:6.2f} s ({cpu[0]:.2f}-{cpu[-1]:.2f})"
            f"  rows {runs[0]['rows']:,}  peak {max(r['peak_mb'] for r in runs):,.0f} MB"
            f" (before writing {max(r['peak_before_mb'] for r in runs):,.0f} MB)"
        )
    if args.check:
        reference = args.work / f"excel-{writers[0]}.xlsx"
        for writer in writers[1:]:
            compared, different, examples = _compare(reference, args.work / f"excel-{writer}.xlsx")
            print(f"{writer} vs {writers[0]}: {compared:,} cells, {different:,} different")
            for example in examples:
                print("   ", example)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
