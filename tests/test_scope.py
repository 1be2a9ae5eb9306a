"""Breach scope on a hand-built snapshot: what an account reaches, who reaches a resource,
and which notification clocks apply."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from accessaudit.analysis.scope import breach_scope, notification_rules
from accessaudit.cli import main
from accessaudit.errors import SnapshotError
from accessaudit.snapshot import Snapshot


def _snapshot() -> Snapshot:
    """alice is in Clinic (nested in Records) and Finance; bob only in Finance; mallory (a
    guest) has a direct grant on the wiki. Records opens the PHI store, Finance the cards."""
    return Snapshot.from_tables(
        {
            "accounts": pd.DataFrame(
                {
                    "account_id": ["corp:alice", "corp:bob", "cloud:alice", "cloud:mallory"],
                    "system": ["corp", "corp", "cloud", "cloud"],
                    "native_id": ["alice", "bob", "a1", "m1"],
                    "login": ["alice", "bob", "alice", "mallory"],
                    "email": ["alice@x.org", "bob@x.org", "alice@x.org", None],
                    "kind": ["user", "user", "user", "guest"],
                    "enabled": True,
                }
            ),
            "groups": pd.DataFrame(
                {
                    "group_id": ["corp:clinic", "corp:records", "corp:finance"],
                    "system": "corp",
                    "native_id": ["clinic", "records", "finance"],
                    "name": ["Clinic", "Records", "Finance"],
                    "kind": "group",
                    "privileged": False,
                }
            ),
            "memberships": pd.DataFrame(
                {
                    "group_id": ["corp:clinic", "corp:records", "corp:finance", "corp:finance"],
                    "member_id": ["corp:alice", "corp:clinic", "corp:alice", "corp:bob"],
                    "member_type": ["account", "group", "account", "account"],
                    "assignment": "active",
                }
            ),
            "resources": pd.DataFrame(
                {
                    "resource_id": ["files:ehr", "db:cards", "files:wiki"],
                    "system": ["files", "db", "files"],
                    "name": ["Patient-Records", "Cards", "Wiki"],
                    "type": ["share", "database", "share"],
                    "sensitivity": ["restricted", "restricted", "internal"],
                    "data_categories": ["phi;pii", "pci", None],
                }
            ),
            "grants": pd.DataFrame(
                {
                    "principal_id": ["corp:records", "corp:finance", "cloud:mallory"],
                    "principal_type": ["group", "group", "account"],
                    "resource_id": ["files:ehr", "db:cards", "files:wiki"],
                    "right": ["write", "read", "read"],
                    "system": ["files", "db", "files"],
                }
            ),
        },
        as_of="2026-11-21",
    )


SNAPSHOT = _snapshot()


def test_compromised_account_reaches_resources_through_nested_groups() -> None:
    result = breach_scope(SNAPSHOT, account="alice")
    reach = result.resources.set_index("resource")
    assert set(reach.index) == {"Patient-Records", "Cards"}
    assert reach.loc["Patient-Records", "right"] == "write"
    assert reach.loc["Patient-Records", "path"] == "Clinic > Records"
    assert set(result.groups["name"]) == {"Clinic", "Records", "Finance"}
    assert result.data_categories == ("pci", "phi", "pii")


def test_same_login_in_two_systems_puts_both_accounts_in_scope() -> None:
    result = breach_scope(SNAPSHOT, account="ALICE")
    assert set(result.accounts["account_id"]) == {"corp:alice", "cloud:alice"}


def test_notification_clocks_follow_the_data_categories() -> None:
    clocks = breach_scope(SNAPSHOT, account="alice").notifications.set_index("data_category")
    assert clocks.loc["pii", "deadline_hours"] == 72
    assert clocks.loc["phi", "deadline_hours"] == 60 * 24
    assert "PCI DSS" in clocks.loc["pci", "regime"]
    bob = breach_scope(SNAPSHOT, account="bob")
    assert bob.notifications["data_category"].tolist() == ["pci"]


def test_notification_rules_are_data_the_user_can_edit() -> None:
    rules = notification_rules()
    rules.loc[len(rules)] = ["pii", "CCPA", "California residents", None, "Cal. Civ. Code 1798.82"]
    result = breach_scope(SNAPSHOT, resource="Patient-Records", rules=rules)
    assert set(result.notifications["regime"]) == {"GDPR", "HIPAA", "CCPA"}
    # The default table is rebuilt on every call: editing one copy changes no other.
    assert "CCPA" not in set(notification_rules()["regime"])


def test_compromised_resource_lists_every_account_that_reaches_it() -> None:
    result = breach_scope(SNAPSHOT, resource="cards")
    assert sorted(result.accounts["login"]) == ["alice", "bob"]
    assert set(result.resources["via"]) == {"Finance"}
    assert result.groups.empty


def test_account_without_data_categories_has_no_clock() -> None:
    result = breach_scope(SNAPSHOT, account="mallory")
    assert result.resources["resource"].tolist() == ["Wiki"]
    assert result.notifications.empty and result.data_categories == ()


def test_unknown_account_or_both_subjects_is_an_error() -> None:
    with pytest.raises(SnapshotError, match="no account"):
        breach_scope(SNAPSHOT, account="nobody")
    with pytest.raises(SnapshotError, match="exactly one"):
        breach_scope(SNAPSHOT, account="alice", resource="Cards")


def test_cli_scope_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = SNAPSHOT.save(tmp_path / "snap")
    config = tmp_path / "audit.toml"
    config.write_text("[audit]\n")
    args = ["scope", "--config", str(config), "--snapshot", str(folder)]
    assert main([*args, "--account", "alice", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["data_categories"] == ["pci", "phi", "pii"]
    assert {n["regime"] for n in data["notifications"]} == {"GDPR", "HIPAA", "PCI DSS"}
    assert main([*args, "--resource", "Wiki"]) == 0
    assert "mallory" in capsys.readouterr().out
    assert main([*args, "--account", "nobody"]) == 2
