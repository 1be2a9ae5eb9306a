"""Raw SharePoint / OneDrive pages into resources, sharing grants and permission references.

Pure: the same pages give the same tables, live or re-read. Shapes followed
(microsoftgraph/microsoft-graph-docs-contrib, api-reference/v1.0/resources): site.md, drive.md,
driveitem.md (``shared``, ``root``, ``folder``, ``file`` facets), permission.md (``roles``,
``grantedToV2``, ``grantedToIdentitiesV2``, ``link``, ``invitation``, ``inheritedFrom``,
``expirationDateTime`` where ``0001-01-01T00:00:00Z`` is DateTime.MinValue, no expiry),
sharinglink.md (``type`` view / edit / embed, ``scope`` anonymous / organization / users /
existingAccess, ``preventsDownload``), sharepointidentityset.md (user, group, siteUser,
siteGroup).

* A site, a library (drive), and every folder or file that roots its own permissions becomes a
  resource named by its URL, with its parent (library → site, item → library).
* An ``anonymous`` link is a grant to the ``anyone`` link principal, an ``organization`` link
  (and SharePoint's "Everyone except external users" claim) to ``organization``; an
  invitation of an address outside ``internal_domains`` that no account has redeemed yet is a
  grant to that ``external`` address. These carry the link's type, scope, expiry, password
  and download flags and the permission id (for the DELETE that removes it).
* Users and groups named by Graph object id become references to the ``directory`` source's
  accounts and groups, resolved with every other source's permissions. Those a
  specific-people link (scope ``users``) names keep the link's columns on the reference, so
  each becomes a grant to the person's account that still carries the link (for its review
  item and the DELETE of its permission); a direct permission carries none.

(A little over 400 lines: one builder that reads permission.md's cases one by one, each with
the counts the report keeps; split, a case would sit apart from its count.)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from accessaudit.connectors._graph.pages import RawPages
from accessaudit.connectors.m365.settings import M365Settings
from accessaudit.connectors.m365.shapes import check_permission
from accessaudit.model import LINK_COLUMNS, REFERENCES, RIGHTS, TABLES

__all__ = ["NO_EXPIRY", "tables_from_pages"]

#: DateTime.MinValue: Graph's "this permission does not expire" (permission.md).
NO_EXPIRY = "0001-01-01T00:00:00Z"
#: SharePoint's claim for "Everyone except external users" (a login name ending in the tenant id).
_EVERYONE_EXCEPT_EXTERNAL = "spo-grid-all-users"
_SCOPE_PRINCIPAL = {"anonymous": "anyone", "organization": "organization"}


def _label(value: Any) -> str | None:
    if isinstance(value, Mapping):
        name = value.get("displayName") or value.get("labelName")
        return str(name) if name else None
    return str(value) if isinstance(value, str) and value else None


def _expiry(value: Any) -> str | None:
    if not isinstance(value, str) or not value or value.startswith("0001-01-01"):
        return None
    return value


@dataclass(frozen=True)
class _Held:
    """One permission being read, in one place: the resource it sits on, the right it gives,
    whether it is inherited, the page (or file) it came from and the permission itself (empty
    for a site held through its group) — what every grant and reference made of it shares."""

    rid: str
    right: str
    inherited: bool
    where: str
    permission: Mapping[str, Any] = field(default_factory=dict)


class _Builder:
    def __init__(self, raw: RawPages, system: str, m365: M365Settings) -> None:
        self.raw = raw
        self.system = system
        self.m365 = m365
        self.resources: list[dict[str, Any]] = []
        self.grants: list[dict[str, Any]] = []
        self.references: list[dict[str, Any]] = []
        self.counts: dict[str, int] = {
            "sites": 0,
            "teams_sites": 0,
            "libraries": 0,
            "folders": 0,
            "files": 0,
            "permissions": 0,
            "links_anonymous": 0,
            "links_organization": 0,
            "links_users": 0,
            "links_existing_access": 0,
            "links_without_scope_counted_anonymous": 0,
            "links_without_scope_naming_people": 0,
            "everyone_except_external_grants": 0,
            "invitations_external": 0,
            "unknown_roles": 0,
        }
        self.unmapped_labels: set[str] = set()
        # The (drive id, item id) whose permissions are being read: kept on each grant for
        # the DELETE that removes it (api-reference/v1.0/api/permission-delete.md).
        self.item: tuple[str | None, str | None] = (None, None)

    def sensitivity(self, label: str | None) -> str | None:
        if label is None:
            return None
        level = self.m365.labels.get(label.casefold())
        if level is None:
            self.unmapped_labels.add(label)
        return level

    def resource(self, **values: Any) -> str:
        """A data store found here: never an inventory entry itself (``inventoried`` false);
        the snapshot stage completes it from the data inventory when one names its URL."""
        rid = f"{self.system}:{values['name']}"
        self.resources.append({"resource_id": rid, "system": self.system, **values})
        return rid

    def build(self) -> None:
        sites, _, _ = self.raw.records("sites")
        group_of_site = self._group_sites()
        owners = self._owners()
        site_rid: dict[str, str] = {}
        site_level: dict[str, str | None] = {}
        site_owner: dict[str, str | None] = {}
        for site in sites:
            sid = str(site["id"])
            url = str(site.get("webUrl") or sid)
            level = self.sensitivity(_label(site.get("sensitivityLabel")))
            group = group_of_site.get(sid) or group_of_site.get(url.lower())
            owner = owners.get(group or "", [None])[0]
            self.counts["teams_sites"] += group is not None
            site_rid[sid] = self.resource(
                name=url,
                type="site",
                path=url,
                owner=owner,
                sensitivity=level,
                inventoried=False,
                last_modified=site.get("lastModifiedDateTime"),
            )
            site_level[sid] = level
            site_owner[sid] = owner
            self.counts["sites"] += 1
            if group is not None:
                self._group_grant(site_rid[sid], group, url)
        drives, drive_sites, _ = self.raw.records("drives")
        # library id → its resource_id, sensitivity, URL and owner (the site's)
        drive_rid: dict[str, tuple[str, str | None, str, str | None]] = {}
        for drive, site_id in zip(drives, drive_sites, strict=True):
            url = str(drive.get("webUrl") or drive["id"])
            parent = site_rid.get(str(site_id))
            level = site_level.get(str(site_id))
            owner = site_owner.get(str(site_id))
            rid = self.resource(
                name=url,
                type="library",
                path=url,
                owner=owner,
                sensitivity=level,
                inventoried=False,
                parent_id=parent,
            )
            drive_rid[str(drive["id"])] = (rid, level, url, owner)
            self.counts["libraries"] += 1
        items, item_drives, _ = self.raw.records("items")
        item_rid: dict[tuple[str, str], str] = {}
        for item, drive_id in zip(items, item_drives, strict=True):
            library = drive_rid.get(str(drive_id))
            if library is None:
                continue
            lib_rid, lib_level, lib_url, lib_owner = library
            if "root" in item:
                item_rid[(str(drive_id), str(item["id"]))] = lib_rid
                continue
            kind = "folder" if "folder" in item else "file"
            level = self.sensitivity(_label(item.get("sensitivityLabel"))) or lib_level
            url = str(item.get("webUrl") or f"{lib_url}#{item['id']}")
            item_rid[(str(drive_id), str(item["id"]))] = self.resource(
                name=url,
                type=kind,
                path=url,
                owner=lib_owner,
                sensitivity=level,
                inventoried=False,
                parent_id=lib_rid,
                last_modified=item.get("lastModifiedDateTime"),
            )
            self.counts["folders" if kind == "folder" else "files"] += 1
        permissions, parents, origins = self.raw.records("permissions")
        for permission, parent, origin in zip(permissions, parents, origins, strict=True):
            drive_id, _, item_id = str(parent).partition("|")
            target = item_rid.get((drive_id, item_id))
            if target is not None:
                self.item = (drive_id, item_id)
                self.permission(permission, target, origin)

    def _group_sites(self) -> dict[str, str]:
        found: dict[str, str] = {}
        records, parents, _ = self.raw.records("group_sites")
        for site, group in zip(records, parents, strict=True):
            found[str(site["id"])] = str(group)
            if site.get("webUrl"):
                found[str(site["webUrl"]).lower()] = str(group)
        return found

    def _owners(self) -> dict[str, list[str]]:
        owners: dict[str, list[str]] = {}
        records, parents, _ = self.raw.records("group_owners")
        for owner, group in zip(records, parents, strict=True):
            name = owner.get("mail") or owner.get("userPrincipalName") or owner["id"]
            owners.setdefault(str(group), []).append(str(name))
        return owners

    def _group_grant(self, rid: str, group: str, where: str) -> None:
        """A Teams site: its group's members may edit. Its owners are the site's ``owner``
        (the reviewer), not grants of their own: they hold the site through the group."""
        principal = f"{self.m365.directory}:{group}" if self.m365.directory else group
        self.reference(principal, _Held(rid, "write", False, where), kind="site")

    def reference(
        self,
        principal: str,
        held: _Held,
        *,
        kind: str = "file",
        link: Mapping[str, Any] | None = None,
    ) -> None:
        """A permission of a directory user or group, resolved later; ``link`` (the link
        columns) when a specific-people link grants it, so the grant keeps the link."""
        self.references.append(
            {
                **(link or {}),
                "principal": principal,
                "principal_form": "name",
                "directory": self.m365.directory,
                "resource": held.rid,
                "resource_form": "name",
                "resource_type": kind,
                "right": held.right,
                "inherited": held.inherited,
                "deny": False,
                "system": self.system,
                "location": held.where,
            }
        )

    def right(self, roles: Any) -> str:
        ranks = []
        for role in roles if isinstance(roles, list) else []:
            right = self.m365.roles.get(str(role).lower())
            if right is None:
                self.counts["unknown_roles"] += 1
                right = "read"
            ranks.append(RIGHTS.index(right))
        return RIGHTS[max(ranks)] if ranks else "read"

    def identity(
        self,
        identity: Mapping[str, Any],
        held: _Held,
        *,
        link: Mapping[str, Any] | None = None,
    ) -> str | None:
        """A reference for a user or group of ``grantedToV2`` (or of a people link, whose
        ``link`` columns the reference keeps); the address when the identity is an outsider
        with no account yet; else None."""
        for kind in ("group", "user"):
            who = identity.get(kind)
            if isinstance(who, Mapping) and who.get("id"):
                name = (
                    f"{self.m365.directory}:{who['id']}"
                    if self.m365.directory
                    else str(who.get("email") or who.get("displayName") or who["id"])
                )
                self.reference(name, held, link=link)
                return None
            if isinstance(who, Mapping) and who.get("email"):
                return str(who["email"]).lower()
        site_user = identity.get("siteUser")
        if isinstance(site_user, Mapping):
            login = str(site_user.get("loginName") or "")
            if _EVERYONE_EXCEPT_EXTERNAL in login.lower():
                self.counts["everyone_except_external_grants"] += 1
                # Its id, for removal; the claim is no link, so no link facts. Named among a
                # people link's identities it has no id of its own (the link's permission id
                # would delete the whole link).
                own = None if link is not None else held.permission.get("id")
                self.grants.append(
                    self.grant(held, principal="organization", kind="link", facts={"id": own})
                )
                return None
            if login:
                self.reference(login, held, link=link)
            return None
        site_group = identity.get("siteGroup")
        if isinstance(site_group, Mapping) and site_group.get("displayName"):
            self.reference(str(site_group["displayName"]), held, link=link)
        return None

    def grant(
        self,
        held: _Held,
        *,
        principal: str,
        kind: str,
        facts: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A grant row of ``held`` to ``principal``; ``facts`` stands in for the permission
        when only part of it applies (the "Everyone except external users" claim)."""
        permission = held.permission if facts is None else facts
        link = permission.get("link") if isinstance(permission.get("link"), Mapping) else {}
        assert isinstance(link, Mapping)
        invitation = permission.get("invitation")
        invited_by = (
            invitation.get("invitedBy", {}).get("user", {})
            if isinstance(invitation, Mapping) and isinstance(invitation.get("invitedBy"), Mapping)
            else {}
        )
        creator = (
            (invited_by.get("email") or invited_by.get("displayName"))
            if isinstance(invited_by, Mapping)
            else None
        )
        return {
            "principal_id": principal,
            "principal_type": kind,
            "resource_id": held.rid,
            "right": held.right,
            "inherited": held.inherited,
            "deny": False,
            # The URL the permission sits on; ``where`` (page or file) differs live and re-read.
            "path": held.rid[len(self.system) + 1 :],
            "system": self.system,
            "link_type": link.get("type"),
            "link_scope": link.get("scope") if link else None,
            "link_expires": _expiry(permission.get("expirationDateTime")),
            "link_created": permission.get("createdDateTime"),
            "link_created_by": creator,
            "link_has_password": permission.get("hasPassword"),
            "link_prevents_download": link.get("preventsDownload"),
            "permission_id": permission.get("id"),
            "drive_id": self.item[0],
            "item_id": self.item[1],
        }

    def permission(self, permission: Mapping[str, Any], rid: str, where: str) -> None:
        check_permission(permission, where, self.system)
        self.counts["permissions"] += 1
        right = self.right(permission.get("roles"))
        held = _Held(rid, right, bool(permission.get("inheritedFrom")), where, permission)
        link = permission.get("link")
        if isinstance(link, Mapping):
            scope = str(link.get("scope") or "")
            if not scope and permission.get("grantedToIdentitiesV2"):
                # permission.md's own "Specific people link" example has no scope: a link
                # that names its people is theirs, not anyone's.
                scope = "users"
                self.counts["links_without_scope_naming_people"] += 1
            if scope == "existingAccess":
                # Grants nothing beyond what people already hold (permission.md).
                self.counts["links_existing_access"] += 1
                return
            if scope in _SCOPE_PRINCIPAL or not scope:
                if not scope:
                    self.counts["links_without_scope_counted_anonymous"] += 1
                principal = _SCOPE_PRINCIPAL.get(scope, "anyone")
                self.counts[f"links_{scope or 'anonymous'}"] += 1
                row = self.grant(held, principal=principal, kind="link")
                row["link_scope"] = scope or "anonymous"
                self.grants.append(row)
                return
            self.counts["links_users"] += 1
            # Specific people (sharinglink.md scope "users"): each named person of the
            # directory keeps the link on their grant, so a review can delete it.
            facts = {
                column: value
                for column, value in self.grant(held, principal="", kind="link").items()
                if column in LINK_COLUMNS
            }
            facts["link_scope"] = "users"
            for identity in permission.get("grantedToIdentitiesV2") or []:
                if isinstance(identity, Mapping):
                    self._outsider(self.identity(identity, held, link=facts), held, link=facts)
            return
        granted = permission.get("grantedToV2")
        address = self.identity(granted, held) if isinstance(granted, Mapping) else None
        invitation = permission.get("invitation")
        if address is None and isinstance(invitation, Mapping) and invitation.get("email"):
            redeemed = isinstance(granted, Mapping) and any(
                isinstance(granted.get(k), Mapping) and granted[k].get("id")
                for k in ("user", "group")
            )
            if not redeemed:
                address = str(invitation["email"]).lower()
        self._outsider(address, held)

    def _outsider(
        self, address: str | None, held: _Held, *, link: Mapping[str, Any] | None = None
    ) -> None:
        if address is None:
            return
        if address.rpartition("@")[2] in self.m365.internal_domains:
            self.reference(address, held, link=link)
            return
        self.counts["invitations_external"] += 1
        row = self.grant(held, principal=address, kind="external")
        self.grants.append({**row, **(link or {})})


def tables_from_pages(
    raw: RawPages, *, system: str, m365: M365Settings
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame, dict[str, Any]]:
    """``resources`` and ``grants`` (links, outsiders), the references to resolve, a report."""
    builder = _Builder(raw, system, m365)
    builder.build()
    resources = TABLES["resources"].conform(
        pd.DataFrame(
            builder.resources, columns=[c.name for c in TABLES["resources"].columns]
        ).drop_duplicates("resource_id"),
        source=system,
    )
    grants = TABLES["grants"].conform(
        pd.DataFrame(builder.grants, columns=[c.name for c in TABLES["grants"].columns]),
        source=system,
    )
    references = REFERENCES.conform(
        pd.DataFrame(builder.references, columns=[c.name for c in REFERENCES.columns]),
        source=system,
    )
    report: dict[str, Any] = {**builder.counts, "gaps": list(raw.notes.get("gaps", []))}
    if builder.unmapped_labels:
        report["unmapped_labels"] = sorted(builder.unmapped_labels)
        report["gaps"].append(
            f"{len(builder.unmapped_labels)} sensitivity labels have no entry in the label map "
            f"(sensitivity_map): {', '.join(sorted(builder.unmapped_labels))}"
        )
    unscoped = builder.counts["links_without_scope_counted_anonymous"]
    if unscoped:
        report["gaps"].append(
            f"{unscoped} sharing links name neither a scope nor people: counted as anonymous "
            "links (the widest reach), so public-link may flag them"
        )
    return {"resources": resources, "grants": grants}, references, report
