"""Files as other people's tools really write them: read right, or refused with file and line.

Each fixture is built byte for byte from the producer's public documentation, named in the
test's docstring:

* Windows PowerShell 5.1 ``Export-Csv`` (learn.microsoft.com/powershell/module/
  microsoft.powershell.utility/export-csv?view=powershell-5.1): a ``#TYPE`` line unless
  ``-NoTypeInformation``, every field quoted, CRLF, and ``-Encoding`` "The default value is
  ASCII" — each non-ASCII letter becomes ``?`` (also PowerShell's own tests,
  test/powershell/Modules/Microsoft.PowerShell.Utility/ConvertTo-Csv.Tests.ps1:
  ``#TYPE System.Management.Automation.PSCustomObject`` then ``"First","Second"``).
* PowerShell 7 ``Export-Csv`` (same page, view=powershell-7.4): no ``#TYPE`` line, UTF-8
  without a BOM (about_Character_Encoding: "PowerShell (v6 and higher) defaults to utf8NoBOM
  for all text output"), ``-UseQuotes AsNeeded`` quotes only fields with a delimiter, a
  double quote or a newline (MicrosoftDocs/PowerShell-Docs#7796).
* ``Out-File`` and ``>`` in Windows PowerShell write "UTF-16LE with BOM"
  (about_Character_Encoding, "Character encoding in Windows PowerShell").
* Excel's "CSV UTF-8 (Comma delimited)" writes a UTF-8 BOM; plain "CSV" writes the system's
  ANSI code page (cp1252 in Western Europe) with the locale's list separator (``;`` where the
  decimal separator is a comma); both CRLF, quoting per RFC 4180 (doubled quotes, line
  breaks inside quoted fields).
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from openpyxl import Workbook

from accessaudit.connectors import CollectContext, SourceResult, SourceSettings, find_manifests
from accessaudit.connectors.files import _csv, collect_grants, collect_hr, collect_inventory
from accessaudit.errors import SourceError

AS_OF = pd.Timestamp("2026-11-21", tz="UTC")


def _read(connector: str, path: Path, **options: Any) -> SourceResult:
    settings = SourceSettings(
        name="src", connector=connector, path=path, options=options, base_dir=path.parent
    )
    collect = {"hr-csv": collect_hr, "data-inventory": collect_inventory}.get(
        connector, collect_grants
    )
    return collect(settings, find_manifests()[connector], CollectContext(as_of=AS_OF))


def _hr(tmp_path: Path, data: bytes, name: str = "hr.csv", **options: Any) -> SourceResult:
    path = tmp_path / name
    path.write_bytes(data)
    return _read("hr-csv", path, **options)


def _failure(tmp_path: Path, data: bytes, **options: Any) -> SourceError:
    with pytest.raises(SourceError) as caught:
        _hr(tmp_path, data, **options)
    return caught.value


# ----------------------------------------------------------------------------- PowerShell


def test_windows_powershell_export_csv_with_type_line_and_every_field_quoted(
    tmp_path: Path,
) -> None:
    """Windows PowerShell 5.1 ``Import-Csv roster.csv | Export-Csv hr.csv`` (no switches)."""
    data = (
        b"#TYPE System.Management.Automation.PSCustomObject\r\n"
        b'"employee_id","name","status","end_date"\r\n'
        b'"1001","Ann Lee","active",""\r\n'
        b'"1002","Bob Ray","terminated","2026-01-31"\r\n'
    )
    people = _hr(tmp_path, data).tables["people"]
    assert people["person_id"].tolist() == ["1001", "1002"]
    assert people["end_date"].isna().tolist() == [True, False]


def test_ascii_export_csv_question_marks_for_letters_are_said(tmp_path: Path) -> None:
    """5.1's default ``-Encoding ASCII`` turns ``Jürgen`` into ``J?rgen``: the file reads, and
    the report says which rows lost letters (they will not match directory names)."""
    data = (
        b"#TYPE System.Management.Automation.PSCustomObject\r\n"
        b'"employee_id","name","email","status"\r\n'
        b'"1001","J?rgen Gro?","j.gross@corp.example.com","active"\r\n'
        b'"1002","Ann Lee","ann@corp.example.com","active"\r\n'
    )
    report = _hr(tmp_path, data).report
    assert any("hr.csv:3" in w and "-Encoding UTF8" in w for w in report["warnings"])
    assert not any("hr.csv:4" in w for w in report["warnings"])


def test_powershell_7_export_csv_utf8_without_bom_and_quotes_as_needed(tmp_path: Path) -> None:
    """PowerShell 7 ``Export-Csv -UseQuotes AsNeeded``: UTF-8 without BOM, no ``#TYPE``."""
    data = (
        "employee_id,name,title,status\r\n"
        '1001,Jürgen Groß,"Head of Accounts, DACH",active\r\n'
        '1002,"Zoë ""Zee"" Ng",Analyst,active\r\n'
    ).encode()
    people = _hr(tmp_path, data).tables["people"]
    assert people["name"].tolist() == ["Jürgen Groß", 'Zoë "Zee" Ng']
    assert people["title"].tolist() == ["Head of Accounts, DACH", "Analyst"]


def test_out_file_redirection_utf16le_with_bom_is_read(tmp_path: Path) -> None:
    """``ConvertTo-Csv ... > hr.csv`` in Windows PowerShell: UTF-16LE with a BOM, CRLF."""
    text = (
        "#TYPE System.Management.Automation.PSCustomObject\r\n"
        '"employee_id","name","status"\r\n"1001","Jürgen Groß","active"\r\n'
        '"1002","Ann Lee","bogus"\r\n'
    )
    data = b"\xff\xfe" + text.encode("utf-16-le")
    error = _failure(tmp_path, data)
    assert error.location == "hr.csv:4"  # lines count from the #TYPE line, through UTF-16
    good = _hr(tmp_path, data.replace("bogus".encode("utf-16-le"), "leave".encode("utf-16-le")))
    assert good.tables["people"]["name"].tolist() == ["Jürgen Groß", "Ann Lee"]


# ----------------------------------------------------------------------------- Excel


def test_excel_csv_utf8_with_bom_multiline_quoted_values_keep_their_lines(tmp_path: Path) -> None:
    """Excel "CSV UTF-8": BOM, CRLF, a cell with Alt+Enter line breaks and doubled quotes."""
    data = (
        "\ufeffemployee_id,name,title,status\r\n"
        '1001,"Ann ""Nan"" Lee","Controller\r\nFinance\r\nEMEA",active\r\n'
        "1002,Bob Ray,Clerk,gone\r\n"
    ).encode()
    error = _failure(tmp_path, data)
    assert error.location == "hr.csv:5"  # the record after a three-line value
    people = _hr(tmp_path, data.replace(b"gone", b"leave")).tables["people"]
    assert people.loc[0, "name"] == 'Ann "Nan" Lee'
    assert people.loc[0, "title"] == "Controller\nFinance\nEMEA"


def test_excel_european_csv_semicolons_and_cp1252_letters(tmp_path: Path) -> None:
    """Excel "CSV (semicolon)" on a German Windows: ``;``, cp1252 ``ü ß €``, CRLF."""
    data = ("employee_id;name;department;status\r\n1001;Jürgen Groß;Büro €;active\r\n").encode(
        "cp1252"
    )
    undeclared = _failure(tmp_path, data, delimiter=";")
    assert undeclared.location == "hr.csv:2" and 'encoding = "cp1252"' in str(undeclared)
    assert 'delimiter = ";"' in str(_failure(tmp_path, data, encoding="cp1252"))
    people = _hr(tmp_path, data, delimiter=";", encoding="cp1252").tables["people"]
    assert people.loc[0, "name"] == "Jürgen Groß" and people.loc[0, "department"] == "Büro €"


def test_european_thousands_separator_in_retention_days_is_refused(tmp_path: Path) -> None:
    """Excel in a German locale writes one thousand as ``1.000`` (decimal comma, dot for
    thousands): read as a number that is one day. Refused by row; ``365`` and ``365.0``
    (pandas' float export) stay fine."""
    path = tmp_path / "inventory.csv"
    path.write_bytes(b"resource;retention_days\r\nHR;1.000\r\nWiki;365\r\nCRM;365.0\r\n")
    with pytest.raises(SourceError) as caught:
        _read("data-inventory", path, delimiter=";")
    assert caught.value.location == "inventory.csv:2" and "thousands" in str(caught.value)
    path.write_bytes(b"resource;retention_days\r\nWiki;365\r\nCRM;365.0\r\n")
    days = _read("data-inventory", path, delimiter=";").tables["resources"]["retention_days"]
    assert days.tolist() == [365, 365]


def test_cp1252_declared_for_a_utf8_file_is_refused_not_read_as_mojibake(tmp_path: Path) -> None:
    data = "employee_id;name;status\r\n1001;Jürgen Groß;active\r\n".encode()
    error = _failure(tmp_path, data, delimiter=";", encoding="cp1252")
    assert "UTF-8" in str(error) and "remove encoding" in str(error)
    error = _failure(tmp_path, b"\xef\xbb\xbf" + data, delimiter=";", encoding="latin-1")
    assert "UTF-8" in str(error)


def test_trailing_empty_columns_and_rows_excel_leaves_are_ignored(tmp_path: Path) -> None:
    """A sheet whose formatting spreads past the data saves as ``,,,`` rows and columns."""
    data = b"employee_id,name,status,,\r\n1001,Ann,active,,\r\n,,,,\r\n;;;;\r\n,,,,\r\n"
    with pytest.raises(SourceError):  # ";;;;" is a value, not an empty row
        _hr(tmp_path, data)
    people = _hr(tmp_path, data.replace(b";;;;\r\n", b"")).tables["people"]
    assert people["person_id"].tolist() == ["1001"]


def test_header_with_spaces_and_other_case_is_read(tmp_path: Path) -> None:
    people = _hr(tmp_path, b" Employee_ID , NAME ,Status \r\n1001,Ann,active\r\n")
    assert people.tables["people"]["name"].tolist() == ["Ann"]


def test_header_repeated_inside_the_file_is_skipped_and_said(tmp_path: Path) -> None:
    """Two exports joined with ``cat`` or ``>>``: the second header and its ``#TYPE`` line
    are not data (an inventory has no rule that would refuse ``resource`` as a name)."""
    data = (
        b"#TYPE System.Management.Automation.PSCustomObject\r\n"
        b'"resource","sensitivity"\r\n"HR share","restricted"\r\n'
        b"#TYPE System.Management.Automation.PSCustomObject\r\n"
        b'"Resource","Sensitivity"\r\n"Wiki","internal"\r\n'
    )
    path = tmp_path / "inventory.csv"
    for joined in (data, data.replace(b"\r\n#TYPE", b"\r\n\xef\xbb\xbf#TYPE")):
        path.write_bytes(joined)  # the second file may bring its own UTF-8 BOM along
        assert _read("data-inventory", path).tables["resources"]["name"].tolist() == [
            "HR share",
            "Wiki",
        ]
    result = _read("data-inventory", path)
    said = " ".join(result.report["warnings"])
    assert "2 repeated header" in said and "inventory.csv:5" in said


def test_excel_error_values_are_refused_naming_every_cell(tmp_path: Path) -> None:
    """A ``VLOOKUP`` that found nothing saves as ``#N/A``; its real value is unknown."""
    data = (
        b"employee_id,name,status,department\r\n1,A,active,#N/A\r\n2,B,active,IT\r\n3,C,#REF!,x\r\n"
    )
    error = _failure(tmp_path, data)
    assert error.location == "hr.csv:2" and "Excel error value" in str(error)
    assert error.failures is not None
    assert error.failures["location"].tolist() == ["hr.csv:2", "hr.csv:4"]


def test_placeholders_for_no_value_are_read_as_empty_and_counted(tmp_path: Path) -> None:
    """HR exports write ``N/A``, ``-`` or ``NULL`` for an empty optional field."""
    data = (
        b"employee_id,name,status,end_date,manager_id\r\n"
        b"1,A,active,N/A,-\r\n2,B,active,-,1\r\n3,C,terminated,2026-01-31,NULL\r\n"
    )
    result = _hr(tmp_path, data)
    people = result.tables["people"]
    assert people["end_date"].isna().tolist() == [True, True, False]
    assert people["manager_id"].isna().tolist() == [True, False, True]
    said = " ".join(result.report["warnings"])
    assert "2 in 'end_date'" in said and "2 in 'manager_id'" in said


def test_placeholder_in_a_required_column_is_not_a_value(tmp_path: Path) -> None:
    error = _failure(tmp_path, b"employee_id,name,status\r\n1,A,N/A\r\n")
    assert error.location == "hr.csv:2" and "status" in str(error)


# ----------------------------------------------------------------------------- size


def test_csv_over_the_size_limit_is_refused_naming_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_csv, "MAX_CSV_BYTES", 100)
    data = b"employee_id,name,status\r\n" + b"1001,Ann,active\r\n" * 10
    error = _failure(tmp_path, data)
    assert "over the limit of 100" in str(error) and error.location == "hr.csv"


def test_a_line_of_20_mb_is_read_as_one_value(tmp_path: Path) -> None:
    """One enormous field (a pasted blob) is data like any other, with its line."""
    blob = b"x" * (20 << 20)
    data = b"employee_id,name,title,status\r\n1,A," + blob + b",active\r\n2,B,,bogus\r\n"
    error = _failure(tmp_path, data)
    assert error.location == "hr.csv:3"


# ----------------------------------------------------------------------------- xlsx
# Workbooks as Excel saves them (ECMA-376 Part 1: SpreadsheetML). A date is a serial number
# with a date number format (§18.17.4.1), which openpyxl reads back as a datetime; a formula
# cell keeps its last calculated result in <v> beside <f> (§18.3.1.40), which Excel writes on
# save and generators such as openpyxl do not; merged ranges are <mergeCell ref="D2:D4"/>
# with the value in the top-left cell only (§18.3.1.55); hidden and filtered rows are
# <row hidden="1"> (§18.3.1.73).


def _book(tmp_path: Path, rows: list[list[object]], change: Any = None) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "People"
    for row in rows:
        sheet.append(row)
    if change is not None:
        change(sheet)
    path = tmp_path / "hr.xlsx"
    book.save(path)
    return path


def _rewrite_sheet(path: Path, old: bytes, new: bytes) -> None:
    """Replace bytes in the first sheet's XML, as another writer would have written it."""
    data = io.BytesIO()
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(data, "w") as target:
        for item in source.infolist():
            part = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                assert old in part
                part = part.replace(old, new)
            target.writestr(item, part, compress_type=zipfile.ZIP_DEFLATED)
    path.write_bytes(data.getvalue())


HEADER = ["employee_id", "name", "status", "end_date"]


def _refused_book(path: Path) -> SourceError:
    with pytest.raises(SourceError) as caught:
        _read("hr-csv", path)
    return caught.value


def test_xlsx_report_title_above_the_header_is_skipped_and_said(tmp_path: Path) -> None:
    """HR report exports print the report's name (merged across the columns) and its run
    date above the header."""

    def title(sheet: Any) -> None:
        sheet.insert_rows(1, 3)
        sheet["A1"] = "All Active and Terminated Workers"
        sheet.merge_cells("A1:D1")
        sheet["A2"] = "Run 2026-11-20 06:00"

    path = _book(tmp_path, [HEADER, [1001, "Ann", "active", dt.datetime(2026, 1, 31)]], title)
    result = _read("hr-csv", path)
    people = result.tables["people"]
    assert people["end_date"].dt.date.tolist() == [dt.date(2026, 1, 31)]
    said = " ".join(result.report["warnings"])
    assert "the header is on line 4" in said and "hr.xlsx!People:1" in said


def test_xlsx_two_row_header_with_merged_group_cells_reads_the_lower_row(tmp_path: Path) -> None:
    def grouped(sheet: Any) -> None:
        sheet.insert_rows(1)
        sheet["A1"] = "Person"
        sheet["C1"] = "Employment"
        sheet.merge_cells("A1:B1")
        sheet.merge_cells("C1:D1")

    path = _book(tmp_path, [HEADER, [1001, "Ann", "active", None]], grouped)
    assert _read("hr-csv", path).tables["people"]["name"].tolist() == ["Ann"]


def test_xlsx_merged_cells_in_the_data_are_refused_not_read_as_empty(tmp_path: Path) -> None:
    rows = [[*HEADER, "department"], *([i, f"P{i}", "active", None, None] for i in range(3))]

    def merged(sheet: Any) -> None:
        sheet["E2"] = "Finance"
        sheet.merge_cells("E2:E4")

    error = _refused_book(_book(tmp_path, rows, merged))
    assert error.location == "hr.xlsx!People:2" and "E2:E4" in str(error)


def test_xlsx_hidden_and_filtered_rows_are_read_and_said(tmp_path: Path) -> None:
    rows = [HEADER, [1, "A", "active", None], [2, "B", "terminated", "2026-01-31"]]

    def hide(sheet: Any) -> None:
        sheet.row_dimensions[3].hidden = True

    result = _read("hr-csv", _book(tmp_path, rows, hide))
    assert result.tables["people"]["status"].astype(str).tolist() == ["active", "terminated"]
    assert any("hr.xlsx!People:3" in w and "hidden" in w for w in result.report["warnings"])


def test_xlsx_formula_with_a_saved_result_is_read_and_without_one_refused(
    tmp_path: Path,
) -> None:
    formula = '=TEXT(DATE(2026,1,31),"yyyy-mm-dd")'
    path = _book(tmp_path, [HEADER, [1, "A", "terminated", formula]])
    error = _refused_book(path)
    assert error.location == "hr.xlsx!People:2" and "no saved value" in str(error)
    # Excel's own save keeps the result beside the formula.
    _rewrite_sheet(path, b'<c r="D2">', b'<c r="D2" t="str">')
    _rewrite_sheet(path, b"<v></v>", b"<v>2026-01-31</v>")
    people = _read("hr-csv", path).tables["people"]
    assert people["end_date"].dt.date.tolist() == [dt.date(2026, 1, 31)]


def test_xlsx_error_cell_is_refused_naming_its_row(tmp_path: Path) -> None:
    path = _book(tmp_path, [[*HEADER, "manager_id"], [1, "A", "active", None, 7]])
    _rewrite_sheet(path, b'<c r="E2" t="n"><v>7</v></c>', b'<c r="E2" t="e"><v>#N/A</v></c>')
    error = _refused_book(path)
    assert error.location == "hr.xlsx!People:2" and "#N/A" in str(error)


def test_xlsx_dates_as_date_cells_read_and_bare_serial_numbers_refused(tmp_path: Path) -> None:
    """A date typed in Excel is a serial with a date format; a serial in a General cell is
    a number, and which date it means is not guessed."""
    path = _book(tmp_path, [HEADER, [1, "A", "terminated", dt.date(2026, 1, 31)]])
    assert _read("hr-csv", path).tables["people"]["end_date"].notna().all()
    path = _book(tmp_path, [HEADER, [1, "A", "terminated", 46053]])
    error = _refused_book(path)
    assert error.location == "hr.xlsx!People:2" and "46053" in str(error)


# ----------------------------------------------------------------------------- HR systems


def test_hr_dates_iso_with_time_and_zone_are_read(tmp_path: Path) -> None:
    """Workday and SuccessFactors OData write ``2026-01-31T00:00:00Z``-style timestamps; ISO
    dates and timestamps may be mixed in one column."""
    data = (
        b"employee_id,name,status,start_date,end_date\r\n"
        b"1,A,terminated,2019-04-01T00:00:00Z,2026-01-31T17:30:00+01:00\r\n"
        b"2,B,active,2020-02-29,\r\n"
    )
    people = _hr(tmp_path, data).tables["people"]
    assert str(people.loc[0, "end_date"]) == "2026-01-31 16:30:00+00:00"
    assert str(people.loc[1, "start_date"]) == "2020-02-29 00:00:00+00:00"


def test_hr_day_month_dates_are_never_guessed(tmp_path: Path) -> None:
    """US-locale exports (Excel, many HR report tools) write ``MM/DD/YYYY``, German ones
    ``DD.MM.YYYY``: ``01/02/2026`` is refused (naming every row) until the source says which."""
    us = (
        b"employee_id,name,status,end_date\r\n1,A,terminated,01/02/2026\r\n2,B,leave,12/31/2026\r\n"
    )
    error = _failure(tmp_path, us)
    assert error.failures is not None
    assert error.failures["location"].tolist() == ["hr.csv:2", "hr.csv:3"]
    assert "date_format" in str(error)
    people = _hr(tmp_path, us, date_format="%m/%d/%Y").tables["people"]
    assert people["end_date"].dt.strftime("%Y-%m-%d").tolist() == ["2026-01-02", "2026-12-31"]
    # Declared day-first, a US date that cannot be one is named, not swapped.
    assert _failure(tmp_path, us, date_format="%d/%m/%Y").location == "hr.csv:3"
    german = "employee_id;name;status;end_date\r\n1;Jörg;terminated;31.01.2026\r\n"
    people = _hr(
        tmp_path, german.encode("cp1252"), delimiter=";", encoding="cp1252", date_format="%d.%m.%Y"
    ).tables["people"]
    assert people["end_date"].dt.strftime("%Y-%m-%d").tolist() == ["2026-01-31"]


def test_a_year_or_month_alone_is_not_read_as_its_first_day(tmp_path: Path) -> None:
    """ISO 8601 allows reduced precision (``2026``, ``2026-02``), which a parser reads as
    1 January or 1 February: a leaver of "2026" is not one since New Year."""
    data = b"employee_id,name,status,end_date\r\n1,A,terminated,2026\r\n2,B,leave,2026-02\r\n"
    error = _failure(tmp_path, data)
    assert error.failures is not None
    assert error.failures["location"].tolist() == ["hr.csv:2", "hr.csv:3"]
    assert "not a date" in str(error)
    people = _hr(tmp_path, data.replace(b"2026-02", b"2026"), date_format="%Y").tables["people"]
    assert people["end_date"].notna().all()  # declared: the auditor said a year is meant


def test_rehired_person_listed_per_employment_keeps_the_latest(tmp_path: Path) -> None:
    """Employment-level exports list a rehired worker once per period of service (Oracle HCM:
    ``workers/{id}/child/workRelationships/{PeriodOfServiceId}``; SAP's rehire carries the
    earlier leaving date): the earlier, terminated period is skipped and said."""
    data = (
        b"employee_id,name,status,start_date,end_date\r\n"
        b"1,Ann,terminated,2019-01-01,2021-06-30\r\n"
        b"2,Bob,active,2020-01-01,\r\n"
        b"1,Ann,active,2024-03-01,\r\n"
    )
    result = _hr(tmp_path, data)
    people = result.tables["people"].set_index("person_id")
    assert people.loc["1", "status"] == "active"
    assert str(people.loc["1", "rehired_on"].date()) == "2024-03-01"
    assert result.report["earlier_employments_skipped"]["count"] == 1
    assert any("hr.csv:2" in w for w in result.report["warnings"])


def test_repeated_id_that_is_not_a_clean_rehire_is_refused(tmp_path: Path) -> None:
    """Two active rows, or periods that overlap, are not a rehire: which one holds?"""
    overlapping = (
        b"employee_id,name,status,start_date,end_date\r\n"
        b"1,Ann,terminated,2019-01-01,2024-06-30\r\n1,Ann,active,2024-03-01,\r\n"
    )
    error = _failure(tmp_path, overlapping)
    assert error.failures is not None and len(error.failures) == 2
    assert "duplicate" in str(error)


def test_roster_without_any_leaver_says_it_may_be_current_employees_only(
    tmp_path: Path,
) -> None:
    """BambooHR's report API returns current employees unless ``onlyCurrent`` is false
    (documentation.bamboohr.com, "Get company report"); leavers would then be missing."""
    result = _hr(tmp_path, b"employee_id,name,status\r\n1,A,active\r\n2,B,leave\r\n")
    assert any("no terminated people" in w for w in result.report["warnings"])
    with_leaver = _hr(tmp_path, b"employee_id,name,status\r\n1,A,terminated\r\n")
    assert not any("no terminated people" in w for w in with_leaver.report["warnings"])


def test_terminated_with_a_future_end_date_is_counted_not_a_leaver_yet(tmp_path: Path) -> None:
    data = b"employee_id,name,status,end_date\r\n1,A,terminated,2027-01-31\r\n2,B,active,\r\n"
    result = _hr(tmp_path, data)
    assert result.report["terminated_with_future_end_date"] == 1
    assert result.tables["people"]["status"].astype(str).tolist() == ["terminated", "active"]


def test_workbook_saved_under_a_csv_name_is_named_as_a_workbook(tmp_path: Path) -> None:
    """ "Export to Excel" files renamed .csv, and legacy .xls (an OLE2 compound file)."""
    book = Workbook()
    buffer = io.BytesIO()
    book.save(buffer)
    error = _failure(tmp_path, buffer.getvalue())
    assert "name it .xlsx" in str(error) and error.location == "hr.csv"
    error = _failure(tmp_path, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512)
    assert "legacy Excel .xls" in str(error)


def test_excel_sep_hint_line_declares_the_delimiter(tmp_path: Path) -> None:
    """Files made for Excel in any locale start with ``sep=;`` (Excel reads it as the list
    separator to use): the declared delimiter is used, and lines still count from the top."""
    data = b"sep=;\r\nemployee_id;name;status\r\n1001;Ann;active\r\n1002;Bob;bogus\r\n"
    assert _failure(tmp_path, data).location == "hr.csv:4"
    people = _hr(tmp_path, data.replace(b"bogus", b"leave")).tables["people"]
    assert people["name"].tolist() == ["Ann", "Bob"]
    assert "declares sep=;" in str(_failure(tmp_path, data, delimiter=","))


def test_xlsx_table_starting_lower_down_keeps_its_sheet_rows(tmp_path: Path) -> None:
    """A table placed at B3 (blank rows and column before it) reads with real row numbers."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "People"
    for row, values in ((3, HEADER[:3]), (4, [1001, "Ann", "active"]), (7, [1002, "Bob", "x"])):
        for column, value in enumerate(values, start=2):
            sheet.cell(row, column, value)
    book.save(tmp_path / "hr.xlsx")
    assert _refused_book(tmp_path / "hr.xlsx").location == "hr.xlsx!People:7"


def test_powershell_list_written_as_its_type_name_is_refused(tmp_path: Path) -> None:
    """``Get-ADGroup ... | Select Name, Members | Export-Csv`` writes a list-valued property
    as its .NET type name (``ToString()`` of the collection), so the values are not there."""
    data = (
        b'"principal","resource","right"\r\n'
        b'"Microsoft.ActiveDirectory.Management.ADPropertyValueCollection","ERP","read"\r\n'
        b'"CORP\\alice","System.Object[]","read"\r\n"CORP\\bob","Microsoft.Dynamics","read"\r\n'
    )
    path = tmp_path / "grants.csv"
    path.write_bytes(data)
    with pytest.raises(SourceError) as caught:
        _read("grants-csv", path)
    assert caught.value.failures is not None
    assert caught.value.failures["location"].tolist() == ["grants.csv:2", "grants.csv:3"]
    assert "-join" in str(caught.value)


def test_line_numbers_stay_right_past_the_csv_modules_field_limit(tmp_path: Path) -> None:
    """A value over Python's csv field limit (131,072 characters) and a value spanning
    lines in one file: the bad row is still named by its real line."""
    blob = b"x" * 200_000
    data = (
        b'employee_id,name,title,status\r\n1,A,"' + blob + b'",active\r\n'
        b'2,B,"two\r\nlines",active\r\n3,C,,bogus\r\n'
    )
    assert _failure(tmp_path, data).location == "hr.csv:5"


def test_long_id_excel_saved_in_scientific_notation_is_refused(tmp_path: Path) -> None:
    """A CSV of 12-digit ids opened in Excel and saved again holds ``1.23457E+11``
    (Microsoft, "Long numbers are displayed incorrectly in Excel"): the id is gone."""
    data = b"employee_id,name,status\r\n123456789012,A,active\r\n1.23457E+11,B,active\r\n"
    error = _failure(tmp_path, data)
    assert error.location == "hr.csv:3" and "scientific notation" in str(error)
