"""The remediation plan of a campaign: files a directory administrator applies, never us.

* ``revocations.ldif`` — LDAP group memberships to remove, as RFC 2849 ``changetype: modify``
  records (``delete: member``), for ``ldapmodify -f``;
* ``graph-plan.json`` — Microsoft Graph requests for Entra ID groups and roles;
* ``manual.csv`` — everything else (resource permissions, groups without a DN, modify
  decisions), for the owner of that system.

A membership held through nesting is removed from the account's *direct* group on the path:
removing the account from the reviewed parent group would not end a nested membership.
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
from accessaudit.review.campaign import Campaign
from accessaudit.review.decision_log import current_decisions

__all__ = ["RemediationPlan", "write_remediation"]

LDIF_FILE = "revocations.ldif"
GRAPH_FILE = "graph-plan.json"
CSV_FILE = "manual.csv"
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


def write_remediation(campaign: Campaign, out: Path | str) -> RemediationPlan:
    """Write the remediation plan for every revoke (and modify) decision in force to ``out``.

    The folder is written atomically; nothing is applied to any directory.

    >>> plan = write_remediation(load_campaign("reviews/2026-Q4"), "remediation/")  # doctest: +SKIP
    >>> plan.ldif, plan.graph, plan.manual  # doctest: +SKIP
    """
    decisions = current_decisions(campaign)
    acted = campaign.items.merge(
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
    ldap = revoke & group & ~entra & acted["direct_group_dn"].ne("") & acted["account_dn"].ne("")
    graph = revoke & group & entra & ~ldap
    manual = ~(ldap | graph)

    target = Path(out)
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise ReviewError(f"{target} exists and is not a folder; choose a new folder for the plan")
    if target.exists() and any(target.iterdir()):
        raise ReviewError(f"{target} exists and is not empty; choose a new folder for the plan")
    with atomic_folder(target) as staging:
        (staging / LDIF_FILE).write_text(_ldif(campaign, acted[ldap]), encoding="utf-8")
        (staging / GRAPH_FILE).write_text(
            json.dumps({"campaign_id": campaign.id, "requests": _graph(acted[graph])}, indent=2)
            + "\n",
            encoding="utf-8",
        )
        _manual(acted[manual]).to_csv(staging / CSV_FILE, index=False)
    return RemediationPlan(
        folder=target, ldif=int(ldap.sum()), graph=int(graph.sum()), manual=int(manual.sum())
    )


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


def _graph(rows: pd.DataFrame) -> list[dict[str, object]]:
    requests: list[dict[str, object]] = []
    for row in _records(rows):
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
    return requests


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
