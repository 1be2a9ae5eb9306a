"""The live LDAP connector against a real Samba Active Directory domain controller.

One DC is provisioned for the session (about 25 s: provisioning plus 1,600 users over LDAPS)
and every test runs once per backend. Samba's LDAP ports are fixed (389/636 on 127.0.0.1), so
the fixture skips when they are taken, or fails when ``CI=true``.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from accessaudit.connectors import (
    CollectContext,
    Manifest,
    SourceResult,
    SourceSettings,
    find_manifests,
)
from accessaudit.connectors.ldap.live import read_entries
from accessaudit.errors import SourceError

try:
    from servers import require_binaries, require_module
    from servers.samba import ADMIN_PASSWORD, BASE_DN, USER_PASSWORD, Org, SambaDC, ports_busy
except ImportError:  # tests/ is a package in this checkout
    from tests.servers import require_binaries, require_module
    from tests.servers.samba import (
        ADMIN_PASSWORD,
        BASE_DN,
        USER_PASSWORD,
        Org,
        SambaDC,
        ports_busy,
    )

pytestmark = [pytest.mark.samba, pytest.mark.slow]

PASSWORD_ENV = "ACCESSAUDIT_TEST_SAMBA_PASSWORD"
BACKENDS = ["ldap3", "python-ldap"]
SID = re.compile(r"^S-1-5-21-\d+-\d+-\d+-\d+$")


@pytest.fixture(scope="session")
def samba_dc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SambaDC, Org]]:
    """A provisioned, running and populated Samba AD DC for the whole session."""
    require_binaries("samba-ad-dc samba-ad-provision", "samba", "samba-tool")
    busy = ports_busy()
    if busy:
        reason = f"Samba AD needs 127.0.0.1 ports {busy} free (fixed in Samba)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but {reason}", pytrace=False)
        pytest.skip(reason)
    dc = SambaDC(tmp_path_factory.mktemp("samba") / "dc")
    dc.provision()
    dc.start()
    try:
        org = dc.populate()
        yield dc, org
    finally:
        dc.stop()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Each test runs once per backend."""
    if request.param == "python-ldap":
        require_module("ldap", "python-ldap (pip install 'accessaudit[fast-ldap]')")
    return str(request.param)


@pytest.fixture
def manifest() -> Manifest:
    """The shipped Active Directory connector manifest."""
    return find_manifests()["active-directory"]


@pytest.fixture
def context() -> CollectContext:
    """A collection context without progress bars."""
    return CollectContext(as_of=pd.Timestamp("2026-11-21", tz="UTC"))


@pytest.fixture(autouse=True)
def _password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, ADMIN_PASSWORD)


def ad_settings(dc: SambaDC, backend: str, **options: Any) -> SourceSettings:
    """An ``active-directory`` source named ``corp`` pointing at the DC over LDAPS."""
    values: dict[str, Any] = {
        "url": dc.ldaps_url,
        "base_dn": BASE_DN,
        "bind_dn": dc.admin_dn,
        "password_env": PASSWORD_ENV,
        "ca_bundle": str(dc.ca_cert),
        "backend": backend,
        "timeout": 30,
    }
    values.update(options)
    return SourceSettings(name="corp", connector="active-directory", options=values)


@pytest.fixture(scope="session")
def collected(samba_dc: tuple[SambaDC, Org]) -> dict[str, Any]:
    """One full collection per backend, shared by the read-only checks below."""
    from accessaudit.connectors.ldap import collect

    dc, _ = samba_dc
    context = CollectContext(as_of=pd.Timestamp("2026-11-21", tz="UTC"))
    manifest = find_manifests()["active-directory"]
    os.environ.setdefault(PASSWORD_ENV, ADMIN_PASSWORD)
    return {backend: collect(ad_settings(dc, backend), manifest, context) for backend in BACKENDS}


def _tables(collected: dict[str, Any], backend: str) -> dict[str, pd.DataFrame]:
    return dict(collected[backend].tables)


def _account(accounts: pd.DataFrame, login: str) -> pd.Series:
    return accounts.loc[accounts["login"].str.lower() == login.lower()].iloc[0]


def _group_id(groups: pd.DataFrame, name: str) -> str:
    return str(groups.loc[groups["name"].str.lower() == name.lower(), "group_id"].item())


def test_domain_collection_has_every_user_with_sid_ids(
    samba_dc: tuple[SambaDC, Org], collected: dict[str, Any], backend: str
) -> None:
    _, org = samba_dc
    accounts = _tables(collected, backend)["accounts"]

    created = accounts[accounts["dn"].str.contains("ou=staff", case=False)]
    assert len(created) == org.users
    assert accounts["sid"].str.match(SID.pattern).all()
    assert (accounts["account_id"] == "corp:" + accounts["sid"]).all()
    assert {"administrator", "user00000", "adm.carol"} <= set(accounts["login"].str.lower())


def test_live_read_counts_the_search_references_it_does_not_follow(
    collected: dict[str, Any], backend: str
) -> None:
    """A DC answers a subtree search of the domain with continuation references to the
    partitions below it (RFC 4511 §4.5.3), e.g. CN=Configuration; both clients used to drop
    them without a word. They are counted and named in the report."""
    report = collected[backend].report
    references = report["search_references"]
    assert references["count"] >= 1
    assert any("CN=Configuration" in url for url in references["first"])
    assert any("search reference(s) (ref:) not followed" in w for w in report["warnings"])


def test_domain_admin_through_nesting_is_a_group_to_group_edge(
    collected: dict[str, Any], backend: str
) -> None:
    tables = _tables(collected, backend)
    groups, memberships = tables["groups"], tables["memberships"]
    domain_admins = _group_id(groups, "Domain Admins")
    tier0 = _group_id(groups, "Tier0-Admins")
    carol = _account(tables["accounts"], "adm.carol")["account_id"]

    edges = set(map(tuple, memberships[["group_id", "member_id", "member_type"]].to_numpy()))
    assert (domain_admins, tier0, "group") in edges
    assert (tier0, carol, "account") in edges
    assert groups.loc[groups["group_id"] == domain_admins, "privileged"].item()


def test_primary_group_id_makes_users_members_of_domain_users(
    collected: dict[str, Any], backend: str
) -> None:
    tables = _tables(collected, backend)
    domain_users = _group_id(tables["groups"], "Domain Users")
    user = _account(tables["accounts"], "user00000")["account_id"]
    members = tables["memberships"]

    # Domain Users' own `member` attribute is empty: the edge comes from primaryGroupID 513.
    assert ((members["group_id"] == domain_users) & (members["member_id"] == user)).any()


def test_disabled_and_password_never_expires_flags_come_from_user_account_control(
    collected: dict[str, Any], backend: str
) -> None:
    accounts = _tables(collected, backend)["accounts"]

    assert not _account(accounts, "old.dave")["enabled"]
    assert _account(accounts, "user00001")["enabled"]
    assert _account(accounts, "svc.backup")["password_never_expires"]
    assert not _account(accounts, "user00001")["password_never_expires"]


def test_big_group_has_all_members(
    samba_dc: tuple[SambaDC, Org], collected: dict[str, Any], backend: str
) -> None:
    _, org = samba_dc
    tables = _tables(collected, backend)
    big = _group_id(tables["groups"], "All-Staff")

    assert (tables["memberships"]["group_id"] == big).sum() == org.big_group_size


def test_group_managed_service_account_is_collected_as_a_service_account(
    samba_dc: tuple[SambaDC, Org], collected: dict[str, Any], backend: str
) -> None:
    _, org = samba_dc
    accounts = _tables(collected, backend)["accounts"]
    gmsa = accounts.loc[accounts["dn"].str.lower() == org.gmsa.lower()]

    assert len(gmsa) == 1
    assert gmsa["kind"].item() == "service"
    assert gmsa["login"].item() == "gmsa-web$"
    assert SID.match(gmsa["sid"].item())
    assert gmsa["enabled"].item()
    # Only the gMSA is a service account by class; svc.backup is a plain user object.
    assert collected[backend].report["accounts_by_kind"]["service"] == 1


def test_user_account_control_unreadable_for_a_plain_user_is_counted_and_kept_enabled(
    samba_dc: tuple[SambaDC, Org],
    collected: dict[str, Any],
    backend: str,
    manifest: Manifest,
    context: CollectContext,
    *,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from accessaudit.connectors.ldap import collect

    dc, org = samba_dc
    reader_env = "ACCESSAUDIT_TEST_SAMBA_READER_PASSWORD"
    monkeypatch.setenv(reader_env, USER_PASSWORD)
    settings = ad_settings(dc, backend, bind_dn=org.reader, password_env=reader_env)
    result = collect(settings, manifest, context)
    as_reader = result.tables["accounts"].set_index("dn")
    as_admin = _tables(collected, backend)["accounts"].set_index("dn")
    hidden = list(org.hidden_uac_users)

    # A deny ACE on OU=Restricted hides userAccountControl of its two users from the reader:
    # the collection still has every account and says how many flags it could not read.
    assert set(as_reader.index) == set(as_admin.index)
    assert result.report["unreadable_attributes"] == {"userAccountControl": len(hidden)}
    assert collected[backend].report["unreadable_attributes"] == {}
    # The administrator sees hidden.bob disabled; the reader cannot, so it keeps the
    # conservative default (enabled: still in scope for review) instead of inventing a state.
    assert not as_admin.loc[org.hidden_uac_disabled, "enabled"]
    assert as_reader.loc[hidden, "enabled"].all()
    assert not as_reader.loc[hidden, "password_never_expires"].any()
    # Everyone else's flags are read as the administrator reads them.
    others = as_admin.index.difference(hidden)
    pd.testing.assert_series_equal(
        as_reader.loc[others, "enabled"], as_admin.loc[others, "enabled"]
    )
    # Other entries carry userAccountControl, so it is not "never returned".
    assert "userAccountControl" not in result.report["attributes_not_returned"]


def test_backends_collect_identical_tables(collected: dict[str, Any]) -> None:
    first, second = (_tables(collected, backend) for backend in BACKENDS)
    for name, table in first.items():
        pd.testing.assert_frame_equal(table, second[name])


def test_forced_range_window_retrieves_every_member_in_slices(
    samba_dc: tuple[SambaDC, Org], backend: str, manifest: Manifest, context: CollectContext
) -> None:
    dc, org = samba_dc
    settings = ad_settings(dc, backend, range_window=100, filter="(objectClass=group)")
    entries = read_entries(settings, manifest, context)
    members = {dn.lower(): attrs.get("member", []) for dn, attrs, _ in entries}

    big = members[org.big_group.lower()]
    assert len(big) == len(set(big)) == org.big_group_size
    assert not any(";range=" in name for name in members)
    # All-Staff needed 16 slices; every group with more than 100 members counts once.
    assert entries.report["range_retrieved_groups"] >= 1
    plain = read_entries(ad_settings(dc, backend, filter="(objectClass=group)"), manifest, context)
    unsliced = {dn.lower(): attrs.get("member", []) for dn, attrs, _ in plain}
    assert {k: sorted(v) for k, v in members.items()} == {k: sorted(v) for k, v in unsliced.items()}


def test_ldapsearch_export_of_the_domain_gives_identical_tables(
    samba_dc: tuple[SambaDC, Org],
    collected: dict[str, Any],
    manifest: Manifest,
    context: CollectContext,
    tmp_path: Path,
) -> None:
    require_binaries("ldap-utils", "ldapsearch")
    from accessaudit.connectors.ldap import collect
    from accessaudit.connectors.ldap.mapping import attributes_to_request

    dc, _ = samba_dc
    export = tmp_path / "corp.ldif"
    command = [
        *("ldapsearch", "-LLL", "-x", "-o", "ldif-wrap=76", "-E", "pr=500/noprompt"),
        *("-H", dc.ldaps_url, "-D", dc.admin_dn, "-w", ADMIN_PASSWORD, "-b", BASE_DN),
        "(|(objectClass=user)(objectClass=group))",
        *attributes_to_request(manifest),
    ]
    with export.open("wb") as handle:
        subprocess.run(
            command,
            check=True,
            stdout=handle,
            env={**os.environ, "LDAPTLS_CACERT": str(dc.ca_cert)},
        )
    from_ldif = collect(
        SourceSettings(name="corp", connector="active-directory", path=export), manifest, context
    )
    live = _tables(collected, "ldap3")
    for name, table in live.items():
        key = list(table.columns[:2])
        pd.testing.assert_frame_equal(
            table.sort_values(key).reset_index(drop=True),
            from_ldif.tables[name].sort_values(key).reset_index(drop=True),
        )


def test_whole_ldapsearch_output_of_the_domain_counts_its_search_reference(
    samba_dc: tuple[SambaDC, Org], manifest: Manifest, context: CollectContext, tmp_path: Path
) -> None:
    """A plain ``ldapsearch -x`` (no -LLL) of a domain, unpaged and paged: a DC answers a
    subtree search of the domain with a search reference to its Configuration partition, which
    ldapsearch(1) prints as ``# search reference`` / ``ref: ldaps://...`` (RFC 4511 §4.5.3),
    then one ``# search result`` trailer per page. Every user is read, the reference is counted
    and reported, and the result is not partial. (Samba enforces neither MaxPageSize nor a
    client size limit, so the size-limit trailer is tested against slapd.)"""
    require_binaries("ldap-utils", "ldapsearch")
    from accessaudit.connectors.ldap import collect

    dc, org = samba_dc

    def export(path: Path, *paging: str) -> SourceResult:
        command = [
            *("ldapsearch", "-x", *paging, "-H", dc.ldaps_url, "-D", dc.admin_dn),
            *("-w", ADMIN_PASSWORD, "-b", BASE_DN, "(&(objectCategory=person)(objectClass=user))"),
            *("objectClass", "objectSid", "sAMAccountName", "userAccountControl"),
        ]
        with path.open("wb") as handle:
            subprocess.run(
                command,
                check=True,
                stdout=handle,
                env={**os.environ, "LDAPTLS_CACERT": str(dc.ca_cert)},
            )
        settings = SourceSettings(name="corp", connector="active-directory", path=path)
        return collect(settings, manifest, context)

    unpaged = export(tmp_path / "unpaged.ldif")
    paged = export(tmp_path / "paged.ldif", "-E", "pr=500/noprompt")
    for result in (unpaged, paged):
        assert len(result.tables["accounts"]) >= org.users - 3
        assert result.report["partial"] is False
        references = result.report["search_references"]
        assert references["count"] >= 1
        assert any("CN=Configuration" in url for url in references["first"])
        assert any(
            "search reference(s) (ref:) not followed" in w for w in result.report["warnings"]
        )
    assert paged.report["search_results"] >= 4 > unpaged.report["search_results"]
    assert set(paged.tables["accounts"]["account_id"]) == set(
        unpaged.tables["accounts"]["account_id"]
    )


def test_wrong_password_against_active_directory(
    samba_dc: tuple[SambaDC, Org],
    backend: str,
    manifest: Manifest,
    context: CollectContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dc, _ = samba_dc
    monkeypatch.setenv(PASSWORD_ENV, "Wr0ng-Password!")
    with pytest.raises(SourceError, match="invalid credentials for CN=Administrator") as raised:
        list(read_entries(ad_settings(dc, backend), manifest, context))

    assert "Wr0ng" not in str(raised.value)
