"""What accessaudit refuses, from the outside: dates that are not ISO 8601, output paths it
cannot use (a file, a read-only folder, a full disk), and characters XML cannot hold. Each
refusal is one clear line and exit status 2, with nothing half-written."""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from accessaudit.cli import main
from accessaudit.config import load_config
from accessaudit.errors import ConfigError
from accessaudit.policy import Policy

HR = (
    "employee_id,name,email,department,title,manager_id,status,worker_type,start_date,end_date\n"
    "E1,Ann,ann@corp.example,Finance,CFO,,active,employee,2020-01-01,\n"
)


def _config(folder: Path, audit: str = 'as_of = "2026-11-21"') -> Path:
    (folder / "hr.csv").write_text(HR, encoding="utf-8")
    config = folder / "audit.toml"
    config.write_text(
        f'[audit]\n{audit}\n[[sources]]\nname = "hr"\nconnector = "hr-csv"\npath = "hr.csv"\n',
        encoding="utf-8",
    )
    return config


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample organisation, collected once: a config, a snapshot and a report."""
    out = tmp_path_factory.mktemp("refusals") / "demo"
    assert main(["demo", "--out", str(out), "--size", "200", "--no-progress"]) == 0
    return out


# -- dates -------------------------------------------------------------------------------


@pytest.mark.parametrize("option", ["--as-of"])
@pytest.mark.parametrize("value", ["01/02/2026", "2/1/2026", "next tuesday", "2026-13-01"])
def test_collect_refuses_a_date_that_is_not_iso_8601(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, value: str
) -> None:
    out = tmp_path / "snap"
    status = main(["collect", "--config", str(_config(tmp_path)), "--out", str(out), option, value])
    assert status == 2
    error = capsys.readouterr().err
    assert f"{option}: {value!r} is not a date in ISO 8601 form; write it as YYYY-MM-DD" in error
    assert not out.exists()


def test_audit_refuses_a_slash_date(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "--config", str(_config(tmp_path)), "--as-of", "01/02/2026"]) == 2
    assert "not a date in ISO 8601 form" in capsys.readouterr().err


def test_an_as_of_past_what_pandas_holds_is_one_clear_sentence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", "--config", str(_config(tmp_path)), "--as-of", "9999-12-31"]) == 2
    error = capsys.readouterr().err
    assert "--as-of: '9999-12-31' is outside the dates accessaudit can judge" in error
    assert "Traceback" not in error


def test_config_as_of_must_be_iso_8601(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"\[audit\] as_of: '01/02/2026' is not a date in ISO 8601"
    ):
        load_config(_config(tmp_path, 'as_of = "01/02/2026"'))
    # A TOML date and an ISO date with a time both stand.
    assert str(load_config(_config(tmp_path, "as_of = 2026-02-01")).as_of.date()) == "2026-02-01"
    config = load_config(_config(tmp_path, 'as_of = "2026-02-01T23:30:00-02:00"'))
    assert str(config.as_of) == "2026-02-02 01:30:00+00:00"


def test_policy_exception_expiry_must_be_iso_8601() -> None:
    exception = {
        "rule": "stale-account",
        "subject": "corp:bob",
        "owner": "ciso",
        "reason": "vendor",
        "expires": "01/02/2026",
    }
    with pytest.raises(ConfigError, match=r"expires.*YYYY-MM-DD"):
        Policy.from_mapping({"exceptions": [exception]}, origin="audit.toml")


def test_deadline_is_the_same_date_in_the_workbook_and_in_status(
    demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(demo / "sample" / "audit.toml")
    snapshot = str(demo / "snapshot")
    base = ["review", "create", "--config", config, "--snapshot", snapshot, "--by", "manager"]
    refused = tmp_path / "refused"
    assert main([*base, "--out", str(refused), "--deadline", "01/02/2026"]) == 2
    assert "--deadline: '01/02/2026' is not a date in ISO 8601 form" in capsys.readouterr().err
    assert not refused.exists()

    campaign = tmp_path / "campaign"
    assert main([*base, "--out", str(campaign), "--deadline", "2026-12-15"]) == 0
    capsys.readouterr()
    workbook = next((campaign / "workbooks").glob("*.xlsx"))
    book = openpyxl.load_workbook(workbook, read_only=True)
    guide = [row[0] for row in book.worksheets[0].iter_rows(values_only=True) if row]
    book.close()
    assert any("decide by 2026-12-15." in str(line) for line in guide)
    assert main(["review", "status", str(campaign), "--as-of", "2026-12-15"]) == 0
    assert "deadline 2026-12-15" in capsys.readouterr().out
    assert main(["review", "status", str(campaign), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["deadline"].startswith("2026-12-15")


def test_reviewers_are_overdue_only_after_the_deadline_day(demo: Path, tmp_path: Path) -> None:
    from accessaudit.review import campaign_status, load_campaign

    config = str(demo / "sample" / "audit.toml")
    campaign_dir = tmp_path / "campaign"
    command = ["review", "create", "--config", config, "--snapshot", str(demo / "snapshot")]
    command += ["--by", "manager", "--out", str(campaign_dir), "--deadline", "2026-12-15"]
    assert main(command) == 0
    campaign = load_campaign(campaign_dir)
    last_minute = campaign_status(campaign, as_of="2026-12-15T23:59:00+00:00").reviewers
    day_after = campaign_status(campaign, as_of="2026-12-16").reviewers
    assert not last_minute["overdue"].any()
    assert day_after["overdue"].all()


# -- output paths ------------------------------------------------------------------------


def _run(*args: str, file_size_limit: int | None = None) -> subprocess.CompletedProcess[str]:
    """The command line in a child process, optionally with a file-size limit (RLIMIT_FSIZE):
    a write past it fails with EFBIG, as a full disk fails with ENOSPC."""

    def limit() -> None:
        if file_size_limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))

    return subprocess.run(
        [sys.executable, "-m", "accessaudit", *args],
        capture_output=True,
        text=True,
        check=False,
        preexec_fn=limit,
    )


def _one_clear_error(done: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert done.returncode == 2, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("accessaudit: error:")]
    assert len(errors) == 1, done.stderr
    assert "Traceback" not in done.stderr
    for text in expected:
        assert text in errors[0]


@pytest.fixture
def small_disk(tmp_path: Path) -> object:
    """A 64 KiB tmpfs: a real full disk (ENOSPC). Needs root (mount); skipped otherwise."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    if shutil.which("mount") is None or os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr!r}")
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


@pytest.fixture
def read_only_folder(tmp_path: Path) -> object:
    """A folder nobody may write to: a read-only tmpfs as root (root ignores modes), else
    mode 0555."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    if os.geteuid() == 0:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(folder)],
            capture_output=True,
            check=False,
        )
        if done.returncode != 0:
            pytest.skip(f"running as root and cannot mount a read-only tmpfs: {done.stderr!r}")
        yield folder
        subprocess.run(["umount", str(folder)], check=True)
    else:
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)


def test_disk_full_during_collect_is_one_error_and_leaves_nothing(
    demo: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out" / "snap"
    out.parent.mkdir()
    config = str(demo / "sample" / "audit.toml")
    done = _run("collect", "--config", config, "--out", str(out), file_size_limit=1024)
    _one_clear_error(done, f"cannot write {out}")
    assert list(out.parent.iterdir()) == []


def test_disk_full_during_collect_over_an_old_snapshot_keeps_the_old_one(
    demo: Path, tmp_path: Path
) -> None:
    out = tmp_path / "snap"
    shutil.copytree(demo / "snapshot", out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    config = str(demo / "sample" / "audit.toml")
    done = _run("collect", "--config", config, "--out", str(out), file_size_limit=1024)
    _one_clear_error(done, f"cannot write {out}")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["snap"]


def test_a_really_full_disk_during_collect(demo: Path, small_disk: Path) -> None:
    out = small_disk / "snap"
    config = str(demo / "sample" / "audit.toml")
    done = _run("collect", "--config", config, "--out", str(out))
    _one_clear_error(done, f"cannot write {out}", "No space left on device")
    assert list(small_disk.iterdir()) == []


def test_disk_full_while_writing_the_excel_report(demo: Path, tmp_path: Path) -> None:
    report = tmp_path / "report.xlsx"
    config = str(demo / "sample" / "audit.toml")
    command = ["audit", "--config", config, "--snapshot", str(demo / "snapshot")]
    done = _run(*command, "--excel", str(report), file_size_limit=16384)
    _one_clear_error(done, f"cannot write {report}")
    assert list(tmp_path.iterdir()) == []


def test_a_really_full_disk_while_writing_the_excel_report(demo: Path, small_disk: Path) -> None:
    report = small_disk / "report.xlsx"
    config = str(demo / "sample" / "audit.toml")
    command = ["audit", "--config", config, "--snapshot", str(demo / "snapshot")]
    done = _run(*command, "--excel", str(report))
    _one_clear_error(done, f"cannot write {report}", "No space left on device")
    assert list(small_disk.iterdir()) == []


def test_excel_naming_a_folder_is_one_error(demo: Path, tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "q3.xlsx").write_bytes(b"last quarter")
    config = str(demo / "sample" / "audit.toml")
    command = ["audit", "--config", config, "--snapshot", str(demo / "snapshot")]
    _one_clear_error(_run(*command, "--excel", str(folder)), f"cannot write {folder}")
    assert [p.name for p in folder.iterdir()] == ["q3.xlsx"]


def test_collect_into_a_read_only_folder_is_one_error(demo: Path, read_only_folder: Path) -> None:
    out = read_only_folder / "snap"
    config = str(demo / "sample" / "audit.toml")
    done = _run("collect", "--config", config, "--out", str(out))
    _one_clear_error(done, f"cannot write {out}")
    assert list(read_only_folder.iterdir()) == []
