"""The JSON shapes the entra-id transforms rely on, checked where a page enters (live or
saved) by :class:`~accessaudit.connectors._graph.shapes.PageShapes`.

Graph's documented types for every property the connector reads (api-reference/v1.0/resources:
user.md, group.md, signinactivity.md, userregistrationdetails.md, unifiedroleassignment.md,
privilegedaccessgroupeligibilityschedule.md …). A property may be absent or ``null`` (that is
"unknown", decided later); present with another type, the page is not Graph's and the
collection stops with a :class:`SourceError` naming the page, the object and the property,
instead of a traceback or a ``nan`` somewhere downstream.
"""

from __future__ import annotations

from collections.abc import Mapping

from accessaudit.connectors._graph.shapes import PageShapes, Shape

__all__ = ["PAGES", "RELATIONS", "REQUIRED", "SHAPES"]

_SIGN_IN: Mapping[str, Shape] = {
    "lastSignInDateTime": "time",
    "lastNonInteractiveSignInDateTime": "time",
    "lastSuccessfulSignInDateTime": "time",
}
_CREDENTIAL: Mapping[str, Shape] = {
    "displayName": "str",
    "startDateTime": "time",
    "endDateTime": "time",
}
_SCHEDULE: Mapping[str, Shape] = {
    "startDateTime": "time",
    "expiration": {"endDateTime": "time", "type": "str"},
}
_REFERENCE: Mapping[str, Shape] = {"@odata.type": "str", "displayName": "str"}
_ROLE_ASSIGNMENT: Mapping[str, Shape] = {
    "principalId": "str",
    "roleDefinitionId": "str",
    "directoryScopeId": "str",
}
_GROUP_ELIGIBILITY: Mapping[str, Shape] = {
    "principalId": "str",
    "groupId": "str",
    "accessId": "str",
    "status": "str",
    "memberType": "str",
    "scheduleInfo": _SCHEDULE,
}

#: Per dataset, the properties the transforms read and their documented JSON types; the
#: connector also adds each of them to the dataset's ``$select``.
SHAPES: Mapping[str, Mapping[str, Shape]] = {
    "users": {
        "userPrincipalName": "str",
        "displayName": "str",
        "mail": "str",
        "employeeId": "str",
        "department": "str",
        "accountEnabled": "bool",
        "userType": "str",
        "createdDateTime": "time",
        "employeeLeaveDateTime": "time",
        "onPremisesSyncEnabled": "bool",
        "passwordPolicies": "str",
        "lastPasswordChangeDateTime": "time",
        "signInActivity": _SIGN_IN,
    },
    "groups": {
        "displayName": "str",
        "description": "str",
        "groupTypes": ["str"],
        "isAssignableToRole": "bool",
        "onPremisesSyncEnabled": "bool",
    },
    "group_members": _REFERENCE,
    "group_owners": _REFERENCE,
    "user_sponsors": _REFERENCE,
    "role_definitions": {"displayName": "str", "description": "str", "templateId": "str"},
    "role_assignments": _ROLE_ASSIGNMENT,
    "role_eligibility": {**_ROLE_ASSIGNMENT, "status": "str"},
    "group_eligibility": _GROUP_ELIGIBILITY,
    "group_assignments": {**_GROUP_ELIGIBILITY, "assignmentType": "str"},
    "service_principals": {
        "appId": "str",
        "displayName": "str",
        "accountEnabled": "bool",
        "appRoles": [{"id": "str", "value": "str", "displayName": "str"}],
    },
    "app_role_assigned_to": {
        "appRoleId": "str",
        "principalId": "str",
        "principalType": "str",
        "resourceId": "str",
        "resourceDisplayName": "str",
    },
    "oauth2_permission_grants": {
        "clientId": "str",
        "consentType": "str",
        "scope": "str",
    },
    "applications": {
        "appId": "str",
        "displayName": "str",
        "createdDateTime": "time",
        "passwordCredentials": [_CREDENTIAL],
        "keyCredentials": [_CREDENTIAL],
    },
    "mfa_registration": {
        "userPrincipalName": "str",
        "isMfaRegistered": "bool",
        "isMfaCapable": "bool",
    },
}

#: Properties without which an object means nothing (Graph documents them as required, not
#: nullable): a role assignment without its principal, an app role assignment without its
#: role. The object a relation page was asked about (its ``parent``) is required separately.
REQUIRED: Mapping[str, tuple[str, ...]] = {
    "role_assignments": ("principalId", "roleDefinitionId"),
    "role_eligibility": ("principalId", "roleDefinitionId"),
    "group_eligibility": ("principalId", "accessId"),
    "group_assignments": ("principalId", "accessId"),
    "app_role_assigned_to": ("principalId", "appRoleId"),
}
#: Datasets read per object (a group's members, a service principal's assignments): each of
#: their pages names that object as its parent.
RELATIONS = frozenset(
    {"group_members", "group_owners", "user_sponsors", "app_role_assigned_to",
     "group_eligibility", "group_assignments"}
)  # fmt: skip

#: How the entra-id connector's pages are checked, live and saved.
PAGES = PageShapes(
    SHAPES,
    REQUIRED,
    RELATIONS,
    notes={
        "sign_in_known": bool,
        "sign_in_fields": list,
        "mfa_known": bool,
        "eligibility_known": bool,
        "group_pim_known": bool,
        "group_pim_reason": str,
    },
)
