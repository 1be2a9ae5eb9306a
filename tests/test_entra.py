"""The entra-id connector against a local Microsoft identity platform + Graph over HTTPS.

msal and the connector run for real: OpenID discovery, the token endpoint (client secret and
certificate assertion), Graph paging, $batch, throttling, token expiry, licence and permission
gaps, malformed pages. The sample tenant (``accessaudit.sample._entra``) feeds the server, and its
saved pages are the baseline the live collections must reproduce exactly.
"""

from __future__ import annotations

import json
import logging
import shlex
import stat
import sys
import time
import webbrowser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pandas as pd
import pytest
import requests

from accessaudit.connectors import CollectContext, Manifest, SourceSettings, find_manifests
from accessaudit.connectors._graph.pages import RawPages
from accessaudit.connectors.entra import collect
from accessaudit.connectors.entra.settings import EntraSettings
from accessaudit.connectors.entra.transform import tables_from_pages
from accessaudit.errors import ConfigError, SourceError
from accessaudit.model import TABLES
from accessaudit.sample._entra import GUEST_SITE_GROUP, build_tenant, write_tenant
from graph_server import (
    CLIENT_ID,
    CLIENT_SECRET,
    Faults,
    GraphServer,
    PkiFiles,
    documented_tenant,
    make_people,
    make_pki,
    sign_in_options,
)
from graph_server import browser as headless_browser

AS_OF = pd.Timestamp("2026-11-21T12:00:00", tz="UTC")
SECRET_ENV = "ACCESSAUDIT_TEST_ENTRA_SECRET"


# ---- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PkiFiles:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def manifest() -> Manifest:
    return find_manifests()["entra-id"]


@pytest.fixture(scope="module")
def big_people() -> pd.DataFrame:
    return make_people(3000)


@pytest.fixture(scope="module")
def small_people() -> pd.DataFrame:
    return make_people(240, seed=3)


@pytest.fixture(scope="module")
def small_tenant(small_people: pd.DataFrame) -> dict[str, Any]:
    return build_tenant(small_people, as_of=AS_OF)


@pytest.fixture(scope="module")
def small_baseline(
    small_people: pd.DataFrame, manifest: Manifest, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, pd.DataFrame]:
    """The small sample tenant read back from the pages write_tenant saved."""
    folder = tmp_path_factory.mktemp("sample-small")
    write_tenant(folder, small_people, as_of=AS_OF)
    return collect(SourceSettings("entra", "entra-id", path=folder), manifest, _context()).tables


@pytest.fixture(autouse=True)
def client_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, CLIENT_SECRET)


def _context(**kwargs: Any) -> CollectContext:
    return CollectContext(as_of=AS_OF, **kwargs)


def _settings(server: GraphServer, pki: PkiFiles, **options: Any) -> SourceSettings:
    base = sign_in_options(server, pki, SECRET_ENV) | {"page_size": 50, "backoff_seconds": 0.01}
    base.update(options)
    return SourceSettings("entra", "entra-id", options=base)


def _serve(tenant: dict[str, Any], pki: PkiFiles, faults: Faults | None = None) -> GraphServer:
    return GraphServer(tenant, pki, faults=faults)


def _assert_same_tables(left: dict[str, pd.DataFrame], right: dict[str, pd.DataFrame]) -> None:
    assert set(left) == set(right)
    for name, table in left.items():
        pd.testing.assert_frame_equal(table, right[name], obj=name)


# ---- a full tenant --------------------------------------------------------------------------


def test_full_collection_of_a_large_tenant_reads_every_page_and_maps_every_object(
    big_people: pd.DataFrame, pki: PkiFiles, manifest: Manifest
) -> None:
    tenant = documented_tenant(build_tenant(big_people, as_of=AS_OF))
    with _serve(tenant, pki) as server:
        result = collect(_settings(server, pki, page_size=250), manifest, _context())
        counters = server.counters
    accounts = result.tables["accounts"].set_index("login")
    groups = result.tables["groups"]
    memberships = result.tables["memberships"]
    report = result.report

    users = len(tenant["users"])
    assert users >= 3000
    assert report["objects"]["users"] == users
    assert len(accounts) == users + len(tenant["service_principals"])
    assert report["pages"] > users // 250  # the users alone span many pages
    assert report["batches"] >= 2
    assert all(size <= 20 for size in counters.batch_sizes)
    assert len(counters.users_pages) > 12
    assert all(page["consistency"] == "eventual" for page in counters.users_pages)
    assert counters.token_requests[0]["auth"] == "secret"

    # a guest, from the documentation's example: an interactive sign-in attempt and no
    # successful sign-in (signinactivity.md: attempts are not use)
    guest = accounts.loc["admin_adatum.com#EXT#@contoso.onmicrosoft.com"]
    assert guest["kind"] == "guest"
    assert pd.isna(guest["last_sign_in"])
    assert report["sign_in"]["attempts_without_any_success"] >= 1
    # the last successful sign-in (here non-interactive, after the last interactive attempt)
    adele = accounts.loc["AdeleV@contoso.com"]
    assert adele["last_sign_in"] == pd.Timestamp("2026-11-03T18:57:02Z")
    assert adele["mfa"] is True or bool(adele["mfa"]) is True
    assert report["sign_in"]["known"] is True
    assert sum(report["sign_in"]["latest_from"].values()) > 2900

    # Global Administrator: privileged, two active admins, one of them without MFA
    ga = groups[groups["name"] == "Global Administrator"].iloc[0]
    assert ga["kind"] == "directory-role"
    assert bool(ga["privileged"]) is True
    assert ga["group_id"] == "entra:role:62e90394-69f5-4237-9190-012177145e10"
    ga_members = memberships[memberships["group_id"] == ga["group_id"]]
    active = ga_members[ga_members["assignment"] == "active"]["member_id"]
    admins = result.tables["accounts"].set_index("account_id").loc[active]
    assert admins["login"].str.startswith("adm-").all()
    assert sorted(admins["mfa"].tolist()) == [False, True]

    # a PIM-eligible assignment
    pra = groups[groups["name"] == "Privileged Role Administrator"].iloc[0]
    eligible = memberships[
        (memberships["group_id"] == pra["group_id"]) & (memberships["assignment"] == "eligible")
    ]
    assert len(eligible) == 1
    assert report["objects"]["role_assignments_eligible"] == 3

    # MFA: most registered, some not, disabled users not reported (unknown)
    mfa = result.tables["accounts"].query("kind != 'service'")["mfa"]
    assert mfa.eq(True).sum() > 2500
    assert mfa.eq(False).sum() > 100
    disabled = result.tables["accounts"].query("kind == 'user' and not enabled")
    assert len(disabled) > 0
    assert disabled["mfa"].isna().all()

    # the role-assignable group holds a role; the device member is kept, unresolved, counted
    helpdesk = groups[groups["name"] == "Helpdesk Administrator"].iloc[0]
    holders = memberships[memberships["group_id"] == helpdesk["group_id"]]
    assert holders["member_type"].tolist() == ["group"]
    assert report["unresolved_members"] == 1
    assert report["objects"]["role_assignments_scoped"] == 1

    # app roles become groups with members; credentials are summarised
    app_roles = groups[groups["kind"] == "app-role"]
    assert "Microsoft Graph/RoleManagement.ReadWrite.Directory" in set(app_roles["name"])
    assert app_roles.set_index("name").loc[
        "Microsoft Graph/RoleManagement.ReadWrite.Directory", "privileged"
    ]
    assert report["credentials"]["expired"] == 1
    assert report["credentials"]["long_lived"] == 1
    assert report["oauth2_permission_grants"]["admin_consent"] == 1
    assert report["throttling_retries"] == 0
    assert report["gaps"] == []


def test_live_collection_reproduces_the_sample_tenant_pages_exactly(
    small_tenant: dict[str, Any],
    small_baseline: dict[str, pd.DataFrame],
    pki: PkiFiles,
    manifest: Manifest,
) -> None:
    with _serve(small_tenant, pki) as server:
        result = collect(_settings(server, pki), manifest, _context())
    _assert_same_tables(result.tables, small_baseline)


def test_device_code_sign_in_prints_the_code_on_stderr_and_refreshes_silently(
    small_tenant: dict[str, Any],
    small_baseline: dict[str, pd.DataFrame],
    pki: PkiFiles,
    manifest: Manifest,
    capsys: pytest.CaptureFixture[str],
) -> None:
    options = {"auth": "device-code", "client_secret_env": None}
    with _serve(small_tenant, pki, Faults(expire_token_after=6)) as server:
        result = collect(_settings(server, pki, **options), manifest, _context(progress=True))
        grants = [request["grant_type"] for request in server.counters.token_requests]
    out, err = capsys.readouterr()
    assert "enter the code GRPH-7Q4X" in err
    assert out == ""  # stdout stays clean for --format json
    assert grants.count("urn:ietf:params:oauth:grant-type:device_code") == 2  # pending, then ok
    assert grants[-1] == "refresh_token"  # the 401 was answered silently, no second prompt
    assert err.count("GRPH-7Q4X") == 1
    assert result.report["token_refreshes"] == 1
    _assert_same_tables(result.tables, small_baseline)


def test_missing_leave_date_permission_drops_only_that_attribute_and_says_so(
    small_tenant: dict[str, Any], pki: PkiFiles, manifest: Manifest
) -> None:
    with _serve(small_tenant, pki, Faults(leave_date_403=True)) as server:
        result = collect(_settings(server, pki), manifest, _context())
    accounts = result.tables["accounts"]
    assert accounts["expires"].isna().all()
    assert accounts["last_sign_in_known"][accounts["kind"] != "service"].all()
    assert accounts["last_sign_in"].notna().sum() > 200
    assert any("employeeLeaveDateTime" in gap for gap in result.report["gaps"])


def test_raw_pages_saved_and_reread_give_identical_tables(
    small_tenant: dict[str, Any], pki: PkiFiles, manifest: Manifest, tmp_path: Path
) -> None:
    with _serve(small_tenant, pki, Faults(throttle_every=9)) as server:
        live = collect(_settings(server, pki), manifest, _context(save_raw=tmp_path))
    folder = tmp_path / "entra"
    index = json.loads((folder / "index.json").read_text(encoding="utf-8"))
    assert len(index["pages"]) == live.report["pages"]
    assert not any("$skiptoken=X" in page["url"] for page in index["pages"])
    reread = collect(SourceSettings("entra", "entra-id", path=folder), manifest, _context())
    _assert_same_tables(live.tables, reread.tables)
    assert reread.report["mode"] == "saved pages"
    assert reread.report["objects"] == live.report["objects"]


def _use_headless_browser(
    monkeypatch: pytest.MonkeyPatch, pki: PkiFiles, log: Path, tamper: str | None = None
) -> None:
    """Make ``$BROWSER`` the headless browser script, as a user would name their browser."""
    command = [sys.executable, headless_browser.__file__, "--ca", str(pki.ca_file)]
    command += ["--log", str(log), *(["--tamper", tamper] if tamper else []), "%s"]
    monkeypatch.setenv("BROWSER", shlex.join(command))
    # webbrowser reads $BROWSER once, when it first lists the browsers; make it list them again
    # (monkeypatch puts the module's own registry back afterwards).
    monkeypatch.setattr(webbrowser, "_tryorder", None)
    monkeypatch.setattr(webbrowser, "_browsers", {})


def _browser_steps(log: Path) -> list[list[dict[str, Any]]]:
    # The browser runs detached; its log line may land a moment after msal has moved on.
    for _ in range(100):
        if log.is_file() and log.read_text(encoding="utf-8").endswith("\n"):
            break
        time.sleep(0.05)
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]


def test_interactive_sign_in_goes_through_the_browser_with_pkce_and_then_stays_silent(
    *,
    small_tenant: dict[str, Any],
    small_baseline: dict[str, pd.DataFrame],
    pki: PkiFiles,
    manifest: Manifest,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    log = tmp_path / "browser.jsonl"
    _use_headless_browser(monkeypatch, pki, log)
    cache = tmp_path / "entra-token-cache.json"
    options = {"auth": "interactive", "client_secret_env": None, "token_cache": str(cache)}
    with _serve(small_tenant, pki) as server:
        first = collect(_settings(server, pki, **options), manifest, _context())
        authorize = list(server.counters.authorize_requests)
        grants = [request["grant_type"] for request in server.counters.token_requests]
        second = collect(_settings(server, pki, **options), manifest, _context())
        counters = server.counters
    _assert_same_tables(first.tables, small_baseline)
    _assert_same_tables(second.tables, small_baseline)

    # one visit to /authorize: a public client, PKCE S256, a loopback redirect, form_post
    assert len(authorize) == 1
    request = authorize[0]
    assert request["client_id"] == CLIENT_ID
    assert request["response_type"] == "code"
    assert request["code_challenge_method"] == "S256"
    assert request["response_mode"] == "form_post"
    assert request["redirect_uri"].startswith("http://localhost:")
    assert f"{server.base_url}/User.Read.All" in request["scope"].split()
    assert grants == ["authorization_code"]
    assert counters.token_requests[0]["auth"] == "public"

    # the browser was given the authorize URL and msal's listener took the posted answer
    (steps,) = _browser_steps(log)
    assert steps[0]["url"].startswith(
        f"{server.base_url}/{server.tenant_id}/oauth2/v2.0/authorize?"
    )
    assert steps[1]["post"] is True and steps[1]["url"] == request["redirect_uri"]
    assert steps[1]["status"] == 200 and "Authentication complete" in steps[1]["body"]

    # the second run signs in silently from the cache file: no browser, no new token
    assert cache.is_file()
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    assert "RefreshToken" in cache.read_text(encoding="utf-8")
    assert len(counters.authorize_requests) == 1
    assert len(counters.token_requests) == 1
    assert counters.tokens_issued == 1
    assert len(_browser_steps(log)) == 1


def test_interactive_sign_in_with_a_substituted_pkce_challenge_is_refused(
    small_tenant: dict[str, Any],
    pki: PkiFiles,
    manifest: Manifest,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    log = tmp_path / "browser.jsonl"
    _use_headless_browser(monkeypatch, pki, log, tamper="challenge")
    options = {"auth": "interactive", "client_secret_env": None}
    with (
        _serve(small_tenant, pki) as server,
        pytest.raises(SourceError, match="sign-in failed: invalid_grant: AADSTS501481") as caught,
    ):
        collect(_settings(server, pki, **options), manifest, _context())
    assert "Code_Verifier does not match" in str(caught.value)
    assert caught.value.source == "entra"
    assert [r["grant_type"] for r in server.counters.token_requests] == ["authorization_code"]
    assert server.counters.tokens_issued == 0
    assert server.counters.graph_requests == 0


def test_interactive_sign_in_answer_with_a_forged_state_is_refused_and_times_out(
    small_tenant: dict[str, Any],
    pki: PkiFiles,
    manifest: Manifest,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    log = tmp_path / "browser.jsonl"
    _use_headless_browser(monkeypatch, pki, log, tamper="state")
    # Long enough for the browser process to start and post under load, short for a test.
    options = {"auth": "interactive", "client_secret_env": None, "sign_in_timeout": 3}
    with (
        _serve(small_tenant, pki) as server,
        pytest.raises(SourceError, match=r"interactive sign-in got no valid answer within 3 s"),
    ):
        collect(_settings(server, pki, **options), manifest, _context())
    (steps,) = _browser_steps(log)
    assert steps[1]["status"] == 400 and "State mismatch" in steps[1]["body"]
    assert server.counters.token_requests == []  # the forged code never reached /token
    assert server.counters.graph_requests == 0


def test_authorize_endpoint_checks_client_redirect_and_pkce_before_answering(
    small_tenant: dict[str, Any], pki: PkiFiles
) -> None:
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"  # RFC 7636, appendix B
    good = {
        "client_id": CLIENT_ID,
        "response_type": "code",
        "redirect_uri": "http://localhost:8400",
        "scope": "User.Read.All openid",
        "state": "xyz",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
    }
    bad = {
        "AADSTS700016": {"client_id": "someone-else"},
        "AADSTS50011": {"redirect_uri": "http://evil.example:8400"},
        "AADSTS700054": {"response_type": "token"},
        "AADSTS9002325": {"code_challenge_method": "plain"},
        "AADSTS90014": {"state": ""},
    }
    with _serve(small_tenant, pki) as server, requests.Session() as session:
        session.trust_env = False  # REQUESTS_CA_BUNDLE would override `verify`
        session.verify = str(pki.ca_file)
        url = f"{server.base_url}/{server.tenant_id}/oauth2/v2.0/authorize"
        for code, change in bad.items():
            refused = session.get(url, params=good | change, allow_redirects=False)
            assert refused.status_code == 400 and code in refused.text, code
        answer = session.get(url, params=good, allow_redirects=False)
        assert answer.status_code == 302
        location = urlsplit(answer.headers["Location"])
        assert f"{location.scheme}://{location.netloc}" == good["redirect_uri"]
        returned = dict(parse_qsl(location.query))
        assert returned["state"] == "xyz"
        token_url = f"{server.base_url}/{server.tenant_id}/oauth2/v2.0/token"
        form = {
            "grant_type": "authorization_code",
            "client_id": CLIENT_ID,
            "redirect_uri": good["redirect_uri"],
            "code": returned["code"],
            "code_verifier": verifier,
        }
        redeemed = session.post(token_url, data=form)
        assert redeemed.status_code == 200 and redeemed.json()["access_token"]
        again = session.post(token_url, data=form)  # a code is good once
        assert again.status_code == 400 and "AADSTS70008" in again.text


@pytest.mark.parametrize("timeout", ["soon", 0, -5, True])
def test_interactive_sign_in_timeout_must_be_positive_seconds(
    timeout: Any, pki: PkiFiles, manifest: Manifest
) -> None:
    settings = SourceSettings(
        "entra",
        "entra-id",
        options={
            "tenant_id": "contoso",
            "client_id": CLIENT_ID,
            "auth": "interactive",
            "sign_in_timeout": timeout,
            "ca_bundle": str(pki.ca_file),
        },
    )
    with pytest.raises(ConfigError, match=r"source 'entra': sign_in_timeout must be a number"):
        collect(settings, manifest, _context())


# ---- what goes wrong ------------------------------------------------------------------------


def test_throttling_mid_collection_is_retried_and_counted(
    small_tenant: dict[str, Any],
    small_baseline: dict[str, pd.DataFrame],
    pki: PkiFiles,
    manifest: Manifest,
) -> None:
    faults = Faults(throttle_every=5, throttle_batch_every=2, retry_after="0.05")
    with _serve(small_tenant, pki, faults) as server:
        result = collect(_settings(server, pki), manifest, _context())
        throttled = server.counters.throttled
    assert throttled >= 4
    assert result.report["throttling_retries"] == throttled
    _assert_same_tables(result.tables, small_baseline)


def test_service_unavailable_is_retried_like_throttling(
    small_tenant: dict[str, Any],
    small_baseline: dict[str, pd.DataFrame],
    pki: PkiFiles,
    manifest: Manifest,
) -> None:
    faults = Faults(throttle_every=6, throttle_status=503, retry_after="0.02")
    with _serve(small_tenant, pki, faults) as server:
        result = collect(_settings(server, pki), manifest, _context())
    assert result.report["throttling_retries"] >= 2
    _assert_same_tables(result.tables, small_baseline)


def test_expired_token_is_refreshed_once_and_collection_completes(
    small_tenant: dict[str, Any],
    small_baseline: dict[str, pd.DataFrame],
    pki: PkiFiles,
    manifest: Manifest,
) -> None:
    with _serve(small_tenant, pki, Faults(expire_token_after=12)) as server:
        result = collect(_settings(server, pki), manifest, _context())
        counters = server.counters
    assert counters.unauthorized == 1
    assert counters.tokens_issued == 2
    assert result.report["token_refreshes"] == 1
    _assert_same_tables(result.tables, small_baseline)


def test_licence_403_on_sign_in_activity_leaves_sign_ins_unknown_and_says_so(
    small_tenant: dict[str, Any], pki: PkiFiles, manifest: Manifest
) -> None:
    with _serve(small_tenant, pki, Faults(licence_403=True)) as server:
        result = collect(_settings(server, pki), manifest, _context())
        selects = [page["select"] for page in server.counters.users_pages]
    accounts = result.tables["accounts"]
    assert len(accounts) > 240
    assert not accounts["last_sign_in_known"].any()
    assert accounts["last_sign_in"].isna().all()
    assert "signInActivity" in selects[0]
    assert all("signInActivity" not in select for select in selects[1:])
    assert result.report["sign_in"]["known"] is False
    assert any(
        "Authentication_RequestFromNonPremiumTenantOrB2CTenant" in gap
        for gap in result.report["gaps"]
    )
    assert accounts["mfa"].notna().any()  # the rest of the collection is unaffected


def test_forbidden_mfa_report_leaves_mfa_unknown_and_says_so(
    small_tenant: dict[str, Any], pki: PkiFiles, manifest: Manifest
) -> None:
    with _serve(small_tenant, pki, Faults(mfa_403=True)) as server:
        result = collect(_settings(server, pki), manifest, _context())
    assert result.tables["accounts"]["mfa"].isna().all()
    assert result.report["mfa"]["known"] is False
    assert "MFA unknown" in result.report["mfa"]["note"]
    assert any("MFA registration" in gap for gap in result.report["gaps"])


@pytest.mark.parametrize("breakage", ["json", "value"])
def test_malformed_page_is_a_source_error_naming_the_url_and_nothing_is_saved(
    breakage: str, small_tenant: dict[str, Any], pki: PkiFiles, manifest: Manifest, tmp_path: Path
) -> None:
    with (
        _serve(small_tenant, pki, Faults(malformed=breakage)) as server,
        pytest.raises(SourceError, match=r"malformed Graph page") as caught,
    ):
        collect(_settings(server, pki), manifest, _context(save_raw=tmp_path))
    message = str(caught.value)
    assert f"{server.base_url}/v1.0/users?" in message
    assert "$skiptoken=…" in message  # the opaque token is not repeated
    assert not (tmp_path / "entra").exists()


def test_server_certificate_from_an_untrusted_ca_is_a_clear_source_error(
    small_tenant: dict[str, Any],
    pki: PkiFiles,
    manifest: Manifest,
    tmp_path: Path,
) -> None:
    other = make_pki(tmp_path / "other", label="some other CA")
    with _serve(small_tenant, pki) as server:
        with pytest.raises(SourceError, match="TLS certificate could not be verified") as caught:
            collect(_settings(server, pki, ca_bundle=str(other.ca_file)), manifest, _context())
        assert server.base_url in str(caught.value)
        # Without ca_bundle the system's CAs apply; REQUESTS_CA_BUNDLE does not widen them.
        with pytest.raises(SourceError, match="set ca_bundle"):
            collect(_settings(server, pki, ca_bundle=None), manifest, _context())


def test_wrong_client_secret_is_a_source_error_without_the_secret(
    small_tenant: dict[str, Any], pki: PkiFiles, manifest: Manifest, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, "not-the-secret-value")
    with _serve(small_tenant, pki) as server, pytest.raises(SourceError) as caught:
        collect(_settings(server, pki), manifest, _context())
    assert "invalid_client" in str(caught.value)
    assert "not-the-secret-value" not in str(caught.value)


def test_client_secret_never_reaches_logs_or_report(
    small_tenant: dict[str, Any],
    pki: PkiFiles,
    manifest: Manifest,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    faults = Faults(throttle_every=7, expire_token_after=20, licence_403=True)
    with _serve(small_tenant, pki, faults) as server:
        result = collect(_settings(server, pki), manifest, _context())
    assert caplog.records  # msal, urllib3 and accessaudit.graph all logged at DEBUG
    assert any(record.name == "accessaudit.graph" for record in caplog.records)
    assert CLIENT_SECRET not in caplog.text
    assert CLIENT_SECRET not in json.dumps(result.report, default=str)
    assert "Bearer " not in caplog.text


def test_certificate_sign_in_sends_an_assertion_the_server_verifies(
    small_tenant: dict[str, Any],
    small_baseline: dict[str, pd.DataFrame],
    pki: PkiFiles,
    manifest: Manifest,
    tmp_path: Path,
) -> None:
    options = {"client_secret_env": None, "certificate_path": str(pki.client_pem)}
    with _serve(small_tenant, pki) as server:
        result = collect(_settings(server, pki, **options), manifest, _context())
        assert server.counters.token_requests[-1]["auth"] == "assertion"
        other = make_pki(tmp_path / "other", label="another app")
        bad = {"client_secret_env": None, "certificate_path": str(other.client_pem)}
        with pytest.raises(SourceError, match="invalid_client"):
            collect(_settings(server, pki, **bad), manifest, _context())
    _assert_same_tables(result.tables, small_baseline)


def test_token_cache_goes_to_the_named_file_only(
    small_tenant: dict[str, Any], pki: PkiFiles, manifest: Manifest, tmp_path: Path
) -> None:
    cache = tmp_path / "private" / "entra-token-cache.json"
    raw = tmp_path / "raw"
    with _serve(small_tenant, pki) as server:
        collect(_settings(server, pki, token_cache=str(cache)), manifest, _context(save_raw=raw))
        first = server.counters.tokens_issued
        collect(_settings(server, pki, token_cache=str(cache)), manifest, _context())
        second = server.counters.tokens_issued
    assert cache.is_file()
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    assert second == first  # the second run used the cached token
    assert "AccessToken" in cache.read_text(encoding="utf-8")
    saved = "".join(p.read_text(encoding="utf-8") for p in raw.rglob("*.json"))
    assert "AccessToken" not in saved and "access_token" not in saved


# ---- the sample tenant ----------------------------------------------------------------------


def test_sample_tenant_plants_what_the_audit_should_find(
    small_people: pd.DataFrame, manifest: Manifest, tmp_path: Path
) -> None:
    write_tenant(tmp_path, small_people, as_of=AS_OF)
    result = collect(SourceSettings("entra", "entra-id", path=tmp_path), manifest, _context())
    accounts = result.tables["accounts"]
    groups = result.tables["groups"].set_index("name")
    memberships = result.tables["memberships"]

    synced = accounts[accounts["employee_id"].notna() & ~accounts["login"].str.startswith("adm-")]
    assert set(synced["employee_id"]) == set(small_people["employee_id"])
    guests = accounts[accounts["kind"] == "guest"]
    assert len(guests) == 6
    stale = guests["last_sign_in"] < AS_OF - pd.Timedelta(days=90)
    assert stale.sum() >= 2
    assert guests["last_sign_in"].isna().sum() == 2  # never accepted the invitation

    board = memberships[memberships["group_id"] == groups.loc[GUEST_SITE_GROUP, "group_id"]]
    guest_members = board[board["member_id"].isin(guests["account_id"])]
    assert len(guest_members) == 1
    assert bool(stale[guests["account_id"].isin(guest_members["member_id"])].iloc[0])

    ga = memberships[memberships["group_id"] == groups.loc["Global Administrator", "group_id"]]
    ga_accounts = accounts.set_index("account_id").loc[ga["member_id"]]
    assert (ga_accounts["mfa"] == False).sum() == 1  # noqa: E712 (nullable boolean)
    assert (memberships["assignment"] == "eligible").sum() == 3

    leavers = small_people[small_people["status"] == "terminated"]["employee_id"]
    leaver_accounts = accounts[accounts["employee_id"].isin(leavers) & accounts["kind"].eq("user")]
    assert leaver_accounts["enabled"].any()
    assert (~leaver_accounts["enabled"]).any()
    assert result.report["credentials"]["expired"] == 1

    again = tmp_path / "again"
    write_tenant(again, small_people, as_of=AS_OF)
    for file in sorted(tmp_path.glob("pages/*/*.json")):
        assert file.read_bytes() == (again / file.relative_to(tmp_path)).read_bytes()


def test_empty_tenant_gives_empty_tables_of_the_right_shape(manifest: Manifest) -> None:
    raw = RawPages(notes={"sign_in_fields": ["lastSignInDateTime"]})
    tables, report = tables_from_pages(
        raw, system="entra", graph=EntraSettings.from_manifest(manifest), as_of=AS_OF
    )
    for name, table in tables.items():
        assert table.empty
        assert tuple(table.columns) == TABLES[name].column_names
    assert report["objects"]["users"] == 0


def test_rereading_a_folder_without_an_index_names_the_missing_file(
    manifest: Manifest, tmp_path: Path
) -> None:
    with pytest.raises(SourceError, match=r"index\.json: file is missing"):
        collect(SourceSettings("entra", "entra-id", path=tmp_path), manifest, _context())
    (tmp_path / "index.json").write_text('{"format": "something else"}', encoding="utf-8")
    with pytest.raises(SourceError, match="not a folder of raw Graph pages"):
        collect(SourceSettings("entra", "entra-id", path=tmp_path), manifest, _context())
