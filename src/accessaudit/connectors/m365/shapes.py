"""The JSON types of the properties the m365 transform reads, checked per page.

Pages of sites, libraries, groups and items are checked where they enter (live or saved) with
:data:`PAGES` (site.md, drive.md, driveitem.md, group.md: ``webUrl`` and names are strings);
permissions, the case-by-case part, by :func:`check_permission` as the transform reads them.

Documented in microsoftgraph/microsoft-graph-docs-contrib, api-reference/v1.0/resources/
permission.md and sharinglink.md. Absent or null is "not said"; any other type means the page
is not Graph's, and the collection stops with a :class:`SourceError` naming the page and the
permission, instead of reading ``"roles": "owner"`` as "no roles" or a number as "no expiry".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from accessaudit.connectors._graph.shapes import PageShapes
from accessaudit.errors import SourceError

__all__ = ["PAGES", "check_permission"]

#: How the m365 connector's pages are checked, live and saved: every object has an ``id``;
#: the properties read have their documented types; pages read per site, group, library or
#: item name it (``parent``).
PAGES = PageShapes(
    shapes={
        "sites": {"webUrl": "str", "name": "str", "lastModifiedDateTime": "time"},
        "drives": {"webUrl": "str", "name": "str"},
        "groups": {"displayName": "str"},
        "group_sites": {"webUrl": "str"},
        "group_owners": {"mail": "str", "userPrincipalName": "str", "displayName": "str"},
        "items": {"webUrl": "str", "name": "str", "lastModifiedDateTime": "time"},
    },
    relations=frozenset({"drives", "group_sites", "group_owners", "items", "permissions"}),
)

#: permission.md / sharinglink.md: the JSON type of every property read. Absent or null is
#: "not said"; any other type means the page is not Graph's, and the collection stops.
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}|$)")
_PERMISSION_SHAPE: Mapping[str, type] = {
    "roles": list,
    "link": dict,
    "grantedToV2": dict,
    "grantedToIdentitiesV2": list,
    "invitation": dict,
    "inheritedFrom": dict,
    "expirationDateTime": str,
    "createdDateTime": str,
    "hasPassword": bool,
}
_LINK_SHAPE: Mapping[str, type] = {
    "type": str,
    "scope": str,
    "preventsDownload": bool,
}


def check_permission(permission: Mapping[str, Any], where: str, source: str) -> None:
    """A :class:`SourceError` naming the page and permission unless every property read has
    its documented type (a ``"roles": "owner"`` string must not read as "no roles")."""
    for shape, value, prefix in (
        (_PERMISSION_SHAPE, permission, ""),
        (_LINK_SHAPE, permission.get("link") or {}, "link."),
    ):
        for key, kind in shape.items():
            item = value.get(key) if isinstance(value, Mapping) else None
            if item is not None and not isinstance(item, kind):
                raise SourceError(
                    f"permission {permission.get('id')!r}: {prefix}{key} is "
                    f"{type(item).__name__}, not the documented {kind.__name__}",
                    source=source,
                    location=where,
                )
    roles = permission.get("roles") or []
    if not all(isinstance(role, str) for role in roles):
        raise SourceError(
            f"permission {permission.get('id')!r}: roles must be strings",
            source=source,
            location=where,
        )
    expiry = permission.get("expirationDateTime")
    if isinstance(expiry, str) and not _ISO_DATE.match(expiry):
        raise SourceError(
            f"permission {permission.get('id')!r}: expirationDateTime {expiry[:40]!r} is "
            "not a date",
            source=source,
            location=where,
        )
