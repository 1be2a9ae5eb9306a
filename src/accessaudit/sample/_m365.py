"""A sample SharePoint / OneDrive tenant with planted oversharing and near misses.

The shapes follow Graph v1.0's documentation (resources/site.md, drive.md, driveitem.md,
permission.md, sharinglink.md). Planted, per ``build_sharepoint``:

* Clinical Research site (label "Highly Confidential" → restricted; the data inventory names
  it too, and gives its owner): an anonymous edit link without expiry on
  ``Trial results 2026.xlsx`` (public-link, link-no-expiry); an organisation link on the
  ``Reviews`` folder (org-wide-link); an invitation of ``auditor@partner.example`` (external-
  sharing); near misses: an anonymous link *with* expiry on a restricted file is still a
  public link but not link-no-expiry, an ``existingAccess`` link (grants nothing).
* Marketing site (label "General" → internal): an anonymous link (near miss: internal data)
  and an organisation link (near miss).
* Board Pack site (a Microsoft 365 group's site, "Confidential"): "Everyone except external
  users" on the library (org-wide-link); an organisation link (near miss: confidential, not
  restricted); an outside advisor invited with an expiry (external-sharing, near miss for
  link-no-expiry).

Every library also holds ``files_per_library`` plain files that inherit their permissions, so
a collection that asked for each file's permissions would show in the call counts.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from accessaudit.connectors._graph.pages import RawPage, RawPages

__all__ = [
    "HOST",
    "TEAM_GROUP_ID",
    "build_sharepoint",
    "planted_sharing",
    "sharepoint_pages",
    "write_sharepoint",
]

HOST = "example.sharepoint.com"
TEAM_GROUP_ID = "4c1f2b6e-9d3a-4e57-8b21-6f0a9c3d7e11"
NO_EXPIRY = "0001-01-01T00:00:00Z"
EEEU = "c:0-.f|rolemanager|spo-grid-all-users/6e1e4a4f-8f0c-4a5e-9d5b-2b7a3c9e1f00"


def _site(number: int, name: str, label: str | None) -> dict[str, Any]:
    site: dict[str, Any] = {
        "id": f"{HOST},{number:08d}-0000-4000-8000-000000000000,{number:08d}-1111-4000-8000-0",
        "name": name,
        "displayName": name,
        "webUrl": f"https://{HOST}/sites/{name.lower().replace(' ', '-')}",
        "root": {},
        "siteCollection": {"hostName": HOST},
        "lastModifiedDateTime": "2026-10-01T09:00:00Z",
    }
    if label:
        site["sensitivityLabel"] = {"displayName": label}
    return site


def _link(
    pid: str, scope: str, kind: str = "view", expires: str = NO_EXPIRY, **extra: Any
) -> dict[str, Any]:
    return {
        "id": pid,
        "roles": ["write" if kind == "edit" else "read"],
        "link": {"scope": scope, "type": kind, "webUrl": f"https://{HOST}/:x:/s/{pid}"},
        "expirationDateTime": expires,
        "hasPassword": False,
        **extra,
    }


def build_sharepoint(
    *,
    sites: int = 3,
    files_per_library: int = 20,
    extra_roots: int = 0,
    team_group_id: str = TEAM_GROUP_ID,
) -> dict[str, Any]:
    """The SharePoint part of the sample tenant (the route data of the test Graph).

    ``sites`` ≥ 3 (the three planted ones, then plain ones); ``extra_roots`` adds folders with
    unique (member-only) permissions spread over the plain sites, for scale;
    ``team_group_id`` is the Microsoft 365 group whose site the Board Pack is.
    """
    planted = [
        ("Clinical Research", "Highly Confidential"),
        ("Marketing", "General"),
        ("Board Pack", "Confidential"),
    ]
    all_sites = [_site(n, name, label) for n, (name, label) in enumerate(planted, start=1)]
    all_sites += [_site(n, f"Project {n}", None) for n in range(4, sites + 1)]
    data: dict[str, Any] = {
        "sites": all_sites,
        "drives": {},
        "items": {},
        "permissions": {},
        "group_sites": {
            team_group_id: [{"id": all_sites[2]["id"], "webUrl": all_sites[2]["webUrl"]}]
        },
    }
    plain = max(1, sites - 3)
    for number, site in enumerate(all_sites):
        drive_id = f"b!drive{number:06d}"
        url = f"{site['webUrl']}/Shared%20Documents"
        data["drives"][site["id"]] = [
            {"id": drive_id, "name": "Documents", "webUrl": url, "driveType": "documentLibrary"}
        ]
        root = {
            "id": f"{drive_id}-root",
            "name": "root",
            "root": {},
            "folder": {},
            "webUrl": url,
            "_unique": True,
        }
        items = [root]
        data["permissions"][(drive_id, root["id"])] = [
            {
                "id": "owners",
                "roles": ["owner"],
                "grantedToV2": {"siteGroup": {"id": "3", "displayName": f"{site['name']} Owners"}},
            }
        ]
        for index in range(files_per_library):
            items.append(
                {
                    "id": f"{drive_id}-f{index}",
                    "name": f"Document {index}.docx",
                    "file": {},
                    "webUrl": f"{url}/Document%20{index}.docx",
                    "parentReference": {"driveId": drive_id, "id": root["id"]},
                }
            )
        if number >= 3:
            for index in range(number - 3, extra_roots, plain):
                folder = {
                    "id": f"{drive_id}-r{index}",
                    "name": f"Restricted {index}",
                    "folder": {},
                    "webUrl": f"{url}/Restricted%20{index}",
                    "_unique": True,
                }
                items.append(folder)
                data["permissions"][(drive_id, folder["id"])] = [
                    {
                        "id": "members",
                        "roles": ["write"],
                        "grantedToV2": {"siteGroup": {"id": "5", "displayName": "Members"}},
                    }
                ]
        data["items"][drive_id] = items
    _plant(data)
    return data


def _unique(data: dict[str, Any], drive_id: str, item: dict[str, Any], perms: list[Any]) -> None:
    data["items"][drive_id].append({**item, "_unique": True})
    data["permissions"][(drive_id, item["id"])] = perms


def _plant(data: dict[str, Any]) -> None:
    hr, marketing, finance = "b!drive000000", "b!drive000001", "b!drive000002"
    hr_url = data["drives"][data["sites"][0]["id"]][0]["webUrl"]
    _unique(
        data,
        hr,
        {
            "id": "hr-salaries",
            "name": "Trial results 2026.xlsx",
            "file": {},
            "webUrl": f"{hr_url}/Trial%20results%202026.xlsx",
            "createdDateTime": "2026-01-10T08:00:00Z",
        },
        [
            _link("anon-edit", "anonymous", "edit", createdDateTime="2026-01-12T08:00:00Z"),
            _link("existing", "existingAccess"),
        ],
    )
    _unique(
        data,
        hr,
        {"id": "hr-reviews", "name": "Reviews", "folder": {}, "webUrl": f"{hr_url}/Reviews"},
        [
            _link("org-view", "organization"),
            {
                "id": "invite-partner",
                "roles": ["read"],
                "invitation": {
                    "email": "auditor@partner.example",
                    "signInRequired": True,
                    "invitedBy": {"user": {"email": "clinical.lead@example.com"}},
                },
                "expirationDateTime": NO_EXPIRY,
            },
        ],
    )
    _unique(
        data,
        hr,
        {
            "id": "hr-handbook",
            "name": "Protocol draft.docx",
            "file": {},
            "webUrl": f"{hr_url}/Protocol%20draft.docx",
        },
        [_link("anon-expiring", "anonymous", "view", expires="2027-01-31T00:00:00Z")],
    )
    mk_url = data["drives"][data["sites"][1]["id"]][0]["webUrl"]
    _unique(
        data,
        marketing,
        {
            "id": "mk-brochure",
            "name": "Brochure.pdf",
            "file": {},
            "webUrl": f"{mk_url}/Brochure.pdf",
        },
        [
            _link("anon-view", "anonymous", createdDateTime="2025-01-01T00:00:00Z"),
            _link("org-mk", "organization"),
        ],
    )
    fin_root = f"{finance}-root"
    data["permissions"][(finance, fin_root)].append(
        {
            "id": "everyone",
            "roles": ["read"],
            "grantedToV2": {
                "siteUser": {
                    "id": "9",
                    "displayName": "Everyone except external users",
                    "loginName": EEEU,
                }
            },
        }
    )
    fin_url = data["drives"][data["sites"][2]["id"]][0]["webUrl"]
    _unique(
        data,
        finance,
        {"id": "fin-budget", "name": "Budget.xlsx", "file": {}, "webUrl": f"{fin_url}/Budget.xlsx"},
        [
            _link("org-fin", "organization", "edit"),
            {
                "id": "invite-advisor",
                "roles": ["write"],
                "invitation": {"email": "consultant@advisors.example", "signInRequired": True},
                "expirationDateTime": "2027-03-31T00:00:00Z",
            },
        ],
    )


def sharepoint_pages(
    data: Mapping[str, Any], *, owner_email: str, team_name: str = "Board Pack"
) -> RawPages:
    """``data`` (as :func:`build_sharepoint` makes it) as the pages a live ``m365`` collection
    with hierarchical sharing saves: only the permission roots and their permissions."""
    raw = RawPages()
    graph = "https://graph.microsoft.com/v1.0"
    raw.add(RawPage("sites", None, f"{graph}/sites/getAllSites", {"value": list(data["sites"])}))
    for site in data["sites"]:
        url = f"{graph}/sites/{site['id']}/drives"
        raw.add(RawPage("drives", site["id"], url, {"value": data["drives"][site["id"]]}))
    teams = [{"id": group, "displayName": team_name} for group in data["group_sites"]]
    raw.add(RawPage("groups", None, f"{graph}/groups", {"value": teams}))
    for group, sites in data["group_sites"].items():
        raw.add(RawPage("group_sites", group, f"{graph}/groups/{group}/sites", {"value": sites}))
        owner = {"id": "0b1c2d3e-0000-4000-8000-000000000001", "mail": owner_email}
        url = f"{graph}/groups/{group}/owners"
        raw.add(RawPage("group_owners", group, url, {"value": [owner]}))
    for drive_id, items in data["items"].items():
        roots = [
            {**{k: v for k, v in item.items() if not k.startswith("_")}, "shared": {}}
            for item in items
            if item.get("_unique")
        ]
        raw.add(RawPage("items", drive_id, f"delta-state:{drive_id}", {"value": roots}))
        for item in roots:
            parent = f"{drive_id}|{item['id']}"
            values = data["permissions"][(drive_id, item["id"])]
            url = f"{graph}/drives/{drive_id}/items/{item['id']}/permissions"
            raw.add(RawPage("permissions", parent, url, {"value": values}))
    return raw


def write_sharepoint(
    folder: Path, *, owner_email: str, team_group_id: str = TEAM_GROUP_ID, team_name: str = ""
) -> None:
    """Write the sample SharePoint tenant as saved pages (what ``m365`` with ``path`` reads).

    ``team_group_id`` / ``team_name``: the directory group whose site the Board Pack is (the
    Entra sample's board-pack group, so its members reach the site through it)."""
    data = build_sharepoint(team_group_id=team_group_id)
    pages = sharepoint_pages(data, owner_email=owner_email, team_name=team_name or "Board Pack")
    pages.save(Path(folder))


def planted_sharing() -> pd.DataFrame:
    """The planted sharing problems and near misses: rule, subject (a resource URL), expect."""
    hr = f"https://{HOST}/sites/clinical-research/Shared%20Documents"
    marketing = f"https://{HOST}/sites/marketing/Shared%20Documents"
    finance = f"https://{HOST}/sites/board-pack/Shared%20Documents"
    salaries, reviews = f"{hr}/Trial%20results%202026.xlsx", f"{hr}/Reviews"
    handbook, brochure, budget = (
        f"{hr}/Protocol%20draft.docx",
        f"{marketing}/Brochure.pdf",
        (f"{finance}/Budget.xlsx"),
    )
    rows = [
        ("public-link", salaries, "finding", "anonymous edit link on the restricted clinical site"),
        ("public-link", handbook, "finding", "anonymous link (with expiry) on restricted data"),
        ("public-link", brochure, "none", "anonymous link on internal marketing data"),
        ("org-wide-link", reviews, "finding", "organisation link on the restricted clinical site"),
        ("org-wide-link", finance, "finding", "Everyone except external users, confidential"),
        ("org-wide-link", budget, "none", "organisation link on confidential (not restricted)"),
        ("link-no-expiry", salaries, "finding", "anonymous link without expiry, 313 days old"),
        ("link-no-expiry", reviews, "finding", "external invitation without expiry"),
        ("link-no-expiry", handbook, "none", "anonymous link that expires"),
        (
            "external-sharing",
            reviews,
            "finding",
            "partner auditor invited on clinical data",
        ),
        ("external-sharing", budget, "finding", "consultant@advisors.example on board data"),
        ("external-sharing", salaries, "none", "links only, no outsider invited"),
        ("unclassified-resource", marketing, "finding", "shared, labelled, but in no inventory"),
        ("unclassified-resource", finance, "none", "the inventory's board-pack URL covers it"),
        ("unowned-resource", hr.rpartition("/")[0], "none", "owner from the inventory entry"),
        ("link-no-expiry", budget, "none", "the advisor's invitation expires"),
    ]
    return pd.DataFrame(
        [(rule, "resource", subject, expect, why, None) for rule, subject, expect, why in rows],
        columns=["rule", "subject_type", "subject", "expect", "why", "person"],
    )
