"""Issue 10, Entra ID: read Graph as it is documented, and never report clean from data that
was not read. Each test runs the connector (msal + HTTPS) against the local Graph, extended
with the documented behaviour in tests/graph_server/fixtures/access_cases.json, whose
``_comment`` names the microsoft-graph-docs-contrib pages (api-reference/v1.0) followed:

* resources/signinactivity.md — lastSignInDateTime / lastNonInteractiveSignInDateTime record
  attempts, successful or not; lastSuccessfulSignInDateTime is "when the account was truly
  accessed";
* resources/userregistrationdetails.md — isMfaRegistered "may not necessarily be allowed by
  the authentication methods policy"; isMfaCapable is;
* resources/privilegedidentitymanagement-for-groups-api-overview.md,
  api/privilegedaccessgroup-list-eligibilityschedules.md, -assignmentschedules.md — eligible
  members/owners are not in /members; schedules need ``$filter=groupId eq '…'``;
* resources/user.md and api/user-list.md (example 1) — accountEnabled is "returned only on
  $select"; the default property set lacks it;
* resources/unifiedroleassignment.md — a built-in role's roleDefinitionId is its templateId.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from accessaudit.audit import run_audit
from accessaudit.connectors import CollectContext, Manifest, SourceSettings, find_manifests
from accessaudit.connectors._graph.pages import RawPage, RawPages
from accessaudit.connectors.entra import collect
from accessaudit.errors import SourceError
from accessaudit.policy import Policy
from accessaudit.sample._entra import build_tenant, tenant_pages
from accessaudit.snapshot import Snapshot
from graph_server import (
    CLIENT_SECRET,
    Faults,
    GraphServer,
    PkiFiles,
    documented_tenant,
    make_people,
    make_pki,
    sign_in_options,
)
from graph_server.server import USER_DEFAULT_PROPERTIES

AS_OF = pd.Timestamp("2026-11-21T12:00:00", tz="UTC")
SECRET_ENV = "ACCESSAUDIT_TEST_ENTRA_CASES_SECRET"
PIM_GROUP = "2b5ed229-4072-478d-9504-a047ebd4b07d"
GLOBAL_ADMIN = "62e90394-69f5-4237-9190-012177145e10"
PRIVILEGED_AUTH_ADMIN = "7be44c8a-adaf-4e2a-84d6-ab2649e08a13"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PkiFiles:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def manifest() -> Manifest:
    return find_manifests()["entra-id"]


@pytest.fixture(scope="module")
def tenant() -> dict[str, Any]:
    """A small generated tenant plus the documented cases of issue 10."""
    return documented_tenant(
        build_tenant(make_people(60, seed=5), as_of=AS_OF), "access_cases.json"
    )


def _collect(
    tenant: dict[str, Any], pki: PkiFiles, manifest: Manifest, faults: Faults | None = None
) -> tuple[Any, GraphServer]:
    server = GraphServer(tenant, pki, faults=faults)
    with server, pytest.MonkeyPatch.context() as patch:
        patch.setenv(SECRET_ENV, CLIENT_SECRET)
        settings = SourceSettings(
            "entra",
            "entra-id",
            options=sign_in_options(server, pki, SECRET_ENV)
            | {"page_size": 40, "backoff_seconds": 0.01},
        )
        result = collect(settings, manifest, CollectContext(as_of=AS_OF))
    return result, server


@pytest.fixture(scope="module")
def collected(tenant: dict[str, Any], pki: PkiFiles, manifest: Manifest) -> tuple[Any, GraphServer]:
    return _collect(tenant, pki, manifest)


def _audit(tables: dict[str, pd.DataFrame], *rules: str) -> pd.DataFrame:
    snapshot = Snapshot.from_tables(tables, as_of=AS_OF)
    result = run_audit(snapshot, Policy.from_mapping({}, origin="test"), rules=rules, as_of=AS_OF)
    return result.findings


def _account(result: Any, login: str) -> pd.Series:
    accounts = result.tables["accounts"]
    return accounts.set_index("login").loc[login]


# ---- use, not attempts ----------------------------------------------------------------------


def test_password_spray_on_a_dormant_account_does_not_make_it_used(
    collected: tuple[Any, GraphServer],
) -> None:
    result, _ = collected
    diego = _account(result, "DiegoS@contoso.com")
    # attempts yesterday (interactive and non-interactive), last success in March
    assert diego["last_sign_in"] == pd.Timestamp("2026-03-02T09:00:00Z")
    sign_in = result.report["sign_in"]
    assert sign_in["decided_by"] == "lastSuccessfulSignInDateTime"
    assert sign_in["successful_reported"] is True
    evidence = {row["login"]: row for row in sign_in["attempt_examples"]}
    assert evidence["DiegoS@contoso.com"]["last_attempt"] == "2026-11-20T03:15:41Z"
    assert evidence["DiegoS@contoso.com"]["last_successful"] == "2026-03-02T09:00:00Z"
    stale = _audit(result.tables, "stale-account")
    assert "DiegoS@contoso.com" in set(stale["subject_name"])
    assert "IsaiahL@contoso.com" not in set(stale["subject_name"])


def test_tenant_without_successful_sign_ins_falls_back_to_attempts_and_says_so(
    tenant: dict[str, Any], manifest: Manifest, tmp_path: Path
) -> None:
    # A tenant (or saved pages) from before lastSuccessfulSignInDateTime existed.
    old = json.loads(json.dumps(tenant))
    for user in old["users"]:
        if user.get("signInActivity"):
            user["signInActivity"].pop("lastSuccessfulSignInDateTime")
    tenant_pages(old).save(tmp_path)
    result = collect(
        SourceSettings("entra", "entra-id", path=tmp_path), manifest, CollectContext(as_of=AS_OF)
    )
    assert _account(result, "DiegoS@contoso.com")["last_sign_in"] == pd.Timestamp(
        "2026-11-20T03:15:41Z"
    )
    assert result.report["sign_in"]["successful_reported"] is False
    assert "(sign-in attempts)" in result.report["sign_in"]["decided_by"]
    assert any(
        "does not report lastSuccessfulSignInDateTime" in w for w in result.report["warnings"]
    )


# ---- MFA that works -------------------------------------------------------------------------


def test_mfa_registered_with_a_method_the_policy_disallows_is_not_mfa(
    collected: tuple[Any, GraphServer],
) -> None:
    result, _ = collected
    assert bool(_account(result, "IsaiahL@contoso.com")["mfa"]) is False
    assert bool(_account(result, "DiegoS@contoso.com")["mfa"]) is True
    mfa = result.report["mfa"]
    assert mfa["decided_by"] == "isMfaCapable"
    assert mfa["registered_not_capable"] == 1
    assert mfa["registered_not_capable_examples"] == ["IsaiahL@contoso.com"]
    flagged = _audit(result.tables, "mfa-missing")
    assert "IsaiahL@contoso.com" in set(flagged["subject_name"])  # a Security Administrator


# ---- PIM for Groups -------------------------------------------------------------------------


def test_eligible_members_and_owners_of_a_role_holding_group_hold_its_role_as_eligible(
    collected: tuple[Any, GraphServer],
) -> None:
    result, server = collected
    memberships = result.tables["memberships"]
    in_group = memberships[memberships["group_id"] == f"entra:{PIM_GROUP}"]
    held = dict(zip(in_group["member_id"], in_group["assignment"], strict=True))
    assert held == {
        "entra:3cce9d87-3986-4f19-8335-7ed075408ca2": "eligible",  # eligible member
        "entra:4cc1a00f-3e44-48ae-9bb5-fba55c9a7a5c": "eligible",  # eligible owner
    }  # the member whose eligibility expired in 2024 is not there
    objects = result.report["objects"]
    assert objects["group_eligible_members"] == 1
    assert objects["group_eligible_owners"] == 1
    assert objects["group_schedules_not_in_effect"] == 1
    assert result.report["pim_groups_known"] is True
    # one filtered request per governable group, as the documentation requires
    assert f"groupId eq '{PIM_GROUP}'" in server.counters.pim_requests
    excess = _audit(result.tables, "excess-privilege")
    global_admins = excess[excess["entitlement"] == "Global Administrator"]
    assert {"LeeG@contoso.com", "MeganB@contoso.com"} <= set(global_admins["subject_name"])
    assert "NestorW@contoso.com" not in set(excess["subject_name"])


def test_forbidden_pim_for_groups_is_a_report_note_and_the_run_goes_on(
    tenant: dict[str, Any], pki: PkiFiles, manifest: Manifest
) -> None:
    result, _ = _collect(tenant, pki, manifest, Faults(pim_groups_403=True))
    assert result.report["pim_groups_known"] is False
    assert any("PIM for Groups" in gap and "403" in gap for gap in result.report["gaps"])
    assert any("PIM for Groups not read" in w for w in result.report["warnings"])
    memberships = result.tables["memberships"]
    assert memberships[memberships["group_id"] == f"entra:{PIM_GROUP}"].empty
    assert len(result.tables["accounts"]) > 60  # everything else was read


# ---- built-in roles by template id ----------------------------------------------------------


def test_builtin_privileged_role_without_its_definition_is_known_by_template_id(
    collected: tuple[Any, GraphServer], tenant: dict[str, Any]
) -> None:
    assert PRIVILEGED_AUTH_ADMIN not in {d["id"] for d in tenant["role_definitions"]}
    result, _ = collected
    groups = result.tables["groups"].set_index("group_id")
    role = groups.loc[f"entra:role:{PRIVILEGED_AUTH_ADMIN}"]
    assert role["name"] == "Privileged Authentication Administrator"
    assert bool(role["privileged"]) is True
    assert result.report["objects"]["role_definitions_missing"] == 1


def test_global_administrator_is_privileged_by_template_id_alone(manifest: Manifest) -> None:
    raw = RawPages(notes={"group_pim_known": True})
    raw.add(
        RawPage(
            "users",
            None,
            "https://graph.microsoft.com/v1.0/users",
            {"value": [{"id": "u1", "userPrincipalName": "a@x", "accountEnabled": True}]},
        )
    )
    raw.add(
        RawPage(
            "role_assignments",
            None,
            "https://graph.microsoft.com/v1.0/roleManagement/directory/roleAssignments",
            {"value": [{"id": "r1", "principalId": "u1", "roleDefinitionId": GLOBAL_ADMIN}]},
        )
    )
    from accessaudit.connectors.entra.settings import EntraSettings
    from accessaudit.connectors.entra.transform import tables_from_pages

    tables, _ = tables_from_pages(
        raw, system="entra", graph=EntraSettings.from_manifest(manifest), as_of=AS_OF
    )
    role = tables["groups"].set_index("group_id").loc[f"entra:role:{GLOBAL_ADMIN}"]
    assert (role["name"], bool(role["privileged"])) == ("Global Administrator", True)


# ---- absent is not false --------------------------------------------------------------------


def test_every_property_depended_on_is_selected_even_from_a_short_manifest_list(
    tenant: dict[str, Any], pki: PkiFiles, manifest: Manifest
) -> None:
    settings = dict(manifest.settings)
    settings["select"] = {**settings["select"], "users": ["id", "displayName"]}
    short = Manifest(manifest.connector, manifest.protocol, "", manifest.file, settings)
    result, server = _collect(tenant, pki, short)
    select = set(server.counters.users_pages[0]["select"])
    assert {"accountEnabled", "userType", "userPrincipalName", "signInActivity"} <= select
    assert result.report["coverage"]["enabled_unknown"] == 0
    assert not result.tables["accounts"]["enabled"].all()  # the disabled ones stay disabled


def test_users_in_the_default_property_set_are_unknown_not_disabled(
    manifest: Manifest, tmp_path: Path
) -> None:
    # A folder saved by another collector that listed /users without $select: exactly the
    # properties of api/user-list.md example 1, no accountEnabled, userType or signInActivity.
    people = build_tenant(make_people(12, seed=9), as_of=AS_OF)
    for user in people["users"]:
        for key in set(user) - USER_DEFAULT_PROPERTIES:
            del user[key]
    tenant_pages(people).save(tmp_path)
    result = collect(
        SourceSettings("entra", "entra-id", path=tmp_path), manifest, CollectContext(as_of=AS_OF)
    )
    accounts = result.tables["accounts"]
    users = accounts[accounts["kind"] != "service"]
    assert users["enabled"].all()  # never stored as disabled
    assert not users["last_sign_in_known"].any()  # and never "never signed in"
    coverage = result.report["coverage"]
    assert coverage["enabled_unknown"] == len(users)
    assert coverage["user_type_unknown"] == len(users)
    assert len(coverage["examples"]["enabled_unknown"]) == min(len(users), 20)
    guests = users[users["login"].str.contains("#EXT#", regex=False)]
    assert len(guests) > 0 and (guests["kind"] == "guest").all()
    warnings = " ".join(result.report["warnings"])
    assert f"{len(users)} accounts without accountEnabled" in warnings
    assert "without signInActivity" in warnings
    stale = _audit(result.tables, "stale-account")
    assert stale.empty  # unknown sign-ins are not "never used"


def test_cloud_password_that_never_expires_is_read_and_absent_policies_are_unknown(
    collected: tuple[Any, GraphServer],
) -> None:
    result, _ = collected
    patti = _account(result, "PattiF@contoso.com")
    assert bool(patti["password_never_expires"]) is True
    assert patti["password_last_set"] == pd.Timestamp("2024-01-15T10:00:00Z")
    assert bool(_account(result, "DiegoS@contoso.com")["password_never_expires"]) is False
    accounts = result.tables["accounts"]
    synced = accounts[accounts["employee_id"].notna() & accounts["kind"].eq("user")]
    assert len(synced) > 50 and not synced["password_never_expires"].any()  # AD governs them
    coverage = result.report["coverage"]
    assert coverage["password_policy_unknown"] == 4  # the other cases lack the property
    assert "LeeG@contoso.com" in coverage["examples"]["password_policy_unknown"]
    flagged = _audit(result.tables, "password-never-expires")
    assert "PattiF@contoso.com" in set(flagged["subject_name"])


# ---- broken objects -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"value": [{"displayName": "no id"}]}, "object 1 of the page has no 'id'"),
        ({"value": [{"id": "u1"}, {"id": ""}]}, "object 2 of the page has id the string ''"),
        ({"value": [{"id": "u1", "accountEnabled": "yes"}]}, "accountEnabled is the string"),
        (
            {"value": [{"id": "u1", "signInActivity": {"lastSignInDateTime": "yesterday"}}]},
            "signInActivity.lastSignInDateTime is the string 'yesterday', expected an ISO 8601",
        ),
        ({"value": {"id": "u1"}}, "malformed Graph page: no 'value' list"),
        ({"value": ["u1"]}, "object 1 of the page is the string 'u1', not a JSON object"),
    ],
)
def test_object_without_id_or_malformed_page_names_the_file_and_the_problem(
    body: dict[str, Any], problem: str, manifest: Manifest, tmp_path: Path
) -> None:
    raw = tenant_pages(build_tenant(make_people(8, seed=2), as_of=AS_OF))
    raw.save(tmp_path)
    page = tmp_path / "pages" / "users" / "000001.json"
    page.write_text(json.dumps(body), encoding="utf-8")
    with pytest.raises(SourceError) as caught:
        collect(
            SourceSettings("entra", "entra-id", path=tmp_path),
            manifest,
            CollectContext(as_of=AS_OF),
        )
    message = str(caught.value)
    assert str(page) in message and problem in message
    assert "nan" not in message.lower().replace("nanos", "")


def test_live_object_without_id_is_a_source_error_naming_the_url(
    tenant: dict[str, Any], pki: PkiFiles, manifest: Manifest
) -> None:
    with pytest.raises(SourceError, match="object 1 of the page has no 'id'") as caught:
        _collect(tenant, pki, manifest, Faults(malformed="id"))
    assert "/v1.0/users?" in str(caught.value) and "$skiptoken=…" in str(caught.value)


def test_broken_saved_page_exits_2_with_one_line_naming_the_file(tmp_path: Path) -> None:
    folder = tmp_path / "entra"
    tenant_pages(build_tenant(make_people(8, seed=2), as_of=AS_OF)).save(folder)
    page = folder / "pages" / "groups"
    broken = sorted(page.glob("*.json"))[0]
    broken.write_text('{"value": [{"id": "g1", "displayName": ["not", "a", "name"]}]}')
    config = tmp_path / "audit.toml"
    config.write_text(
        '[audit]\nas_of = "2026-11-21"\n[[sources]]\nname = "entra"\n'
        'connector = "entra-id"\npath = "entra"\n',
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, "-m", "accessaudit", "collect", "--config", str(config), "--out",
         str(tmp_path / "snap")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert broken.name in done.stderr and "displayName is a list, expected a string" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "snap").exists()
