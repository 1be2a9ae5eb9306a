"""Graph groups, directory roles and app roles → ``groups`` and ``memberships`` (pure).

Groups keep their first owner; directory roles become ``directory-role`` groups whose members
are the role's active assignments and PIM eligibilities; each (resource, app role) pair that
is assigned becomes an ``app-role`` group.

Built-in roles are known by template id (for built-ins, roleDefinitionId = templateId): a role
whose roleDefinition object was not collected is still named and, if it is one of the
manifest's privileged template ids, privileged.

PIM for Groups (api-reference/v1.0/resources/privilegedidentitymanagement-for-groups-api-
overview.md): eligible members and owners are not in a group's ``members``/``owners``; they
come from the group's eligibilitySchedules (api/privilegedaccessgroup-list-eligibilityschedules
.md). An eligible member gets an ``eligible`` membership; so does an eligible (or PIM-assigned)
owner of a group that holds a directory role, since an owner can add themselves as a member.
Active PIM member assignments (assignmentSchedules) are ``active`` memberships.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from accessaudit.connectors._graph.pages import RawPages
from accessaudit.connectors.entra.frames import column, frame, lookup, origin, text, times
from accessaudit.connectors.entra.settings import EntraSettings
from accessaudit.model import utc_timestamp

__all__ = ["GroupsRead", "groups_from_pages"]

_DEFAULT_APP_ROLE = "00000000-0000-0000-0000-000000000000"
_ACCOUNT_TYPES = {
    "#microsoft.graph.user": "account",
    "#microsoft.graph.servicePrincipal": "account",
}
_GROUP_TYPE = "#microsoft.graph.group"


@dataclass(frozen=True)
class GroupsRead:
    """The unconformed ``groups`` and ``memberships`` rows and the counts the report shows."""

    groups: pd.DataFrame
    memberships: pd.DataFrame
    counts: dict[str, int]
    app_role_assignments: int = 0


def groups_from_pages(
    raw: RawPages,
    *,
    system: str,
    graph: EntraSettings,
    account_ids: pd.Series,
    as_of: pd.Timestamp,
) -> GroupsRead:
    """Groups, directory roles and app roles of ``raw``; ``account_ids`` are the native ids of
    the accounts read (users and service principals), to tell role holders apart; PIM
    schedules count where they are in effect on ``as_of``."""
    prefix = f"{system}:"
    groups = frame(raw, "groups")
    owners = frame(raw, "group_owners")
    first_owner = (
        owners.sort_values(["_parent", "id"]).groupby("_parent")["id"].first()
        if len(owners)
        else pd.Series(dtype=object)
    )
    group_ids = text(groups, "id")
    plain_groups = pd.DataFrame(
        {
            "group_id": prefix + group_ids,
            "system": system,
            "native_id": group_ids,
            "name": text(groups, "displayName").fillna(group_ids),
            "kind": "group",
            "privileged": False,
            "owner_id": prefix + group_ids.map(first_owner).astype("string"),
            "description": text(groups, "description"),
            "_origin": origin(groups),
        }
    )
    members = frame(raw, "group_members")
    member_rows = pd.DataFrame(
        {
            "group_id": prefix + text(members, "_parent"),
            "member_id": prefix + text(members, "id"),
            "member_type": _kind_of_member(column(members, "@odata.type")),
            "assignment": "active",
        }
    )
    kind_by_id = pd.concat(
        [
            pd.Series("account", index=account_ids.astype(object), dtype=object),
            pd.Series("group", index=group_ids.astype(object), dtype=object),
        ]
    )
    kind_by_id = kind_by_id[~kind_by_id.index.duplicated()]
    roles = _directory_roles(raw, prefix=prefix, system=system, graph=graph, kinds=kind_by_id)
    role_holders = roles.memberships.loc[
        roles.memberships["member_type"].eq("group"), "member_id"
    ].str.removeprefix(prefix)
    pim = _group_pim(raw, prefix=prefix, kinds=kind_by_id, role_holders=role_holders, as_of=as_of)
    app_role_groups, app_role_members, assigned = _app_role_groups(
        raw, prefix=prefix, system=system, graph=graph
    )
    all_groups = pd.concat([plain_groups, roles.groups, app_role_groups], ignore_index=True)
    all_groups = all_groups.sort_values("group_id", kind="stable").reset_index(drop=True)
    memberships = pd.concat(
        [member_rows, roles.memberships, pim.memberships, app_role_members], ignore_index=True
    )
    memberships = (
        memberships.drop_duplicates(["group_id", "member_id", "assignment"])
        .sort_values(["group_id", "member_id", "assignment"], kind="stable")
        .reset_index(drop=True)
    )
    counts = {
        "groups": len(groups),
        "group_members": len(member_rows),
        "directory_roles": len(roles.groups),
        **roles.counts,
        **pim.counts,
    }
    return GroupsRead(all_groups, memberships, counts, app_role_assignments=assigned)


def _kind_of_member(odata_type: pd.Series) -> pd.Series:
    kind_text = odata_type.astype("string")
    kind = kind_text.map(_ACCOUNT_TYPES).astype(object)
    kind = kind.where(kind_text.ne(_GROUP_TYPE).fillna(True), "group")
    return kind.fillna("unresolved")


def _directory_roles(
    raw: RawPages, *, prefix: str, system: str, graph: EntraSettings, kinds: pd.Series
) -> GroupsRead:
    """Directory roles that anyone holds, actively or eligibly, with their holders."""
    definitions = frame(raw, "role_definitions")
    active = frame(raw, "role_assignments").assign(assignment="active")
    eligible = frame(raw, "role_eligibility").assign(assignment="eligible")
    status = text(eligible, "status")
    eligible = eligible[status.isna() | status.str.lower().eq("provisioned")]
    role_edges = pd.concat([active, eligible], ignore_index=True)
    role_definition_ids = text(role_edges, "roleDefinitionId")
    principal_ids = text(role_edges, "principalId")
    role_members = pd.DataFrame(
        {
            "group_id": prefix + "role:" + role_definition_ids,
            "member_id": prefix + principal_ids,
            "member_type": lookup(principal_ids, kinds).fillna("unresolved"),
            "assignment": column(role_edges, "assignment"),
        }
    )
    definition_ids = text(definitions, "id")
    template_ids = text(definitions, "templateId").fillna(definition_ids).str.lower()
    role_names = text(definitions, "displayName")
    role_groups = pd.DataFrame(
        {
            "group_id": prefix + "role:" + definition_ids,
            "system": system,
            "native_id": definition_ids,
            "name": role_names,
            "kind": "directory-role",
            "privileged": template_ids.isin(graph.privileged_role_ids).fillna(False)
            | role_names.str.casefold().isin(graph.privileged_role_names).fillna(False),
            "description": text(definitions, "description"),
            "_origin": origin(definitions),
        }
    )
    used_roles = set(role_members["group_id"])
    role_groups = role_groups[role_groups["group_id"].isin(used_roles)]
    unknown_roles = sorted(used_roles - set(role_groups["group_id"]))
    if unknown_roles:
        # Built-in roles have roleDefinitionId == templateId: known without their definition.
        native = pd.Series([g.removeprefix(prefix + "role:") for g in unknown_roles])
        template = native.str.lower()
        role_groups = pd.concat(
            [
                role_groups,
                pd.DataFrame(
                    {
                        "group_id": unknown_roles,
                        "system": system,
                        "native_id": native,
                        "name": template.map(graph.role_names).fillna(native),
                        "kind": "directory-role",
                        "privileged": template.isin(graph.privileged_role_ids),
                        "description": "role definition not collected; known by template id",
                    }
                ),
            ],
            ignore_index=True,
        )
    counts = {
        "role_assignments_active": len(active),
        "role_assignments_eligible": len(eligible),
        "role_assignments_scoped": int(text(role_edges, "directoryScopeId").ne("/").sum()),
        "role_definitions_missing": len(unknown_roles),
    }
    return GroupsRead(role_groups, role_members, counts)


def _group_pim(
    raw: RawPages,
    *,
    prefix: str,
    kinds: pd.Series,
    role_holders: pd.Series,
    as_of: pd.Timestamp,
) -> GroupsRead:
    """Memberships from PIM for Groups schedules in effect on ``as_of``."""
    schedules = pd.concat(
        [
            frame(raw, "group_eligibility", depth=3).assign(assignment="eligible"),
            frame(raw, "group_assignments", depth=3).assign(assignment="active"),
        ],
        ignore_index=True,
    )
    group_ids = text(schedules, "groupId").fillna(text(schedules, "_parent"))
    principal_ids = text(schedules, "principalId")
    access = text(schedules, "accessId").str.lower()
    status = text(schedules, "status").str.lower()
    start = times(column(schedules, "scheduleInfo.startDateTime"))
    end = times(column(schedules, "scheduleInfo.expiration.endDateTime"))
    as_of_utc = utc_timestamp(as_of)
    in_effect = (
        (status.isna() | status.eq("provisioned")).fillna(False)
        & ~(start > as_of_utc).fillna(False)
        & ~(end <= as_of_utc).fillna(False)
        & principal_ids.notna()
        & group_ids.notna()
    )
    member = in_effect & access.eq("member").fillna(False)
    # An owner can make themselves a member: of a group holding a role, that is the role.
    owner = in_effect & access.eq("owner").fillna(False)
    owner_of_role_holder = owner & group_ids.isin(set(role_holders))
    chosen = member | owner_of_role_holder
    memberships = pd.DataFrame(
        {
            "group_id": prefix + group_ids[chosen],
            "member_id": prefix + principal_ids[chosen],
            "member_type": lookup(principal_ids[chosen], kinds).fillna("unresolved"),
            "assignment": column(schedules, "assignment")[chosen].where(member[chosen], "eligible"),
        }
    )
    eligible = column(schedules, "assignment").eq("eligible")
    counts = {
        "group_eligible_members": int((member & eligible).sum()),
        "group_eligible_owners": int((owner & eligible).sum()),
        "group_active_member_schedules": int((member & ~eligible).sum()),
        "group_owners_of_role_holders": int(owner_of_role_holder.sum()),
        "group_schedules_not_in_effect": int((~in_effect).sum()),
    }
    return GroupsRead(pd.DataFrame(), memberships, counts)


def _app_role_groups(
    raw: RawPages, *, prefix: str, system: str, graph: EntraSettings
) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """One group per assigned (resource service principal, app role), with its holders."""
    sps = frame(raw, "service_principals")
    sp_ids = text(sps, "id")
    assigned = frame(raw, "app_role_assigned_to")
    app_roles = _app_roles(sps)
    resource_ids = text(assigned, "resourceId").fillna(text(assigned, "_parent"))
    app_role_ids = text(assigned, "appRoleId")
    role_key = resource_ids + ":" + app_role_ids
    role_value = role_key.map(app_roles["value"]) if len(app_roles) else role_key.map({})
    role_value = role_value.astype("string")
    # The all-zero app role id is Graph's "default access" (assigned without a specific role).
    role_value = role_value.mask(
        role_value.isna() & app_role_ids.eq(_DEFAULT_APP_ROLE).fillna(False), "default access"
    ).fillna(app_role_ids)
    resource_names = text(assigned, "resourceDisplayName").fillna(
        lookup(resource_ids, pd.Series(text(sps, "displayName").to_numpy(), index=sp_ids))
    )
    principal_type = text(assigned, "principalType").str.lower()
    app_role_members = pd.DataFrame(
        {
            "group_id": prefix + "app-role:" + role_key,
            "member_id": prefix + text(assigned, "principalId"),
            "member_type": np.where(principal_type.eq("group").fillna(False), "group", "account"),
            "assignment": "active",
        }
    )
    app_role_groups = pd.DataFrame(
        {
            "group_id": prefix + "app-role:" + role_key,
            "system": system,
            "native_id": role_key,
            "name": resource_names.fillna(resource_ids) + "/" + role_value,
            "kind": "app-role",
            "privileged": role_value.isin(graph.privileged_app_roles).fillna(False),
            "owner_id": prefix + resource_ids,
        }
    ).drop_duplicates("group_id")
    return app_role_groups, app_role_members, len(assigned)


def _app_roles(sps: pd.DataFrame) -> pd.DataFrame:
    """The app roles each service principal defines, indexed by ``resourceId:appRoleId``."""
    if "appRoles" not in sps.columns or not len(sps):
        return pd.DataFrame({"value": pd.Series([], dtype="string")})
    exploded = sps[["id", "appRoles"]].explode("appRoles").dropna(subset=["appRoles"])
    if not len(exploded):
        return pd.DataFrame({"value": pd.Series([], dtype="string")})
    roles = pd.json_normalize(exploded["appRoles"].tolist())
    key = exploded["id"].astype(str).to_numpy() + ":" + roles["id"].astype(str).to_numpy()
    value = text(roles, "value").fillna(text(roles, "displayName"))
    table = pd.DataFrame({"value": value.to_numpy()}, index=key)
    return table[~table.index.duplicated()]
