"""The built-in sample organisation's Entra ID tenant, as raw Microsoft Graph pages.

:func:`write_tenant` writes a deterministic hybrid tenant for an HR roster in exactly the folder
format the ``graph`` connector re-reads (``path = folder``): users synced from Active Directory
(same employee ids), cloud-only admins, guests from partner domains, groups (nested, owned),
directory roles with PIM eligibility, service principals with app role assignments, application
secrets (one expired, one long-lived), delegated grants and MFA registration.

What it plants on purpose, so the audit has something to find:

* a Global Administrator without MFA (``adm-`` account of the second IT person);
* PIM-eligible assignments (Privileged Role Administrator, Security Administrator);
* guests, some stale or never signed in, one of them in :data:`GUEST_SITE_GROUP`, the group that
  opens the confidential board-pack SharePoint site (the sample's grants CSV grants it);
* a few leavers whose cloud account is still enabled;
* an application whose client secret has expired, one with a three-year secret, and one holding
  ``RoleManagement.ReadWrite.Directory``.

Example (``people`` is the sample's HR roster)::

    write_tenant(Path("sample/entra"), people, as_of=pd.Timestamp("2026-11-21", tz="UTC"))
    # then, in audit.toml:  [[sources]] name = "entra"  connector = "entra-id"
    #                       path = "sample/entra"
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from accessaudit.connectors._graph.pages import RawPage, RawPages
from accessaudit.connectors._graph.settings import DEFAULT_GRAPH
from accessaudit.connectors.entra.settings import EntraSettings
from accessaudit.model import utc_timestamp

__all__ = [
    "ALL_STAFF_GROUP",
    "APP_ROLE_GROUP",
    "DEPARTMENT_GROUP_PREFIX",
    "GUEST_SITE_GROUP",
    "HELPDESK_GROUP",
    "TENANT_DOMAIN",
    "build_tenant",
    "tenant_pages",
    "write_tenant",
]

#: The group that opens the confidential board-pack SharePoint site; one stale guest is in it.
GUEST_SITE_GROUP = "SPO-Board-Pack-Members"
#: One cloud group per HR department: ``Entra-Dept-<department>``.
DEPARTMENT_GROUP_PREFIX = "Entra-Dept-"
#: Holds every department group (nesting).
ALL_STAFF_GROUP = "All Staff"
#: A role-assignable group that holds the Helpdesk Administrator role.
HELPDESK_GROUP = "Role-Helpdesk-Operators"
#: Assigned the HR Portal's ``HR.User`` app role.
APP_ROLE_GROUP = "App-HR-Portal-Users"
TENANT_DOMAIN = "contoso-sample.onmicrosoft.com"

_PARTNER_DOMAINS = ("fabrikam.example", "northwind-consulting.example")
_MICROSOFT_TENANT = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"
_GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
_SHAREPOINT_APP_ID = "00000003-0000-0ff1-ce00-000000000000"

# Built-in role definitions: for built-ins Graph returns id == templateId.
_ROLES = {
    "global-admin": ("62e90394-69f5-4237-9190-012177145e10", "Global Administrator"),
    "privileged-role-admin": (
        "e8611ab8-c189-46e8-94e1-60213ab1f814",
        "Privileged Role Administrator",
    ),
    "security-admin": ("194ae4cb-b126-40b2-bd5b-6091b380977d", "Security Administrator"),
    "user-admin": ("fe930be7-5e62-47db-91af-98c3a49a38b1", "User Administrator"),
    "helpdesk-admin": ("729827e3-9c14-49f7-bb1b-9608f156bbb8", "Helpdesk Administrator"),
    "application-admin": ("9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3", "Application Administrator"),
    "global-reader": ("f2ef992c-3afb-46b9-b7cf-a126ee74c451", "Global Reader"),
    "reports-reader": ("4a5d8f65-41da-4de4-8968-e035b65339cf", "Reports Reader"),
}
# Microsoft Graph application permissions (app roles) with their documented ids.
_GRAPH_APP_ROLES = {
    "User.Read.All": "df021288-bdef-4463-88db-98f22de89214",
    "Directory.Read.All": "7ab1d382-f21e-4acd-a863-ba3e13f7da61",
    "AuditLog.Read.All": "b0afded3-3588-46d8-8b3d-9842eff778da",
    "Application.Read.All": "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30",
    "RoleManagement.ReadWrite.Directory": "9e3f62cf-ca93-4989-b6ce-bf83c28f9fe8",
}
_SITES_FULL_CONTROL = "678536fe-1083-478a-9c59-b99265e6b0d3"


def _iso(value: pd.Timestamp | None) -> str | None:
    if value is None or pd.isna(value):
        return None
    return pd.Timestamp(value).tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


def _isos(values: pd.Series) -> list[str | None]:
    text = values.dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    values_list: list[str | None] = text.astype(object).where(text.notna(), None).tolist()
    return values_list


def _flag(series: pd.Series) -> np.ndarray:
    """A nullable (possibly Arrow-backed) boolean Series as plain numpy bools, NA = False."""
    return series.fillna(False).to_numpy(dtype=bool)


def _slug(text: pd.Series) -> pd.Series:
    return (
        text.astype("string")
        .str.normalize("NFKD")
        .str.encode("ascii", "ignore")
        .str.decode("ascii")
        .str.lower()
        .str.replace(r"[^a-z0-9]+", ".", regex=True)
        .str.strip(".")
    )


class _Ids:
    """Deterministic object ids: the same seed and key always give the same GUID."""

    def __init__(self, seed: int) -> None:
        self._namespace = uuid.uuid5(uuid.NAMESPACE_URL, f"accessaudit-sample-entra-{seed}")

    def __call__(self, *key: object) -> str:
        return str(uuid.uuid5(self._namespace, "/".join(str(k) for k in key)))

    def many(self, kind: str, keys: Sequence[object]) -> list[str]:
        return [self(kind, key) for key in keys]


def _ref(kind: str, obj: Mapping[str, Any]) -> dict[str, Any]:
    """A directoryObject reference as members / owners list it."""
    ref: dict[str, Any] = {"@odata.type": f"#microsoft.graph.{kind}", "id": obj["id"]}
    ref["displayName"] = obj.get("displayName")
    if kind == "user":
        ref["userPrincipalName"] = obj.get("userPrincipalName")
    return ref


def build_tenant(
    people: pd.DataFrame,
    *,
    as_of: pd.Timestamp,
    seed: int = 7,
    domain: str = TENANT_DOMAIN,
) -> dict[str, Any]:
    """The tenant's objects in Graph's documented JSON shapes, by dataset.

    Keys: ``users``, ``groups``, ``group_members`` and ``group_owners`` (group id → directory
    object references), ``user_sponsors`` (guest id → sponsor references),
    ``group_eligibility`` and ``group_assignments`` (group id → PIM for Groups schedules; none
    in the sample), ``role_definitions``, ``role_assignments``, ``role_eligibility``,
    ``service_principals``, ``app_role_assigned_to`` (service principal id → assignments),
    ``oauth2_permission_grants``, ``applications``, ``mfa_registration``,
    plus ``tenant_id``.
    Deterministic for the same ``people``, ``as_of`` and ``seed``.
    """
    rng = np.random.default_rng(seed)
    ids = _Ids(seed)
    now = utc_timestamp(as_of)
    tenant_id = ids("tenant")
    hr = people.reset_index(drop=True)
    count = len(hr)
    employee_id = hr["employee_id"].astype("string")
    name = hr["name"].astype("string")
    status = hr["status"].astype("string").str.lower()
    start = pd.to_datetime(hr["start_date"], utc=True, errors="coerce")
    end = pd.to_datetime(hr["end_date"], utc=True, errors="coerce")
    start = start.fillna(now - pd.Timedelta(days=730)) + pd.Timedelta(hours=8)
    # A rehire's cloud account was made afresh for the return (the old one was deleted).
    if "rehired_on" in hr:
        rehired = pd.to_datetime(hr["rehired_on"], utc=True, errors="coerce")
        created = start.where(rehired.isna(), rehired - pd.Timedelta(days=2, hours=-8))
    else:
        created = start
    department = hr["department"].astype("string")

    # ---- synced users (one per HR person; same employee id as AD)
    local = _slug(name).fillna(_slug(employee_id))
    email = hr["email"].astype("string").str.lower()
    upn = email.fillna(local + "@" + domain)
    sam = upn.str.split("@").str[0].str.replace(".", "", regex=False).str.slice(0, 20)
    terminated = pd.Series(
        status.eq("terminated").fillna(False).to_numpy(dtype=bool), index=hr.index
    )
    left_long_ago = (end < now - pd.Timedelta(days=30)).fillna(True).to_numpy(dtype=bool)
    long_gone = terminated.to_numpy() & left_long_ago
    # Every fifth long-gone leaver keeps an enabled cloud account: the leaver-active finding.
    still_enabled = long_gone & (np.cumsum(long_gone) % 5 == 1)
    enabled = ~long_gone | still_enabled
    days_ago = rng.exponential(6.0, count).round(3)
    stale = rng.random(count) < 0.04
    days_ago = np.where(stale, rng.uniform(100, 400, count), days_ago)
    never = (rng.random(count) < 0.015) & ~terminated.to_numpy()
    last_interactive = pd.Series(now - pd.to_timedelta(days_ago, unit="D"), index=hr.index)
    last_interactive = last_interactive.where(
        ~terminated, end - pd.to_timedelta(rng.uniform(0, 10, count), unit="D")
    )
    last_interactive = last_interactive.where(~pd.Series(never, index=hr.index))
    last_interactive = last_interactive.where(last_interactive > start, start)
    last_interactive = last_interactive.where(~pd.Series(never, index=hr.index)).dt.floor("s")
    non_interactive = (
        last_interactive + pd.to_timedelta(rng.uniform(0, 30, count), unit="h")
    ).where(last_interactive.notna())
    non_interactive = non_interactive.where(non_interactive <= now, now).dt.floor("s")
    # The last success is the latest sign-in; about one in seven users also has a failed
    # interactive attempt after it (a mistyped password, a stale device), which must not
    # count as use: lastSignInDateTime records attempts, successful or not.
    successful = non_interactive
    failed_later = pd.Series(rng.random(count) >= 0.85, index=hr.index) & successful.notna()
    last_interactive = last_interactive.mask(
        failed_later, (successful + pd.Timedelta(hours=2)).where(lambda t: t <= now, now)
    )
    user_ids = ids.many("user", employee_id.tolist())
    sign_in = [
        None
        if a is None
        else {
            "lastSignInDateTime": a,
            "lastSignInRequestId": ids("signin", uid),
            "lastNonInteractiveSignInDateTime": b,
            "lastNonInteractiveSignInRequestId": ids("signin-ni", uid),
            "lastSuccessfulSignInDateTime": c,
            "lastSuccessfulSignInRequestId": ids("signin-ok", uid) if c else None,
        }
        for uid, a, b, c in zip(
            user_ids,
            _isos(last_interactive),
            _isos(non_interactive),
            _isos(successful),
            strict=True,
        )
    ]
    synced = pd.DataFrame(
        {
            "id": user_ids,
            "userPrincipalName": upn,
            "displayName": name,
            "mail": email,
            "employeeId": employee_id,
            "department": department,
            "jobTitle": hr["title"].astype("string"),
            "accountEnabled": enabled,
            "userType": "Member",
            "externalUserState": None,
            "createdDateTime": _isos(created),
            "onPremisesSyncEnabled": True,
            "onPremisesSamAccountName": sam,
            "employeeLeaveDateTime": _isos(end.where(terminated)),
            # Microsoft Entra Connect sets this on synced users; AD governs their passwords.
            "passwordPolicies": "DisablePasswordExpiration",
        }
    )
    synced = synced.astype(object).where(synced.notna(), None)
    users: list[dict[str, Any]] = synced.to_dict("records")  # type: ignore[assignment]
    for user, activity in zip(users, sign_in, strict=True):
        user["signInActivity"] = activity

    # ---- who is who: IT people become admins, finance people open the board pack
    leaver = terminated.to_numpy()
    it_mask = _flag(department.str.contains(r"\bIT\b|information|technology", case=False))
    it_people = hr.index[it_mask & ~leaver].tolist()
    active_people = hr.index[~leaver].tolist()
    it_people += [p for p in active_people if p not in it_people][: max(0, 4 - len(it_people))]
    if len(it_people) < 4:
        raise ValueError("the sample tenant needs at least four active people in the roster")
    finance_mask = _flag(department.str.contains("financ", case=False)) & ~leaver
    finance = hr.index[finance_mask].tolist() or active_people[:5]

    # ---- cloud-only admin accounts for three IT people
    admins: list[dict[str, Any]] = []
    for number, position in enumerate(it_people[:3], start=1):
        person_upn = f"adm-{sam[position]}@{domain}"
        last = now - pd.Timedelta(days=float(number), hours=3 * number)
        admins.append(
            {
                "id": ids("admin", employee_id[position]),
                "userPrincipalName": person_upn,
                "displayName": f"{name[position]} (admin)",
                "mail": None,
                "employeeId": str(employee_id[position]),
                "department": str(department[position]) if pd.notna(department[position]) else None,
                "jobTitle": "Cloud administrator",
                "accountEnabled": True,
                "userType": "Member",
                "externalUserState": None,
                "createdDateTime": _iso(now - pd.Timedelta(days=400 + 30 * number)),
                "onPremisesSyncEnabled": None,
                "onPremisesSamAccountName": None,
                "employeeLeaveDateTime": None,
                "passwordPolicies": None,
                "signInActivity": {
                    "lastSignInDateTime": _iso(last),
                    "lastSignInRequestId": ids("signin", "admin", number),
                    "lastNonInteractiveSignInDateTime": _iso(last + pd.Timedelta(hours=1)),
                    "lastNonInteractiveSignInRequestId": ids("signin-ni", "admin", number),
                    "lastSuccessfulSignInDateTime": _iso(last + pd.Timedelta(hours=1)),
                    "lastSuccessfulSignInRequestId": ids("signin-ok", "admin", number),
                },
            }
        )
    users.extend(admins)

    # ---- guests from partner domains (some stale, two never accepted)
    guests: list[dict[str, Any]] = []
    guest_names = [
        ("Pat", "Okafor"),
        ("Lin", "Moreau"),
        ("Sam", "Ivanova"),
        ("Ray", "Tanaka"),
        ("Kim", "Alvarez"),
        ("Jo", "Lindqvist"),
    ]
    for number, (first, last_name) in enumerate(guest_names):
        partner = _PARTNER_DOMAINS[number % len(_PARTNER_DOMAINS)]
        address = f"{first.lower()}.{last_name.lower()}@{partner}"
        pending = number >= 4
        stale_guest = number in (1, 2)
        seen = (
            None
            if pending
            else now - pd.Timedelta(days=200 + 40 * number if stale_guest else 3 + number)
        )
        guests.append(
            {
                "id": ids("guest", address),
                "userPrincipalName": address.replace("@", "_") + f"#EXT#@{domain}",
                "displayName": f"{first} {last_name} ({partner.split('.')[0].title()})",
                "mail": address,
                "employeeId": None,
                "department": None,
                "jobTitle": None,
                "accountEnabled": True,
                "userType": "Guest",
                "externalUserState": "PendingAcceptance" if pending else "Accepted",
                "createdDateTime": _iso(now - pd.Timedelta(days=500 - 20 * number)),
                "onPremisesSyncEnabled": None,
                "onPremisesSamAccountName": None,
                "employeeLeaveDateTime": None,
                "passwordPolicies": None,
                "signInActivity": None
                if seen is None
                else {
                    "lastSignInDateTime": _iso(seen),
                    "lastSignInRequestId": ids("signin", address),
                    "lastNonInteractiveSignInDateTime": None,
                    "lastNonInteractiveSignInRequestId": None,
                    "lastSuccessfulSignInDateTime": _iso(seen),
                    "lastSuccessfulSignInRequestId": ids("signin-ok", address),
                },
            }
        )
    users.extend(guests)

    # ---- groups
    def group(display: str, description: str, *, assignable: bool = False) -> dict[str, Any]:
        return {
            "id": ids("group", display),
            "displayName": display,
            "description": description,
            "securityEnabled": True,
            "mailEnabled": False,
            "groupTypes": [],
            "isAssignableToRole": assignable,
            "onPremisesSyncEnabled": None,
            "createdDateTime": _iso(now - pd.Timedelta(days=900)),
        }

    groups: list[dict[str, Any]] = []
    members: dict[str, list[dict[str, Any]]] = {}
    owners: dict[str, list[dict[str, Any]]] = {}
    all_staff = group(ALL_STAFF_GROUP, "Every department group")
    groups.append(all_staff)
    members[all_staff["id"]] = []
    owners[all_staff["id"]] = []
    by_department = pd.Series(hr.index, index=hr.index).groupby(department.fillna("Unassigned"))
    for dept, positions in by_department:
        dept_group = group(f"{DEPARTMENT_GROUP_PREFIX}{dept}", f"Everyone in {dept}")
        groups.append(dept_group)
        members[dept_group["id"]] = [_ref("user", users[int(p)]) for p in positions]
        owner_position = next((int(p) for p in positions if not terminated[int(p)]), None)
        owners[dept_group["id"]] = (
            [_ref("user", users[owner_position])] if owner_position is not None else []
        )
        members[all_staff["id"]].append(_ref("group", dept_group))
    board = group(GUEST_SITE_GROUP, "Board pack SharePoint site (confidential)")
    groups.append(board)
    members[board["id"]] = [_ref("user", users[p]) for p in finance[:6]] + [_ref("user", guests[1])]
    owners[board["id"]] = [_ref("user", users[finance[0]])]
    # ---- guest sponsors (api/user-list-sponsors.md): a current employee, a leaver and a
    # group sponsor one guest each; the other three guests have nobody.
    sponsors: dict[str, list[dict[str, Any]]] = {g["id"]: [] for g in guests}
    current = next((int(p) for p in finance if not leaver[p]), None)
    departed = next((p for p in range(count) if leaver[p]), None)
    if current is not None:
        sponsors[guests[0]["id"]] = [_ref("user", users[current])]
    if departed is not None:
        sponsors[guests[1]["id"]] = [_ref("user", users[departed])]
    sponsors[guests[2]["id"]] = [_ref("group", board)]
    helpdesk = group(HELPDESK_GROUP, "Holds Helpdesk Administrator", assignable=True)
    groups.append(helpdesk)
    members[helpdesk["id"]] = [_ref("user", users[p]) for p in it_people[2:4]]
    owners[helpdesk["id"]] = [_ref("user", admins[0])]
    hr_portal_group = group(APP_ROLE_GROUP, "HR Portal users")
    groups.append(hr_portal_group)
    hr_mask = _flag(department.str.contains(r"\bHR\b|human", case=False))
    hr_people = hr.index[hr_mask & ~leaver].tolist() or active_people[:3]
    members[hr_portal_group["id"]] = [_ref("user", users[p]) for p in hr_people]
    owners[hr_portal_group["id"]] = []

    # ---- directory roles, active and PIM-eligible
    role_definitions = [
        {
            "id": template,
            "displayName": display,
            "description": f"Built-in role: {display}.",
            "templateId": template,
            "isBuiltIn": True,
            "isEnabled": True,
        }
        for template, display in _ROLES.values()
    ]

    def assignment(role: str, principal: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "id": ids("assignment", role, principal["id"]),
            "principalId": principal["id"],
            "roleDefinitionId": _ROLES[role][0],
            "directoryScopeId": "/",
        }

    def eligibility(role: str, principal: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "id": ids("eligibility", role, principal["id"]),
            "principalId": principal["id"],
            "roleDefinitionId": _ROLES[role][0],
            "directoryScopeId": "/",
            "appScopeId": None,
            "memberType": "Direct",
            "status": "Provisioned",
            "createdUsing": ids("eligibility", role, principal["id"]),
            "createdDateTime": _iso(now - pd.Timedelta(days=120)),
            "modifiedDateTime": None,
            "scheduleInfo": {
                "startDateTime": _iso(now - pd.Timedelta(days=120)),
                "recurrence": None,
                "expiration": {"type": "noExpiration", "endDateTime": None, "duration": None},
            },
        }

    role_assignments = [
        assignment("global-admin", admins[0]),
        assignment("global-admin", admins[1]),
        assignment("user-admin", admins[2]),
        assignment("helpdesk-admin", helpdesk),
        assignment("global-reader", users[it_people[3]]),
    ]
    role_eligibility = [
        eligibility("privileged-role-admin", admins[2]),
        eligibility("security-admin", users[it_people[3]]),
        eligibility("global-admin", admins[2]),
    ]

    # ---- service principals and applications
    def app_role(value: str, role_id: str, members_allowed: str = "Application") -> dict[str, Any]:
        return {
            "allowedMemberTypes": [members_allowed],
            "description": value,
            "displayName": value,
            "id": role_id,
            "isEnabled": True,
            "origin": "Application",
            "value": value,
        }

    graph_sp: dict[str, Any] = {
        "id": ids("sp", "graph"),
        "appId": _GRAPH_APP_ID,
        "displayName": "Microsoft Graph",
        "servicePrincipalType": "Application",
        "accountEnabled": True,
        "appOwnerOrganizationId": _MICROSOFT_TENANT,
        "appRoles": [app_role(v, k) for v, k in _GRAPH_APP_ROLES.items()],
    }
    sharepoint_sp: dict[str, Any] = {
        "id": ids("sp", "sharepoint"),
        "appId": _SHAREPOINT_APP_ID,
        "displayName": "Office 365 SharePoint Online",
        "servicePrincipalType": "Application",
        "accountEnabled": True,
        "appOwnerOrganizationId": _MICROSOFT_TENANT,
        "appRoles": [app_role("Sites.FullControl.All", _SITES_FULL_CONTROL)],
    }
    hr_roles = {"HR.User": ids("app-role", "HR.User"), "HR.Admin": ids("app-role", "HR.Admin")}
    own_apps = {
        "collector": "Access Audit Collector",
        "payroll": "Payroll Sync",
        "hr-portal": "HR Portal",
        "legacy": "Legacy Automation",
    }
    service_principals = [graph_sp, sharepoint_sp]
    applications: list[dict[str, Any]] = []
    for key, display in own_apps.items():
        app_id = ids("app-id", key)
        service_principals.append(
            {
                "id": ids("sp", key),
                "appId": app_id,
                "displayName": display,
                "servicePrincipalType": "Application",
                "accountEnabled": True,
                "appOwnerOrganizationId": tenant_id,
                "appRoles": [app_role(v, k, "User") for v, k in hr_roles.items()]
                if key == "hr-portal"
                else [],
            }
        )
        applications.append(
            {
                "id": ids("application", key),
                "appId": app_id,
                "displayName": display,
                "createdDateTime": _iso(now - pd.Timedelta(days=700)),
                "passwordCredentials": [],
                "keyCredentials": [],
            }
        )
    by_key = dict(zip(own_apps, service_principals[2:], strict=True))
    apps_by_key = dict(zip(own_apps, applications, strict=True))

    def secret(label: str, start_days: int, valid_days: int) -> dict[str, Any]:
        started = now - pd.Timedelta(days=start_days)
        return {
            "customKeyIdentifier": None,
            "displayName": label,
            "endDateTime": _iso(started + pd.Timedelta(days=valid_days)),
            "hint": label[:3],
            "keyId": ids("secret", label),
            "secretText": None,
            "startDateTime": _iso(started),
        }

    apps_by_key["payroll"]["passwordCredentials"] = [secret("payroll-2024", 770, 730)]
    apps_by_key["hr-portal"]["passwordCredentials"] = [secret("hr-portal-prod", 100, 1095)]
    apps_by_key["legacy"]["passwordCredentials"] = [secret("legacy-job", 300, 720)]
    collector_started = now - pd.Timedelta(days=60)
    apps_by_key["collector"]["keyCredentials"] = [
        {
            "customKeyIdentifier": ids("thumbprint", "collector").replace("-", "").upper()[:40],
            "displayName": "CN=access-audit-collector",
            "endDateTime": _iso(collector_started + pd.Timedelta(days=365)),
            "key": None,
            "keyId": ids("key", "collector"),
            "startDateTime": _iso(collector_started),
            "type": "AsymmetricX509Cert",
            "usage": "Verify",
        }
    ]

    def granted(
        resource: Mapping[str, Any], role_id: str, principal: Mapping[str, Any], kind: str
    ) -> dict[str, Any]:
        return {
            "id": ids("app-role-assignment", resource["id"], role_id, principal["id"]),
            "deletedDateTime": None,
            "appRoleId": role_id,
            "createdDateTime": _iso(now - pd.Timedelta(days=365)),
            "principalDisplayName": principal["displayName"],
            "principalId": principal["id"],
            "principalType": kind,
            "resourceDisplayName": resource["displayName"],
            "resourceId": resource["id"],
        }

    assigned: dict[str, list[dict[str, Any]]] = {sp["id"]: [] for sp in service_principals}
    for permission in ("User.Read.All", "Directory.Read.All", "AuditLog.Read.All"):
        assigned[graph_sp["id"]].append(
            granted(graph_sp, _GRAPH_APP_ROLES[permission], by_key["collector"], "ServicePrincipal")
        )
    assigned[graph_sp["id"]].append(
        granted(graph_sp, _GRAPH_APP_ROLES["User.Read.All"], by_key["payroll"], "ServicePrincipal")
    )
    assigned[graph_sp["id"]].append(
        granted(
            graph_sp,
            _GRAPH_APP_ROLES["RoleManagement.ReadWrite.Directory"],
            by_key["legacy"],
            "ServicePrincipal",
        )
    )
    assigned[sharepoint_sp["id"]].append(
        granted(sharepoint_sp, _SITES_FULL_CONTROL, by_key["legacy"], "ServicePrincipal")
    )
    portal = by_key["hr-portal"]
    assigned[portal["id"]].append(granted(portal, hr_roles["HR.User"], hr_portal_group, "Group"))
    assigned[portal["id"]].append(
        granted(portal, hr_roles["HR.Admin"], users[hr_people[0]], "User")
    )

    oauth2_permission_grants = [
        {
            "id": ids("grant", "hr-portal"),
            "clientId": portal["id"],
            "consentType": "AllPrincipals",
            "principalId": None,
            "resourceId": graph_sp["id"],
            "scope": "openid profile User.Read",
        },
        {
            "id": ids("grant", "legacy"),
            "clientId": by_key["legacy"]["id"],
            "consentType": "Principal",
            "principalId": users[it_people[0]]["id"],
            "resourceId": graph_sp["id"],
            "scope": "Mail.Read Files.ReadWrite.All offline_access",
        },
    ]

    # ---- MFA registration: the report leaves out disabled users; most others registered
    member_rows = [u for u in users if u["accountEnabled"]]
    registered = rng.random(len(member_rows)) < 0.9
    mfa_registration = []
    for user, has_mfa in zip(member_rows, registered, strict=True):
        is_mfa = bool(has_mfa)
        if user["id"] == admins[1]["id"]:
            is_mfa = False  # the Global Administrator without MFA
        elif user["id"] in (admins[0]["id"], admins[2]["id"]):
            is_mfa = True
        mfa_registration.append(
            {
                "id": user["id"],
                "userPrincipalName": user["userPrincipalName"],
                "userDisplayName": user["displayName"],
                "userType": "guest" if user["userType"] == "Guest" else "member",
                "isAdmin": user["id"] in {a["id"] for a in admins},
                "isSsprRegistered": is_mfa,
                "isSsprEnabled": True,
                "isSsprCapable": is_mfa,
                "isMfaRegistered": is_mfa,
                "isMfaCapable": is_mfa,
                "isPasswordlessCapable": False,
                "methodsRegistered": ["microsoftAuthenticatorPush", "mobilePhone"]
                if is_mfa
                else [],
                "isSystemPreferredAuthenticationMethodEnabled": True,
                "systemPreferredAuthenticationMethods": ["push"] if is_mfa else [],
                "userPreferredMethodForSecondaryAuthentication": "push" if is_mfa else "none",
                "defaultMfaMethod": "microsoftAuthenticatorPush" if is_mfa else "none",
                "lastUpdatedDateTime": _iso(now - pd.Timedelta(days=2)),
            }
        )

    return {
        "tenant_id": tenant_id,
        "domain": domain,
        "users": users,
        "groups": groups,
        "group_members": members,
        "group_owners": owners,
        "user_sponsors": sponsors,
        "group_eligibility": {g["id"]: [] for g in groups},
        "group_assignments": {g["id"]: [] for g in groups},
        "role_definitions": role_definitions,
        "role_assignments": role_assignments,
        "role_eligibility": role_eligibility,
        "service_principals": service_principals,
        "app_role_assigned_to": assigned,
        "oauth2_permission_grants": oauth2_permission_grants,
        "applications": applications,
        "mfa_registration": mfa_registration,
    }


_TOP_LEVEL = {
    "users": "/users",
    "groups": "/groups",
    "role_definitions": "/roleManagement/directory/roleDefinitions",
    "role_assignments": "/roleManagement/directory/roleAssignments",
    "role_eligibility": "/roleManagement/directory/roleEligibilitySchedules",
    "service_principals": "/servicePrincipals",
    "oauth2_permission_grants": "/oauth2PermissionGrants",
    "applications": "/applications",
    "mfa_registration": "/reports/authenticationMethods/userRegistrationDetails",
}
_RELATIONS = {
    "group_members": "/groups/{id}/members",
    "group_owners": "/groups/{id}/owners",
    "user_sponsors": "/users/{id}/sponsors",
    "group_eligibility": "/identityGovernance/privilegedAccess/group/eligibilitySchedules"
    "?$filter=groupId%20eq%20'{id}'",
    "group_assignments": "/identityGovernance/privilegedAccess/group/assignmentSchedules"
    "?$filter=groupId%20eq%20'{id}'",
    "app_role_assigned_to": "/servicePrincipals/{id}/appRoleAssignedTo",
}


def _paged(
    dataset: str, url: str, items: Sequence[Mapping[str, Any]], page_size: int, parent: str | None
) -> list[RawPage]:
    pages = []
    chunks = [items[i : i + page_size] for i in range(0, len(items), page_size)] or [[]]
    page_url = url
    for number, chunk in enumerate(chunks):
        context = url.split("?", maxsplit=1)[0]
        body: dict[str, Any] = {"@odata.context": f"{context}/$metadata", "value": chunk}
        if number + 1 < len(chunks):
            body["@odata.nextLink"] = f"{url}&$skiptoken=page{number + 1}"
        pages.append(RawPage(dataset, parent, page_url, body))
        page_url = str(body.get("@odata.nextLink", page_url))
    return pages


def tenant_pages(
    tenant: Mapping[str, Any], *, graph_url: str = DEFAULT_GRAPH, page_size: int = 100
) -> RawPages:
    """The pages Graph would have returned for ``tenant`` (as :func:`build_tenant` makes it)."""
    root = f"{graph_url}/v1.0"
    raw = RawPages()
    for dataset, path in _TOP_LEVEL.items():
        for page in _paged(
            dataset, f"{root}{path}?$top={page_size}", tenant[dataset], page_size, None
        ):
            raw.add(page)
        if dataset == "users":
            for user in tenant["users"]:
                if user.get("userType") != "Guest":
                    continue
                url = f"{root}{_RELATIONS['user_sponsors'].format(id=user['id'])}?$top={page_size}"
                items = tenant.get("user_sponsors", {}).get(user["id"], [])
                for page in _paged("user_sponsors", url, items, page_size, user["id"]):
                    raw.add(page)
        if dataset == "groups":
            for relation in ("group_members", "group_owners"):
                for group in tenant["groups"]:
                    url = f"{root}{_RELATIONS[relation].format(id=group['id'])}?$top={page_size}"
                    items = tenant[relation].get(group["id"], [])
                    for page in _paged(relation, url, items, page_size, group["id"]):
                        raw.add(page)
            for relation in ("group_eligibility", "group_assignments"):
                for group in tenant["groups"]:
                    url = f"{root}{_RELATIONS[relation].format(id=group['id'])}&$top={page_size}"
                    items = tenant[relation].get(group["id"], [])
                    for page in _paged(relation, url, items, page_size, group["id"]):
                        raw.add(page)
        if dataset == "service_principals":
            for sp in tenant["service_principals"]:
                sp_path = _RELATIONS["app_role_assigned_to"].format(id=sp["id"])
                url = f"{root}{sp_path}?$top={page_size}"
                items = tenant["app_role_assigned_to"].get(sp["id"], [])
                for page in _paged("app_role_assigned_to", url, items, page_size, sp["id"]):
                    raw.add(page)
    raw.notes = {
        "sign_in_known": True,
        "sign_in_fields": list(EntraSettings().sign_in_fields),
        "mfa_known": True,
        "eligibility_known": True,
        "group_pim_known": True,
        "sponsors_known": True,
        "gaps": [],
        "graph_url": graph_url,
    }
    return raw


def write_tenant(folder: Path, people: pd.DataFrame, *, as_of: pd.Timestamp, seed: int = 7) -> None:
    """Write the sample tenant for ``people`` as raw Graph pages into ``folder``.

    The folder is what an ``entra-id`` source with ``path = folder`` reads. ``people`` has the
    HR columns (employee_id, name, email, department, title, manager_id, status, worker_type,
    start_date, end_date). Deterministic for the same inputs.

    Example::

        write_tenant(Path("sample/entra"), people, as_of=pd.Timestamp("2026-11-21", tz="UTC"))
    """
    tenant = build_tenant(people, as_of=as_of, seed=seed)
    tenant_pages(tenant).save(Path(folder))
