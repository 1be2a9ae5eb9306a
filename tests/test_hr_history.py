"""HR history and contract columns: the roster's own columns, and a job-history report.

The job-history file below follows the shape of SAP SuccessFactors Employee Central's
``EmpJob`` records exported as CSV (one row per assignment period: ``userId``,
``startDate``, ``endDate``, ``department``, ``jobTitle``, ``managerId``, ``event``), mapped
with ``job_history_columns``; a Workday worker job-history report maps the same way.
"""

# ruff: noqa: E501  (the HR exports read best one record per line)

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from accessaudit.collection import collect
from accessaudit.config import load_config
from accessaudit.connectors import find_manifests
from accessaudit.connectors.base import CollectContext, SourceResult, SourceSettings
from accessaudit.connectors.files import collect_hr
from accessaudit.errors import SourceError
from accessaudit.model import TABLES

AS_OF = pd.Timestamp("2026-11-21", tz="UTC")
ROSTER = """employee_id,name,email,department,title,manager_id,status,worker_type,start_date,end_date,previous_department,moved_on,contract_end,sponsor_id
E1,Ann Lee,ann@example.com,Marketing,Designer,E9,active,employee,2019-04-01,,,,,
E2,Bo Chan,bo@example.com,Sales,Account Executive,E9,active,employee,2018-01-08,,Finance,2026-06-01,,
E3,Cy Dean,cy@example.com,IT,Consultant,E9,active,contractor,2026-01-05,,,,2026-12-01,E9
E4,Di Eng,di@example.com,Finance,Accountant,E9,active,employee,2012-02-01,,,,,
E9,Max Boss,max@example.com,Executive,CEO,,active,employee,2010-01-01,,,,,
"""
HISTORY = """userId,startDate,endDate,department,jobTitle,managerId,event
E1,2019-04-01,2026-08-31,Finance,Accountant,E8,Hire
E1,2026-09-01,,Marketing,Designer,E9,Transfer
E2,2018-01-08,2026-05-31,HR,Recruiter,E8,Hire
E2,2026-06-01,,Sales,Account Executive,E9,Transfer
E4,2012-02-01,2019-12-31,Finance,Clerk,E8,Hire
E4,2020-01-01,2023-06-30,Finance,Accountant,E8,Promotion
E4,2025-03-01,,Finance,Accountant,E9,Rehire
E7,2024-01-01,,Legal,Counsel,E9,Hire
E1,2027-01-01,,Sales,Designer,E9,Transfer
"""
SF_COLUMNS = {
    "employee_id": "userId",
    "start_date": "startDate",
    "end_date": "endDate",
    "title": "jobTitle",
    "manager_id": "managerId",
}


def _hr(tmp_path: Path, roster: str = ROSTER, **options: Any) -> SourceResult:
    (tmp_path / "hr.csv").write_text(roster, encoding="utf-8")
    settings = SourceSettings(
        name="hr", connector="hr-csv", path=tmp_path / "hr.csv", options=options,
        base_dir=tmp_path,
    )  # fmt: skip
    return collect_hr(settings, find_manifests()["hr-csv"], CollectContext(as_of=AS_OF))


def test_roster_history_and_contract_columns_are_read(tmp_path: Path) -> None:
    people = _hr(tmp_path).tables["people"].set_index("person_id")
    assert people.loc["E2", "previous_department"] == "Finance"
    assert people.loc["E2", "moved_on"] == pd.Timestamp("2026-06-01", tz="UTC")
    assert people.loc["E3", "contract_end"] == pd.Timestamp("2026-12-01", tz="UTC")
    assert people.loc["E3", "sponsor_id"] == "E9"
    assert pd.isna(people.loc["E1", "previous_department"])


def test_roster_without_history_columns_still_reads(tmp_path: Path) -> None:
    lines = [",".join(line.split(",")[:10]) for line in ROSTER.splitlines()]
    people = _hr(tmp_path, "\n".join(lines) + "\n").tables["people"]
    assert tuple(people.columns) == TABLES["people"].column_names
    assert people["moved_on"].isna().all() and people["contract_end"].isna().all()


def test_job_history_yields_moves_and_rehires_where_the_roster_has_none(tmp_path: Path) -> None:
    (tmp_path / "job-history.csv").write_text(HISTORY, encoding="utf-8")
    result = _hr(tmp_path, job_history="job-history.csv", job_history_columns=SF_COLUMNS)
    people = result.tables["people"].set_index("person_id")
    # E1's move comes from the history (the 2027 transfer is future-dated and ignored).
    assert people.loc["E1", "previous_department"] == "Finance"
    assert people.loc["E1", "previous_title"] == "Accountant"
    assert people.loc["E1", "moved_on"] == pd.Timestamp("2026-09-01", tz="UTC")
    # E2's roster records its own move: the roster wins.
    assert people.loc["E2", "previous_department"] == "Finance"
    # E4 returned after a gap: a rehire; the promotion belongs to the earlier employment.
    assert people.loc["E4", "rehired_on"] == pd.Timestamp("2025-03-01", tz="UTC")
    assert pd.isna(people.loc["E4", "moved_on"])
    report = result.report["job_history"]
    assert (report["moves"], report["rehires"]) == (2, 1)
    assert report["unknown_people"]["count"] == 1  # E7 is not in the roster
    assert any("job history are not in the roster" in w for w in result.report["warnings"])


def test_bad_date_in_job_history_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "job-history.csv").write_text(
        HISTORY.replace("2026-09-01,,Marketing", "01/09/2026,,Marketing"), encoding="utf-8"
    )
    with pytest.raises(SourceError, match=r"job-history\.csv:3"):
        _hr(tmp_path, job_history="job-history.csv", job_history_columns=SF_COLUMNS)


def test_config_accepts_the_job_history_keys_of_an_hr_source(tmp_path: Path) -> None:
    (tmp_path / "job-history.csv").write_text(HISTORY, encoding="utf-8")
    (tmp_path / "hr.csv").write_text(ROSTER, encoding="utf-8")
    (tmp_path / "audit.toml").write_text(
        '[audit]\nas_of = "2026-11-21"\n[[sources]]\nname = "hr"\nconnector = "hr-csv"\n'
        'path = "hr.csv"\njob_history = "job-history.csv"\n'
        'job_history_columns = { employee_id = "userId", start_date = "startDate", '
        'end_date = "endDate", title = "jobTitle", manager_id = "managerId" }\n',
        encoding="utf-8",
    )
    snapshot = collect(load_config(tmp_path / "audit.toml"))
    people = snapshot.people.set_index("person_id")
    assert people.loc["E1", "previous_department"] == "Finance"
    assert snapshot.sources[0]["report"]["job_history"]["moves"] == 2
