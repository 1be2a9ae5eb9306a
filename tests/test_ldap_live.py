"""The live LDAP connector against a real OpenLDAP slapd, on both backends.

One slapd (LDAPS and StartTLS, memberof + lastbind + ppolicy overlays) is started for the
module and filled over the wire; tests that kill a server start their own. Everything runs
twice: with ldap3 and with python-ldap, which must give identical results.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from accessaudit.connectors import CollectContext, Manifest, SourceSettings, find_manifests
from accessaudit.connectors.ldap.live import read_entries
from accessaudit.connectors.ldap.options import LdapOptions
from accessaudit.errors import ConfigError, SourceError

try:
    from servers import require_binaries, require_module
    from servers.slapd import (
        BASE_DN,
        DEFAULT_POLICY_DN,
        HIDDEN_ATTRIBUTES,
        MANAGER_DN,
        MANAGER_PASSWORD,
        RESTRICTED_DN,
        RESTRICTED_PASSWORD,
        Slapd,
        org_ldif,
    )
except ImportError:  # tests/ is a package in this checkout
    from tests.servers import require_binaries, require_module
    from tests.servers.slapd import (
        BASE_DN,
        DEFAULT_POLICY_DN,
        HIDDEN_ATTRIBUTES,
        MANAGER_DN,
        MANAGER_PASSWORD,
        RESTRICTED_DN,
        RESTRICTED_PASSWORD,
        Slapd,
        org_ldif,
    )

pytestmark = pytest.mark.slapd

PASSWORD_ENV = "ACCESSAUDIT_TEST_SLAPD_PASSWORD"
USERS = 600
GROUPS = 30
BIG_GROUP = 2000  # capped at USERS members by the generator
BACKENDS = ["ldap3", "python-ldap"]


def _require_slapd() -> None:
    require_binaries("slapd ldap-utils", "slapd", "slapadd", "ldapadd", "ldapsearch")


@pytest.fixture(scope="module")
def slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slapd]:
    """A running slapd holding the generated organisation, added over the wire."""
    _require_slapd()
    folder = tmp_path_factory.mktemp("slapd")
    server = Slapd(folder / "server")
    server.start()
    try:
        org = org_ldif(folder / "org.ldif", users=USERS, groups=GROUPS, big_group_size=BIG_GROUP)
        server.ldapadd(org)
        yield server
    finally:
        server.stop()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Each test runs once per backend."""
    if request.param == "python-ldap":
        require_module("ldap", "python-ldap (pip install 'accessaudit[fast-ldap]')")
    return str(request.param)


@pytest.fixture
def manifest() -> Manifest:
    """The shipped OpenLDAP connector manifest."""
    return find_manifests()["openldap"]


@pytest.fixture
def context() -> CollectContext:
    """A collection context without progress bars."""
    return CollectContext(as_of=pd.Timestamp("2026-11-21", tz="UTC"))


@pytest.fixture(autouse=True)
def _password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, MANAGER_PASSWORD)


def ldap_settings(server: Slapd, backend: str, **options: Any) -> SourceSettings:
    """An ``openldap`` source pointing at ``server`` over LDAPS, overridable per test."""
    values: dict[str, Any] = {
        "url": server.ldaps_url,
        "base_dn": BASE_DN,
        "bind_dn": MANAGER_DN,
        "password_env": PASSWORD_ENV,
        "ca_bundle": str(server.ca_cert),
        "backend": backend,
        "timeout": 10,
    }
    values.update(options)
    return SourceSettings(name="ol", connector="openldap", options=values)


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(list(frame.columns[:3])).reset_index(drop=True)


# -- reading -------------------------------------------------------------------------------


@pytest.mark.parametrize("transport", ["ldaps", "starttls"])
def test_full_collection_reads_every_account_group_and_membership(
    slapd: Slapd, backend: str, manifest: Manifest, context: CollectContext, transport: str
) -> None:
    from accessaudit.connectors.ldap import collect

    options = {"url": slapd.ldap_url, "start_tls": True} if transport == "starttls" else {}
    result = collect(ldap_settings(slapd, backend, **options), manifest, context)

    accounts, groups = result.tables["accounts"], result.tables["groups"]
    memberships = result.tables["memberships"]
    assert len(accounts) == USERS
    # ops, admins, the teams, one big group, one posixGroup per 50 users
    assert len(groups) == 2 + GROUPS + 1 + USERS // 50
    assert accounts["login"].str.startswith("user").all()
    assert set(accounts["employee_id"]) == {f"E{i:06d}" for i in range(USERS)}
    big = groups.loc[groups["name"] == "everyone0", "group_id"].item()
    assert (memberships["group_id"] == big).sum() == USERS
    admins = groups.loc[groups["name"] == "admins", "group_id"].item()
    nested = memberships[(memberships["group_id"] == admins)]
    assert "group" in set(nested["member_type"])  # admins nests ops: a group -> group edge
    assert result.report["backend"] == backend
    assert result.report["retries"] == 0


def test_live_and_ldapsearch_export_give_identical_tables(
    slapd: Slapd, backend: str, manifest: Manifest, context: CollectContext, tmp_path: Path
) -> None:
    from accessaudit.connectors.ldap import collect
    from accessaudit.connectors.ldap.mapping import attributes_to_request

    export = tmp_path / "export.ldif"
    slapd.ldapsearch_ldif(export, *attributes_to_request(manifest))
    from_ldif = collect(
        SourceSettings(name="ol", connector="openldap", path=export), manifest, context
    )
    live = collect(ldap_settings(slapd, backend), manifest, context)

    assert set(live.tables) == set(from_ldif.tables)
    for name, table in live.tables.items():
        assert len(table) > 0, name
        pd.testing.assert_frame_equal(_sorted(table), _sorted(from_ldif.tables[name]))


def test_small_pages_stream_every_entry_exactly_once(
    slapd: Slapd, backend: str, manifest: Manifest, context: CollectContext
) -> None:
    entries = read_entries(ldap_settings(slapd, backend, page_size=7), manifest, context)
    seen = [(dn, position) for dn, _, position in entries]

    dns = [dn for dn, _ in seen]
    assert len(dns) == len(set(dns)) == USERS + 2 + GROUPS + 1 + USERS // 50
    assert [position for _, position in seen] == list(range(1, len(seen) + 1))
    assert entries.report["entries"] == len(seen)
    # Accounts and groups are separate searches; each ends with a short page.
    assert entries.report["pages"] >= len(seen) // 7
    assert entries.report["backend"] == backend


def test_attribute_names_are_lower_case_and_values_raw_bytes(
    slapd: Slapd, backend: str, manifest: Manifest, context: CollectContext
) -> None:
    entries = read_entries(ldap_settings(slapd, backend), manifest, context)
    first_user = next(attrs for dn, attrs, _ in entries if dn.startswith("uid=user000000,"))

    assert first_user["employeenumber"] == [b"E000000"]
    assert b"cn=ops,ou=groups,dc=example,dc=org" in first_user["memberof"]
    assert all(name == name.lower() for name in first_user)
    assert all(isinstance(v, bytes) for values in first_user.values() for v in values)


def test_progress_bar_goes_to_stderr_when_asked(
    slapd: Slapd, backend: str, manifest: Manifest, capsys: pytest.CaptureFixture[str]
) -> None:
    context = CollectContext(as_of=pd.Timestamp("2026-11-21", tz="UTC"), progress=True)
    for _ in read_entries(ldap_settings(slapd, backend), manifest, context):
        pass

    captured = capsys.readouterr()
    assert captured.out == ""
    assert "entries" in captured.err


def test_backends_yield_identical_entries(
    slapd: Slapd, manifest: Manifest, context: CollectContext
) -> None:
    require_module("ldap", "python-ldap (pip install 'accessaudit[fast-ldap]')")
    by_backend = {
        backend: list(read_entries(ldap_settings(slapd, backend), manifest, context))
        for backend in BACKENDS
    }
    assert by_backend["ldap3"] == by_backend["python-ldap"]


# -- a bind account that may not read everything --------------------------------------------

RESTRICTED_ENV = "ACCESSAUDIT_TEST_SLAPD_RESTRICTED_PASSWORD"
SMALL_ORG = 40
SIGNED_IN = "user000003"  # binds once, so the lastbind overlay gives it an authTimestamp
LOCKED = "user000004"  # locked for good by the manager (ppolicy)


@pytest.fixture(scope="module")
def restricted_slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slapd]:
    """A slapd whose ACL hides employeeNumber, authTimestamp and pwdAccountLockedTime from
    :data:`RESTRICTED_DN`, with one account that has signed in and one that is locked."""
    _require_slapd()
    require_binaries("ldap-utils", "ldapmodify", "ldapwhoami")
    folder = tmp_path_factory.mktemp("restricted")
    server = Slapd(folder / "server")
    server.start()
    try:
        server.ldapadd(org_ldif(folder / "org.ldif", users=SMALL_ORG, groups=4, big_groups=0))
        server.add_restricted_reader()
        people = f"ou=people,{BASE_DN}"
        server.ldapmodify(
            f"dn: uid={SIGNED_IN},{people}\nchangetype: modify\n"
            "replace: userPassword\nuserPassword: user-secret-42\n\n"
            f"dn: uid={LOCKED},{people}\nchangetype: modify\n"
            "replace: pwdAccountLockedTime\npwdAccountLockedTime: 000001010000Z\n\n"
            # The overlay's default policy, with lockout on: the lock takes effect.
            f"dn: {DEFAULT_POLICY_DN.partition(',')[2]}\nchangetype: add\n"
            "objectClass: organizationalUnit\nou: policies\n\n"
            f"dn: {DEFAULT_POLICY_DN}\nchangetype: add\nobjectClass: organizationalRole\n"
            "objectClass: pwdPolicy\ncn: default\npwdAttribute: userPassword\npwdLockout: TRUE\n"
        )
        server.bind_as(f"uid={SIGNED_IN},{people}", "user-secret-42")
        yield server
    finally:
        server.stop()


def test_manager_bind_reads_the_attributes_the_restricted_reader_cannot(
    restricted_slapd: Slapd, backend: str, manifest: Manifest, context: CollectContext
) -> None:
    from accessaudit.connectors.ldap import collect

    settings = ldap_settings(restricted_slapd, backend, ppolicy_default=DEFAULT_POLICY_DN)
    result = collect(settings, manifest, context)
    accounts = result.tables["accounts"].set_index("login")

    assert accounts["employee_id"].notna().all()
    assert result.report["last_sign_in_known"] is True
    assert accounts.loc[[SIGNED_IN], "last_sign_in"].notna().all()
    assert not accounts.loc[LOCKED, "enabled"]  # locked for good: disabled
    assert result.report["locked_permanently"] == 1
    assert not set(HIDDEN_ATTRIBUTES) & set(result.report["attributes_not_returned"])


def test_restricted_bind_collects_and_reports_the_attributes_it_could_not_read(
    restricted_slapd: Slapd,
    backend: str,
    manifest: Manifest,
    context: CollectContext,
    *,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from accessaudit.connectors.ldap import collect

    monkeypatch.setenv(RESTRICTED_ENV, RESTRICTED_PASSWORD)
    settings = ldap_settings(
        restricted_slapd, backend, bind_dn=RESTRICTED_DN, password_env=RESTRICTED_ENV
    )
    with caplog.at_level(logging.WARNING, logger="accessaudit"):
        result = collect(settings, manifest, context)
    accounts = result.tables["accounts"]
    report = result.report

    # The collection succeeds with every account and group ...
    assert len(accounts) == SMALL_ORG
    assert len(result.tables["groups"]) > 0
    # ... the hidden values are missing, not invented ...
    assert accounts["employee_id"].isna().all()
    assert accounts["last_sign_in"].isna().all()
    # ... sign-ins are "unknown", not "never" (which would make every account look unused) ...
    assert report["last_sign_in_known"] is False
    assert not accounts["last_sign_in_known"].any()
    assert any("unknown, not 'never'" in warning for warning in report["warnings"])
    # ... and the report names exactly what the bind account could not see.
    assert set(HIDDEN_ATTRIBUTES) <= set(report["attributes_not_returned"])
    assert "mail" not in report["attributes_not_returned"]
    warned = [r.getMessage() for r in caplog.records if "no entry carried" in r.getMessage()]
    assert warned and "employeeNumber" in warned[0] and RESTRICTED_DN in warned[0]
    assert all(RESTRICTED_PASSWORD not in record.getMessage() for record in caplog.records)
    # The fixture locked one user for good, which this bind cannot see: the report says so.
    assert any("lock state is unverified" in warning for warning in report["warnings"])


# -- refusing and failing clearly ----------------------------------------------------------


def test_wrong_password_is_invalid_credentials_without_the_password(
    slapd: Slapd,
    backend: str,
    manifest: Manifest,
    context: CollectContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "not-the-password-0xdeadbeef")
    with pytest.raises(SourceError) as raised:
        list(read_entries(ldap_settings(slapd, backend), manifest, context))

    message = str(raised.value)
    assert f"invalid credentials for {MANAGER_DN} at {slapd.ldaps_url}" in message
    assert "0xdeadbeef" not in message
    assert raised.value.__cause__ is None  # no chained server text either


@pytest.mark.parametrize("transport", ["ldaps", "starttls"])
def test_certificate_from_another_ca_is_refused_and_points_at_ca_bundle(
    slapd: Slapd, backend: str, manifest: Manifest, context: CollectContext, transport: str
) -> None:
    assert slapd.pki is not None
    options: dict[str, Any] = {"ca_bundle": str(slapd.pki.other_ca_cert)}
    if transport == "starttls":
        options.update(url=slapd.ldap_url, start_tls=True)
    with pytest.raises(SourceError, match="certificate verification failed") as raised:
        list(read_entries(ldap_settings(slapd, backend, **options), manifest, context))

    assert "ca_bundle" in str(raised.value)


def test_simple_bind_over_plaintext_is_refused_without_allow_plaintext(
    slapd: Slapd, backend: str, manifest: Manifest, context: CollectContext
) -> None:
    settings = ldap_settings(slapd, backend, url=slapd.ldap_url)
    with pytest.raises(ConfigError, match="allow_plaintext"):
        read_entries(settings, manifest, context)


def test_plaintext_allowed_explicitly_works_and_warns(
    slapd: Slapd,
    backend: str,
    manifest: Manifest,
    context: CollectContext,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = ldap_settings(slapd, backend, url=slapd.ldap_url, allow_plaintext=True)
    with caplog.at_level(logging.WARNING, logger="accessaudit"):
        entries = list(read_entries(settings, manifest, context))

    assert len(entries) > USERS
    assert any("unencrypted" in record.getMessage() for record in caplog.records)
    assert all(MANAGER_PASSWORD not in record.getMessage() for record in caplog.records)


def test_missing_base_dn_is_named_in_the_error(
    slapd: Slapd, backend: str, manifest: Manifest, context: CollectContext
) -> None:
    missing = f"ou=nowhere,{BASE_DN}"
    with pytest.raises(SourceError, match=f"base DN '{missing}' does not exist"):
        list(read_entries(ldap_settings(slapd, backend, base_dn=missing), manifest, context))


def test_unknown_backend_and_bad_page_size_are_config_errors(
    slapd: Slapd, manifest: Manifest
) -> None:
    with pytest.raises(ConfigError, match="backend"):
        LdapOptions.from_settings(ldap_settings(slapd, "winldap"), manifest)
    with pytest.raises(ConfigError, match="page_size"):
        LdapOptions.from_settings(ldap_settings(slapd, "ldap3", page_size=0), manifest)


# -- servers that go away -------------------------------------------------------------------


@pytest.fixture
def doomed_slapd(tmp_path: Path) -> Iterator[Slapd]:
    """A slapd of its own (tests kill it), loaded offline with 2,000 users."""
    _require_slapd()
    server = Slapd(tmp_path / "server")
    server.configure()
    server.slapadd(org_ldif(tmp_path / "org.ldif", users=2000, groups=10, big_groups=0))
    server.start()
    yield server
    server.stop()


def test_server_killed_mid_collection_is_a_source_error_naming_it(
    doomed_slapd: Slapd, backend: str, manifest: Manifest, context: CollectContext
) -> None:
    from accessaudit.connectors.ldap import collect

    settings = ldap_settings(doomed_slapd, backend, page_size=100, retries=2)
    entries = read_entries(settings, manifest, context)

    def read_and_kill_after_250() -> None:
        for _, _, position in entries:
            if position == 250:
                threading.Thread(target=doomed_slapd.kill).start()

    with pytest.raises(SourceError, match="lost the connection to") as raised:
        read_and_kill_after_250()

    assert doomed_slapd.ldaps_url in str(raised.value)
    assert "2 reconnect attempt(s)" in str(raised.value)
    assert entries.report["retries"] >= 1
    with pytest.raises(SourceError):  # and the collection layer sees the same error
        collect(settings, manifest, context)


def test_server_restarted_mid_collection_resumes_without_duplicates(
    doomed_slapd: Slapd, backend: str, manifest: Manifest, context: CollectContext
) -> None:
    settings = ldap_settings(doomed_slapd, backend, page_size=100, retries=5)
    entries = read_entries(settings, manifest, context)
    dns: list[str] = []
    for dn, _, _ in entries:
        dns.append(dn)
        if len(dns) == 250:
            doomed_slapd.kill()
            threading.Timer(0.3, doomed_slapd.start).start()

    assert len(dns) == len(set(dns)) == 2000 + 2 + 10 + 2000 // 50  # users, ops+admins, teams, unix
    assert entries.report["retries"] >= 1
    # slapd ties paging cookies to the connection: the search had to start over.
    assert entries.report["restarts"] == 1


# -- the command line -----------------------------------------------------------------------


def _audit_toml(folder: Path, server: Slapd, **options: Any) -> Path:
    values: dict[str, Any] = {
        "name": "ol",
        "connector": "openldap",
        "url": server.ldaps_url,
        "base_dn": BASE_DN,
        "bind_dn": MANAGER_DN,
        "password_env": PASSWORD_ENV,
        "ca_bundle": str(server.ca_cert),
        "timeout": 5,
        "retries": 1,
    }
    values.update(options)
    lines = ["[[sources]]"] + [
        f"{key} = {value!r}".replace("'", '"') if isinstance(value, str) else f"{key} = {value}"
        for key, value in values.items()
    ]
    config = folder / "audit.toml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config


def _run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "accessaudit", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_cli_collect_from_slapd_writes_a_snapshot(slapd: Slapd, tmp_path: Path) -> None:
    out = tmp_path / "snapshots" / "q4"
    done = _run_cli("collect", "--config", str(_audit_toml(tmp_path, slapd)), "--out", str(out))

    assert done.returncode == 0, done.stderr
    assert (out / "manifest.json").is_file()


@pytest.mark.parametrize("failure", ["wrong-password", "server-down"])
def test_cli_failed_collection_exits_2_and_writes_no_snapshot(
    doomed_slapd: Slapd, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    if failure == "wrong-password":
        monkeypatch.setenv(PASSWORD_ENV, "not-the-password-0xdeadbeef")
    else:
        doomed_slapd.kill()
    out = tmp_path / "snapshots" / "q4"
    config = _audit_toml(tmp_path, doomed_slapd)
    done = _run_cli("collect", "--config", str(config), "--out", str(out))

    assert done.returncode == 2, done.stderr
    assert not out.exists()
    assert not out.parent.exists() or not any(out.parent.iterdir())
    assert doomed_slapd.ldaps_url in done.stderr
    assert "0xdeadbeef" not in done.stderr


def test_server_that_never_answers_times_out_with_a_source_error(
    backend: str, manifest: Manifest, context: CollectContext
) -> None:
    import socket
    import time

    with socket.socket() as silent:  # accepts connections (backlog) but never speaks LDAP
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"ldap://127.0.0.1:{silent.getsockname()[1]}"
        options = {"url": url, "base_dn": BASE_DN, "backend": backend, "timeout": 1, "retries": 0}
        settings = SourceSettings(name="ol", connector="openldap", options=options)
        started = time.monotonic()
        with pytest.raises(SourceError, match=url):
            list(read_entries(settings, manifest, context))

    assert time.monotonic() - started < 15


# -- ppolicy, posix primary groups, person-like classes, whole ldapsearch output --------------
# slapo-ppolicy(5) (OpenLDAP 2.5, after draft-behera-ldap-password-policy): pwdAccountLockedTime
# "only takes effect when the pwdLockout password policy attribute is set to TRUE"; the governing
# policy is pwdPolicySubentry, else the overlay's ppolicy_default; 000001010000Z locks for good;
# other locks end after pwdLockoutDuration seconds (0 or absent: until reset).

PEOPLE = f"ou=people,{BASE_DN}"
POLICIES = f"ou=policies,{BASE_DN}"
USER_PASSWORD = "user-secret-42"
NOW_LOCK = pd.Timestamp.now(tz="UTC").strftime("%Y%m%d%H%M%SZ")
#: login -> (pwdPolicySubentry policy cn or None, pwdAccountLockedTime, locked as slapd enforces)
LOCK_CASES: dict[str, tuple[str | None, str, bool]] = {
    "lock-permanent": ("locking", "000001010000Z", True),
    "lock-until-reset": ("locking", NOW_LOCK, True),
    "lock-expired": ("short", "20200101000000Z", False),
    "lock-not-enforced": ("nolockout", NOW_LOCK, False),
    "lock-permanent-not-enforced": ("nolockout", "000001010000Z", False),
    "lock-by-default": (None, NOW_LOCK, True),
}


def _policy_ldif() -> str:
    policies = [
        f"dn: {POLICIES}\nchangetype: add\nobjectClass: organizationalUnit\nou: policies\n",
    ]
    for cn, lockout, duration in [
        ("locking", "TRUE", 0),
        ("short", "TRUE", 60),
        ("nolockout", "FALSE", 0),
        ("default", "TRUE", 0),
    ]:
        policies.append(
            f"dn: cn={cn},{POLICIES}\nchangetype: add\nobjectClass: organizationalRole\n"
            f"objectClass: pwdPolicy\ncn: {cn}\npwdAttribute: userPassword\n"
            f"pwdLockout: {lockout}\npwdLockoutDuration: {duration}\npwdMaxFailure: 3\n"
        )
    return "\n".join(policies)


def _people_ldif() -> str:
    records = []
    for login, (policy, _, _) in LOCK_CASES.items():
        subentry = f"pwdPolicySubentry: cn={policy},{POLICIES}\n" if policy else ""
        records.append(
            f"dn: uid={login},{PEOPLE}\nchangetype: add\nobjectClass: inetOrgPerson\n"
            f"uid: {login}\ncn: {login}\nsn: {login}\nuserPassword: {USER_PASSWORD}\n{subentry}"
        )
    records += [
        # OpenLDAP's own sample data (tests/data) uses OpenLDAPperson:
        # a person-like class the manifest does not list.
        f"dn: uid=old-style,{PEOPLE}\nchangetype: add\nobjectClass: OpenLDAPperson\n"
        "uid: old-style\ncn: Old Style\nsn: Style\n",
        f"dn: uid=root-by-gid,{PEOPLE}\nchangetype: add\nobjectClass: inetOrgPerson\n"
        "objectClass: posixAccount\nuid: root-by-gid\ncn: Root By Gid\nsn: Gid\n"
        "uidNumber: 20001\ngidNumber: 10\nhomeDirectory: /home/root-by-gid\n",
        f"dn: cn=wheel,ou=groups,{BASE_DN}\nchangetype: add\nobjectClass: posixGroup\n"
        "cn: wheel\ngidNumber: 10\n",
        # A part of the tree held by another server: ldapsearch prints a search reference.
        f"dn: ou=elsewhere,{BASE_DN}\nchangetype: add\nobjectClass: referral\n"
        "objectClass: extensibleObject\nou: elsewhere\n"
        "ref: ldap://other.example.org/ou=elsewhere,dc=example,dc=org\n",
    ]
    return "\n".join(records)


def _locks() -> str:
    """Set every case's pwdAccountLockedTime (again: a successful bind clears an expired one)."""
    return "\n".join(
        f"dn: uid={login},{PEOPLE}\nchangetype: modify\nreplace: pwdAccountLockedTime\n"
        f"pwdAccountLockedTime: {when}\n"
        for login, (_, when, _) in LOCK_CASES.items()
    )


@pytest.fixture(scope="module")
def policy_slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slapd]:
    """A slapd of its own with ppolicy policies, locked accounts, a posix primary group and
    an entry of an unlisted person-like class."""
    _require_slapd()
    folder = tmp_path_factory.mktemp("policy-slapd")
    server = Slapd(folder / "server")
    server.start()
    try:
        server.ldapadd(org_ldif(folder / "org.ldif", users=4, groups=1, big_group_size=2))
        server.ldapmodify(_policy_ldif())
        server.ldapmodify(_people_ldif())
        server.ldapmodify(_locks())
        yield server
    finally:
        server.stop()


def _can_bind(server: Slapd, login: str) -> bool:
    done = subprocess.run(
        [
            "ldapwhoami",
            "-x",
            "-H",
            server.ldap_url,
            "-D",
            f"uid={login},{PEOPLE}",
            "-w",
            USER_PASSWORD,
        ],
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


def _policy_source(server: Slapd, backend: str, **options: Any) -> SourceSettings:
    return ldap_settings(server, backend, ppolicy_default=f"cn=default,{POLICIES}", **options)


def test_ppolicy_lock_state_agrees_with_what_slapd_enforces(
    policy_slapd: Slapd, backend: str, manifest: Manifest, context: CollectContext
) -> None:
    from accessaudit.connectors.ldap import collect

    policy_slapd.ldapmodify(_locks())
    result = collect(_policy_source(policy_slapd, backend), manifest, context)
    accounts = result.tables["accounts"].set_index("login")
    for login, (_, _, locked) in LOCK_CASES.items():
        assert bool(accounts.loc[login, "locked"]) is locked, login
        # The ground truth: slapd refuses the bind exactly when the account is locked (a
        # successful bind then clears an expired lock, so this runs after collecting).
        assert _can_bind(policy_slapd, login) is not locked, login
    assert not accounts.loc["lock-permanent", "enabled"]
    assert accounts.loc["lock-until-reset", "enabled"]
    assert result.report["locked_permanently"] == 1
    assert result.report["locks_not_enforced"] == 2  # even 000001010000Z needs pwdLockout
    assert result.report["locks_expired"] == 1
    assert result.report["lock_unverified"]["count"] == 0


def test_lock_without_a_readable_policy_is_unverified_not_disabled(
    policy_slapd: Slapd, backend: str, manifest: Manifest, context: CollectContext
) -> None:
    from accessaudit.connectors.ldap import collect

    # No ppolicy_default given: the overlay default that governs lock-by-default is unknown.
    result = collect(ldap_settings(policy_slapd, backend), manifest, context)
    account = result.tables["accounts"].set_index("login").loc["lock-by-default"]
    assert pd.isna(account["locked"])
    assert account["enabled"]
    assert result.report["lock_unverified"] == {"count": 1, "first": ["lock-by-default"]}
    assert any("lock state unverified" in w for w in result.report["warnings"])


def test_posix_primary_gid_makes_a_wheel_member_who_holds_the_privilege(
    policy_slapd: Slapd, backend: str, manifest: Manifest, context: CollectContext
) -> None:
    from accessaudit.connectors.ldap import collect

    result = collect(_policy_source(policy_slapd, backend), manifest, context)
    accounts = result.tables["accounts"].set_index("login")
    groups = result.tables["groups"].set_index("name")
    edges = result.tables["memberships"]
    wheel = groups.loc["wheel", "group_id"]
    assert groups.loc["wheel", "privileged"]  # the openldap manifest: sudo and wheel
    member = edges[(edges["group_id"] == wheel)]
    assert member["member_id"].tolist() == [accounts.loc["root-by-gid", "account_id"]]


def test_unlisted_person_like_class_is_counted_and_can_be_added(
    policy_slapd: Slapd, backend: str, manifest: Manifest, context: CollectContext
) -> None:
    from accessaudit.connectors.ldap import collect

    result = collect(_policy_source(policy_slapd, backend), manifest, context)
    assert "old-style" not in set(result.tables["accounts"]["login"])
    assert result.report["unlisted_person_classes"] == {"OpenLDAPperson": 1}
    assert any("person_classes = ['OpenLDAPperson']" in w for w in result.report["warnings"])

    added = _policy_source(policy_slapd, backend, person_classes=["OpenLDAPperson"])
    result = collect(added, manifest, context)
    assert "old-style" in set(result.tables["accounts"]["login"])
    assert result.report["unlisted_person_classes"] == {}


def _export_settings(path: Path, **options: Any) -> SourceSettings:
    return SourceSettings(
        name="ol",
        connector="openldap",
        path=path,
        options={"ppolicy_default": f"cn=default,{POLICIES}", **options},
    )


def test_whole_paged_ldapsearch_output_reads_like_the_live_server(
    policy_slapd: Slapd, manifest: Manifest, context: CollectContext, tmp_path: Path
) -> None:
    """ldapsearch(1) without -LLL: '# extended LDIF' comments, a 'ref:' search reference and
    one '# search result' trailer per page (-E pr=N/noprompt)."""
    from accessaudit.connectors.ldap import collect

    export = tmp_path / "paged.ldif"
    status = policy_slapd.ldapsearch_output(
        export, "-E", "pr=5/noprompt", "(objectClass=*)", "*", "+"
    )
    assert status == 0
    text = export.read_text(encoding="utf-8")
    assert text.startswith("# extended LDIF") and text.count("# search result") > 1
    exported = collect(_export_settings(export), manifest, context)
    live = collect(_policy_source(policy_slapd, "ldap3"), manifest, context)
    for table in ("accounts", "groups", "memberships"):
        columns = [c for c in live.tables[table].columns if c != "origin"]
        pd.testing.assert_frame_equal(
            _sorted(exported.tables[table][columns]), _sorted(live.tables[table][columns])
        )
    # The live read meets the same reference (each filter's search does; counted once).
    for result in (exported, live):
        assert result.report["search_references"] == {
            "count": 1,
            "first": ["ldap://other.example.org/ou=elsewhere,dc=example,dc=org??sub"],
        }
    assert exported.report["partial"] is False


def test_size_limited_ldapsearch_output_is_refused_naming_the_line_and_the_fix(
    policy_slapd: Slapd, manifest: Manifest, context: CollectContext, tmp_path: Path
) -> None:
    """RFC 4511 §4.1.9 result 4 (sizeLimitExceeded), as AD's MaxPageSize of 1,000 gives an
    unpaged search: ldapsearch writes 'result: 4 Size limit exceeded' in its trailer."""
    from accessaudit.connectors.ldap import collect

    export = tmp_path / "limited.ldif"
    assert policy_slapd.ldapsearch_output(export, "-z", "3", "(objectClass=*)", "*", "+") == 4
    lines = export.read_text(encoding="utf-8").splitlines()
    trailer = lines.index("result: 4 Size limit exceeded") - 1  # the 'search: 2' line
    with pytest.raises(SourceError) as caught:
        collect(_export_settings(export), manifest, context)
    message = str(caught.value)
    assert f"limited.ldif:{trailer + 1}" in message
    assert "Size limit exceeded" in message
    assert "-E pr=1000/noprompt" in message

    partial = collect(_export_settings(export, allow_partial_export=True), manifest, context)
    assert partial.report["partial"] is True
    assert partial.report["warnings"][0].startswith("PARTIAL EXPORT")
