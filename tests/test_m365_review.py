"""Sharing links and invitations through a review campaign, the remediation plan and a real
DELETE against the local HTTPS Graph, and breach scope with link reach.

Graph shapes: microsoftgraph/microsoft-graph-docs-contrib api-reference/v1.0/api/
permission-delete.md (``DELETE /drives/{drive-id}/items/{item-id}/permissions/{perm-id}``,
``204 No Content``; only permissions without ``inheritedFrom`` can be deleted; application
permission Files.ReadWrite.All or Sites.ReadWrite.All) and group-delete-members.md
(``DELETE /groups/{group-id}/members/{directory-object-id}/$ref``). msal signs in for real,
as the connector does.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msal
import openpyxl
import pandas as pd
import pytest
import requests

from accessaudit.analysis import breach_scope
from accessaudit.audit import run_audit
from accessaudit.collection import collect
from accessaudit.config import load_config
from accessaudit.reports.json import scope_document
from accessaudit.reports.scope_excel import write_scope_workbook
from accessaudit.review import (
    HEADER,
    REVIEW_SHEET,
    campaign_status,
    collect_decisions,
    create_campaign,
    write_remediation,
)
from accessaudit.sample._entra import GUEST_SITE_GROUP, build_tenant
from accessaudit.sample._m365 import TEAM_GROUP_ID, build_sharepoint
from accessaudit.snapshot import Snapshot
from graph_server import CLIENT_ID, CLIENT_SECRET, GraphServer, PkiFiles, make_pki
from graph_server.people import make_people
from graph_server.sharepoint import SharePoint

SECRET_ENV = "ACCESSAUDIT_TEST_M365_REVIEW_SECRET"
HOST = "https://example.sharepoint.com/sites"
CLINICAL = f"{HOST}/clinical-research/Shared%20Documents"
TRIAL = f"{CLINICAL}/Trial%20results%202026.xlsx"
BUDGET = f"{HOST}/board-pack/Shared%20Documents/Budget.xlsx"
TENANT = {
    "tenant_id": "b6f0c1d2-7e3a-4c5b-9a8d-1e2f3a4b5c6d",
    "users": [],
    "groups": [{"id": TEAM_GROUP_ID, "displayName": "Board Pack", "groupTypes": ["Unified"]}],
    "group_members": {TEAM_GROUP_ID: []},
    "group_owners": {
        TEAM_GROUP_ID: [
            {
                "@odata.type": "#microsoft.graph.user",
                "id": "0b1c2d3e-0000-4000-8000-000000000001",
                "displayName": "Fin Lead",
                "mail": "fin.lead@contoso.com",
                "userPrincipalName": "fin.lead@contoso.com",
            }
        ]
    },
}
HR = (
    "employee_id,name,email,department,title,manager_id,status,worker_type,start_date,end_date\n"
    "E1,Fin Lead,fin.lead@contoso.com,Finance,Head of Finance,,active,employee,2020-01-01,\n"
    "E2,Cis Officer,ciso@contoso.com,IT,CISO,,active,employee,2019-01-01,\n"
)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PkiFiles:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, CLIENT_SECRET)


def _config(folder: Path, server: GraphServer, pki: PkiFiles, directory: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "hr.csv").write_text(HR, encoding="utf-8")
    entra = (
        f"""
[[sources]]
name = "{directory}"
connector = "entra-id"
tenant_id = "{server.tenant_id}"
client_id = "{CLIENT_ID}"
client_secret_env = "{SECRET_ENV}"
authority_url = "{server.base_url}"
graph_url = "{server.base_url}"
ca_bundle = "{pki.ca_file}"
backoff_seconds = 0.01
"""
        if directory
        else ""
    )
    config = folder / "audit.toml"
    config.write_text(
        f"""[audit]
as_of = "2026-11-21"

[[sources]]
name = "hr"
connector = "hr-csv"
path = "hr.csv"

[[sources]]
name = "sharepoint"
connector = "m365"
tenant_id = "{server.tenant_id}"
client_id = "{CLIENT_ID}"
client_secret_env = "{SECRET_ENV}"
authority_url = "{server.base_url}"
graph_url = "{server.base_url}"
ca_bundle = "{pki.ca_file}"
page_size = 50
backoff_seconds = 0.01
{f'directory = "{directory}"' if directory else ""}
{entra}""",
        encoding="utf-8",
    )
    return config


def _decide(source: Path, target: Path, decisions: dict[str, tuple[str, str]]) -> None:
    """Decide rows by Entitlement (the resource URL) and Account, as a reviewer in Excel."""
    book = openpyxl.load_workbook(source)
    sheet = book[REVIEW_SHEET]
    column = {name: HEADER.index(name) + 1 for name in HEADER}
    for row in range(2, sheet.max_row + 1):
        account = sheet.cell(row, column["Account"]).value
        key = f"{account} {sheet.cell(row, column['Entitlement']).value}"
        if key in decisions:
            sheet.cell(row, column["Decision"]).value = decisions[key][0]
            sheet.cell(row, column["Comment"]).value = decisions[key][1] or None
    target.parent.mkdir(parents=True, exist_ok=True)
    book.save(target)


def _graph_delete(server: GraphServer, pki: PkiFiles, call: str) -> int:
    """Carry out one request of the plan as an administrator's script would: an app token from
    msal (client credentials), then the DELETE on the local Graph."""
    session = requests.Session()
    session.trust_env = False  # REQUESTS_CA_BUNDLE in the environment would override verify
    session.verify = str(pki.ca_file)
    app = msal.ConfidentialClientApplication(
        CLIENT_ID,
        client_credential=CLIENT_SECRET,
        authority=f"{server.base_url}/{server.tenant_id}",
        instance_discovery=False,
        http_client=session,
    )
    token = app.acquire_token_for_client(scopes=[f"{server.base_url}/.default"])
    method, url = call.split(" ", 1)
    local = url.replace("https://graph.microsoft.com", server.base_url)
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    return int(session.request(method, local, headers=headers).status_code)


def test_revoked_public_link_is_deleted_through_graph_and_the_next_snapshot_proves_it(
    pki: PkiFiles, tmp_path: Path
) -> None:
    sharepoint = SharePoint(build_sharepoint())
    with GraphServer(TENANT, pki, routes=[sharepoint]) as server:
        config = load_config(_config(tmp_path / "audit", server, pki))
        before = collect(config)
        result = run_audit(before, config.policy)
        campaign = create_campaign(
            before,
            config.policy,
            result,
            by="owner",
            scope="sharing",
            out=tmp_path / "campaign",
            fallback_reviewer="ciso@contoso.com",
        )
        items = campaign.items.set_index(["login", "entitlement"])
        # The Board Pack's links go to its Microsoft 365 group's owner, collected from Graph.
        budget = items.loc[("consultant@advisors.example", BUDGET)]
        assert budget["reviewer_id"] == "E1"
        assert not budget["reviewer_is_fallback"]
        assert budget["reviewer_basis"] == "site owner fin.lead@contoso.com"
        assert budget["entitlement_type"] == "invitation"
        assert budget["invited_email"] == "consultant@advisors.example"
        assert "expires 2027-03-31" in budget["how_held"]
        # The clinical site names no owner here (no inventory): the item says so and goes to
        # the fallback reviewer rather than being dropped.
        trial = items.loc[("anyone", TRIAL)]
        assert trial["reviewer_id"] == "E2"
        assert trial["reviewer_is_fallback"]
        assert trial["reviewer_basis"].startswith("no owner known")
        assert (trial["link_scope"], trial["link_type"], trial["link_expires"]) == (
            "anonymous",
            "edit",
            "",
        )
        assert (
            "anyone with the link (no sign-in); anonymous edit link; no expiry"
            in (trial["how_held"])
        )
        # The site's label "Highly Confidential" maps to restricted: decision row 14.
        assert (trial["recommendation"], trial["reason"]) == (
            "revoke",
            "anyone with the link can open restricted data, no sign-in needed",
        )

        workbook = campaign.folder / campaign.manifest["reviewers"]["E2"]["workbook"]
        _decide(
            workbook,
            campaign.folder / "returned" / "ciso.xlsx",
            {f"anyone {TRIAL}": ("revoke", "")},
        )
        collected = collect_decisions(campaign)
        assert collected.problems.empty, collected.problems
        plan = write_remediation(campaign, tmp_path / "plan")
        assert plan.graph == 1
        document = json.loads(plan.files["graph"].read_text(encoding="utf-8"))
        (request,) = document["requests"]
        assert request["method"] == "DELETE"
        assert request["url"] == "/drives/b!drive000000/items/hr-salaries/permissions/anon-edit"
        assert request["call"] == (
            "DELETE https://graph.microsoft.com/v1.0/drives/b!drive000000/items/hr-salaries/"
            "permissions/anon-edit"
        )
        assert "Files.ReadWrite.All" in request["permission"]

        assert _graph_delete(server, pki, request["call"]) == 204
        assert sharepoint.counters.deleted == ["b!drive000000|hr-salaries|anon-edit"]
        after = collect(config)

    gone = after.grants["permission_id"].astype(object).eq("anon-edit")
    assert not gone.any()
    verification = campaign_status(campaign, verify=after).verification
    assert verification is not None
    (row,) = verification.to_dict(orient="records")
    assert (row["status"], row["detail"]) == ("carried out", "permission no longer on the resource")
    # The control: before the DELETE the same check says the link was still there.
    still = campaign_status(campaign, verify=before).verification
    assert still is not None and still["status"].tolist() == ["still present"]


def test_graph_refuses_to_delete_an_inherited_permission(pki: PkiFiles) -> None:
    data = build_sharepoint()
    key = ("b!drive000001", "mk-brochure")
    data["permissions"][key][0]["inheritedFrom"] = {"path": "/drives/b!drive000001/root:"}
    sharepoint = SharePoint(data)
    with GraphServer(TENANT, pki, routes=[sharepoint]) as server:
        call = (
            "DELETE https://graph.microsoft.com/v1.0/drives/b!drive000001/items/mk-brochure/"
            "permissions/anon-view"
        )
        assert _graph_delete(server, pki, call) == 400
    assert sharepoint.counters.deleted == []


def test_revoked_site_membership_leaves_the_microsoft_365_group_through_graph(
    pki: PkiFiles, tmp_path: Path
) -> None:
    people, tenant, board = _board_tenant()
    sharepoint = SharePoint(build_sharepoint(team_group_id=board))
    folder = tmp_path / "audit"
    with GraphServer(tenant, pki, routes=[sharepoint]) as server:
        config_file = _config(folder, server, pki, directory="cloud")
        people.to_csv(folder / "hr.csv", index=False)
        config = load_config(config_file)
        before = collect(config)
        campaign = create_campaign(
            before, config.policy, None, by="owner", out=tmp_path / "campaign"
        )
        items = campaign.items
        site = f"{HOST}/board-pack"
        through_group = items[
            items["entitlement"].eq(site)
            & items["resource_connector"].eq("m365")
            & items["direct_group_native_id"].eq(board)
        ]
        member = through_group.iloc[0]
        workbook = (
            campaign.folder / campaign.manifest["reviewers"][member["reviewer_id"]]["workbook"]
        )
        _decide(
            workbook,
            campaign.folder / "returned" / "owner.xlsx",
            {f"{member['login']} {site}": ("revoke", "")},
        )
        assert collect_decisions(campaign).problems.empty
        plan = write_remediation(campaign, tmp_path / "plan")
        (request,) = json.loads(plan.files["graph"].read_text(encoding="utf-8"))["requests"]
        assert request["call"] == (
            f"DELETE https://graph.microsoft.com/v1.0/groups/{board}/members/"
            f"{member['account_native_id']}/$ref"
        )
        assert "GroupMember.ReadWrite.All" in request["permission"]
        assert _graph_delete(server, pki, request["call"]) == 204
        after = collect(config)
    status = campaign_status(campaign, verify=after).verification
    assert status is not None and status["status"].tolist() == ["carried out"]
    still = campaign_status(campaign, verify=before).verification
    assert still is not None and still["status"].tolist() == ["still present"]


# ------------------------------------------------------------------ sample organisation


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Snapshot, Any]:
    from accessaudit.sample import write_sample_organisation

    folder = tmp_path_factory.mktemp("sample")
    config = load_config(write_sample_organisation(folder, size=300))
    snapshot = collect(config)
    return snapshot, config


def _link_items(snapshot: Snapshot, config: Any) -> pd.DataFrame:
    from accessaudit.review._items import build_items

    items = build_items(
        snapshot, config.policy, run_audit(snapshot, config.policy).findings, by="manager"
    )
    links = items[items["entitlement_type"].isin(["link", "invitation"])]
    return links.set_index(["login", "entitlement"])


@pytest.mark.parametrize(
    ("login", "entitlement", "row", "recommendation"),
    [
        ("anyone", TRIAL, 14, "revoke"),
        ("organization", f"{CLINICAL}/Reviews", 15, "revoke"),
        ("auditor@partner.example", f"{CLINICAL}/Reviews", 16, "review"),
        ("anyone", f"{HOST}/marketing/Shared%20Documents/Brochure.pdf", 17, "review"),
        ("organization", BUDGET, 13, "keep"),
    ],
)
def test_each_sharing_row_of_the_decision_table(
    sample: tuple[Snapshot, Any], login: str, entitlement: str, row: int, recommendation: str
) -> None:
    item = _link_items(*sample).loc[(login, entitlement)]
    assert (int(item["decision_row"]), item["recommendation"]) == (row, recommendation)


def test_sample_link_items_name_the_site_owner_or_say_why_not(
    sample: tuple[Snapshot, Any],
) -> None:
    items = _link_items(*sample)
    # Clinical Research: its owner comes from the data inventory entry for the site's URL.
    trial = items.loc[("anyone", TRIAL)]
    assert trial["reviewer_basis"].startswith("site owner ")
    assert trial["owner_id"] and not trial["owner_fallback"]
    # Marketing: no owner anywhere; the item is kept and says so.
    brochure = items.loc[("anyone", f"{HOST}/marketing/Shared%20Documents/Brochure.pdf")]
    assert brochure["reviewer_basis"].startswith("no owner known")
    assert brochure["owner_fallback"]
    org = items.loc[("organization", f"{CLINICAL}/Reviews")]
    assert "everyone in the organisation (" in org["how_held"]
    assert org["reason"].startswith("everyone in the organisation (")


# ----------------------------------------------------------------------------- scope


def test_scope_of_a_site_counts_link_reach_and_never_calls_anyone_zero(
    sample: tuple[Snapshot, Any],
) -> None:
    snapshot, config = sample
    site = breach_scope(snapshot, resource=f"{HOST}/clinical-research", policy=config.policy)
    reach = site.link_reach
    assert reach["anyone_with_the_link"] and reach["unbounded"]
    members = snapshot.accounts[
        snapshot.accounts["enabled"] & snapshot.accounts["kind"].ne("guest")
    ]
    tenant = site.links.loc[site.links["principal_id"].eq("organization"), "tenant"].iloc[0]
    assert reach["organization_accounts"] == int((members["system"] == tenant).sum()) > 0
    assert reach["named"] == ["auditor@partner.example"]
    anyone = site.links[site.links["principal_id"].eq("anyone")]
    assert anyone["people"].isna().all()  # unbounded: no count, never 0
    assert "unbounded" in reach["statement"]
    document = scope_document(site)
    assert document["link_reach"]["unbounded"] is True
    assert {r["resource"] for r in document["links"]} >= {TRIAL}


def test_scope_near_misses_expired_link_and_link_on_another_resource(
    sample: tuple[Snapshot, Any],
) -> None:
    snapshot, _ = sample
    # The Protocol draft's anonymous link expires 2027-01-31: it reaches anyone on 2026-11-21,
    # and nobody in the same snapshot read on 2027-03-01.
    draft = f"{CLINICAL}/Protocol%20draft.docx"
    assert breach_scope(snapshot, resource=draft).link_reach["anyone_with_the_link"]
    later = Snapshot.from_tables(snapshot.tables, as_of="2027-03-01", sources=snapshot.sources)
    lapsed = breach_scope(later, resource=draft)
    assert not lapsed.link_reach["anyone_with_the_link"]
    assert lapsed.link_reach["statement"] == "no sharing link reaches it"
    # The anonymous edit link without expiry still reaches anyone then.
    assert breach_scope(later, resource=TRIAL).link_reach["unbounded"]
    # Marketing's links are on the marketing site: the Board Pack's scope does not hold them.
    board = breach_scope(snapshot, resource=f"{HOST}/board-pack")
    assert not board.link_reach["anyone_with_the_link"]
    assert board.link_reach["named"] == ["consultant@advisors.example"]


def test_scope_of_an_account_holds_the_organisation_links_a_member_opens(
    sample: tuple[Snapshot, Any],
) -> None:
    snapshot, _ = sample
    accounts = snapshot.accounts
    tenant = breach_scope(snapshot, resource=f"{HOST}/clinical-research").links
    tenant_system = tenant.loc[tenant["principal_id"].eq("organization"), "tenant"].iloc[0]
    in_tenant = accounts["system"].eq(tenant_system) & accounts["enabled"]
    member = accounts[in_tenant & accounts["kind"].ne("guest")].iloc[0]
    reach = breach_scope(snapshot, account=str(member["account_id"])).links
    assert set(reach["principal_id"]) == {"organization"}
    assert f"{CLINICAL}/Reviews" in set(reach["resource"])
    # Near miss: a guest of the same tenant does not open "people in your organisation" links.
    guest = accounts[in_tenant & accounts["kind"].eq("guest")].iloc[0]
    assert breach_scope(snapshot, account=str(guest["account_id"])).links.empty


def test_scope_workbook_states_the_link_reach(sample: tuple[Snapshot, Any], tmp_path: Path) -> None:
    snapshot, _ = sample
    result = breach_scope(snapshot, resource=f"{HOST}/clinical-research")
    path = write_scope_workbook(result, tmp_path / "scope.xlsx")
    book = openpyxl.load_workbook(path)
    summary = dict(book["Summary"].iter_rows(min_row=2, values_only=True))
    assert summary["anyone with the link"].startswith("yes: unbounded")
    assert summary["organisation links: enabled member accounts of the tenant"] == str(
        result.link_reach["organization_accounts"]
    )
    links = list(book["Sharing links"].iter_rows(values_only=True))
    header = links[0]
    resources = {row[header.index("resource")] for row in links[1:]}
    assert TRIAL in resources
    assert len(links) - 1 == len(result.links)


# ------------------------------------------------- specific-people link naming directory users


def _board_tenant() -> tuple[pd.DataFrame, dict[str, Any], str]:
    """The 120-person sample HR roster, its tenant and the id of the group behind the board
    site (the guest site)."""
    people = make_people(120, seed=3)
    tenant = build_tenant(people, as_of=pd.Timestamp("2026-11-21", tz="UTC"))
    board = next(g["id"] for g in tenant["groups"] if g["displayName"] == GUEST_SITE_GROUP)
    return people, tenant, board


def _site_members(tenant: dict[str, Any], board: str) -> list[dict[str, Any]]:
    """Enabled members of the tenant who do not own the board site (nobody reviews their own
    access), in the tenant's order."""
    owners = {o["id"] for o in tenant["group_owners"].get(board, [])}
    return [
        u
        for u in tenant["users"]
        if u["userType"] == "Member" and u["accountEnabled"] and u["id"] not in owners
    ]


def _direct_permission(permission_id: str, user: dict[str, Any]) -> dict[str, Any]:
    """A read permission granted to ``user`` directly (permission.md: grantedToV2 with a
    user, no ``link`` facet)."""
    return {
        "id": permission_id,
        "roles": ["read"],
        "grantedToV2": {"user": {"id": user["id"], "displayName": user["displayName"]}},
    }


def _people_link(users: list[dict[str, Any]], outsider: str) -> dict[str, Any]:
    """A specific-people link (sharinglink.md: ``scope`` "users") as permission.md's
    "Specific people link" example shows it: each named person in ``grantedToIdentitiesV2``
    with ``user`` (Entra object id) and ``siteUser``; an outsider who has no account yet is a
    ``user`` with only an e-mail address."""
    named = [
        {
            "user": {"id": u["id"], "displayName": u["displayName"]},
            "siteUser": {"id": str(n), "displayName": u["displayName"], "loginName": u["mail"]},
        }
        for n, u in enumerate(users, start=7)
    ]
    named.append({"user": {"email": outsider, "displayName": "Pat Partner"}})
    return {
        "id": "people-edit",
        "roles": ["write"],
        "link": {
            "scope": "users",
            "type": "edit",
            "preventsDownload": False,
            "webUrl": "https://example.sharepoint.com/:x:/s/people-edit",
        },
        "grantedToIdentitiesV2": named,
        "createdDateTime": "2026-10-01T09:00:00Z",
        "expirationDateTime": "0001-01-01T00:00:00Z",
        "hasPassword": False,
    }


def test_people_link_naming_directory_users_keeps_the_link_through_review_and_delete(
    pki: PkiFiles, tmp_path: Path
) -> None:
    people, tenant, board = _board_tenant()
    # Not the fallback reviewer either.
    members = _site_members(tenant, board)[2:5]
    alice, bob, carol = members
    outsider = "pat@partner-firm.example"
    data = build_sharepoint(team_group_id=board)
    key = ("b!drive000002", "fin-budget")
    # Near miss: Carol holds the budget through a direct permission, no link.
    direct = _direct_permission("direct-carol", carol)
    data["permissions"][key] = [
        *data["permissions"][key],
        _people_link([alice, bob], outsider),
        direct,
    ]
    sharepoint = SharePoint(data)
    folder = tmp_path / "audit"
    with GraphServer(tenant, pki, routes=[sharepoint]) as server:
        config_file = _config(folder, server, pki, directory="cloud")
        people.to_csv(folder / "hr.csv", index=False)
        config = load_config(config_file)
        before = collect(config)

        grants = before.grants
        on_link = grants[grants["permission_id"].astype(object).eq("people-edit")]
        assert len(on_link) == 3
        account_of = before.accounts.set_index("native_id")["account_id"]
        by_principal = on_link.set_index(on_link["principal_id"].astype(str))
        for user in (alice, bob):
            grant = by_principal.loc[str(account_of[user["id"]])]
            assert grant["principal_type"] == "account"  # effective access names the person
            assert (grant["link_scope"], grant["link_type"], grant["right"]) == (
                "users",
                "edit",
                "write",
            )
            assert pd.isna(grant["link_expires"])  # DateTime.MinValue: no expiry
            assert grant["link_created"] == pd.Timestamp("2026-10-01T09:00:00Z")
            assert not grant["link_has_password"] and not grant["link_prevents_download"]
            assert (grant["drive_id"], grant["item_id"]) == key
            assert account_of[user["id"]] in set(
                before.access.loc[
                    before.access["resource_id"].eq(grant["resource_id"]), "account_id"
                ]
            )
        pat = by_principal.loc[outsider]
        assert (pat["principal_type"], pat["link_scope"]) == ("external", "users")
        # The near miss: a plain grant, no link columns.
        (plain,) = grants[
            grants["principal_id"].astype(str).eq(str(account_of[carol["id"]]))
        ].to_dict(orient="records")
        assert plain["resource_id"] == grant["resource_id"]
        assert all(
            pd.isna(plain[c])
            for c in ("link_scope", "link_type", "permission_id", "drive_id", "item_id")
        )

        # Breach scope of the budget names both people the link reaches, and the outsider.
        reach = breach_scope(before, resource=BUDGET, policy=config.policy).link_reach
        assert alice["mail"] in reach["named_people"] and bob["mail"] in reach["named_people"]
        assert carol["mail"] not in reach["named_people"]
        assert outsider in reach["named"]

        result = run_audit(before, config.policy)
        # Outsiders' rules unchanged: the outsider on the people link is external sharing
        # (confidential budget), the directory people are not.
        sharing = result.findings[result.findings["rule"].eq("external-sharing")]
        principals = {str((e or {}).get("principal")) for e in sharing["evidence"]}
        assert outsider in principals
        assert not principals & {str(account_of[u["id"]]) for u in (alice, bob)}

        campaign = create_campaign(
            before,
            config.policy,
            result,
            by="owner",
            scope="sharing",
            out=tmp_path / "campaign",
            fallback_reviewer="E00002",
        )
        items = campaign.items
        link_items = items[items["permission_id"].eq("people-edit")].set_index("login")
        assert set(link_items.index) == {alice["mail"], bob["mail"], outsider}
        for user in (alice, bob):
            item = link_items.loc[user["mail"]]
            assert item["entitlement_type"] == "link"
            assert item["entitlement"] == BUDGET
            assert item["how_held"].startswith(
                f"{user['mail']} (named in a specific-people link); specific-people edit link; "
                "no expiry"
            )
            # Reviewed by the site owner, as every other link (the Board Pack group's owner).
            assert item["reviewer_basis"].startswith("site owner ")
        assert link_items.loc[outsider, "account_kind"] == "external"
        assert not items["permission_id"].eq("direct-carol").any()

        reviewer = link_items.loc[alice["mail"], "reviewer_id"]
        workbook = campaign.folder / campaign.manifest["reviewers"][reviewer]["workbook"]
        _decide(
            workbook,
            campaign.folder / "returned" / "owner.xlsx",
            {f"{u['mail']} {BUDGET}": ("revoke", "") for u in (alice, bob)},
        )
        assert collect_decisions(campaign).problems.empty
        plan = write_remediation(campaign, tmp_path / "plan")
        assert plan.graph == 1  # one DELETE for the permission, not one per person
        (request,) = json.loads(plan.files["graph"].read_text(encoding="utf-8"))["requests"]
        assert request["url"] == "/drives/b!drive000002/items/fin-budget/permissions/people-edit"
        assert sorted(request["accounts"]) == sorted([alice["mail"], bob["mail"]])
        assert "every person it names loses it" in request["note"]
        assert _graph_delete(server, pki, request["call"]) == 204
        assert sharepoint.counters.deleted == ["b!drive000002|fin-budget|people-edit"]
        after = collect(config)

    assert not after.grants["permission_id"].astype(object).eq("people-edit").any()
    # The direct permission is untouched.
    assert after.grants["principal_id"].astype(str).eq(str(account_of[carol["id"]])).any()
    status = campaign_status(campaign, verify=after).verification
    assert status is not None and status["status"].tolist() == ["carried out"] * 2
    still = campaign_status(campaign, verify=before).verification
    assert still is not None and still["status"].tolist() == ["still present"] * 2


def test_person_holding_an_item_directly_and_through_a_people_link_has_both_grants(
    pki: PkiFiles, tmp_path: Path
) -> None:
    people, tenant, board = _board_tenant()
    user = next(u for u in tenant["users"] if u["userType"] == "Member" and u["accountEnabled"])
    data = build_sharepoint(team_group_id=board)
    key = ("b!drive000002", "fin-budget")
    direct = _direct_permission("direct-read", user)
    data["permissions"][key] = [_people_link([user], "pat@partner-firm.example"), direct]
    folder = tmp_path / "audit"
    with GraphServer(tenant, pki, routes=[SharePoint(data)]) as server:
        config_file = _config(folder, server, pki, directory="cloud")
        people.to_csv(folder / "hr.csv", index=False)
        snapshot = collect(load_config(config_file))
    account = snapshot.accounts.set_index("native_id").loc[user["id"], "account_id"]
    held = snapshot.grants[snapshot.grants["principal_id"].astype(str).eq(str(account))]
    held = held[held["resource_id"].astype(str).str.endswith("Budget.xlsx")]
    # Two permissions, two grants: resolution does not fold the link into the direct one
    # (deleting the link must not be mistaken for removing the direct permission).
    by_permission = held.set_index(held["permission_id"].astype(object).fillna("none"))
    assert set(by_permission.index) == {"people-edit", "none"}
    assert (by_permission.loc["people-edit", "right"], by_permission.loc["none", "right"]) == (
        "write",
        "read",
    )
    assert pd.isna(by_permission.loc["none", "link_scope"])
    # Effective access stays one row: the highest right.
    access = snapshot.access[
        snapshot.access["account_id"].eq(account)
        & snapshot.access["resource_id"].isin(held["resource_id"])
    ]
    assert access["right"].astype(str).tolist() == ["write"]


# ------------------------------------- one decision per people-link grant; account scope


def _decide_items(campaign: Any, decisions: dict[str, str]) -> None:
    """Decide rows by their Item id, in every workbook that holds one, as reviewers would."""
    column = {name: HEADER.index(name) + 1 for name in HEADER}
    for reviewer, entry in campaign.manifest["reviewers"].items():
        book = openpyxl.load_workbook(campaign.folder / entry["workbook"])
        sheet = book[REVIEW_SHEET]
        touched = False
        for row in range(2, sheet.max_row + 1):
            decision = decisions.get(str(sheet.cell(row, column["Item"]).value))
            if decision:
                sheet.cell(row, column["Decision"]).value = decision
                touched = True
        if touched:
            (campaign.folder / "returned").mkdir(exist_ok=True)
            book.save(campaign.folder / "returned" / f"{reviewer}.xlsx")


@pytest.fixture
def people_link_case(pki: PkiFiles, tmp_path: Path) -> Any:
    """The Budget shared by one specific-people link (permission.md's "Specific people link")
    naming Alice (who holds it through the link alone), Carol (who also holds it through a
    direct permission, grantedToV2 with a user) and a security group (group in
    grantedToIdentitiesV2, sharepointidentityset.md) whose member Dave reaches it through the
    group; Erin is the near miss, in no link at all."""
    people, tenant, board = _board_tenant()
    members = _site_members(tenant, board)
    alice, carol, erin = members[2], members[4], members[6]
    group, dave = next(
        (g, user)
        for g in tenant["groups"]
        if not g.get("groupTypes")
        for ref in tenant["group_members"].get(g["id"], [])
        for user in members[8:]
        if ref.get("id") == user["id"]
    )
    link = _people_link([alice, carol], "pat@partner-firm.example")
    link["grantedToIdentitiesV2"].append(
        {"group": {"id": group["id"], "displayName": group["displayName"]}}
    )
    direct = _direct_permission("direct-carol", carol)
    data = build_sharepoint(team_group_id=board)
    key = ("b!drive000002", "fin-budget")
    data["permissions"][key] = [*data["permissions"][key], link, direct]
    sharepoint = SharePoint(data)
    folder = tmp_path / "audit"
    with GraphServer(tenant, pki, routes=[sharepoint]) as server:
        config_file = _config(folder, server, pki, directory="cloud")
        people.to_csv(folder / "hr.csv", index=False)
        config = load_config(config_file)
        snapshot = collect(config)
        yield {
            "server": server,
            "pki": pki,
            "sharepoint": sharepoint,
            "config": config,
            "config_file": config_file,
            "snapshot": snapshot,
            "people": {"alice": alice, "carol": carol, "dave": dave, "erin": erin},
            "group": group,
            "account_of": snapshot.accounts.set_index("native_id")["account_id"],
        }


def test_account_scope_lists_the_people_links_that_name_it_as_resource_scope_does(
    people_link_case: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from accessaudit.cli import main

    case = people_link_case
    snapshot, who = case["snapshot"], case["people"]
    on_budget = breach_scope(snapshot, resource=BUDGET).links.set_index("principal_id")
    columns = ["resource", "link_type", "link_scope", "link_expires", "link_created_by"]
    columns += ["drive_id", "item_id", "permission_id", "reach"]
    for name in ("alice", "carol"):
        account = str(case["account_of"][who[name]["id"]])
        links = breach_scope(snapshot, account=who[name]["mail"]).links
        mine = links[links["permission_id"].eq("people-edit")]
        assert len(mine) == 1, name
        (row,) = mine[columns].astype(object).to_dict(orient="records")
        assert (row["resource"], row["link_type"], row["link_scope"]) == (BUDGET, "edit", "users")
        assert (row["drive_id"], row["item_id"]) == ("b!drive000002", "fin-budget")
        assert pd.isna(row["link_expires"])  # DateTime.MinValue: no expiry
        # The very row the Budget's own scope lists for this person.
        same = on_budget.loc[account, columns].astype(object)
        assert all(
            (pd.isna(a) and pd.isna(b)) or a == b for a, b in zip(row.values(), same, strict=True)
        )
    # Dave opens it as a member of the group the link names.
    group_id = str(on_budget[on_budget["principal_type"].eq("group")].index[0])
    dave = breach_scope(snapshot, account=who["dave"]["mail"]).links
    assert dave.loc[dave["permission_id"].eq("people-edit"), "principal_id"].tolist() == [group_id]
    # Near miss: Erin is named in no link; she opens only the organisation links.
    erin = breach_scope(snapshot, account=who["erin"]["mail"]).links
    assert not erin["permission_id"].eq("people-edit").any()
    assert set(erin["principal_id"]) <= {"organization"}

    alice = breach_scope(snapshot, account=who["alice"]["mail"])
    assert who["alice"]["mail"] in alice.link_reach["named_people"]
    document = scope_document(alice)
    assert any(
        (r["permission_id"], r["drive_id"], r["link_type"])
        == ("people-edit", "b!drive000002", "edit")
        for r in document["links"]
    )
    book = openpyxl.load_workbook(write_scope_workbook(alice, tmp_path / "alice.xlsx"))
    sheet = list(book["Sharing links"].iter_rows(values_only=True))
    header = sheet[0]
    assert ("people-edit", BUDGET) in {
        (r[header.index("permission_id")], r[header.index("resource")]) for r in sheet[1:]
    }
    assert "link_created_by" in header and "drive_id" in header
    summary = dict(book["Summary"].iter_rows(min_row=2, values_only=True))
    assert (
        who["alice"]["mail"]
        in summary["named in specific-people links (directory accounts and groups)"]
    )

    saved = snapshot.save(tmp_path / "snapshot")
    args = ["scope", "--config", str(case["config_file"]), "--snapshot", str(saved), "--wide"]
    assert main([*args, "--account", who["alice"]["mail"]]) == 0
    out = capsys.readouterr().out
    links_table = out.split("Sharing links:")[1]
    assert "link_created_by" in links_table and "drive_id" in links_table
    assert BUDGET in links_table and "b!drive000002" in links_table
    assert f"{who['alice']['mail']} (named in a specific-people link)" in links_table


def test_a_grant_held_only_through_a_people_link_is_one_item_one_delete_one_verification(
    people_link_case: Any, tmp_path: Path
) -> None:
    case = people_link_case
    server, config, before, who = (
        case["server"],
        case["config"],
        case["snapshot"],
        case["people"],
    )
    campaign = create_campaign(
        before,
        config.policy,
        run_audit(before, config.policy),
        by="owner",
        scope="all",
        out=tmp_path / "campaign",
        fallback_reviewer="E00002",
    )
    items = campaign.items
    budget = items[items["entitlement"].eq(BUDGET)]

    def held(name: str) -> pd.DataFrame:
        account = str(case["account_of"][who[name]["id"]])
        return budget[budget["account_id"].eq(account)].set_index("entitlement_type")

    # Alice holds the Budget through the link alone: one item, the link's (no duplicate
    # resource item whose revoke would go to manual.csv while the link kept her access).
    assert held("alice").index.tolist() == ["link"]
    # Carol holds it twice, so two decisions: the link (write) and her direct permission
    # (read, direct), the resource item showing what the link does not give.
    carol = held("carol")
    assert sorted(carol.index) == ["link", "resource"]
    assert (carol.loc["resource", "right"], carol.loc["resource", "how_held"]) == (
        "read",
        "direct",
    )
    assert carol.loc["link", "right"] == "write"
    # Dave reaches it through the group the link names: the group's link item decides it.
    assert held("dave").empty
    group_id = before.groups.set_index("native_id").loc[case["group"]["id"], "group_id"]
    (group_item,) = budget[budget["account_id"].eq(str(group_id))].to_dict(orient="records")
    assert group_item["entitlement_type"] == "link"
    assert group_item["how_held"].startswith(f"members of group {case['group']['displayName']}")

    alice_link = str(held("alice").loc["link", "item_id"])
    carol_direct = str(carol.loc["resource", "item_id"])
    _decide_items(campaign, {alice_link: "revoke", carol_direct: "revoke"})
    collected = collect_decisions(campaign)
    assert collected.problems.empty, collected.problems
    assert set(collected.accepted["item_id"]) == {alice_link, carol_direct}
    plan = write_remediation(campaign, tmp_path / "plan")
    assert (plan.graph, plan.manual) == (1, 1)
    (request,) = json.loads(plan.files["graph"].read_text(encoding="utf-8"))["requests"]
    assert request["url"] == "/drives/b!drive000002/items/fin-budget/permissions/people-edit"
    manual = pd.read_csv(plan.files["manual"], dtype=str)
    assert manual["item_id"].tolist() == [carol_direct]

    # The owner of the Budget carries out manual.csv first: Carol's direct permission goes,
    # the link that names her stays. Her resource item is carried out (the link is an item
    # of its own); Alice's link is still present.
    direct_call = request["call"].replace("people-edit", "direct-carol")
    assert _graph_delete(server, case["pki"], direct_call) == 204
    middle = collect(config)
    carol_account = str(case["account_of"][who["carol"]["id"]])
    assert middle.access["account_id"].astype(str).eq(carol_account).any()
    status = campaign_status(campaign, verify=middle).verification
    assert status is not None
    by_item = status.set_index("item_id")["status"]
    assert (by_item[carol_direct], by_item[alice_link]) == ("carried out", "still present")

    assert _graph_delete(server, case["pki"], request["call"]) == 204
    after = collect(config)
    status = campaign_status(campaign, verify=after).verification
    assert status is not None
    assert set(status["status"]) == {"carried out"}
    # Against the snapshot the campaign was made from, both are still present.
    still = campaign_status(campaign, verify=before).verification
    assert still is not None and set(still["status"]) == {"still present"}
