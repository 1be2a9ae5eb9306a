"""The remediation plan of a campaign: files a directory administrator applies, never us.

* ``revocations.ldif`` — LDAP group memberships to remove, as RFC 2849 ``changetype: modify``
  records (``delete: member``), for ``ldapmodify -f``;
* ``graph-plan.json`` — Microsoft Graph requests for Entra ID groups and roles, for sharing
  links and invitations on SharePoint / OneDrive items (``DELETE /drives/{drive-id}/items/
  {item-id}/permissions/{perm-id}``, api-reference/v1.0/api/permission-delete.md: application
  permission Files.ReadWrite.All or Sites.ReadWrite.All; an inherited permission cannot be
  deleted there, so it goes to ``manual.csv``), and for site access held through a
  Microsoft 365 group (``DELETE /groups/{group-id}/members/{directory-object-id}/$ref``,
  group-delete-members.md: GroupMember.ReadWrite.All). Each request has ``method`` and
  ``url`` (relative to ``graph_url``) and ``call``, the whole request as written. The people
  one specific-people link names share one DELETE of its permission (``item_ids`` and
  ``accounts`` list them when several were revoked; the note says that it removes the link
  for everyone it names);
* ``manual.csv`` — everything else (resource permissions, groups without a DN, modify
  decisions), for the owner of that system.

A membership held through nesting is removed from the account's *direct* group on the path:
removing the account from the reviewed parent group would not end a nested membership.

Legal holds: an item whose account, person or resource is under a current hold (the holds
recorded in the campaign when it was created, plus any passed in) is never proposed for
removal: it goes to ``manual.csv`` with the action "disable, do not delete: legal hold
<matter>", so the evidence the hold preserves is kept. Holds passed in here match a person by
person_id (the campaign records holds that name a person by email by their person_id).
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from accessaudit._atomic import atomic_folder
from accessaudit.errors import ReviewError
from accessaudit.holds import LegalHold, held_accounts, held_resources, hold_from_mapping
from accessaudit.review._links import LINK_ITEM_COLUMNS
from accessaudit.review.campaign import Campaign
from accessaudit.review.decision_log import current_decisions

__all__ = ["RemediationPlan", "campaign_holds", "write_remediation"]

LDIF_FILE = "revocations.ldif"
GRAPH_FILE = "graph-plan.json"
CSV_FILE = "manual.csv"
#: The Graph endpoint the plan's relative URLs are under (a sovereign cloud passes its own).
GRAPH_URL = "https://graph.microsoft.com/v1.0"
#: The least application permission each kind of request needs (from the Graph docs pages).
_NEEDS = {
    "permission": "Files.ReadWrite.All or Sites.ReadWrite.All (permission-delete.md)",
    "group": "GroupMember.ReadWrite.All (group-delete-members.md)",
}
_SAFE_LDIF = re.compile(
    r"^[\x01-\x09\x0b\x0c\x0e-\x1f\x21-\x39\x3b\x3d-\x7f][\x01-\x09\x0b\x0c\x0e-\x7f]*$"
)


@dataclass(frozen=True)
class RemediationPlan:
    """Where the plan was written and how many changes each file holds."""

    folder: Path
    ldif: int
    graph: int
    manual: int

    @property
    def files(self) -> dict[str, Path]:
        """The plan's files by kind."""
        return {
            "ldif": self.folder / LDIF_FILE,
            "graph": self.folder / GRAPH_FILE,
            "manual": self.folder / CSV_FILE,
        }


def write_remediation(
    campaign: Campaign,
    out: Path | str,
    *,
    holds: tuple[LegalHold, ...] = (),
    as_of: pd.Timestamp | None = None,
    graph_url: str = GRAPH_URL,
) -> RemediationPlan:
    """Write the remediation plan for every revoke (and modify) decision in force to ``out``.

    The folder is written atomically; nothing is applied to any directory. Items under a
    legal hold current on ``as_of`` (default: now) — from ``holds`` or recorded in the
    campaign — are written as "disable, do not delete" in ``manual.csv`` instead.

    >>> plan = write_remediation(load_campaign("reviews/2026-Q4"), "remediation/")  # doctest: +SKIP
    >>> plan.ldif, plan.graph, plan.manual  # doctest: +SKIP
    """
    decisions = current_decisions(campaign)
    items = campaign.items.copy()
    for column in (*LINK_ITEM_COLUMNS, "resource_connector"):
        if column not in items:  # a campaign created before these columns existed
            items[column] = ""
    acted = items.merge(
        decisions.loc[
            decisions["decision"].isin(["revoke", "modify"]), ["item_id", "decision", "comment"]
        ],
        on="item_id",
    )
    revoke = acted["decision"].eq("revoke")
    group = acted["entitlement_type"].eq("group")
    entra = acted["connector"].eq("entra-id") | acted["group_kind"].isin(
        ["directory-role", "app-role"]
    )
    hold = _holds_on(acted, (*campaign_holds(campaign), *holds), as_of)
    held = hold.ne("")
    acted = acted.assign(decision=acted["decision"].where(~held, "disable, do not delete: " + hold))
    ldap = (
        revoke
        & group
        & ~entra
        & ~held
        & acted["direct_group_dn"].ne("")
        & acted["account_dn"].ne("")
    )
    link = acted["entitlement_type"].isin(["link", "invitation"])
    # A link or invitation is removed by deleting its permission on the drive item, which
    # needs the ids the m365 connector keeps and a permission of the item's own.
    removable_link = (
        revoke
        & link
        & ~held
        & acted["drive_id"].ne("")
        & acted["drive_item_id"].ne("")
        & acted["permission_id"].ne("")
        & acted["permission_inherited"].ne("yes")
    )
    site_member = (
        revoke
        & acted["entitlement_type"].eq("resource")
        & acted["resource_connector"].eq("m365")
        & acted["connector"].eq("entra-id")
        & acted["direct_group_native_id"].ne("")
        & acted["account_native_id"].ne("")
        & ~held
    )
    graph = (revoke & group & entra & ~ldap & ~held) | removable_link | site_member
    manual = ~(ldap | graph)
    acted = acted.assign(
        decision=acted["decision"].where(
            ~(manual & revoke & link & acted["permission_inherited"].eq("yes")),
            "revoke where it is set: the permission is inherited from a parent folder or site",
        )
    )

    target = Path(out)
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise ReviewError(f"{target} exists and is not a folder; choose a new folder for the plan")
    if target.exists() and any(target.iterdir()):
        raise ReviewError(f"{target} exists and is not empty; choose a new folder for the plan")
    requests = _graph(acted[graph], graph_url.rstrip("/"))
    with atomic_folder(target) as staging:
        (staging / LDIF_FILE).write_text(_ldif(campaign, acted[ldap]), encoding="utf-8")
        (staging / GRAPH_FILE).write_text(
            json.dumps(
                {
                    "campaign_id": campaign.id,
                    "graph_url": graph_url.rstrip("/"),
                    "requests": requests,
                },
                indent=2,
            )
            + "\n",
            encoding="utf-8",
        )
        _manual(acted[manual]).to_csv(staging / CSV_FILE, index=False)
    return RemediationPlan(
        folder=target, ldif=int(ldap.sum()), graph=len(requests), manual=int(manual.sum())
    )


def campaign_holds(campaign: Campaign) -> tuple[LegalHold, ...]:
    """The legal holds recorded in the campaign's manifest when it was created."""
    return tuple(
        hold_from_mapping(item, f"{campaign.folder}: legal_holds[{i}]")
        for i, item in enumerate(campaign.manifest.get("legal_holds", []))
    )


def _holds_on(
    items: pd.DataFrame, holds: tuple[LegalHold, ...], as_of: pd.Timestamp | None
) -> pd.Series:
    """For each item, ``legal hold <matter>`` of a current hold on its account, person or
    resource; '' where none."""
    if not holds or items.empty:
        return pd.Series("", index=items.index, dtype=object)
    when = as_of if as_of is not None else pd.Timestamp.now(tz="UTC")
    accounts = items[["account_id", "login", "person_id"]].drop_duplicates("account_id")
    people = items[["person_id"]].drop_duplicates().assign(email=None)
    on_account = held_accounts(holds, accounts, people, when).set_index("account_id")["matter"]
    resource_items = items[items["entitlement_type"].eq("resource")].drop_duplicates(
        "entitlement_id"
    )
    resources = pd.DataFrame(
        {"resource_id": resource_items["entitlement_id"], "name": resource_items["entitlement"]}
    )
    on_resource = held_resources(holds, resources, when).set_index("resource_id")["matter"]
    matter = items["account_id"].astype(object).map(on_account).astype(object)
    by_resource = (
        items["entitlement_id"]
        .astype(object)
        .where(items["entitlement_type"].eq("resource"))
        .map(on_resource)
        .astype(object)
    )
    matter = matter.where(matter.notna(), by_resource)
    return ("legal hold " + matter.astype(object)).where(matter.notna(), "").astype(object)


def _ldif_line(attribute: str, value: str) -> str:
    if value and _SAFE_LDIF.match(value) and not value.endswith(" "):
        return f"{attribute}: {value}"
    return f"{attribute}:: {base64.b64encode(value.encode()).decode()}"


def _ldif(campaign: Campaign, rows: pd.DataFrame) -> str:
    lines = [
        "version: 1",
        f"# accessaudit review campaign {campaign.id}: memberships to remove.",
        "# Review, then apply with: ldapmodify -f " + LDIF_FILE,
        "",
    ]
    for group_dn, part in rows.sort_values(["direct_group_dn", "login"]).groupby(
        "direct_group_dn", sort=False
    ):
        for row in _records(part):
            note = f"# item {row['item_id']}: {row['login']} from {row['entitlement']}"
            if row["direct_group_name"] and row["direct_group_name"] != row["entitlement"]:
                note += f" (held through {row['how_held']})"
            lines.append(note.replace("\n", " "))
        lines.append(_ldif_line("dn", str(group_dn)))
        lines.append("changetype: modify")
        lines.append("delete: member")
        lines.extend(_ldif_line("member", dn) for dn in part["account_dn"].drop_duplicates())
        lines.append("-")
        lines.append("")
    return "\n".join(lines) + "\n"


def _graph(rows: pd.DataFrame, graph_url: str) -> list[dict[str, object]]:
    requests = _graph_requests(rows)
    for request in requests:
        request["call"] = f"{request['method']} {graph_url}{request['url']}"
    return requests


def _graph_requests(rows: pd.DataFrame) -> list[dict[str, object]]:
    requests: list[dict[str, object] | tuple[str, str, str]] = []
    # One DELETE per permission: the people one specific-people link names are items of their
    # own, but deleting the permission removes the link for all of them at once.
    permissions: dict[tuple[str, str, str], list[dict[str, str]]] = {}
    for row in _records(rows):
        if row["entitlement_type"] in ("link", "invitation"):
            key = (row["drive_id"], row["drive_item_id"], row["permission_id"])
            if key not in permissions:
                permissions[key] = []
                requests.append(key)
            permissions[key].append(row)
            continue
        if row["entitlement_type"] == "resource":
            requests.append(
                {
                    "item_id": row["item_id"],
                    "account": row["login"],
                    "entitlement": row["entitlement"],
                    "method": "DELETE",
                    "url": f"/groups/{row['direct_group_native_id']}/members/"
                    f"{row['account_native_id']}/$ref",
                    "note": f"removes {row['login']} from the Microsoft 365 group "
                    f"{row['direct_group_name']}, which holds the site: every other access "
                    "through that group ends too",
                    "permission": _NEEDS["group"],
                }
            )
            continue
        group_id = row["direct_group_native_id"] or row["entitlement_id"].split(":", 1)[-1]
        user_id = row["account_native_id"]
        kind = row["group_kind"]
        base: dict[str, object] = {
            "item_id": row["item_id"],
            "account": row["login"],
            "entitlement": row["entitlement"],
        }
        if kind == "directory-role" and row["assignment"] == "eligible":
            requests.append(
                {
                    **base,
                    "method": "POST",
                    "url": "/roleManagement/directory/roleEligibilityScheduleRequests",
                    "body": {
                        "action": "adminRemove",
                        "principalId": user_id,
                        "roleDefinitionId": group_id,
                        "directoryScopeId": "/",
                        "justification": f"access review {row['item_id']}",
                    },
                }
            )
        elif kind == "directory-role":
            requests.append(
                {
                    **base,
                    "method": "DELETE",
                    "url": f"/directoryRoles/{group_id}/members/{user_id}/$ref",
                }
            )
        elif kind == "app-role":
            requests.append(
                {
                    **base,
                    "method": "DELETE",
                    "url": f"/users/{user_id}/appRoleAssignments/{{assignment-id}}",
                    "note": f"look up the assignment of app role {group_id} first: "
                    f"GET /users/{user_id}/appRoleAssignments",
                }
            )
        else:
            requests.append(
                {**base, "method": "DELETE", "url": f"/groups/{group_id}/members/{user_id}/$ref"}
            )
    return [
        _permission_delete(permissions[request]) if isinstance(request, tuple) else request
        for request in requests
    ]


def _permission_delete(rows: list[dict[str, str]]) -> dict[str, object]:
    """The DELETE of a sharing link's or invitation's permission on its drive item, for
    every revoked item of that permission (the people one specific-people link names)."""
    row = rows[0]
    parts = row["how_held"].split("; ")
    what = parts[1] if len(parts) > 1 else row["entitlement_type"]
    note = f"removes the {row['entitlement_type']} ({what}) for everyone who holds it"
    if row["link_scope"] == "users":
        named = ", ".join(dict.fromkeys(r["login"] for r in rows))
        note += (
            f": a specific-people link, so every person it names loses it, not only the "
            f"one reviewed (revoked here: {named})"
        )
    request: dict[str, object] = {
        "item_id": row["item_id"],
        "account": row["login"],
        "entitlement": row["entitlement"],
        "method": "DELETE",
        "url": f"/drives/{row['drive_id']}/items/{row['drive_item_id']}/permissions/"
        f"{row['permission_id']}",
        "note": note,
        "permission": _NEEDS["permission"],
    }
    if len(rows) > 1:
        request["item_ids"] = [r["item_id"] for r in rows]
        request["accounts"] = [r["login"] for r in rows]
    return request


def _records(rows: pd.DataFrame) -> list[dict[str, str]]:
    """Rows as dicts of text (the items table is text apart from a few flags)."""
    return [
        {str(k): "" if pd.isna(v) else str(v) for k, v in row.items()}
        for row in rows.to_dict(orient="records")
    ]


def _manual(rows: pd.DataFrame) -> pd.DataFrame:
    # The CSV is often opened in Excel: a source value such as "=HYPERLINK(...)" gets the
    # leading apostrophe OWASP recommends so that it stays text there too.
    table = pd.DataFrame(
        {
            "item_id": rows["item_id"],
            "action": rows["decision"],
            "system": rows["system"],
            "account": rows["login"],
            "account_id": rows["account_id"],
            "entitlement_type": rows["entitlement_type"],
            "entitlement": rows["entitlement"],
            "right": rows["right"],
            "how_held": rows["how_held"],
            "comment": rows["comment"].fillna(""),
            "reviewer": rows["reviewer"],
        }
    ).astype(str)
    risky = table.apply(lambda column: column.str.match(r"^[=+\-@\t\r]"))
    return table.where(~risky, "'" + table)
