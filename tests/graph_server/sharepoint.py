"""SharePoint and OneDrive routes for the local Graph: sites, drives, delta, permissions.

Shapes and behaviour follow microsoftgraph/microsoft-graph-docs-contrib, api-reference/v1.0:

* api/site-getallsites.md: ``GET /sites/getAllSites``, pages with ``@odata.nextLink``; site
  objects with ``id`` ("host,guid,guid"), ``name``, ``webUrl``, ``siteCollection``, ``root``.
* api/drive-list.md: ``GET /sites/{id}/drives``; ``GET /groups/{id}/sites`` (group.md, the
  sites of a Microsoft 365 group).
* api/driveitem-delta.md: ``GET /drives/{id}/root/delta`` pages of driveItems, the last with
  ``@odata.deltaLink``; a delta link whose token expired answers ``410 Gone``
  (``resyncChangesApplyDifferences``). "Scanning permissions hierarchies": with
  ``Prefer: hierarchicalsharing`` only the roots of permission hierarchies carry the
  ``shared`` facet (an empty one on roots that are not shared); without it every item does;
  ``deltashowsharingchanges`` adds ``@microsoft.graph.sharedChanged: "True"``.
* api/driveitem-list-permissions.md and resources/permission.md, sharinglink.md: permissions
  with ``roles``, ``grantedToV2``, ``grantedToIdentitiesV2``, ``link`` (type, scope,
  preventsDownload), ``invitation``, ``expirationDateTime`` (``0001-01-01T00:00:00Z`` = none),
  ``hasPassword``. A 403 ``accessDenied`` where the app lacks Sites.FullControl.All.
* api/permission-delete.md: ``DELETE /drives/{drive-id}/items/{item-id}/permissions/{perm-id}``
  answers ``204 No Content``; only a permission that is not inherited (``inheritedFrom``
  null) can be deleted (400 otherwise); 404 for an unknown one. The item's next delta shows
  the sharing change.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

Answer = tuple[int, Any, dict[str, str]]


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def _token(value: int) -> str:
    return base64.urlsafe_b64encode(f"D{value}".encode()).decode().rstrip("=")


def _untoken(token: str) -> int:
    return int(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()[1:])


@dataclass
class SharePointFaults:
    throttle_delta_page: int = 0  # the n-th delta page request is answered 429 once
    retry_after: str = "0.05"
    permissions_403: bool = False  # item permissions → 403 (no Sites.FullControl.All)
    # item permissions of these libraries only → 403 (a site the app may not read)
    permissions_403_drives: frozenset[str] = frozenset()
    expired_tokens: bool = False  # every delta link answers 410 Gone


@dataclass
class SharePointCounters:
    delta_requests: int = 0
    permission_requests: int = 0
    prefer: list[str] = field(default_factory=list)
    user_agents: set[str] = field(default_factory=set)
    throttled: int = 0
    gone: int = 0
    deleted: list[str] = field(default_factory=list)  # "drive|item|permission" removed


class SharePoint:
    """The SharePoint part of a tenant, served as Graph routes (see ``GraphServer(routes=…)``).

    ``data`` keys: ``sites`` (list), ``drives`` (site id → drives), ``items`` (drive id →
    every driveItem, root first, with a private ``_unique`` flag on roots of their own
    permissions), ``permissions`` ((drive id, item id) → permissions), ``group_sites``
    (group id → sites). :meth:`change` records a change the next delta link returns.
    """

    def __init__(self, data: Mapping[str, Any], faults: SharePointFaults | None = None) -> None:
        self.data = data
        self.faults = faults or SharePointFaults()
        self.counters = SharePointCounters()
        self.changes: dict[str, list[dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self._delta_pages = 0
        self._throttled_once = False

    def change(self, drive_id: str, item: dict[str, Any], permissions: list[Any] | None) -> None:
        """An item changed (its permissions too, when given): later delta links return it."""
        with self._lock:
            self.changes.setdefault(drive_id, []).append(item)
            items = self.data["items"][drive_id]
            items[:] = [i for i in items if i["id"] != item["id"]] + [item]
            if permissions is not None:
                self.data["permissions"][(drive_id, item["id"])] = permissions

    def __call__(self, relative: str, headers: Mapping[str, str], base_url: str) -> Answer | None:
        parts = urlsplit(relative)
        path = parts.path
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        segments = path.strip("/").split("/")
        with self._lock:
            if headers.get("user-agent"):
                self.counters.user_agents.add(headers["user-agent"])
        if path == "/sites/getAllSites":
            return self._page(list(self.data["sites"]), query, path, base_url)
        if len(segments) == 3 and segments[0] == "sites" and segments[2] == "drives":
            return self._page(list(self.data["drives"].get(segments[1], [])), query, path, base_url)
        if len(segments) == 3 and segments[0] == "groups" and segments[2] == "sites":
            sites = self.data.get("group_sites", {}).get(segments[1], [])
            return self._page(list(sites), query, path, base_url)
        if len(segments) == 4 and segments[0] == "drives" and segments[2:] == ["root", "delta"]:
            return self._delta(segments[1], query, headers, path, base_url)
        if len(segments) == 5 and segments[0] == "drives" and segments[4] == "permissions":
            return self._permissions(segments[1], segments[3])
        return None

    def delete(self, relative: str, headers: Mapping[str, str], base_url: str) -> Answer | None:
        """``DELETE …/permissions/{perm-id}`` (permission-delete.md); None for other paths."""
        segments = urlsplit(relative).path.strip("/").split("/")
        if not (len(segments) == 6 and segments[0] == "drives" and segments[4] == "permissions"):
            return None
        drive_id, item_id, permission_id = segments[1], segments[3], segments[5]
        with self._lock:
            permissions = self.data["permissions"].get((drive_id, item_id))
            found = [p for p in permissions or [] if p.get("id") == permission_id]
            if not found:
                return 404, _error("itemNotFound", "The resource could not be found."), {}
            if found[0].get("inheritedFrom"):
                return 400, _error("invalidRequest", "Inherited permissions cannot be removed."), {}
            permissions[:] = [p for p in permissions if p.get("id") != permission_id]
            self.counters.deleted.append(f"{drive_id}|{item_id}|{permission_id}")
            item = next(i for i in self.data["items"][drive_id] if i["id"] == item_id)
        self.change(drive_id, {**item, "_sharing_changed": True}, None)
        return 204, None, {}

    def _page(self, items: list[Any], query: Mapping[str, str], path: str, base_url: str) -> Answer:
        top = int(query.get("$top", "200"))
        offset = _untoken(query["$skiptoken"]) if "$skiptoken" in query else 0
        select = [s for s in query.get("$select", "").split(",") if s]
        chunk = items[offset : offset + top]
        if select:
            keep = set(select) | {"id"}
            chunk = [{k: v for k, v in obj.items() if k in keep} for obj in chunk]
        body: dict[str, Any] = {"@odata.context": f"{base_url}/v1.0/$metadata#sites"}
        if offset + top < len(items):
            rest = {k: v for k, v in query.items() if k != "$skiptoken"}
            rest["$skiptoken"] = _token(offset + top)
            body["@odata.nextLink"] = (
                f"{base_url}/v1.0{path}?{urlencode(rest, quote_via=quote, safe='$,')}"
            )
        body["value"] = chunk
        return 200, body, {}

    def _delta(
        self,
        drive_id: str,
        query: Mapping[str, str],
        headers: Mapping[str, str],
        path: str,
        base_url: str,
    ) -> Answer:
        prefer = {p.strip().lower() for p in headers.get("prefer", "").split(",") if p.strip()}
        with self._lock:
            self.counters.delta_requests += 1
            self.counters.prefer.append(headers.get("prefer", ""))
            self._delta_pages += 1
            throttle = (
                self.faults.throttle_delta_page
                and not self._throttled_once
                and self._delta_pages == self.faults.throttle_delta_page
            )
            if throttle:
                self._throttled_once = True
                self.counters.throttled += 1
        if throttle:
            return (
                429,
                _error("activityLimitReached", "The request has been throttled"),
                {"Retry-After": self.faults.retry_after},
            )
        if "items" not in self.data or drive_id not in self.data["items"]:
            return 404, _error("itemNotFound", "The resource could not be found."), {}
        changes = self.changes.get(drive_id, [])
        if "token" in query:
            if self.faults.expired_tokens:
                with self._lock:
                    self.counters.gone += 1
                return (
                    410,
                    _error("resyncChangesApplyDifferences", "Resync required."),
                    {"Location": f"{base_url}/v1.0{path}"},
                )
            start = _untoken(query["token"])
            items = list(changes[start:])
        else:
            items = list(self.data["items"][drive_id])
        hierarchical = "hierarchicalsharing" in prefer
        shown = []
        for item in items:
            out = {k: v for k, v in item.items() if not k.startswith("_")}
            if item.get("_unique") or not hierarchical:
                out["shared"] = item.get("shared", {})
            if "deltashowsharingchanges" in prefer and item.get("_sharing_changed"):
                out["@microsoft.graph.sharedChanged"] = "True"
            shown.append(out)
        top = int(query.get("$top", "200"))
        offset = _untoken(query["$skiptoken"]) if "$skiptoken" in query else 0
        chunk = shown[offset : offset + top]
        body: dict[str, Any] = {"@odata.context": f"{base_url}/v1.0/$metadata#driveItems"}
        rest = {k: v for k, v in query.items() if k not in ("$skiptoken", "token")}
        if offset + top < len(shown):
            rest["$skiptoken"] = _token(offset + top)
            if "token" in query:
                rest["token"] = query["token"]
            body["@odata.nextLink"] = (
                f"{base_url}/v1.0{path}?{urlencode(rest, quote_via=quote, safe='$,')}"
            )
        else:
            rest["token"] = _token(len(changes))
            body["@odata.deltaLink"] = (
                f"{base_url}/v1.0{path}?{urlencode(rest, quote_via=quote, safe='$,')}"
            )
        body["value"] = chunk
        return 200, body, {}

    def _permissions(self, drive_id: str, item_id: str) -> Answer:
        with self._lock:
            self.counters.permission_requests += 1
        if self.faults.permissions_403 or drive_id in self.faults.permissions_403_drives:
            return 403, _error("accessDenied", "Access denied"), {}
        key = (drive_id, item_id)
        if key not in self.data["permissions"]:
            return 404, _error("itemNotFound", "The resource could not be found."), {}
        return 200, {"value": list(self.data["permissions"][key])}, {}
