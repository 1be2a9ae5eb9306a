"""The command line as cron and users meet it: exit statuses, one-line errors, nothing
half-written."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from accessaudit.cli import main


def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "accessaudit", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
    )


def _hr_config(tmp_path: Path, hr_text: str) -> Path:
    (tmp_path / "hr.csv").write_text(hr_text, encoding="utf-8")
    config = tmp_path / "audit.toml"
    config.write_text(
        '[audit]\nas_of = "2026-11-21"\n[[sources]]\nname = "hr"\nconnector = "hr-csv"\n'
        'path = "hr.csv"\n',
        encoding="utf-8",
    )
    return config


HEADER = (
    "employee_id,name,email,department,title,manager_id,status,worker_type,start_date,end_date\n"
)


def test_collect_writes_a_verifiable_snapshot(tmp_path: Path) -> None:
    config = _hr_config(
        tmp_path,
        HEADER
        + "E1,Ann,ann@corp.example,Finance,CFO,,active,employee,2020-01-01,\n"
        + "E2,Bob,bob@corp.example,Finance,Clerk,E1,terminated,employee,2021-01-01,2026-09-30\n",
    )
    done = _run(
        "collect", "--config", str(config), "--out", str(tmp_path / "snap"), "--format", "json"
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["tables"]["people"] == 2
    verified = _run("verify", str(tmp_path / "snap"))
    assert verified.returncode == 0
    assert "intact" in verified.stdout


def test_verify_names_the_tampered_file_and_exits_1(tmp_path: Path) -> None:
    config = _hr_config(tmp_path, HEADER + "E1,Ann,,,,,active,employee,,\n")
    assert _run("collect", "--config", str(config), "--out", str(tmp_path / "snap")).returncode == 0
    with (tmp_path / "snap" / "people.parquet").open("ab") as stream:
        stream.write(b"x")
    done = _run("verify", str(tmp_path / "snap"))
    assert done.returncode == 1
    assert "people.parquet" in done.stderr


@pytest.mark.parametrize(
    ("hr_text", "expected"),
    [
        (HEADER + "E1,Ann,,,,,retired,employee,,\n", "hr.csv:2"),
        ("employee_id,name\nE1,Ann\n", "status"),
        (HEADER + "E1,Ann,,,,,active,employee,,\nE1,Bo,,,,,active,employee,,\n", "hr.csv:3"),
    ],
)
def test_bad_input_is_one_line_on_stderr_exit_2_and_no_snapshot(
    tmp_path: Path, hr_text: str, expected: str
) -> None:
    config = _hr_config(tmp_path, hr_text)
    done = _run("collect", "--config", str(config), "--out", str(tmp_path / "snap"))
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("accessaudit: error:")
    assert expected in lines[0]
    assert not (tmp_path / "snap").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["audit.toml", "hr.csv"]


def test_non_utf8_hr_file_is_a_clear_error(tmp_path: Path) -> None:
    config = _hr_config(tmp_path, "")
    (tmp_path / "hr.csv").write_bytes((HEADER + "E1,Zoë,,,,,active,employee,,\n").encode("cp1252"))
    done = _run("collect", "--config", str(config), "--out", str(tmp_path / "snap"))
    assert done.returncode == 2
    assert "hr.csv" in done.stderr
    assert "UTF-8" in done.stderr
    assert not (tmp_path / "snap").exists()


def test_missing_config_exits_2(tmp_path: Path) -> None:
    assert main(["collect", "--config", str(tmp_path / "none.toml"), "--out", "x"]) == 2


def test_connectors_lists_every_manifest_as_json() -> None:
    done = _run("connectors", "--format", "json")
    assert done.returncode == 0
    names = {row["connector"] for row in json.loads(done.stdout)}
    assert names >= {
        "active-directory",
        "openldap",
        "entra-id",
        "hr-csv",
        "data-inventory",
        "ntfs-acl",
        "grants-csv",
    }


def test_truncated_ldif_export_exits_2_naming_file_and_line_with_no_snapshot(
    tmp_path: Path,
) -> None:
    whole = (Path(__file__).parent / "fixtures" / "ldif" / "ad.ldif").read_text(encoding="utf-8")
    # Cut inside a base64 value: what a copy that stopped half-way looks like.
    cut = whole.index("objectSid:: ") + len("objectSid:: ") + 7
    (tmp_path / "corp.ldif").write_text(whole[:cut], encoding="utf-8")
    config = tmp_path / "audit.toml"
    config.write_text(
        '[[sources]]\nname = "corp"\nconnector = "active-directory"\npath = "corp.ldif"\n',
        encoding="utf-8",
    )
    done = _run("collect", "--config", str(config), "--out", str(tmp_path / "snap"))
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert re.search(r"corp\.ldif:\d+", line), line
    assert not (tmp_path / "snap").exists()


def test_demo_writes_a_verified_snapshot_report_and_workbooks_and_can_run_again(
    tmp_path: Path,
) -> None:
    out = tmp_path / "demo"
    first = _run("demo", "--out", str(out), "--size", "300")
    assert first.returncode == 0, first.stderr
    assert "findings" in first.stdout
    assert _run("verify", str(out / "snapshot")).returncode == 0
    assert (out / "report.xlsx").stat().st_size > 0
    workbooks = sorted((out / "review" / "workbooks").glob("*.xlsx"))
    assert workbooks
    again = _run("demo", "--out", str(out), "--size", "300")
    assert again.returncode == 0, again.stderr
    assert _run("verify", str(out / "snapshot")).returncode == 0
    assert sorted((out / "review" / "workbooks").glob("*.xlsx")) == workbooks
