"""Every JSON document the command line prints validates against the JSON Schema shipped in
``accessaudit/schemas`` (draft 2020-12), run on the sample organisation's real exports."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from accessaudit.cli import main
from accessaudit.schemas import SCHEMA_NAMES, load_schema


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from accessaudit.sample import write_sample_organisation

    folder = tmp_path_factory.mktemp("demo")
    config = write_sample_organisation(folder / "sample", size=200)
    assert main(["collect", "--config", str(config), "--out", str(folder / "snap")]) == 0
    return config, folder / "snap"


def _printed(args: list[str], capsys: pytest.CaptureFixture[str], status: int = 0) -> object:
    capsys.readouterr()
    assert main(args) == status
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_every_shipped_schema_is_a_valid_draft_2020_12_schema(name: str) -> None:
    jsonschema.Draft202012Validator.check_schema(load_schema(name))


def test_audit_envelope_validates_and_carries_what_a_reader_needs(
    demo: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    config, snap = demo
    args = ["audit", "--config", str(config), "--snapshot", str(snap), "--format", "json"]
    envelope = _printed(args, capsys)
    jsonschema.validate(envelope, load_schema("audit"))
    assert isinstance(envelope, dict)
    assert envelope["schema_version"].startswith("1.")
    manifest = json.loads((snap / "manifest.json").read_text(encoding="utf-8"))
    assert len(envelope["snapshot_digest"]) == 64 and envelope["as_of"].startswith("2026-11-21")
    assert [s["source"] for s in envelope["sources"]] == [s["source"] for s in manifest["sources"]]
    assert envelope["policy"]["approved"]["Domain Admins"]
    assert envelope["totals"]["findings"] == len(envelope["findings"])
    # The person's name and department beside every finding about a person in HR.
    leaver = next(f for f in envelope["findings"] if f["rule"] == "leaver-active")
    assert leaver["person_name"] and leaver["department"]
    # Accepted risks: hidden findings with the exception's owner and expiry; expired ones.
    (hidden,) = envelope["suppressed_findings"]
    assert hidden["exception_owner"] == "priya.raman@example.com"
    assert hidden["exception_expires"].startswith("2027-03-21")
    (expired,) = envelope["expired_exceptions"]
    assert expired["subject"] == "temp.audit" and expired["owner"]


def test_collect_status_scope_and_diff_documents_validate(
    demo: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, snap = demo
    collected = _printed(
        ["collect", "--config", str(config), "--out", str(tmp_path / "q4"), "--format", "json"],
        capsys,
    )
    jsonschema.validate(collected, load_schema("collect"))
    diff = _printed(["diff", str(snap), str(tmp_path / "q4"), "--format", "json"], capsys)
    jsonschema.validate(diff, load_schema("diff"))
    scope = _printed(
        ["scope", "--config", str(config), "--resource", "finance-share", "--format", "json"],
        capsys,
    )
    jsonschema.validate(scope, load_schema("scope"))
    campaign = tmp_path / "campaign"
    assert main(["review", "create", "--config", str(config), "--snapshot", str(snap),
                 "--by", "manager", "--scope", "privileged", "--deadline", "2026-12-15",
                 "--fallback-reviewer", "E10007", "--out", str(campaign)]) == 0  # fmt: skip
    status = _printed(["review", "status", str(campaign), "--format", "json"], capsys)
    jsonschema.validate(status, load_schema("status"))


def test_a_document_missing_a_promised_field_fails_its_schema(
    demo: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    config, snap = demo
    args = ["audit", "--config", str(config), "--snapshot", str(snap), "--format", "json"]
    envelope = _printed(args, capsys)
    assert isinstance(envelope, dict)
    del envelope["findings"][0]["person_name"]
    with pytest.raises(jsonschema.ValidationError, match="person_name"):
        jsonschema.validate(envelope, load_schema("audit"))
