"""The m365 connector against the local HTTPS Graph with SharePoint routes, and the sharing
rules on what it collects.

msal and the connector run for real. Shapes follow microsoftgraph/microsoft-graph-docs-contrib
api-reference/v1.0: api/site-getallsites.md, api/driveitem-delta.md ("Scanning permissions
hierarchies": Prefer: hierarchicalsharing, deltashowsharingchanges; 410 Gone with
resyncChangesApplyDifferences), resources/permission.md (roles, grantedToV2, invitation,
expirationDateTime 0001-01-01T00:00:00Z = no expiry) and resources/sharinglink.md (scope
anonymous / organization / users / existingAccess).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from accessaudit.connectors import CollectContext, Manifest, SourceSettings, find_manifests
from accessaudit.connectors.m365 import collect
from accessaudit.connectors.m365.gather import USER_AGENT
from accessaudit.errors import SourceError
from accessaudit.policy import Policy
from accessaudit.rules import RULES
from accessaudit.sample._m365 import TEAM_GROUP_ID, build_sharepoint
from graph_server import CLIENT_SECRET, GraphServer, PkiFiles, make_pki, sign_in_options
from graph_server.sharepoint import SharePoint, SharePointFaults

AS_OF = pd.Timestamp("2026-11-21T12:00:00", tz="UTC")
SECRET_ENV = "ACCESSAUDIT_TEST_M365_SECRET"
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


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PkiFiles:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def manifest() -> Manifest:
    return find_manifests()["m365"]


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, CLIENT_SECRET)


def _serve(pki: PkiFiles, sharepoint: SharePoint) -> GraphServer:
    return GraphServer(TENANT, pki, routes=[sharepoint])


def _settings(server: GraphServer, pki: PkiFiles, **options: Any) -> SourceSettings:
    base = sign_in_options(server, pki, SECRET_ENV) | {
        "page_size": 2,
        "backoff_seconds": 0.01,
        "directory": "entra",
    }
    base.update(options)
    return SourceSettings("m365", "m365", options=base)


def _collect(settings: SourceSettings, manifest: Manifest) -> Any:
    return collect(settings, manifest, CollectContext(as_of=AS_OF))


def _grant(result: Any, permission_id: str) -> pd.Series:
    grants = result.tables["grants"]
    return grants[grants["permission_id"] == permission_id].iloc[0]


def test_collects_sites_libraries_and_only_the_permission_roots(
    pki: PkiFiles, manifest: Manifest
) -> None:
    sharepoint = SharePoint(build_sharepoint(sites=5, files_per_library=30, extra_roots=4))
    with _serve(pki, sharepoint) as server:
        result = _collect(_settings(server, pki), manifest)
    resources = result.tables["resources"]
    assert (resources["type"] == "site").sum() == 5
    assert (resources["type"] == "library").sum() == 5
    # 5 library roots + 4 extra folders + 4 planted items + the board budget: never the
    # 150 plain files.
    assert sharepoint.counters.permission_requests == 5 + 4 + 5
    assert result.report["delta_items_seen"] >= 150
    assert "hierarchicalsharing" in sharepoint.counters.prefer[0]
    assert "deltashowsharingchanges" in sharepoint.counters.prefer[0]
    assert sharepoint.counters.user_agents == {USER_AGENT}
    assert USER_AGENT.startswith("NONISV|accessaudit|")
    salaries = resources[resources["name"].str.endswith("Trial%20results%202026.xlsx")].iloc[0]
    assert salaries["type"] == "file"
    assert salaries["sensitivity"] == "restricted"  # the clinical site's label, mapped
    assert salaries["parent_id"].endswith("/sites/clinical-research/Shared%20Documents")
    finance = resources[resources["name"].str.endswith("/sites/board-pack")].iloc[0]
    assert finance["owner"] == "fin.lead@contoso.com"  # Teams site → its group's owner


def test_every_link_scope_becomes_the_documented_grant(pki: PkiFiles, manifest: Manifest) -> None:
    with _serve(pki, SharePoint(build_sharepoint())) as server:
        result = _collect(_settings(server, pki), manifest)
    anonymous = _grant(result, "anon-edit")
    assert (anonymous["principal_id"], anonymous["principal_type"]) == ("anyone", "link")
    assert (anonymous["link_scope"], anonymous["link_type"], anonymous["right"]) == (
        "anonymous",
        "edit",
        "write",
    )
    assert pd.isna(anonymous["link_expires"])  # 0001-01-01T00:00:00Z: no expiry
    assert anonymous["link_has_password"] is False or not anonymous["link_has_password"]
    expiring = _grant(result, "anon-expiring")
    assert expiring["link_expires"] == pd.Timestamp("2027-01-31", tz="UTC")
    assert _grant(result, "org-view")["principal_id"] == "organization"
    invited = _grant(result, "invite-partner")
    assert (invited["principal_id"], invited["principal_type"]) == (
        "auditor@partner.example",
        "external",
    )
    assert invited["link_created_by"] == "clinical.lead@example.com"
    assert "existing" not in set(result.tables["grants"]["permission_id"].dropna())
    assert result.report["links_existing_access"] == 1
    everyone = result.tables["grants"][result.tables["grants"]["principal_id"] == "organization"]
    assert everyone["link_scope"].isna().sum() == 1  # Everyone except external users
    references = result.references
    assert f"entra:{TEAM_GROUP_ID}" in set(references["principal"].astype(str))


def test_throttling_mid_delta_is_waited_out(pki: PkiFiles, manifest: Manifest) -> None:
    sharepoint = SharePoint(
        build_sharepoint(files_per_library=10), SharePointFaults(throttle_delta_page=3)
    )
    with _serve(pki, sharepoint) as server:
        result = _collect(_settings(server, pki), manifest)
    assert sharepoint.counters.throttled == 1
    assert result.report["throttling_retries"] >= 1
    assert len(result.tables["grants"]) > 0


def test_missing_full_control_is_a_report_note_and_the_run_goes_on(
    pki: PkiFiles, manifest: Manifest
) -> None:
    sharepoint = SharePoint(build_sharepoint(), SharePointFaults(permissions_403=True))
    with _serve(pki, sharepoint) as server:
        result = _collect(_settings(server, pki), manifest)
    assert (result.tables["resources"]["type"] == "site").sum() == 3
    assert result.tables["grants"].empty
    assert any("Sites.FullControl.All" in gap for gap in result.report["gaps"])
    assert result.report["warnings"] == result.report["gaps"]


def test_delta_token_kept_changes_only_then_expired_token_resyncs(
    pki: PkiFiles, manifest: Manifest, tmp_path: Path
) -> None:
    data = build_sharepoint(files_per_library=10)
    sharepoint = SharePoint(data)
    state = tmp_path / "state.json"
    with _serve(pki, sharepoint) as server:
        settings = _settings(server, pki, delta_state=str(state))
        first = _collect(settings, manifest)
        asked = sharepoint.counters.permission_requests
        drive = "b!drive000001"
        file = {"id": f"{drive}-f3", "name": "Document 3.docx", "file": {}, "_unique": True}
        file["webUrl"] = "https://example.sharepoint.com/sites/marketing/Document%203.docx"
        file["_sharing_changed"] = True
        sharepoint.change(drive, file, [{"id": "new-anon", **_anonymous()}])
        second = _collect(settings, manifest)
        assert second.report["incremental_libraries"] == 3
        # Only the changed item's permissions were read again.
        assert sharepoint.counters.permission_requests == asked + 1
        assert _grant(second, "new-anon")["principal_id"] == "anyone"
        assert len(second.tables["grants"]) == len(first.tables["grants"]) + 1
        sharepoint.faults.expired_tokens = True
        third = _collect(settings, manifest)
    assert third.report["delta_resyncs"] == 3
    assert sharepoint.counters.gone == 3
    assert len(third.tables["resources"]) == len(second.tables["resources"])


def _anonymous() -> dict[str, Any]:
    return {
        "roles": ["read"],
        "link": {"scope": "anonymous", "type": "view"},
        "expirationDateTime": "0001-01-01T00:00:00Z",
    }


def test_saved_pages_are_reread_exactly(pki: PkiFiles, manifest: Manifest, tmp_path: Path) -> None:
    with _serve(pki, SharePoint(build_sharepoint())) as server:
        live = collect(
            _settings(server, pki), manifest, CollectContext(as_of=AS_OF, save_raw=tmp_path)
        )
    again = _collect(
        SourceSettings("m365", "m365", path=tmp_path / "m365", options={"directory": "entra"}),
        manifest,
    )
    for name in ("resources", "grants"):
        pd.testing.assert_frame_equal(live.tables[name], again.tables[name])


# ---- rules on the sample ------------------------------------------------------------------


class _View:
    def __init__(self, result: Any) -> None:
        self.resources = result.tables["resources"]
        self.grants = result.tables["grants"]
        from accessaudit.model import TABLES

        self.accounts = TABLES["accounts"].empty()
        self.people = TABLES["people"].empty()
        self.groups = TABLES["groups"].empty()
        self.memberships = TABLES["memberships"].empty()
        self.effective_memberships = TABLES["effective_memberships"].empty()
        self.access = TABLES["access"].empty()


@pytest.fixture(scope="module")
def sample_view(pki: PkiFiles, manifest: Manifest) -> _View:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(SECRET_ENV, CLIENT_SECRET)
        with _serve(pki, SharePoint(build_sharepoint())) as server:
            return _View(_collect(_settings(server, pki), manifest))


def _fired(rule: str, view: _View, policy: Policy | None = None) -> dict[str, str]:
    found = RULES[rule].function(view, policy or Policy(), AS_OF)
    return {
        str(e.get("permission_id") or e["principal"]): s
        for e, s in zip(found["evidence"], found["severity"], strict=True)
    }


def test_public_link_fires_on_restricted_data_not_on_internal(sample_view: _View) -> None:
    fired = _fired("public-link", sample_view)
    assert fired == {"anon-edit": "critical", "anon-expiring": "critical"}
    # Near miss: the Marketing brochure's anonymous link is on internal data.


def test_org_wide_link_on_restricted_and_everyone_on_confidential(sample_view: _View) -> None:
    fired = _fired("org-wide-link", sample_view)
    # org-view: restricted clinical folder; Everyone except external users on the Board Pack site.
    # Near misses: org-fin (a link on confidential data), org-mk (internal). The Everyone
    # grant is named by its permission id ("everyone"), which the DELETE that removes it needs.
    assert set(fired) == {"org-view", "everyone"}


def test_link_no_expiry_respects_the_policy_age(sample_view: _View) -> None:
    fired = _fired("link-no-expiry", sample_view)
    # anon-edit created 2026-01-12 (313 days), anon-view 2025-01-01; the partner invitation has
    # no creation date (unknown age counts); anon-expiring has an expiry (near miss).
    assert set(fired) == {"anon-edit", "anon-view", "invite-partner"}
    young = _fired("link-no-expiry", sample_view, Policy(link_max_age_days=400))
    assert set(young) == {"anon-view", "invite-partner"}


def test_external_sharing_names_the_invited_outsider(sample_view: _View) -> None:
    # The advisor on confidential finance data too; no finding for links alone.
    assert set(_fired("external-sharing", sample_view)) == {"invite-partner", "invite-advisor"}


@pytest.mark.parametrize(
    ("field", "value", "said"),
    [
        ("roles", "owner", "roles is str, not the documented list"),
        ("expirationDateTime", 1735689600, "expirationDateTime is int"),
        ("expirationDateTime", "next year", "is not a date"),
        ("link", {"scope": ["anonymous"]}, "link.scope is list"),
    ],
)
def test_a_permission_of_another_shape_stops_the_collection_naming_it(
    pki: PkiFiles, manifest: Manifest, field: str, value: Any, said: str
) -> None:
    data = build_sharepoint()
    broken = {"id": "odd", "roles": ["read"], field: value}
    data["permissions"][("b!drive000001", "mk-brochure")] = [broken]
    with _serve(pki, SharePoint(data)) as server, pytest.raises(SourceError) as caught:
        _collect(_settings(server, pki), manifest)
    assert said in str(caught.value)
    assert "permission 'odd'" in str(caught.value)
    assert "mk-brochure/permissions" in str(caught.value)


def test_onedrive_choice_selects_personal_sites(pki: PkiFiles, manifest: Manifest) -> None:
    data = build_sharepoint()
    for number, user in enumerate(("ann.lee@example.com", "bob.ray@example.com"), start=10):
        folder = user.replace(".", "_").replace("@", "_")
        site = {
            "id": f"example-my.sharepoint.com,{number},0",
            "name": user,
            "webUrl": f"https://example-my.sharepoint.com/personal/{folder}",
            "isPersonalSite": True,
        }
        data["sites"].append(site)
        data["drives"][site["id"]] = []
    counts = {}
    for choice in ("all", "none", ["ann.lee@example.com"]):
        with _serve(pki, SharePoint(data)) as server:
            result = _collect(_settings(server, pki, onedrive=choice), manifest)
        sites = result.tables["resources"]
        counts[str(choice)] = int(sites["name"].str.contains("/personal/").sum())
        assert result.report["personal_sites_skipped"] == 2 - counts[str(choice)]
    assert counts == {"all": 2, "none": 0, "['ann.lee@example.com']": 1}


def test_a_link_without_scope_that_names_people_is_a_people_link_not_anonymous(
    pki: PkiFiles, manifest: Manifest
) -> None:
    # permission.md's "Specific people link" example: a `link` without `scope`, its people in
    # grantedToIdentitiesV2 (here an outsider not in the directory). It must not read as an
    # anonymous link; a link with neither scope nor people still does, and is said.
    named = {
        "id": "people-no-scope",
        "roles": ["write"],
        "link": {"type": "edit", "webUrl": "https://example.sharepoint.com/:w:/s/x"},
        "grantedToIdentitiesV2": [
            {"user": {"email": "robin@partner.example", "displayName": "Robin Partner"}}
        ],
        "expirationDateTime": "0001-01-01T00:00:00Z",
    }
    bare = {"id": "bare-link", "roles": ["read"], "link": {"type": "view"}}
    sharepoint = SharePoint(build_sharepoint(files_per_library=10))
    drive = "b!drive000001"
    file = {"id": f"{drive}-f4", "name": "Document 4.docx", "file": {}, "_unique": True}
    file["webUrl"] = "https://example.sharepoint.com/sites/marketing/Document%204.docx"
    sharepoint.change(drive, file, [named, bare])
    with _serve(pki, sharepoint) as server:
        result = _collect(_settings(server, pki), manifest)
    people = _grant(result, "people-no-scope")
    assert (people["principal_id"], people["principal_type"]) == (
        "robin@partner.example",
        "external",
    )
    assert people["link_scope"] == "users"
    assert _grant(result, "bare-link")["principal_id"] == "anyone"
    assert result.report["links_without_scope_naming_people"] == 1
    assert result.report["links_without_scope_counted_anonymous"] == 1
    assert any("name neither a scope nor people" in w for w in result.report["warnings"])


def test_permission_lookups_of_several_libraries_share_a_batch(
    pki: PkiFiles, manifest: Manifest
) -> None:
    sharepoint = SharePoint(build_sharepoint(sites=5, files_per_library=30, extra_roots=4))
    with _serve(pki, sharepoint) as server:
        result = _collect(_settings(server, pki), manifest)
        sizes = server.counters.batch_sizes
    # The 5 sites' libraries, the Board Pack group's sites and owners, then the 14 look-ups of
    # five libraries in one batch (json-batching.md: up to 20), not one batch per library.
    assert result.report["permission_requests"] == sharepoint.counters.permission_requests == 14
    assert sizes == [5, 1, 1, 14]
    assert result.report["batches"] == 4


def test_a_library_whose_permissions_are_refused_is_a_gap_and_the_others_are_read(
    pki: PkiFiles, manifest: Manifest
) -> None:
    """One library answers 403 inside a $batch shared with others (json-batching.md: each
    response has its own status): that library's look-ups are a counted gap, and the other
    libraries' answers in the same batch are kept."""
    marketing = "b!drive000001"
    sharepoint = SharePoint(
        build_sharepoint(), SharePointFaults(permissions_403_drives=frozenset({marketing}))
    )
    with _serve(pki, sharepoint) as server:
        result = _collect(_settings(server, pki), manifest)
        sizes = server.counters.batch_sizes
    assert len(sizes) == 4  # drives, group sites, group owners, one batch of look-ups
    refused = [gap for gap in result.report["gaps"] if gap.startswith(f"library {marketing}")]
    (gap,) = refused
    assert "403 accessDenied" in gap and "Sites.FullControl.All" in gap
    grants = result.tables["grants"]
    assert not grants["drive_id"].astype(object).eq(marketing).any()
    # The other libraries of the same batch: the clinical anonymous link, the Board Pack's
    # organisation link and invitation.
    assert {"anon-edit", "org-fin", "invite-advisor"} <= set(grants["permission_id"].dropna())
    # Near miss: without the fault the marketing library's links are read.
    with _serve(pki, SharePoint(build_sharepoint())) as server:
        calm = _collect(_settings(server, pki), manifest)
    assert calm.tables["grants"]["drive_id"].astype(object).eq(marketing).any()
    assert not [gap for gap in calm.report["gaps"] if gap.startswith("library ")]
