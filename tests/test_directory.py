"""The ``ldap`` protocol on LDIF exports: Active Directory and OpenLDAP semantics."""

from __future__ import annotations

import json
import random
import struct
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from accessaudit.connectors import (
    CollectContext,
    Manifest,
    SourceResult,
    SourceSettings,
    find_manifests,
)
from accessaudit.connectors.ldap import collect
from accessaudit.connectors.ldap.ldif import read_ldif
from accessaudit.connectors.ldap.mapping import attributes_to_request
from accessaudit.connectors.ldap.syntax import normalise_dn, sid_to_string
from accessaudit.connectors.ldap.transform import entries_to_result
from accessaudit.errors import ConfigError, SourceError
from accessaudit.model import TABLES

FIXTURES = Path(__file__).parent / "fixtures" / "ldif"
DOMAIN = "S-1-5-21-1004336348-1177238915-682003330"
AS_OF = pd.Timestamp("2026-11-21", tz="UTC")


def _ad_id(rid: int) -> str:
    return f"corp:{DOMAIN}-{rid}"


def _ol_id(dn: str) -> str:
    return f"dir:{dn}"


def _read(connector: str, file: Path, name: str, extra: tuple[Path, ...] = ()) -> SourceResult:
    manifest = find_manifests(extra)[connector]
    settings = SourceSettings(name=name, connector=connector, path=file)
    return collect(settings, manifest, CollectContext(as_of=AS_OF))


@pytest.fixture(scope="module")
def ad() -> SourceResult:
    return _read("active-directory", FIXTURES / "ad.ldif", "corp")


@pytest.fixture(scope="module")
def ol() -> SourceResult:
    return _read("openldap", FIXTURES / "openldap.ldif", "dir")


def _account(result: SourceResult, login: str) -> pd.Series:
    accounts = result.tables["accounts"]
    rows = accounts[accounts["login"] == login]
    assert len(rows) == 1, f"expected one account {login}"
    return rows.iloc[0]


def _flag(value: object) -> bool | None:
    """A nullable boolean cell as True, False or None (for NA)."""
    return None if pd.isna(value) else bool(value)


def _edges(result: SourceResult) -> set[tuple[str, str, str]]:
    table = result.tables["memberships"]
    return set(
        zip(table["group_id"], table["member_id"], table["member_type"].astype(str), strict=True)
    )


# --- manifests -------------------------------------------------------------------------------


def test_find_manifests_lists_both_directory_flavours_with_protocol_ldap() -> None:
    manifests = find_manifests()
    assert manifests["active-directory"].protocol == "ldap"
    assert manifests["openldap"].protocol == "ldap"
    assert manifests["active-directory"].settings["flavour"] == "active-directory"
    assert manifests["openldap"].settings["flavour"] == "openldap"


def test_user_manifest_with_renamed_employee_id_attribute_changes_result(tmp_path: Path) -> None:
    export = tmp_path / "corp.ldif"
    export.write_text(
        "dn: CN=Alice,OU=Staff,DC=corp,DC=example,DC=com\n"
        "objectClass: user\n"
        "objectSid:: AQUAAAAAAAUVAAAA3PTcO4M9K0aCi6YoUAQAAA==\n"
        "sAMAccountName: alice\n"
        "userAccountControl: 512\n"
        "employeeID: 1001\n"
        "extensionAttribute1: HR-4711\n",
        encoding="utf-8",
    )
    shipped = find_manifests()["active-directory"].file.read_text(encoding="utf-8")
    own = tmp_path / "manifests"
    own.mkdir()
    (own / "corp-ad.toml").write_text(
        shipped.replace('connector = "active-directory"', 'connector = "corp-ad"').replace(
            'employee_id = "employeeID"', 'employee_id = "extensionAttribute1"'
        ),
        encoding="utf-8",
    )
    standard = _read("active-directory", export, "corp")
    custom = _read("corp-ad", export, "corp", extra=(own,))
    assert _account(standard, "alice")["employee_id"] == "1001"
    assert _account(custom, "alice")["employee_id"] == "HR-4711"
    assert custom.connector == "corp-ad"


def test_manifest_with_unknown_field_is_a_config_error_naming_the_file(tmp_path: Path) -> None:
    own = tmp_path / "manifests"
    own.mkdir()
    broken = own / "broken.toml"
    broken.write_text(
        'connector = "broken"\nprotocol = "ldap"\nflavour = "openldap"\nid_attribute = "dn"\n'
        '[attributes]\nlogin = "uid"\nbadge = "badgeNumber"\n',
        encoding="utf-8",
    )
    settings = SourceSettings("dir", "broken", path=FIXTURES / "openldap.ldif")
    with pytest.raises(ConfigError, match=r"broken\.toml.*badge"):
        collect(settings, find_manifests((own,))["broken"], CollectContext(as_of=AS_OF))


def test_attributes_to_request_come_from_the_search_section() -> None:
    wanted = attributes_to_request(find_manifests()["openldap"])
    assert {"uid", "memberUid", "pwdAccountLockedTime", "authTimestamp"} <= set(wanted)


# --- Active Directory ------------------------------------------------------------------------


def test_ad_tables_conform_to_the_model(ad: SourceResult) -> None:
    for name in ("accounts", "groups", "memberships"):
        TABLES[name].check(ad.tables[name])


def test_ad_binary_objectsid_becomes_sid_and_account_id(ad: SourceResult) -> None:
    alice = _account(ad, "alice")
    assert alice["sid"] == f"{DOMAIN}-1104"
    assert alice["native_id"] == f"{DOMAIN}-1104"
    assert alice["account_id"] == _ad_id(1104)
    assert alice["system"] == "corp"
    assert alice["upn"] == "alice@corp.example.com"
    assert alice["email"] == "Alice.Adams@example.com"
    assert alice["employee_id"] == "E1001"
    assert alice["department"] == "Finance"


def test_ad_base64_dn_with_non_ascii_characters_reaches_the_account(ad: SourceResult) -> None:
    juergen = _account(ad, "jmueller")
    assert juergen["dn"] == "CN=Jürgen Müller,OU=Staff,DC=corp,DC=example,DC=com"
    assert juergen["display_name"] == "Jürgen Müller"


def test_ad_disabled_and_password_never_expires_bits_are_read(ad: SourceResult) -> None:
    juergen = _account(ad, "jmueller")  # userAccountControl 66050 = 0x10202
    assert not juergen["enabled"]
    assert juergen["password_never_expires"]
    alice = _account(ad, "alice")  # 512 = normal account
    assert alice["enabled"]
    assert not alice["password_never_expires"]


def test_ad_filetime_never_values_are_empty_times(ad: SourceResult) -> None:
    juergen = _account(ad, "jmueller")
    assert pd.isna(juergen["last_sign_in"])  # lastLogonTimestamp: 0
    assert pd.isna(juergen["password_last_set"])  # pwdLastSet: 0
    assert juergen["expires"] == pd.Timestamp("2026-12-31", tz="UTC")
    assert pd.isna(_account(ad, "alice")["expires"])  # accountExpires: 0
    assert pd.isna(_account(ad, "Administrator")["expires"])  # 9223372036854775807


def test_ad_last_sign_in_is_the_latest_of_lastlogon_and_lastlogontimestamp(
    ad: SourceResult,
) -> None:
    alice = _account(ad, "alice")
    assert alice["last_sign_in"] == pd.Timestamp("2026-11-10 17:45", tz="UTC")
    assert alice["password_last_set"] == pd.Timestamp("2025-06-01", tz="UTC")
    assert alice["created"] == pd.Timestamp("2024-01-31 12:00", tz="UTC")
    assert alice["last_sign_in_known"]


def test_ad_lockout_comes_from_the_computed_account_control(ad: SourceResult) -> None:
    assert _flag(_account(ad, "adm.alice")["locked"]) is True
    assert _flag(_account(ad, "alice")["locked"]) is False
    # No computed value: AD does not keep the lockout bit in userAccountControl, so unknown.
    assert pd.isna(_account(ad, "jmueller")["locked"])


def test_ad_missing_account_control_keeps_account_enabled_and_is_reported(
    ad: SourceResult,
) -> None:
    bob = _account(ad, "bob")
    assert bob["enabled"]
    assert ad.report["unreadable_attributes"] == {"userAccountControl": 1}


def test_ad_gmsa_is_a_service_account_and_computers_are_skipped(ad: SourceResult) -> None:
    assert _account(ad, "gmsa-sql$")["kind"] == "service"
    assert "WS01$" not in set(ad.tables["accounts"]["login"])
    assert ad.report["skipped"]["objectClass computer"] == 1


def test_ad_admin_kind_from_login_pattern_and_builtin_administrator(ad: SourceResult) -> None:
    assert _account(ad, "adm.alice")["kind"] == "admin"
    assert _account(ad, "Administrator")["kind"] == "admin"  # RID 500
    assert _account(ad, "alice")["kind"] == "user"


def test_ad_primary_group_id_is_a_membership_of_domain_users(ad: SourceResult) -> None:
    edges = _edges(ad)
    for rid in (500, 1104, 1105, 1106, 1107):
        assert (_ad_id(513), _ad_id(rid), "account") in edges
    # gmsa-sql's primary group (515, Domain Computers) is not in the export: counted.
    assert ad.report["primary_groups_outside_export"]["first"] == [_ad_id(515)]


def test_ad_member_and_memberof_are_unioned_without_duplicates(ad: SourceResult) -> None:
    table = ad.tables["memberships"]
    finance = table[table["group_id"] == _ad_id(1203)]
    # alice is listed on both sides (Finance.member and alice.memberOf): one edge.
    assert sorted(finance["member_id"]) == [_ad_id(1104), _ad_id(1105)]
    # Administrator's memberOf Domain Admins matches the group's member line: one edge.
    assert len(table[(table["group_id"] == _ad_id(512)) & (table["member_id"] == _ad_id(500))])
    assert not table.duplicated(["group_id", "member_id"]).any()


def test_ad_member_dns_match_regardless_of_case_and_spaces(ad: SourceResult) -> None:
    # Tier0 Ops lists "cn=bob brown, ou=staff, dc=corp, ..." in lower case with spaces.
    assert (_ad_id(1201), _ad_id(1107), "account") in _edges(ad)


def test_ad_nested_groups_including_a_cycle_are_group_edges(ad: SourceResult) -> None:
    edges = _edges(ad)
    assert (_ad_id(512), _ad_id(1201), "group") in edges
    assert (_ad_id(1201), _ad_id(1202), "group") in edges
    assert (_ad_id(1202), _ad_id(1201), "group") in edges
    assert ("corp:S-1-5-32-544", _ad_id(512), "group") in edges


def test_ad_foreign_security_principal_is_kept_unresolved_and_counted(ad: SourceResult) -> None:
    fsp = "CN=S-1-5-21-999-888-777-1105,CN=ForeignSecurityPrincipals,DC=corp,DC=example,DC=com"
    assert (_ad_id(1202), fsp, "unresolved") in _edges(ad)
    assert ad.report["unresolved_members"] == {"count": 1, "first": [fsp]}
    assert ad.report["foreign_security_principals"] == 1


def test_ad_memberof_outside_the_export_is_counted_not_kept(ad: SourceResult) -> None:
    payroll = "CN=Payroll,OU=Groups,DC=other,DC=example,DC=com"
    assert ad.report["groups_outside_export"] == {"count": 1, "first": [payroll]}
    assert payroll not in set(ad.tables["memberships"]["group_id"])


def test_ad_builtin_privileged_groups_are_flagged(ad: SourceResult) -> None:
    groups = ad.tables["groups"].set_index("name")
    assert groups.loc["Domain Admins", "privileged"]
    assert groups.loc["Administrators", "privileged"]
    assert groups.loc["Administrators", "group_id"] == "corp:S-1-5-32-544"
    assert not groups.loc["Domain Users", "privileged"]
    assert not groups.loc["Finance", "privileged"]


def test_ad_managed_by_resolves_to_the_owner_account(ad: SourceResult) -> None:
    groups = ad.tables["groups"].set_index("name")
    assert groups.loc["Finance", "owner_id"] == _ad_id(1104)
    assert groups.loc["Finance", "description"] == "Finance department share"


def test_ad_report_is_json_and_says_mfa_is_unknown(ad: SourceResult) -> None:
    report = json.loads(json.dumps(ad.report))
    assert report["mfa_known"] is False
    assert ad.tables["accounts"]["mfa"].isna().all()
    assert report["accounts"] == 6
    assert report["groups"] == 6
    assert report["accounts_by_kind"] == {"admin": 2, "service": 1, "user": 3}
    assert report["skipped"]["not an account or group"] == 3


def test_ad_bad_filetime_names_file_and_line(tmp_path: Path) -> None:
    export = tmp_path / "corp.ldif"
    export.write_text(
        "dn: CN=A,DC=corp\nobjectClass: user\n"
        "objectSid:: AQUAAAAAAAUVAAAA3PTcO4M9K0aCi6YoUAQAAA==\n"
        "sAMAccountName: a\n\n"
        "dn: CN=B,DC=corp\nobjectClass: user\n"
        "objectSid:: AQUAAAAAAAUVAAAA3PTcO4M9K0aCi6YoUQQAAA==\n"
        "sAMAccountName: b\nlastLogonTimestamp: yesterday\n",
        encoding="utf-8",
    )
    with pytest.raises(SourceError, match=r"corp\.ldif:6: lastLogonTimestamp 'yesterday'"):
        _read("active-directory", export, "corp")


def test_ad_duplicate_object_sid_names_the_second_entry(tmp_path: Path) -> None:
    entry = (
        "dn: CN={0},DC=corp\nobjectClass: user\n"
        "objectSid:: AQUAAAAAAAUVAAAA3PTcO4M9K0aCi6YoUAQAAA==\nsAMAccountName: {0}\n\n"
    )
    export = tmp_path / "corp.ldif"
    export.write_text(entry.format("a") + entry.format("b"), encoding="utf-8")
    with pytest.raises(SourceError, match=r"corp\.ldif:6.*duplicate key"):
        _read("active-directory", export, "corp")


def test_sid_to_string_decodes_binary_and_passes_text_through() -> None:
    raw = bytes([1, 5]) + (5).to_bytes(6, "big") + struct.pack("<5I", 21, 1, 2, 3, 500)
    assert sid_to_string(raw) == "S-1-5-21-1-2-3-500"
    assert sid_to_string(b"S-1-5-32-544") == "S-1-5-32-544"
    with pytest.raises(ValueError, match="not a binary SID"):
        sid_to_string(raw[:-1])


# --- OpenLDAP --------------------------------------------------------------------------------


def test_openldap_tables_conform_to_the_model(ol: SourceResult) -> None:
    for name in ("accounts", "groups", "memberships"):
        TABLES[name].check(ol.tables[name])


def test_openldap_native_id_is_the_normalised_dn(ol: SourceResult) -> None:
    alice = _account(ol, "alice")
    assert alice["native_id"] == "uid=alice,ou=people,dc=example,dc=org"
    assert alice["account_id"] == _ol_id("uid=alice,ou=people,dc=example,dc=org")
    assert alice["employee_id"] == "E1001"
    assert alice["department"] == "Finance"
    assert alice["display_name"] == "Alice Adams"
    assert _account(ol, "bob")["department"] == "Sales"  # falls back to ou


def test_openldap_permanent_ppolicy_lock_disables_the_account(ol: SourceResult) -> None:
    bob = _account(ol, "bob")
    assert _flag(bob["locked"]) is True
    assert not bob["enabled"]
    assert ol.report["locked_permanently"] == 1


def test_openldap_lockout_with_a_time_is_locked_but_enabled(ol: SourceResult) -> None:
    carol = _account(ol, "carol")
    assert _flag(carol["locked"]) is True
    assert carol["enabled"]
    assert _flag(_account(ol, "alice")["locked"]) is False
    assert pd.isna(_account(ol, "eve")["locked"])  # no operational attributes exported


def test_openldap_last_sign_in_is_the_latest_of_lastbind_and_ppolicy(ol: SourceResult) -> None:
    assert _account(ol, "alice")["last_sign_in"] == pd.Timestamp("2026-11-10 17:45", tz="UTC")
    carol = _account(ol, "carol")
    assert carol["last_sign_in"] == pd.Timestamp("2026-10-01 09:00:00.123", tz="UTC")
    assert pd.isna(_account(ol, "eve")["last_sign_in"])
    assert ol.tables["accounts"]["last_sign_in_known"].all()


def test_openldap_generalized_time_with_offset_is_converted_to_utc(ol: SourceResult) -> None:
    assert _account(ol, "carol")["created"] == pd.Timestamp("2025-05-31 23:00", tz="UTC")
    assert _account(ol, "alice")["password_last_set"] == pd.Timestamp("2025-06-01", tz="UTC")


def test_openldap_posixgroup_memberuid_resolves_by_uid(ol: SourceResult) -> None:
    developers = _ol_id("cn=developers,ou=groups,dc=example,dc=org")
    edges = _edges(ol)
    assert (developers, _ol_id("uid=alice,ou=people,dc=example,dc=org"), "account") in edges
    assert (developers, _ol_id("uid=bob,ou=people,dc=example,dc=org"), "account") in edges
    assert (developers, "uid=nobody", "unresolved") in edges


def test_openldap_groupofnames_uniquemember_and_memberof_build_nesting(
    ol: SourceResult,
) -> None:
    finance = _ol_id("cn=finance,ou=groups,dc=example,dc=org")
    admins = _ol_id("cn=admins,ou=groups,dc=example,dc=org")
    edges = _edges(ol)
    assert (finance, admins, "group") in edges
    assert (admins, finance, "group") in edges
    assert (admins, _ol_id("uid=admin-dave,ou=people,dc=example,dc=org"), "account") in edges
    # "uid=Bob, ou=People, ..." matches bob's entry.
    assert (finance, _ol_id("uid=bob,ou=people,dc=example,dc=org"), "account") in edges
    assert (finance, "uid=ghost,ou=people,dc=example,dc=org", "unresolved") in edges
    assert ol.report["unresolved_members"]["count"] == 2
    assert _account(ol, "admin-dave")["kind"] == "admin"


def test_openldap_group_owner_is_resolved(ol: SourceResult) -> None:
    groups = ol.tables["groups"].set_index("name")
    assert groups.loc["finance", "owner_id"] == _ol_id("uid=alice,ou=people,dc=example,dc=org")
    assert not groups["privileged"].any()


def test_export_without_any_sign_in_attribute_marks_sign_ins_unknown(tmp_path: Path) -> None:
    export = tmp_path / "dir.ldif"
    export.write_text("dn: uid=a,dc=x\nobjectClass: inetOrgPerson\nuid: a\n", encoding="utf-8")
    result = _read("openldap", export, "dir")
    assert not result.tables["accounts"]["last_sign_in_known"].any()
    assert result.report["last_sign_in_known"] is False
    assert result.report["warnings"]


# --- one transform for live and exported entries ---------------------------------------------


def test_entries_in_any_order_give_the_same_tables_as_the_export(ad: SourceResult) -> None:
    entries = list(read_ldif(FIXTURES / "ad.ldif"))
    random.Random(7).shuffle(entries)
    manifest: Manifest = find_manifests()["active-directory"]
    settings = SourceSettings("corp", "active-directory")
    live = entries_to_result(entries, settings, manifest, CollectContext(as_of=AS_OF), location=str)
    for name, table in ad.tables.items():
        pd.testing.assert_frame_equal(live.tables[name], table)


def test_missing_export_file_is_a_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"corp: .*absent\.ldif: LDIF export not found"):
        _read("active-directory", tmp_path / "absent.ldif", "corp")


def test_normalise_dn_keeps_escaped_commas() -> None:
    dns = pd.Series([r"CN=Smith\, John , OU=Staff", "cn=a,dc=x", None])
    assert normalise_dn(dns).tolist()[:2] == [r"cn=smith\, john,ou=staff", "cn=a,dc=x"]


def _synthetic(
    users: int, groups: int, big: int
) -> Iterator[tuple[str, dict[str, list[bytes]], int]]:
    def sid(rid: int) -> bytes:
        return bytes([1, 5]) + (5).to_bytes(6, "big") + struct.pack("<5I", 21, 1, 2, 3, rid)

    for i in range(users):
        yield (
            f"CN=User {i},OU=Staff,DC=corp",
            {
                "objectclass": [b"user"],
                "objectsid": [sid(10_000 + i)],
                "samaccountname": [f"user{i}".encode()],
                "useraccountcontrol": [b"512"],
                "lastlogontimestamp": [b"134379954000000000"],
                "whencreated": [b"20240131120000.0Z"],
                "primarygroupid": [b"513"],
                "memberof": [f"CN=Group {i % groups},OU=Groups,DC=corp".encode()],
            },
            i,
        )
    yield "CN=Domain Users,DC=corp", {"objectclass": [b"group"], "objectsid": [sid(513)]}, -1
    for g in range(groups):
        count = big if g == 0 else 5
        members = [f"CN=User {(g + k) % users},OU=Staff,DC=corp".encode() for k in range(count)]
        yield (
            f"CN=Group {g},OU=Groups,DC=corp",
            {"objectclass": [b"group"], "objectsid": [sid(500_000 + g)], "member": members},
            users + g,
        )


def test_large_directory_resolves_every_membership() -> None:
    users, groups, big = 20_000, 1_000, 12_000
    result = entries_to_result(
        _synthetic(users, groups, big),
        SourceSettings("corp", "active-directory"),
        find_manifests()["active-directory"],
        CollectContext(as_of=AS_OF),
        location=str,
    )
    table = result.tables["memberships"]
    assert len(result.tables["accounts"]) == users
    assert len(result.tables["groups"]) == groups + 1
    assert (table["member_type"] == "account").all()
    # Group 0 lists users 0..big-1 as members; every 1000th user also names it in memberOf.
    expected = set(range(big)) | set(range(0, users, groups))
    assert len(table[table["group_id"] == "corp:S-1-5-21-1-2-3-500000"]) == len(expected)
    assert len(table[table["group_id"] == "corp:S-1-5-21-1-2-3-513"]) == users


# --- values at the edges (issue 11) ----------------------------------------------------------
# FILETIME is 100 ns ticks since 1601-01-01 ([MS-DTYP] 2.3.3); AD writes lastLogonTimestamp 1
# and accountExpires 0x7FFFFFFFFFFFFFFF ("never", [MS-ADA1] Account-Expires); GeneralizedTime
# (RFC 4517 §3.3.13) allows years 0000-9999. pandas holds 1677-09-21..2262-04-11 only: the
# documented rule stores a time before 1678 or after 2261 as no date and counts it.

_AD_EDGE = (
    "dn: CN=Edge,DC=corp\nobjectClass: user\nobjectSid: S-1-5-21-1-2-3-1001\n"
    "sAMAccountName: edge\nuserAccountControl: 512\n"
)
_OL_EDGE = "dn: uid=edge,dc=x\nobjectClass: inetOrgPerson\nuid: edge\n"


@pytest.mark.parametrize(
    ("connector", "entry", "attribute", "field"),
    [
        (
            "active-directory",
            _AD_EDGE + "whenCreated: 99991231235959.0Z\n",
            "whenCreated",
            "created",
        ),
        (
            "active-directory",
            _AD_EDGE + "lastLogonTimestamp: 1\n",
            "lastLogonTimestamp",
            "last_sign_in",
        ),
        (
            "active-directory",
            _AD_EDGE + "pwdLastSet: 9223372036854775806\n",
            "pwdLastSet",
            "password_last_set",
        ),
        (
            "active-directory",
            _AD_EDGE + "accountExpires: 910692730085477580\n",
            "accountExpires",
            "expires",
        ),
        ("openldap", _OL_EDGE + "createTimestamp: 99991231235959Z\n", "createTimestamp", "created"),
        ("openldap", _OL_EDGE + "createTimestamp: 00010101000000Z\n", "createTimestamp", "created"),
        (
            "openldap",
            _OL_EDGE + "authTimestamp: 00010101000000Z\n",
            "authTimestamp",
            "last_sign_in",
        ),
    ],
)
def test_times_beyond_what_pandas_holds_are_stored_as_no_date_and_counted(
    tmp_path: Path, connector: str, entry: str, attribute: str, field: str
) -> None:
    export = tmp_path / "edge.ldif"
    export.write_text(entry, encoding="utf-8")
    result = _read(connector, export, "edge")
    assert pd.isna(_account(result, "edge")[field])
    assert result.report["times_outside_range"] == {attribute: 1}
    assert any("before 1678 or after 2261" in w for w in result.report["warnings"])


def test_filetime_never_is_no_date_without_a_warning(tmp_path: Path) -> None:
    export = tmp_path / "never.ldif"
    export.write_text(_AD_EDGE + "accountExpires: 9223372036854775807\n", encoding="utf-8")
    result = _read("active-directory", export, "edge")
    assert pd.isna(_account(result, "edge")["expires"])
    assert result.report["times_outside_range"] == {}


# --- URLs with credentials (issue 11) --------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["ldaps://admin:s3cret@dc1.example.com", "ldap://admin:s3cret@dc1.example.com:389/x"],
)
def test_url_with_credentials_is_refused_without_showing_them(url: str) -> None:
    from accessaudit.connectors.ldap.options import LdapOptions

    settings = SourceSettings(
        name="corp", connector="active-directory", options={"url": url, "base_dn": "DC=corp"}
    )
    with pytest.raises(ConfigError) as caught:
        LdapOptions.from_settings(settings, find_manifests()["active-directory"])
    message = str(caught.value)
    assert "carries credentials" in message and "password_env" in message
    assert "s3cret" not in message and "admin" not in message
    assert "***@dc1.example.com" in message


def test_unparsable_url_is_a_config_error_with_userinfo_redacted() -> None:
    from accessaudit.connectors.ldap.options import LdapOptions

    settings = SourceSettings(
        name="corp",
        connector="active-directory",
        options={"url": "ldaps://admin:s3cret@dc1.example.com:notaport", "base_dn": "DC=corp"},
    )
    with pytest.raises(ConfigError, match="is not a URL") as caught:
        LdapOptions.from_settings(settings, find_manifests()["active-directory"])
    assert "s3cret" not in str(caught.value)


def test_removed_nested_option_is_refused_with_the_reason() -> None:
    from accessaudit.connectors.ldap.options import LdapOptions

    settings = SourceSettings(
        name="corp",
        connector="active-directory",
        options={"url": "ldaps://dc1", "base_dn": "DC=corp", "nested": "in-chain"},
    )
    with pytest.raises(ConfigError, match="'nested' is no longer an option"):
        LdapOptions.from_settings(settings, find_manifests()["active-directory"])


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("userAccountControl: 1e400", "userAccountControl '1e400' is not a whole number"),
        ("userAccountControl: 1.5", "userAccountControl '1.5' is not a whole number"),
        ("primaryGroupID: 99999999999999999999", "primaryGroupID '99999999999999999999' is not"),
        ("lastLogonTimestamp: inf", "lastLogonTimestamp 'inf' is not a filetime time"),
    ],
)
def test_numbers_that_are_not_64_bit_integers_are_refused_with_the_entry(
    tmp_path: Path, line: str, problem: str
) -> None:
    # RFC 4517 §3.3.16 INTEGER: decimal digits; AD's flags, RIDs and FILETIMEs fit 64 bits.
    export = tmp_path / "numbers.ldif"
    export.write_text(_AD_EDGE.replace("userAccountControl: 512\n", "") + line + "\n")
    with pytest.raises(SourceError, match=r"numbers\.ldif:1: ") as caught:
        _read("active-directory", export, "edge")
    assert problem in str(caught.value)


def test_export_without_any_account_or_group_says_so_first(tmp_path: Path) -> None:
    # Issue 11: an empty directory source must not pass as a clean, empty result.
    export = tmp_path / "empty.ldif"
    export.write_text("dn: ou=people,dc=x\nobjectClass: organizationalUnit\nou: people\n")
    result = _read("openldap", export, "dir")
    assert result.tables["accounts"].empty
    assert result.report["warnings"][0].startswith("no account and no group was read from 1 ")


def _options_with(option: str, value: object) -> SourceSettings:
    return SourceSettings(
        name="ol",
        connector="openldap",
        options={"url": "ldaps://ldap.example.org", "base_dn": "dc=x", option: value},
    )


@pytest.mark.parametrize(
    ("option", "value", "problem"),
    [
        ("attributes", "cn", "attributes must be a list"),
        ("filter", 5, "search filters must look like"),
        ("person_classes", ["inet OrgPerson"], "person_classes must be a list"),
    ],
)
def test_malformed_live_search_options_are_config_errors_naming_them(
    option: str, value: object, problem: str
) -> None:
    from accessaudit.connectors.ldap.options import LdapOptions

    with pytest.raises(ConfigError, match=problem):
        LdapOptions.from_settings(_options_with(option, value), find_manifests()["openldap"])


@pytest.mark.parametrize(
    ("option", "value", "problem"),
    [
        ("person_classes", [3], "person_classes must be a name or a list of names"),
        ("ppolicy_default", 7, "ppolicy_default must be the DN"),
    ],
)
def test_malformed_mapping_options_are_config_errors_naming_them(
    option: str, value: object, problem: str
) -> None:
    from accessaudit.connectors.ldap.mapping import DirectoryMapping

    with pytest.raises(ConfigError, match=problem):
        DirectoryMapping.for_source(_options_with(option, value), find_manifests()["openldap"])
