"""Data discovery: the value checks, the classifier on the labelled set, and the whole path
against a real PostgreSQL (sampling, ``discover = true``, ``accessaudit discover`` and the
``unclassified-sensitive-data`` rule)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from accessaudit.audit import run_audit
from accessaudit.cli import main
from accessaudit.collection import collect
from accessaudit.config import load_config
from accessaudit.discovery import classify_by_name, classify_columns
from accessaudit.discovery.checks import iban_valid, luhn_valid, uk_nino, us_ssn
from accessaudit.policy import Policy

try:
    from discovery_labels import labelled_columns
    from servers import require_binaries, require_module
    from servers.pg_fixture import AUDITOR, AUDITOR_PASSWORD, CLUSTER_SQL, CRM_SQL
    from servers.postgres import PostgresServer, postgres_bin
except ImportError:  # pragma: no cover - run from the repository root
    from tests.discovery_labels import labelled_columns
    from tests.servers import require_binaries, require_module
    from tests.servers.pg_fixture import AUDITOR, AUDITOR_PASSWORD, CLUSTER_SQL, CRM_SQL
    from tests.servers.postgres import PostgresServer, postgres_bin

VARIABLE = "AA_TEST_DISCOVERY_PASSWORD"


def test_checksums_accept_valid_numbers_and_reject_look_alikes() -> None:
    # Published test values: the Visa test card, the ISO 13616 / ECBS example IBAN.
    cards = pd.Series(["4111 1111 1111 1111", "4111-1111-1111-1112", "1234"])
    assert luhn_valid(cards).tolist() == [True, False, False]
    ibans = pd.Series(["GB82 WEST 1234 5698 7654 32", "GB83 WEST 1234 5698 7654 32"])
    assert iban_valid(ibans).tolist() == [True, False]
    # The SSA never issues area 000, 666 or 900-999, group 00 or serial 0000.
    ssns = pd.Series(["123-45-6789", "000-12-3456", "666-12-3456", "912-12-3456", "123-00-6789"])
    assert us_ssn(ssns).tolist() == [True, False, False, False, False]
    # HMRC: no D/F/I/Q/U/V letters, no O second, no BG/GB/NK/KN/TN/NT/ZZ prefixes.
    ninos = pd.Series(["AB 12 34 56 C", "QQ123456C", "GB123456A", "AO123456B"])
    assert uk_nino(ninos).tolist() == [True, False, False, False]


def _scores(predicted: pd.Series, truth: pd.Series) -> tuple[float, float]:
    positive = predicted != "none"
    correct = positive & (predicted == truth)
    precision = correct.sum() / max(positive.sum(), 1)
    recall = correct.sum() / max((truth != "none").sum(), 1)
    return float(precision), float(recall)


def test_classifier_beats_the_column_name_baseline_on_the_labelled_set() -> None:
    """On the development block (the classifier was tuned on it, so this guards against
    regressions; the held-out block's honest figures are in bench/README.md)."""
    samples, labels = labelled_columns()
    ours = classify_columns(samples).merge(labels, on=["table", "column"], suffixes=("", "_true"))
    predicted = ours["category"].where(ours["confidence"] >= 0.5).fillna("none")
    baseline = classify_by_name(samples).merge(
        labels, on=["table", "column"], suffixes=("", "_true")
    )
    precision, recall = _scores(predicted, ours["category_true"])
    base_precision, base_recall = _scores(
        baseline["category"].fillna("none"), baseline["category_true"]
    )
    assert precision >= 0.9 and recall >= 0.9
    assert precision > base_precision and recall > base_recall


def test_results_carry_rates_never_the_sampled_values() -> None:
    samples, _ = labelled_columns(rows=10)
    result = classify_columns(samples)
    text = result.to_csv(index=False)
    values = {str(v) for v in samples["value"] if len(str(v)) > 6}
    assert not [v for v in values if v in text]
    assert set(result.columns) >= {"confidence", "match_rate", "sampled", "method"}


# --- against PostgreSQL -----------------------------------------------------------------


def _planted_rows() -> str:
    samples, _ = labelled_columns(rows=30)
    wide = {
        column: samples[(samples["table"] == table) & (samples["column"] == source_column)][
            "value"
        ].tolist()
        for column, (table, source_column) in {
            "full_name": ("staff", "full_name"),
            "email": ("customer", "email"),
            "phone": ("address", "phone"),
            "ssn": ("applicants", "ssn"),
            "card_number": ("creditcard", "CardNumber"),
            "street_address": ("address", "address"),
            "notes": ("tickets", "notes"),
            "status": ("orders", "status"),
        }.items()
    }
    rows = []
    for i in range(30):
        values = ", ".join("'" + str(wide[c][i]).replace("'", "''") + "'" for c in wide)
        rows.append(f"({values})")
    return (
        "INSERT INTO sales.customers (full_name, email, phone, ssn, card_number, "
        "street_address, notes, status) VALUES " + ", ".join(rows) + ";\n"
    )


@pytest.fixture(scope="module")
def server() -> Iterator[PostgresServer]:
    require_module("psycopg", "psycopg (pip install 'accessaudit[postgresql]')")
    require_module("phonenumbers", "phonenumbers (pip install 'accessaudit[discovery]')")
    if postgres_bin("initdb") is None:
        require_binaries("postgresql", "initdb", "postgres")
    with PostgresServer() as running:
        running.sql(CLUSTER_SQL)
        running.sql(CRM_SQL + _planted_rows(), dbname="crm")
        os.environ[VARIABLE] = AUDITOR_PASSWORD
        try:
            yield running
        finally:
            del os.environ[VARIABLE]


def _config(folder: Path, server: PostgresServer, inventory: str) -> Path:
    (folder / "inventory.csv").write_text(inventory, encoding="utf-8")
    (folder / "audit.toml").write_text(
        f"""
[audit]
as_of = "2026-11-21"
[[sources]]
name = "inventory"
connector = "data-inventory"
path = "inventory.csv"
[[sources]]
name = "pg"
connector = "postgresql"
host = "127.0.0.1"
port = {server.port}
user = "{AUDITOR}"
password_env = "{VARIABLE}"
sslrootcert = "{server.ca_cert}"
discover = true
sample_rows = 50
""",
        encoding="utf-8",
    )
    return folder / "audit.toml"


INVENTORY_HEADER = (
    "resource,type,system,path,owner,sensitivity,data_categories,retention_days,"
    "last_modified,third_parties\n"
)


def test_discovered_categories_the_inventory_lacks_are_a_finding(
    server: PostgresServer, tmp_path: Path
) -> None:
    inventory = INVENTORY_HEADER + (
        f"CRM database,database,crm,postgresql://127.0.0.1:{server.port}/crm,,"
        "confidential,pii,365,,\n"
    )
    snapshot = collect(load_config(_config(tmp_path, server, inventory)))
    resources = snapshot.resources.set_index("resource_id")
    assert resources.loc["pg:crm.sales.customers", "data_categories"] == "pci;pii"
    assert pd.isna(resources.loc["pg:crm.sales.orders", "data_categories"])
    report = next(s for s in snapshot.sources if s["source"] == "pg")["report"]
    assert report["discovery"]["tables_sampled"] >= 2
    assert report["discovery"]["columns_by_category"]["payment-card"] == 1
    findings = run_audit(snapshot, Policy(), rules=["unclassified-sensitive-data"]).findings
    assert findings["subject_id"].tolist() == ["pg:crm.sales.customers"]
    evidence = findings["evidence"].iloc[0]
    assert evidence["undeclared_categories"] == "pci"
    assert evidence["inventory_entry"] == "CRM database"
    assert "declares only pii" in findings["message"].iloc[0]


def test_a_complete_inventory_entry_silences_the_rule(
    server: PostgresServer, tmp_path: Path
) -> None:
    inventory = INVENTORY_HEADER + ("crm.sales.customers,database,crm,,,restricted,pii;pci,365,,\n")
    snapshot = collect(load_config(_config(tmp_path, server, inventory)))
    findings = run_audit(snapshot, Policy(), rules=["unclassified-sensitive-data"]).findings
    assert findings.empty


def test_discover_command_writes_columns_and_an_inventory(
    server: PostgresServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path, server, INVENTORY_HEADER)
    out, inventory = tmp_path / "columns.csv", tmp_path / "found-inventory.csv"
    code = main(
        ["discover", "--config", str(config), "--out", str(out), "--inventory", str(inventory)]
    )
    assert code == 0
    columns = pd.read_csv(out).set_index("column")
    assert columns.loc["card_number", "category"] == "payment-card"
    assert columns.loc["notes", "category"] == "email"  # found by value, not by name
    assert columns.loc["ssn", "data_category"] == "pii"
    assert "4" not in set(columns["category"].astype(str))  # no values, only categories
    generated = pd.read_csv(inventory)
    assert generated["resource"].tolist() == ["crm.sales.customers"]
    assert generated["sensitivity"].tolist() == ["restricted"]
    assert "payment-card" in capsys.readouterr().out
    assert main(["discover", "--config", str(config), "--format", "json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["report"]["pg"]["tables_sampled"] >= 2


def test_connectors_use_only_the_pure_classifier_of_discovery() -> None:
    """connectors/databases classifies samples with discovery's pure functions; the
    ``discover`` runner sits above the connectors and must not be imported by them."""
    import ast

    import accessaudit

    folder = Path(accessaudit.__file__).parent / "connectors" / "databases"
    imported = set()
    for file in folder.glob("*.py"):
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "accessaudit.discovery"
            ):
                imported.add(node.module)
    assert imported <= {"accessaudit.discovery.classify", "accessaudit.discovery.checks"}
    assert imported
