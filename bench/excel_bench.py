"""Which writer to stream the Excel report with: measured, same data, same run.

Writes the report's big sheets (Findings, one sheet per rule that fired, Accounts, Access) of a
snapshot saved by ``audit_bench.py --keep DIR`` with three writers, each run in a fresh process,
interleaved:

* ``current``   ``reports.xlsx.write_frame``: column-converted row XML handed to openpyxl's
                write-only writer (relies on its private internals, hence ``openpyxl<3.2``)
* ``openpyxl``  openpyxl's public write-only API: ``sheet.append`` of cells from
                ``CellStyles.value`` / ``.severity`` (the per-cell path the current writer
                replaced)
* ``xlsxwriter`` xlsxwriter in ``constant_memory`` mode, strings never formulas, numbers or
                links, one ``write_string`` / ``write_number`` / ``write_datetime`` /
                ``write_boolean`` per cell with the type chosen once per column

    python bench/audit_bench.py --keep /tmp/bench --no-baseline     # makes /tmp/bench
    python bench/excel_bench.py /tmp/bench --runs 3
    python bench/excel_bench.py /tmp/bench --check   # same values and types in all three
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import math
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

WRITERS = ("current", "openpyxl", "xlsxwriter")


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


def write_current(frames: dict[str, pd.DataFrame], path: Path) -> None:
    from openpyxl import Workbook

    from accessaudit.reports.xlsx import CellStyles, atomic_save, write_frame

    book = Workbook(write_only=True)
    styles = CellStyles()
    for name, frame in frames.items():
        write_frame(
            book.create_sheet(name), frame, special={"severity": styles.severity}, styles=styles
        )
    atomic_save(book, path)


def write_openpyxl(frames: dict[str, pd.DataFrame], path: Path) -> None:
    from openpyxl import Workbook

    from accessaudit.reports.xlsx import CellStyles, atomic_save, header_row, rows_of

    book = Workbook(write_only=True)
    styles = CellStyles()
    for name, frame in frames.items():
        sheet = book.create_sheet(name)
        sheet.append(header_row(sheet, [str(c) for c in frame.columns]))
        makers = [styles.severity if c == "severity" else styles.value for c in frame.columns]
        for values in rows_of(frame):
            sheet.append([make(sheet, v) for make, v in zip(makers, values, strict=True)])
    atomic_save(book, path)


def write_xlsxwriter(frames: dict[str, pd.DataFrame], path: Path) -> None:
    import xlsxwriter

    from accessaudit.reports.xlsx import DATE_FORMAT, SEVERITY_COLOURS, cell_value

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
                else:
                    made = cell_value(None, value)
                    text(row, at, made if isinstance(made, str) else str(made.value))
    book.close()
    path.write_bytes(buffer.getvalue())


def _cells(path: Path) -> list[tuple[Any, ...]]:
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True)
    return [
        (sheet.title, cell.row, cell.column, cell.value, cell.data_type)
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.value is not None
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("work", type=Path, help="folder of audit_bench.py --keep")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--check", action="store_true", help="compare cells of the three")
    parser.add_argument("--only", choices=WRITERS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.only:
        frames = report_frames(args.work)
        rows = sum(len(f) for f in frames.values())
        started, cpu = time.perf_counter(), time.process_time()
        globals()[f"write_{args.only}"](frames, args.work / f"excel-{args.only}.xlsx")
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({"seconds": seconds, "cpu": cpu, "rows": rows, "peak_mb": peak}))
        return 0
    figures: dict[str, list[dict[str, float]]] = {w: [] for w in WRITERS}
    for run in range(args.runs):
        for writer in WRITERS:
            child = subprocess.run(
                [sys.executable, __file__, str(args.work), "--only", writer],
                capture_output=True, text=True, check=True,
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
        )
    if args.check:
        reference = _cells(args.work / "excel-current.xlsx")
        for writer in WRITERS[1:]:
            other = _cells(args.work / f"excel-{writer}.xlsx")
            # openpyxl alone makes the source text "#N/A" an error cell; the others keep text.
            same = [c for c in other if c[3] != "#N/A"] == [c for c in reference if c[3] != "#N/A"]
            print(f"cells of {writer} equal to current (values and types): {same}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
