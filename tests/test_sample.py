"""The built-in sample organisation: deterministic, in the real export formats, with every rule's
problem planted (and near misses that must stay quiet), and scalable for the benchmarks."""

from __future__ import annotations

import base64
import csv
import hashlib
import importlib.util
import io
import os
import re
import struct
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from accessaudit.errors import ConfigError
from accessaudit.sample import (
    DEFAULT_AS_OF,
    ENTRA_GUEST_SITE_GROUP,
    EXPORTS,
    generate_organisation,
    planted_problems,
    write_sample_organisation,
)

HAS_ENTRA = importlib.util.find_spec("accessaudit.sample._entra") is not None
HR_COLUMNS = [
    "employee_id",
    "name",
    "email",
    "department",
    "title",
    "manager_id",
    "status",
    "worker_type",
    "start_date",
    "end_date",
    # HR history and contract columns (issue 16)
    "previous_department",
    "previous_title",
    "moved_on",
    "contract_end",
    "sponsor_id",
    "rehired_on",
]
DOMAIN_SID = "S-1-5-21-2127521184-1604012920-1887927527"


def _needs_entra() -> None:
    if not HAS_ENTRA:
        if os.environ.get("CI") == "true":
            pytest.fail("accessaudit.sample._entra is missing on CI")
        pytest.skip("accessaudit.sample._entra (the Entra sample tenant) is not installed yet")


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default sample organisation (1,500 people), written once for the module."""
    folder = tmp_path_factory.mktemp("sample")
    return write_sample_organisation(folder, include_entra=HAS_ENTRA)


@pytest.fixture(scope="module")
def exports(sample: Path) -> Path:
    return sample.parent / "exports"


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


# --- determinism -------------------------------------------------------------------------


def test_same_arguments_write_byte_identical_files(tmp_path: Path) -> None:
    first = write_sample_organisation(tmp_path / "a", size=300, seed=7, include_entra=HAS_ENTRA)
    second = write_sample_organisation(tmp_path / "b", size=300, seed=7, include_entra=HAS_ENTRA)
    digests = _digests(first.parent)
    assert len(digests) >= 6
    assert digests == _digests(second.parent)


def test_another_seed_gives_another_organisation(tmp_path: Path) -> None:
    one = write_sample_organisation(tmp_path / "a", size=300, seed=1, include_entra=False)
    two = write_sample_organisation(tmp_path / "b", size=300, seed=2, include_entra=False)
    hr = "exports/hr.csv"
    assert (one.parent / hr).read_bytes() != (two.parent / hr).read_bytes()


def test_too_small_an_organisation_is_refused() -> None:
    with pytest.raises(ConfigError, match="at least"):
        generate_organisation(50)


# --- the HR roster ------------------------------------------------------------------------


def _hr(exports: Path) -> list[dict[str, str]]:
    with (exports / "hr.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_hr_roster_has_the_hr_columns_and_about_size_people(exports: Path) -> None:
    rows = _hr(exports)
    assert list(rows[0]) == HR_COLUMNS
    assert len(rows) == 1500
    assert len({r["employee_id"] for r in rows}) == len(rows)
    assert len({r["email"] for r in rows}) == len(rows)


def test_hr_roster_has_leavers_movers_leave_and_third_parties(exports: Path) -> None:
    rows = pd.DataFrame(_hr(exports))
    as_of = DEFAULT_AS_OF.date().isoformat()
    leavers = rows[rows["status"] == "terminated"]
    assert 60 <= len(leavers) <= 200
    # every leaver left within the last year, before the audit date
    assert (leavers["end_date"] < as_of).all()
    assert (leavers["end_date"] >= "2025-11-21").all()
    assert (rows["status"] == "leave").sum() >= 5
    assert (rows["worker_type"] == "contractor").sum() >= 40
    assert (rows["worker_type"] == "vendor").sum() >= 5
    assert {"Zoë Clarke", "François Lefèvre", "Łukasz Nowak"} <= set(rows["name"])
    assert 9 <= rows["department"].nunique() <= 12


def test_every_department_has_a_head_reporting_to_the_ceo(exports: Path) -> None:
    rows = pd.DataFrame(_hr(exports)).set_index("employee_id")
    ceo = rows.index[rows["manager_id"] == ""]
    assert len(ceo) == 1
    managers = rows["manager_id"][rows["manager_id"] != ""]
    assert managers.isin(rows.index).all()
    direct = rows[rows["manager_id"] == ceo[0]]
    big = [d for d in rows["department"].unique() if d not in {"Executive Office"}]
    assert set(big) <= set(direct["department"])


# --- the Active Directory export ----------------------------------------------------------


def _entries(path: Path) -> Iterator[dict[str, list[str | bytes]]]:
    """A minimal RFC 2849 reader for the test: unfold, split, decode base64 values."""
    text = path.read_text(encoding="utf-8")
    unfolded = re.sub(r"\n ", "", text)
    for block in unfolded.strip("\n").split("\n\n"):
        entry: dict[str, list[str | bytes]] = {}
        for line in block.split("\n"):
            name, _, value = line.partition(":")
            if value.startswith(": "):
                raw = base64.b64decode(value[2:], validate=True)
                decoded: str | bytes = raw if name == "objectSid" else raw.decode("utf-8")
            else:
                decoded = value[1:]
            entry.setdefault(name, []).append(decoded)
        yield entry


def _sid(raw: bytes) -> str:
    revision, count = raw[0], raw[1]
    authority = int.from_bytes(raw[2:8], "big")
    subs = struct.unpack(f"<{count}I", raw[8 : 8 + 4 * count])
    return f"S-{revision}-{authority}-" + "-".join(str(s) for s in subs)


def test_ldif_lines_are_rfc2849_folded_at_76_columns(exports: Path) -> None:
    lines = (exports / "corp.ldif").read_text(encoding="utf-8").split("\n")
    assert lines[0].startswith("dn: ")
    attribute = re.compile(r"^[A-Za-z][A-Za-z0-9-]*::? ")
    bad = [
        (n, line)
        for n, line in enumerate(lines, start=1)
        if line and not line.startswith(" ") and not attribute.match(line)
    ]
    assert bad == []
    assert max(len(line) for line in lines) <= 76
    assert any(line.startswith(" ") for line in lines), "long DNs must be folded"
    assert all(line.isascii() for line in lines), "non-ASCII values must be base64"


def test_ldif_object_sids_decode_to_the_domain_and_builtin_sids(exports: Path) -> None:
    entries = list(_entries(exports / "corp.ldif"))
    sids = {str(e["sAMAccountName"][0]): _sid(bytes(e["objectSid"][0])) for e in entries}
    assert sids["Domain Admins"] == f"{DOMAIN_SID}-512"
    assert sids["Domain Users"] == f"{DOMAIN_SID}-513"
    assert sids["Schema Admins"] == f"{DOMAIN_SID}-518"
    assert sids["Enterprise Admins"] == f"{DOMAIN_SID}-519"
    assert sids["Administrators"] == "S-1-5-32-544"
    assert sids["Backup Operators"] == "S-1-5-32-551"
    assert sids["krbtgt"] == f"{DOMAIN_SID}-502"
    assert len(set(sids.values())) == len(sids)


def test_ldif_carries_users_admins_services_gmsa_and_nesting(exports: Path) -> None:
    entries = {str(e["sAMAccountName"][0]): e for e in _entries(exports / "corp.ldif")}
    people = entries["twojcik"]
    assert people["objectClass"] == ["top", "person", "organizationalPerson", "user"]
    assert people["cn"] == ["Tomasz Wójcik"]
    assert people["primaryGroupID"] == ["513"]
    assert people["userPrincipalName"] == ["twojcik@corp.example.com"]
    assert re.fullmatch(r"\d{14}\.0Z", str(people["whenCreated"][0]))
    assert "employeeID" not in entries["adm.twojcik"]
    assert entries["adm.praman"]["employeeID"] == entries["praman"]["employeeID"]
    assert entries["wpark"]["userAccountControl"] == ["66048"]
    assert entries["rpatel"]["userAccountControl"] == ["514"]
    assert entries["pnguyen"]["lastLogonTimestamp"] == ["0"]
    assert "msDS-GroupManagedServiceAccount" in entries["gmsa-sql01$"]["objectClass"]
    assert entries["svc-backup"]["accountExpires"] in (["0"], ["9223372036854775807"])
    tier0 = str(entries["IT-Tier0"]["dn"][0])
    assert tier0 in entries["Domain Admins"]["member"]
    assert any("ForeignSecurityPrincipals" in str(m) for m in entries["DL-FS-Legal-RO"]["member"])
    assert entries["G-Finance"]["managedBy"]
    assert entries["AP-Invoice-Entry"] and entries["AP-Payment-Release"]


# --- inventory, ACLs, grants, config ------------------------------------------------------


def test_acl_export_is_what_powershell_export_csv_writes(exports: Path) -> None:
    raw = (exports / "fs01-acl.csv").read_bytes()
    assert raw.startswith(b"#TYPE System.Management.Automation.PSCustomObject\r\n")
    text = raw.decode("utf-8")
    body = text.split("\r\n", 1)[1]
    assert all(line.startswith('"') for line in body.split("\r\n") if line)
    rows = list(csv.DictReader(io.StringIO(body)))
    assert list(rows[0]) == [
        "Path",
        "IdentityReference",
        "FileSystemRights",
        "AccessControlType",
        "IsInherited",
    ]
    identities = {r["IdentityReference"] for r in rows}
    assert {
        "CORP\\DL-FS-Finance-RW",
        "CORP\\jdoe",
        "BUILTIN\\Administrators",
        "NT AUTHORITY\\SYSTEM",
        "CREATOR OWNER",
        f"{DOMAIN_SID}-9999",
    } <= identities
    rights = {r["FileSystemRights"] for r in rows}
    assert {
        "Modify, Synchronize",
        "ReadAndExecute, Synchronize",
        "FullControl",
        "268435456",
    } <= rights
    assert {r["AccessControlType"] for r in rows} == {"Allow", "Deny"}
    assert {r["IsInherited"] for r in rows} == {"True", "False"}
    assert any(r["Path"].endswith("\\\\fs01\\scratch") for r in rows)


def test_inventory_and_grants_parse_and_scratch_is_not_inventoried(exports: Path) -> None:
    with (exports / "inventory.csv").open(encoding="utf-8", newline="") as handle:
        inventory = list(csv.DictReader(handle))
    assert list(inventory[0]) == [
        "resource",
        "type",
        "system",
        "path",
        "owner",
        "sensitivity",
        "data_categories",
        "retention_days",
        "last_modified",
        "third_parties",
    ]
    assert {r["sensitivity"] for r in inventory} == {
        "public",
        "internal",
        "confidential",
        "restricted",
    }
    categories = {c for r in inventory for c in r["data_categories"].split(";") if c}
    assert categories == {"pii", "phi", "pci"}
    assert not any(r["path"].lower().endswith("scratch") for r in inventory)
    with (exports / "grants.csv").open(encoding="utf-8", newline="") as handle:
        grants = list(csv.DictReader(handle))
    assert list(grants[0]) == ["principal", "resource", "right"]
    assert {g["right"] for g in grants} <= {"read", "write", "admin", "owner"}
    assert ENTRA_GUEST_SITE_GROUP in {g["principal"] for g in grants}


def test_config_is_valid_toml_and_names_every_export(sample: Path) -> None:
    config = tomllib.loads(sample.read_text(encoding="utf-8"))
    assert config["audit"]["as_of"] == "2026-11-21"
    sources = {s["name"]: s for s in config["sources"]}
    expected = set(EXPORTS) if HAS_ENTRA else set(EXPORTS) - {"cloud"}
    assert set(sources) == expected
    for name, source in sources.items():
        assert source["connector"] == EXPORTS[name][0]
        assert not Path(source["path"]).is_absolute()
        assert (sample.parent / source["path"]).exists()
    assert sources["files"]["domain"] == "CORP"
    assert sources["files"]["directory"] == "corp"
    policy = config["policy"]
    assert policy["stale_days"] == 90
    assert policy["privileged"]["groups"] == ["IT-Tier0", "DL-FS-Payments-FullControl"]
    assert policy["sod"][0]["entitlements"] == ["AP-Invoice-Entry", "AP-Payment-Release"]
    expiries = sorted(e["expires"] for e in policy["exceptions"])
    assert expiries[0] < DEFAULT_AS_OF.date() < expiries[1]


def test_config_loads_with_the_real_config_loader(sample: Path) -> None:
    from accessaudit.config import load_config

    config = load_config(sample)
    assert config.as_of == DEFAULT_AS_OF
    assert config.policy.approved["Domain Admins"] == ("adm.praman", "adm.twojcik", "adm.ogrant")
    assert len(config.policy.exceptions) == 2


def test_entra_site_group_is_the_one_the_entra_tenant_holds() -> None:
    _needs_entra()
    from accessaudit.sample._entra import GUEST_SITE_GROUP

    assert ENTRA_GUEST_SITE_GROUP == GUEST_SITE_GROUP


# --- planted problems ---------------------------------------------------------------------


def test_planted_problems_cover_every_rule() -> None:
    from accessaudit.model import RULE_IDS

    # Rules that need a source the sample organisation does not have (a database, sampled by
    # data discovery) are proved by their own tests (tests/test_discovery.py,
    # tests/test_rules_databases.py and the live database tests).
    not_in_sample = {"unclassified-sensitive-data", "public-database-grant"}
    table = planted_problems(generate_organisation(300))
    planted = set(table.loc[table["expect"] == "finding", "rule"])
    expected = set(RULE_IDS) - not_in_sample
    # mfa-missing and the sponsorless guests are planted in the Entra tenant
    expected = expected if HAS_ENTRA else expected - {"mfa-missing", "guest-without-sponsor"}
    assert planted == expected
    assert set(table["expect"]) == {"finding", "excepted", "none"}
    # several of each planted locally, and near misses beside them
    local = table[table["subject_type"] != ""]
    counts = local[local["expect"] == "finding"].groupby("rule").size()
    assert (counts.drop("mfa-missing", errors="ignore") >= 2).all()
    assert (table["expect"] == "none").sum() >= 10


def _sharepoint_urls() -> set[str]:
    """Every URL of the sample SharePoint tenant (its sites, libraries and items)."""
    from accessaudit.sample._m365 import build_sharepoint

    data = build_sharepoint()
    drives = [d for ds in data["drives"].values() for d in ds]
    items = [i for its in data["items"].values() for i in its]
    return {str(o["webUrl"]) for o in [*data["sites"], *drives, *items] if o.get("webUrl")}


def test_planted_subjects_exist_in_the_organisation() -> None:
    org = generate_organisation(300)
    table = planted_problems(org)
    local = table[~table["subject"].str.contains("@")]
    accounts = local[local["subject_type"].isin(["account", "person"])]
    assert set(accounts["subject"]) <= set(org.users["login"])
    resources = local[local["subject_type"] == "resource"]
    known = set(org.resources["resource"]) | set(org.grants["resource"]) | {"\\\\fs01\\scratch"}
    known |= _sharepoint_urls()
    assert set(resources["subject"]) <= known


def test_every_planted_problem_fires_and_near_misses_stay_quiet(sample: Path) -> None:
    """End to end with the real connectors, snapshot and rules."""
    from accessaudit.audit import run_audit
    from accessaudit.collection import collect
    from accessaudit.config import load_config

    config = load_config(sample)
    findings = run_audit(collect(config), config.policy).findings
    names = findings["subject_name"].astype(str).str.lower()
    table = planted_problems(generate_organisation())
    if not HAS_ENTRA:
        table = table[table["rule"] != "mfa-missing"]
    wrong = []
    for row in table.itertuples():
        subjects = {str(row.subject).lower(), str(row.person).lower()}
        fired = bool(((findings["rule"] == row.rule) & names.isin(subjects)).any())
        if fired != (row.expect == "finding"):
            wrong.append((row.rule, row.subject, row.expect, "fired" if fired else "silent"))
    assert wrong == []


def test_each_export_is_read_by_its_connector(sample: Path) -> None:
    from accessaudit.config import load_config
    from accessaudit.connectors import CollectContext, load_protocol
    from accessaudit.resolve import resolve_references

    config = load_config(sample)
    read = []
    for settings in config.sources:
        manifest = config.manifests[settings.connector]
        context = CollectContext(as_of=DEFAULT_AS_OF)
        read.append(load_protocol(manifest.protocol)(settings, manifest, context))
    results = {result.source: result for result in resolve_references(read)}
    org = generate_organisation()
    assert len(results["hr"].tables["people"]) == len(org.people)
    assert len(results["corp"].tables["accounts"]) == len(org.users)
    assert len(results["corp"].tables["groups"]) == len(org.groups)
    unresolved = results["corp"].tables["memberships"]["member_type"] == "unresolved"
    assert unresolved.sum() == 1  # the foreign security principal
    assert len(results["inventory"].tables["resources"]) == len(org.resources)
    file_grants = results["files"].tables["grants"]
    assert (file_grants["principal_type"] == "unresolved").any()
    assert file_grants["deny"].any()
    assert len(results["apps"].tables["grants"]) == len(org.grants)


# --- scale --------------------------------------------------------------------------------


def _depth(org_groups: pd.DataFrame, edges: pd.DataFrame) -> int:
    """Longest chain of group-in-group nesting starting at a bottom project group."""
    nested = edges[edges["member_type"] == "group"]
    parent = dict(zip(nested["member"].astype(str), nested["group"].astype(str), strict=False))
    bottom = org_groups.loc[org_groups["tier"] == 0, "name"].iloc[0]
    depth, current = 1, bottom
    while current in parent and depth < 50:
        current, depth = parent[current], depth + 1
    return depth


def test_a_tenth_of_benchmark_scale_generates_quickly() -> None:
    started = time.perf_counter()
    org = generate_organisation(20_000, groups=2_000, memberships=500_000, nesting_depth=6)
    elapsed = time.perf_counter() - started
    assert len(org.people) == 20_000
    assert len(org.groups) == 2_000
    assert len(org.memberships) == 500_000
    assert not org.memberships.duplicated().any()
    assert _depth(org.groups, org.memberships) == 6
    assert elapsed < 15


@pytest.mark.slow
def test_benchmark_scale_generates_in_well_under_a_minute() -> None:
    started = time.perf_counter()
    org = generate_organisation(200_000, groups=20_000, memberships=5_000_000, nesting_depth=6)
    elapsed = time.perf_counter() - started
    assert len(org.users) >= 190_000
    assert len(org.groups) == 20_000
    assert len(org.memberships) == 5_000_000
    assert np.unique(org.users["sid"]).size == len(org.users)
    assert elapsed < 60
