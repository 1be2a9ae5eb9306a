"""Anything that was not read is said, loudly (issue 10): on the console after collect and
audit, in the JSON envelope and on the Excel Summary; rules without their data say "not
checked" and a run that checked nothing never reads as clean.

The organisation is the built-in sample written as real exports (RFC 2849 LDIF, HR and
inventory CSV, Get-Acl CSV, Graph pages), edited the way a user's real exports differ.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import openpyxl
import pytest

from accessaudit import load_config, run_audit
from accessaudit.cli import main
from accessaudit.collection import collect
from accessaudit.coverage import collection_warnings, source_warnings
from accessaudit.reports.console import summary_table
from accessaudit.reports.json import audit_document
from accessaudit.schemas import load_schema
from accessaudit.snapshot import Snapshot
from test_rules_support import AS_OF, account, org, policy, resource

_HR_SOURCE = '[[sources]]\nname = "hr"\nconnector = "hr-csv"\npath = "exports/hr.csv"\n'
_SHAREPOINT_SOURCE = '[[sources]]\nname = "sharepoint"\nconnector = "m365"\npath = "exports/m365"\n'


@pytest.fixture(scope="module")
def organisation(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from accessaudit.sample import write_sample_organisation

    folder = tmp_path_factory.mktemp("org")
    config = write_sample_organisation(folder, size=200, include_entra=False)
    # An inventory row whose owner is a team name, as real inventories have.
    with (folder / "exports" / "inventory.csv").open("a", encoding="utf-8") as stream:
        stream.write(
            "it-vault,share,fs01,\\\\fs01\\it-vault,IT Department,restricted,,3650,"
            "2026-11-01T00:00:00Z,\n"
        )
    # An LDIF entry of a class the directory manifest does not read (a printer).
    with (folder / "exports" / "corp.ldif").open("a", encoding="utf-8") as stream:
        stream.write(
            "\ndn: CN=PRN-01,OU=Devices,DC=corp,DC=example,DC=com\nobjectClass: top\n"
            "objectClass: device\ncn: PRN-01\n"
        )
    return config


def _variant(config: Path, name: str, text: str) -> Path:
    target = config.with_name(name)
    target.write_text(text, encoding="utf-8")
    return target


def _no_hr(config: Path) -> Path:
    text = config.read_text(encoding="utf-8")
    assert _HR_SOURCE in text
    return _variant(config, "no-hr.toml", text.replace(_HR_SOURCE, ""))


def _only_hr(config: Path) -> Path:
    return _variant(config, "only-hr.toml", '[audit]\nas_of = "2026-11-21"\n\n' + _HR_SOURCE)


def test_every_source_warning_reaches_console_json_and_excel(
    organisation: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snapshot_dir = tmp_path / "snap"
    assert main(["collect", "--config", str(organisation), "--out", str(snapshot_dir)]) == 0
    collected = capsys.readouterr().out
    snapshot = Snapshot.load(snapshot_dir)
    warnings = collection_warnings(snapshot.sources, snapshot.correlation)
    # The sample's planted gaps: a foreign SID member, unresolvable ACL identities, the
    # team-name owner, and accounts that match no HR person.
    assert any(w.startswith("corp: ") and "could not be resolved" in w for w in warnings)
    assert any(w.startswith("files: ") and "could not be resolved" in w for w in warnings)
    assert any("IT Department" in w for w in warnings)
    assert any(w.startswith("correlation: ") for w in warnings)
    # Lines are wrapped to 80 columns (long DNs mid-word): compare without whitespace.
    flat = "".join(collected.split())
    for warning in warnings:
        assert "".join(f"Warning: {warning}".split()) in flat

    excel = tmp_path / "report.xlsx"
    args = ["audit", "--config", str(organisation), "--snapshot", str(snapshot_dir)]
    assert main([*args, "--excel", str(excel), "--wide"]) == 0
    audited = capsys.readouterr().out
    for warning in warnings:
        assert f"Warning: {warning}" in audited

    assert main([*args, "--format", "json"]) == 0
    envelope = json.loads(capsys.readouterr().out)
    assert envelope["warnings"] == warnings
    by_source = {s["source"]: s["warnings"] for s in envelope["sources"]}
    assert any("could not be resolved" in w for w in by_source["files"])

    book = openpyxl.load_workbook(excel, read_only=True)
    summary = [
        " ".join(str(v) for v in row if v is not None)
        for row in book["Summary"].iter_rows(values_only=True)
    ]
    book.close()
    for warning in warnings:
        source, _, text = warning.partition(": ")
        assert f"{source} {text}" in summary


def test_structured_report_keys_become_sentences_partial_export_first() -> None:
    source = {
        "source": "corp",
        "report": {
            "skipped": {"objectClass computer": 12, "no objectClass": 1},
            "unreadable_attributes": {"userAccountControl": 3},
            "attributes_not_returned": ["pwdLastSet"],
            "references": 2,
            "unlisted_person_classes": {"OpenLDAPperson": 4},
            "owners_unresolved": {"count": 1, "first": ["CN=Gone"]},
            "warnings": ["a sentence the connector wrote"],
            "partial_export": "ldapsearch result 4 Size limit exceeded (line 7771)",
        },
    }
    said = source_warnings(source)
    assert said[0] == "corp: PARTIAL EXPORT: ldapsearch result 4 Size limit exceeded (line 7771)"
    text = "\n".join(said)
    assert "13 entries skipped (objectClass computer: 12, no objectClass: 1)" in text
    assert "could not read on some entries: userAccountControl: 3" in text
    assert "pwdLastSet" in text and "2 search reference(s)" in text
    assert "4 person-like entries" in text and "CN=Gone" in text
    assert "corp: a sentence the connector wrote" in said

    snapshot = Snapshot.from_tables(
        {"accounts": org(accounts=[account("jdoe")]).accounts},
        as_of=AS_OF,
        sources=[
            {"source": "corp", "connector": "openldap", "rows": {}, "report": source["report"]}
        ],
    )
    result = run_audit(snapshot, policy())
    assert result.partial_sources == ("corp",)
    assert audit_document(result)["partial_export"] == ["corp"]
    assert summary_table(result).splitlines()[0].startswith("PARTIAL EXPORT of corp")


def test_audit_without_hr_runs_and_says_which_rules_were_not_checked(
    organisation: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _no_hr(organisation)
    code = main(["audit", "--config", str(config)])
    out = capsys.readouterr().out
    assert code == 0  # ran: it used to crash with IndexError and exit 1
    assert re.search(r"leaver-active\s+-\s+-\s+-\s+-\s+not checked", out)
    # the lifecycle rules (issue 16) read HR too
    needs_hr = (
        "leaver-active", "orphan-account", "peer-outlier", "mover-retained-access",
        "joiner-early-access", "joiner-excess", "third-party-expiring",
    )  # fmt: skip
    assert f"Note: not checked: no HR source ({', '.join(needs_hr)})" in " ".join(out.split())
    assert "orphan-account" in out and "stale-account" in out
    result = run_audit(collect(load_config(config)), load_config(config).policy)
    no_hr = {rule for rule, why in result.not_checked.items() if "no HR source" in why}
    assert no_hr == set(needs_hr)
    assert "stale-account" in result.rules_checked and not result.nothing_checked
    # Without HR every human account would be an "orphan": the rule must not run at all.
    assert "orphan-account" not in set(result.findings["rule"])


def test_audit_of_no_accounts_says_nothing_was_checked_and_exits_2(
    organisation: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _only_hr(organisation)
    assert main(["audit", "--config", str(config)]) == 2
    captured = capsys.readouterr()
    assert "NOTHING WAS CHECKED" in captured.out and "0 findings" not in captured.out
    assert "nothing could be checked" in captured.err
    assert main(["audit", "--config", str(config), "--fail-on", "low", "--format", "json"]) == 2
    envelope = json.loads(capsys.readouterr().out)
    assert envelope["nothing_checked"] is True
    assert all(not r["checked"] for r in envelope["rules"])
    jsonschema.validate(envelope, load_schema("audit"))


def test_fail_on_without_the_data_for_that_severity_exits_2(
    organisation: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = _no_hr(organisation).read_text(encoding="utf-8")
    # The other critical rule, public-link, needs permissions: drop every permission source.
    blocks = text.split("\n\n")
    kept = [b for b in blocks if not re.search(r'connector = "(ntfs-acl|grants-csv|m365)"', b)]
    config = _variant(organisation, "no-hr-no-grants.toml", "\n\n".join(kept))
    # leaver-active needs HR and public-link needs grants: "no critical finding" would be a
    # false all-clear for a cron job.
    assert main(["audit", "--config", str(config), "--fail-on", "critical"]) == 2
    assert "leaver-active" in capsys.readouterr().err
    assert main(["audit", "--config", str(config), "--fail-on", "high"]) == 1


def test_unowned_resource_message_agrees_with_its_evidence(organisation: Path) -> None:
    config = load_config(organisation)
    result = run_audit(collect(config), config.policy)
    finding = result.findings[
        (result.findings["rule"] == "unowned-resource")
        & (result.findings["subject_name"] == "it-vault")
    ].iloc[0]
    assert "owner 'IT Department' is not a known person or group" in finding["message"]
    assert "no owner" not in finding["message"]
    assert finding["evidence"]["owner"] == "IT Department"
    assert finding["evidence"]["owner_resolved"] is False


def test_unowned_resource_without_any_owner_still_says_no_owner() -> None:
    snapshot = org(resources=[resource("Payroll", sensitivity="restricted")])
    result = run_audit(snapshot, policy(), rules=["unowned-resource"])
    assert result.findings["message"].str.endswith("has no owner").all()
    assert len(result.findings) == 1


def test_console_summary_fits_80_columns_unless_wide(organisation: Path) -> None:
    config = load_config(organisation)
    result = run_audit(collect(config), config.policy)
    narrow = summary_table(result)
    assert max(len(line) for line in narrow.splitlines()) <= 80
    wide = summary_table(result, wide=True)
    assert "Leaver's account still enabled" in wide and "Leaver's" not in narrow


def test_allowed_partial_export_is_said_on_the_first_line_of_every_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A real `ldapsearch -x` dump whose trailer says "result: 4 Size limit exceeded" (the
    # fixture the LDIF tests read), allowed as partial by the user.
    fixture = Path(__file__).parent / "fixtures" / "ldif" / "ldapsearch-size-limit.ldif"
    config = tmp_path / "audit.toml"
    config.write_text(
        '[audit]\nas_of = "2026-11-21"\n\n[[sources]]\nname = "ol"\nconnector = "openldap"\n'
        f'path = "{fixture}"\nallow_partial_export = true\n',
        encoding="utf-8",
    )
    excel = tmp_path / "report.xlsx"
    assert main(["audit", "--config", str(config), "--excel", str(excel)]) == 0
    assert capsys.readouterr().out.startswith("PARTIAL EXPORT of ol: findings may be missing.")
    assert main(["audit", "--config", str(config), "--format", "json"]) == 0
    envelope = json.loads(capsys.readouterr().out)
    assert envelope["partial_export"] == ["ol"]
    assert envelope["warnings"][0].startswith("ol: PARTIAL EXPORT")
    book = openpyxl.load_workbook(excel, read_only=True)
    first = next(book["Summary"].iter_rows(values_only=True))[0]
    book.close()
    assert str(first).startswith("PARTIAL EXPORT of ol")
    assert main(["collect", "--config", str(config), "--out", str(tmp_path / "snap")]) == 0
    assert capsys.readouterr().out.startswith("PARTIAL EXPORT of ol")
