"""A sample SharePoint / OneDrive tenant with planted oversharing and near misses.

The shapes follow Graph v1.0's documentation (resources/site.md, drive.md, driveitem.md,
permission.md, sharinglink.md). Planted, per ``build_sharepoint``:

* HR site (label "Highly Confidential" → restricted): an anonymous edit link without expiry
  on ``Salaries 2026.xlsx`` (public-link, link-no-expiry); an organisation link on the
  ``Reviews`` folder (org-wide-link); an invitation of ``auditor@partner.example`` (external-
  sharing); near misses: an anonymous link *with* expiry on a restricted file is still a
  public link but not link-no-expiry, an ``existingAccess`` link (grants nothing).
* Marketing site (label "General" → internal): an anonymous link (near miss: internal data)
  and an organisation link (near miss).
* Finance Team site (a Microsoft 365 group, "Confidential"): "Everyone except external
  users" on the library (org-wide-link); an organisation link (near miss: confidential, not
  restricted).

Every library also holds ``files_per_library`` plain files that inherit their permissions, so
a collection that asked for each file's permissions would show in the call counts.
"""

from __future__ import annotations

from typing import Any

__all__ = ["HOST", "TEAM_GROUP_ID", "build_sharepoint"]

HOST = "contoso.sharepoint.com"
TEAM_GROUP_ID = "4c1f2b6e-9d3a-4e57-8b21-6f0a9c3d7e11"
NO_EXPIRY = "0001-01-01T00:00:00Z"
EEEU = "c:0-.f|rolemanager|spo-grid-all-users/6e1e4a4f-8f0c-4a5e-9d5b-2b7a3c9e1f00"


def _site(number: int, name: str, label: str | None) -> dict[str, Any]:
    site: dict[str, Any] = {
        "id": f"{HOST},{number:08d}-0000-4000-8000-000000000000,{number:08d}-1111-4000-8000-0",
        "name": name,
        "displayName": name,
        "webUrl": f"https://{HOST}/sites/{name.lower().replace(' ', '')}",
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
    *, sites: int = 3, files_per_library: int = 20, extra_roots: int = 0
) -> dict[str, Any]:
    """The SharePoint part of the sample tenant (the route data of the test Graph).

    ``sites`` ≥ 3 (the three planted ones, then plain ones); ``extra_roots`` adds folders with
    unique (member-only) permissions spread over the plain sites, for scale.
    """
    planted = [
        ("HR", "Highly Confidential"),
        ("Marketing", "General"),
        ("Finance Team", "Confidential"),
    ]
    all_sites = [_site(n, name, label) for n, (name, label) in enumerate(planted, start=1)]
    all_sites += [_site(n, f"Project {n}", None) for n in range(4, sites + 1)]
    data: dict[str, Any] = {
        "sites": all_sites,
        "drives": {},
        "items": {},
        "permissions": {},
        "group_sites": {
            TEAM_GROUP_ID: [{"id": all_sites[2]["id"], "webUrl": all_sites[2]["webUrl"]}]
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
            "name": "Salaries 2026.xlsx",
            "file": {},
            "webUrl": f"{hr_url}/Salaries%202026.xlsx",
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
                    "invitedBy": {"user": {"email": "hr.lead@contoso.com"}},
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
            "name": "Handbook draft.docx",
            "file": {},
            "webUrl": f"{hr_url}/Handbook%20draft.docx",
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
        [_link("org-fin", "organization", "edit")],
    )
