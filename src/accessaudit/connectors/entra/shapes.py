"""The JSON shapes the transforms rely on, checked where a page enters (live or saved).

Graph's documented types for every property the connector reads (api-reference/v1.0/resources:
user.md, group.md, signinactivity.md, userregistrationdetails.md, unifiedroleassignment.md,
privilegedaccessgroupeligibilityschedule.md …). A property may be absent or ``null`` (that is
"unknown", decided later); present with another type, the page is not Graph's and the
collection stops with a :class:`SourceError` naming the page, the object and the property,
instead of a traceback or a ``nan`` somewhere downstream.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from accessaudit.errors import SourceError

__all__ = ["RELATIONS", "REQUIRED", "SHAPES", "check_objects"]

# ISO 8601 as Graph writes DateTimeOffset values (always UTC, "Z"; offsets accepted).
_TIMESTAMP = re.compile(
    r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?", re.ASCII
)
_REPR_LIMIT = 60

# A shape is a kind word, a nested mapping (an object with those properties) or a one-item
# list holding the shape of every element.
Shape = str | Mapping[str, Any] | list[Any]

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

_EXPECTED = {
    "str": "a string",
    "bool": "true or false",
    "time": "an ISO 8601 timestamp",
}


def check_objects(dataset: str, values: list[Any], *, location: str, source: str | None) -> None:
    """Raise a :class:`SourceError` unless every object of a page's ``value`` has a non-empty
    string ``id`` and the documented type for each property the transforms read.

    >>> check_objects("users", [{"id": "1", "accountEnabled": None}], location="p", source=None)
    >>> check_objects("users", [{"accountEnabled": True}], location="p1.json", source="entra")
    Traceback (most recent call last):
    ...
    accessaudit.errors.SourceError: entra: p1.json: object 1 of the page has no 'id'
    """
    shape = SHAPES.get(dataset, {})
    for position, item in enumerate(values, start=1):
        if not isinstance(item, dict):
            raise SourceError(
                f"object {position} of the page is {_describe(item)}, not a JSON object",
                source=source,
                location=location,
            )
        identifier = item.get("id")
        if not isinstance(identifier, str) or not identifier.strip():
            what = "has no 'id'" if identifier is None else f"has id {_describe(identifier)}"
            raise SourceError(
                f"object {position} of the page {what}", source=source, location=location
            )
        # A dotted name would collide with the flattened nested properties (``a.b``).
        dotted = next((k for k in item if "." in k and "@" not in k), None)
        problem = f"property name {_shorten(dotted)} is not Graph's" if dotted else ""
        missing = next((k for k in REQUIRED.get(dataset, ()) if item.get(k) in (None, "")), None)
        problem = problem or (f"{missing} is missing" if missing else "")
        problem = problem or _problem(item, shape, "")
        if problem:
            raise SourceError(
                f"object {position} (id {_shorten(identifier)}): {problem}",
                source=source,
                location=location,
            )


def _problem(value: Mapping[str, Any], shape: Mapping[str, Shape], path: str) -> str:
    """The first property of ``value`` whose type breaks ``shape``, as a sentence ('' if none)."""
    for name, expected in shape.items():
        if name not in value or value[name] is None:
            continue
        found = value[name]
        where = f"{path}{name}"
        if isinstance(expected, Mapping):
            if not isinstance(found, dict):
                return f"{where} is {_describe(found)}, expected an object"
            inner = _problem(found, expected, where + ".")
        elif isinstance(expected, list):
            if not isinstance(found, list):
                return f"{where} is {_describe(found)}, expected a list"
            inner = _list_problem(found, expected[0], where)
        else:
            inner = _scalar_problem(found, expected, where)
        if inner:
            return inner
    return ""


def _list_problem(items: list[Any], shape: Shape, where: str) -> str:
    for number, element in enumerate(items, start=1):
        place = f"{where}[{number}]"
        if isinstance(shape, Mapping):
            if not isinstance(element, dict):
                return f"{place} is {_describe(element)}, expected an object"
            inner = _problem(element, shape, place + ".")
        else:
            inner = "" if element is None else _scalar_problem(element, str(shape), place)
        if inner:
            return inner
    return ""


def _scalar_problem(found: Any, kind: str, where: str) -> str:
    if kind == "bool":
        fits = isinstance(found, bool)
    elif kind == "time":
        fits = isinstance(found, str) and _TIMESTAMP.fullmatch(found.strip()) is not None
    else:
        fits = isinstance(found, str)
    return "" if fits else f"{where} is {_describe(found)}, expected {_EXPECTED[kind]}"


def _describe(value: Any) -> str:
    kind = {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "the string",
        list: "a list",
        dict: "an object",
    }.get(type(value), type(value).__name__)
    return f"{kind} {_shorten(value)}" if isinstance(value, str | int | float) else kind


def _shorten(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _REPR_LIMIT else text[: _REPR_LIMIT - 1] + "…"
