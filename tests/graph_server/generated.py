"""A SharePoint tenant of any size, computed on demand: sites, libraries, delta pages and
permissions generated from a seed and an index, never held in memory.

For the scale benchmark (bench/m365_bench.py: 2,000 sites, 5 million items, 50,000 roots of
unique permissions) and its small twin in tests/test_m365_scale.py. The answers have the
shapes of :mod:`.sharepoint` (and so of microsoftgraph/microsoft-graph-docs-contrib,
api-reference/v1.0: api/site-getallsites.md, api/drive-list.md, api/driveitem-delta.md with
``Prefer: hierarchicalsharing``, api/driveitem-list-permissions.md, resources/permission.md and
sharinglink.md). What is held is a few numbers per library (its size and how many roots it
has); an item, its page of delta and a root's permissions are computed from their index, the
same every time and in every process.

Library sizes follow a log-normal spread (a few libraries of tens of thousands of files, many
small ones), as real tenants do; each library's root and its extra roots of unique
permissions (folders, spread evenly through the library) carry the ``shared`` facet.
"""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from .sharepoint import Answer, _error, _token, _untoken

__all__ = ["GeneratedCounters", "GeneratedSharePoint"]

HOST = "scale.sharepoint.com"
NO_EXPIRY = "0001-01-01T00:00:00Z"
_DRIVE = "b!gen"
_WHEN = "2026-10-01T09:00:00Z"


@dataclass
class GeneratedCounters:
    """Requests served, by kind."""

    site_pages: int = 0
    drive_requests: int = 0
    delta_requests: int = 0
    permission_requests: int = 0


def _shares(total: int, weights: list[float], caps: list[int]) -> list[int]:
    """``total`` split in proportion to ``weights`` (largest remainder), each share at most its
    cap; the sum is exactly ``min(total, sum(caps))``."""
    total = min(total, sum(caps))
    scale = sum(weights) or 1.0
    exact = [total * w / scale for w in weights]
    shares = [min(int(x), cap) for x, cap in zip(exact, caps, strict=True)]
    order = sorted(range(len(weights)), key=lambda i: exact[i] - int(exact[i]), reverse=True)
    missing = total - sum(shares)
    while missing:
        for index in order:
            if missing and shares[index] < caps[index]:
                shares[index] += 1
                missing -= 1
    return shares


class GeneratedSharePoint:
    """Graph routes (see ``GraphServer(routes=…)``) for a generated tenant of ``sites`` sites
    (one document library each), ``items`` driveItems in all (library roots included) and
    ``roots`` roots of unique permissions in all (library roots included)."""

    def __init__(
        self, *, sites: int, items: int, roots: int, seed: int = 14, page_size: int = 200
    ) -> None:
        if not 0 < sites <= roots <= items:
            raise ValueError("need 0 < sites <= roots <= items")
        self.seed = seed
        self.page_size = page_size
        self.counters = GeneratedCounters()
        self._lock = threading.Lock()
        spread = random.Random(seed)
        weights = [spread.lognormvariate(0.0, 1.0) for _ in range(sites)]
        # Every library holds its root; the other items and roots go by weight.
        #: items per library, its root included
        self.sizes = [1 + n for n in _shares(items - sites, weights, [items] * sites)]
        self.extra_roots = _shares(roots - sites, weights, [n - 1 for n in self.sizes])

    # ---- what the tenant holds, computed
    @property
    def items(self) -> int:
        """driveItems in all, library roots included."""
        return sum(self.sizes)

    @property
    def roots(self) -> int:
        """Roots of unique permissions in all, library roots included."""
        return len(self.sizes) + sum(self.extra_roots)

    @property
    def delta_pages(self) -> int:
        """Delta pages a first full enumeration of every library reads."""
        return sum(math.ceil(n / self.page_size) for n in self.sizes)

    def site(self, number: int) -> dict[str, Any]:
        """Site ``number`` (site.md)."""
        return {
            "id": f"{HOST},{number:08d}-0000-4000-8000-{self.seed:012d},{number:08d}-1111-4000-"
            "8000-000000000000",
            "name": f"Site {number}",
            "displayName": f"Site {number}",
            "webUrl": f"https://{HOST}/sites/site-{number:05d}",
            "root": {},
            "siteCollection": {"hostName": HOST},
            "lastModifiedDateTime": _WHEN,
        }

    def drive(self, number: int) -> dict[str, Any]:
        """The document library of site ``number`` (drive.md)."""
        return {
            "id": f"{_DRIVE}{number:06d}",
            "name": "Documents",
            "webUrl": f"https://{HOST}/sites/site-{number:05d}/Shared%20Documents",
            "driveType": "documentLibrary",
            "createdDateTime": _WHEN,
        }

    def _stride(self, library: int) -> int:
        extra = self.extra_roots[library]
        return (self.sizes[library] - 1) // extra if extra else 0

    def is_root(self, library: int, index: int) -> bool:
        """Whether item ``index`` of the library roots its own permissions."""
        if index == 0:
            return True
        stride = self._stride(library)
        return (
            bool(stride)
            and (index - 1) % stride == 0
            and (index - 1) // stride < (self.extra_roots[library])
        )

    def item(self, library: int, index: int, hierarchical: bool) -> dict[str, Any]:
        """Item ``index`` of a library as delta returns it (driveitem.md): the root, a folder
        rooting its own permissions, or a file inside the nearest such folder."""
        drive = self.drive(library)
        drive_id, url = drive["id"], drive["webUrl"]
        item_id = f"{drive_id}-{index}"
        if index == 0:
            return {
                "id": item_id,
                "name": "root",
                "root": {},
                "folder": {"childCount": self.sizes[library] - 1},
                "webUrl": url,
                "shared": {},
                "createdDateTime": _WHEN,
                "lastModifiedDateTime": _WHEN,
            }
        stride = self._stride(library)
        root = self.is_root(library, index)
        if stride:
            folder = min((index - 1) // stride, self.extra_roots[library] - 1) * stride + 1
            parent = f"{drive_id}-{folder}" if not root else f"{drive_id}-0"
        else:
            parent = f"{drive_id}-0"
        item: dict[str, Any] = {
            "id": item_id,
            "name": f"Folder {index}" if root else f"Document {index}.docx",
            "webUrl": f"{url}/{'Folder' if root else 'Document'}%20{index}",
            "parentReference": {"driveId": drive_id, "id": parent},
            "createdDateTime": _WHEN,
            "lastModifiedDateTime": _WHEN,
        }
        item["folder" if root else "file"] = {"childCount": stride - 1} if root else {}
        if root or not hierarchical:
            item["shared"] = {"scope": "users"} if root else {}
        return item

    def permissions(self, library: int, index: int) -> list[dict[str, Any]]:
        """The permissions of a root (permission.md, sharinglink.md): the site's owners, then
        one of: the members group, an anonymous or organisation link, a people link, an
        invitation of an outside address; the same for the same seed, library and index."""
        site = f"Site {library}"
        owners = {
            "id": "owners",
            "roles": ["owner"],
            "grantedToV2": {"siteGroup": {"id": "3", "displayName": f"{site} Owners"}},
        }
        if index == 0:
            return [owners]
        draw = random.Random(f"{self.seed}:{library}:{index}").random()
        link_url = f"https://{HOST}/:f:/s/site-{library:05d}/{index}"
        if draw < 0.05:
            extra: dict[str, Any] = {
                "id": f"anon-{index}",
                "roles": ["read"],
                "link": {"scope": "anonymous", "type": "view", "webUrl": link_url},
                "expirationDateTime": NO_EXPIRY,
                "hasPassword": False,
            }
        elif draw < 0.15:
            extra = {
                "id": f"org-{index}",
                "roles": ["write"],
                "link": {"scope": "organization", "type": "edit", "webUrl": link_url},
                "expirationDateTime": "2027-06-30T00:00:00Z",
                "hasPassword": False,
            }
        elif draw < 0.25:
            extra = {
                "id": f"people-{index}",
                "roles": ["read"],
                "link": {"scope": "users", "type": "view", "webUrl": link_url},
                "grantedToIdentitiesV2": [
                    {"user": {"id": f"user-{library % 997}", "displayName": "A colleague"}}
                ],
            }
        elif draw < 0.30:
            extra = {
                "id": f"invite-{index}",
                "roles": ["read"],
                "invitation": {"email": f"guest{index}@partner.example", "signInRequired": True},
                "grantedToV2": {"user": {"email": f"guest{index}@partner.example"}},
                "expirationDateTime": NO_EXPIRY,
            }
        else:
            extra = {
                "id": "members",
                "roles": ["write"],
                "grantedToV2": {"siteGroup": {"id": "5", "displayName": f"{site} Members"}},
            }
        return [owners, extra]

    # ---- routes
    def __call__(self, relative: str, headers: Mapping[str, str], base_url: str) -> Answer | None:
        parts = urlsplit(relative)
        path = parts.path
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        segments = path.strip("/").split("/")
        if path == "/sites/getAllSites":
            with self._lock:
                self.counters.site_pages += 1
            return self._sites(query, path, base_url)
        if len(segments) == 3 and segments[0] == "sites" and segments[2] == "drives":
            with self._lock:
                self.counters.drive_requests += 1
            library = self._site_number(segments[1])
            if library is None:
                return 404, _error("itemNotFound", "The resource could not be found."), {}
            return 200, {"value": [self.drive(library)]}, {}
        if len(segments) == 4 and segments[0] == "drives" and segments[2:] == ["root", "delta"]:
            with self._lock:
                self.counters.delta_requests += 1
            return self._delta(segments[1], query, headers, path, base_url)
        if len(segments) == 5 and segments[0] == "drives" and segments[4] == "permissions":
            with self._lock:
                self.counters.permission_requests += 1
            return self._permissions(segments[1], segments[3])
        return None

    def _library(self, drive_id: str) -> int | None:
        digits = drive_id.removeprefix(_DRIVE)
        if drive_id == digits or not digits.isdigit() or int(digits) >= len(self.sizes):
            return None
        return int(digits)

    def _site_number(self, site_id: str) -> int | None:
        try:
            number = int(site_id.split(",")[1][:8])
        except (IndexError, ValueError):
            return None
        return number if number < len(self.sizes) else None

    def _link(
        self, base_url: str, path: str, query: Mapping[str, str], key: str, value: str
    ) -> str:
        """The same request with ``key`` (``$skiptoken`` or the delta ``token``) set."""
        rest = {k: v for k, v in query.items() if k not in ("$skiptoken", "token")}
        rest[key] = value
        return f"{base_url}/v1.0{path}?{urlencode(rest, quote_via=quote, safe='$,')}"

    def _sites(self, query: Mapping[str, str], path: str, base_url: str) -> Answer:
        top = int(query.get("$top", str(self.page_size)))
        offset = _untoken(query["$skiptoken"]) if "$skiptoken" in query else 0
        end = min(offset + top, len(self.sizes))
        body: dict[str, Any] = {"@odata.context": f"{base_url}/v1.0/$metadata#sites"}
        if end < len(self.sizes):
            body["@odata.nextLink"] = self._link(base_url, path, query, "$skiptoken", _token(end))
        body["value"] = [self.site(n) for n in range(offset, end)]
        return 200, body, {}

    def _delta(
        self,
        drive_id: str,
        query: Mapping[str, str],
        headers: Mapping[str, str],
        path: str,
        base_url: str,
    ) -> Answer:
        library = self._library(drive_id)
        if library is None:
            return 404, _error("itemNotFound", "The resource could not be found."), {}
        body: dict[str, Any] = {"@odata.context": f"{base_url}/v1.0/$metadata#driveItems"}
        if "token" in query:
            # Nothing changes in a generated tenant: a delta link answers no items.
            body["@odata.deltaLink"] = self._link(base_url, path, query, "token", query["token"])
            body["value"] = []
            return 200, body, {}
        prefer = {p.strip().lower() for p in headers.get("prefer", "").split(",")}
        hierarchical = "hierarchicalsharing" in prefer
        top = int(query.get("$top", str(self.page_size)))
        offset = _untoken(query["$skiptoken"]) if "$skiptoken" in query else 0
        end = min(offset + top, self.sizes[library])
        if end < self.sizes[library]:
            body["@odata.nextLink"] = self._link(base_url, path, query, "$skiptoken", _token(end))
        else:
            body["@odata.deltaLink"] = self._link(base_url, path, query, "token", _token(0))
        body["value"] = [self.item(library, i, hierarchical) for i in range(offset, end)]
        return 200, body, {}

    def _permissions(self, drive_id: str, item_id: str) -> Answer:
        library = self._library(drive_id)
        head, _, index = item_id.rpartition("-")
        if (
            library is None
            or head != drive_id
            or not index.isdigit()
            or int(index) >= self.sizes[library]
            or not self.is_root(library, int(index))
        ):
            return 404, _error("itemNotFound", "The resource could not be found."), {}
        return 200, {"value": self.permissions(library, int(index))}, {}
