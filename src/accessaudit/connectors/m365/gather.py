"""Which Graph endpoints the ``m365`` connector reads, in what order, and what each refusal
costs.

Sites (``/sites/getAllSites``, every page), their document libraries (``$batch``), Microsoft
365 groups with their sites and owners (Teams-connected sites), then per library one delta
enumeration with ``Prefer: hierarchicalsharing`` (api/driveitem-delta.md, "Scanning
permissions hierarchies"): only the roots of permission hierarchies carry a ``shared`` facet,
so permissions are asked (through ``$batch``) for those roots alone, never for every file,
and a batch is filled with the look-ups of as many libraries as it takes (20 requests a
batch, json-batching.md), not sent half-empty at the end of each library.
The delta link of each library is kept in ``delta_state`` so the next collection reads only
changes; a ``410 Gone`` (token expired) starts that library again from scratch.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from accessaudit._atomic import atomic_file
from accessaudit._version import __version__
from accessaudit.connectors._graph.client import GraphClient, GraphHTTPError, connect
from accessaudit.connectors._graph.pages import RawPage, RawPages
from accessaudit.connectors._graph.settings import query
from accessaudit.connectors.base import CollectContext, SourceSettings
from accessaudit.connectors.m365.settings import M365Settings
from accessaudit.connectors.m365.shapes import PAGES
from accessaudit.errors import SourceError

__all__ = ["USER_AGENT", "collect_live", "load_state"]

log = logging.getLogger("accessaudit.m365")

#: SharePoint's throttling guidance asks for a decorated User-Agent: NONISV|company|app/version.
USER_AGENT = f"NONISV|accessaudit|accessaudit/{__version__}"
_STATE_FORMAT = "accessaudit-m365-delta-state"
_DRIVE_FIELDS = ["id", "name", "webUrl", "driveType", "createdDateTime"]
_GROUP_FIELDS = ["id", "displayName", "mail", "resourceProvisioningOptions"]
_OWNER_FIELDS = ["id", "displayName", "mail", "userPrincipalName"]


def load_state(file: Path | None, source: str) -> dict[str, Any]:
    """The delta state a previous collection left (library id → delta link, permission roots
    and their permissions); empty when there is none."""
    if file is None or not file.is_file():
        return {}
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise SourceError(
            f"delta state unreadable ({error})", source=source, location=str(file)
        ) from error
    if not isinstance(data, dict) or data.get("format") != _STATE_FORMAT:
        raise SourceError(
            f"not an accessaudit delta state (format {_STATE_FORMAT!r} missing)",
            source=source,
            location=str(file),
        )
    drives = data.get("drives", {})
    if not isinstance(drives, dict):
        raise SourceError("'drives' must be an object", source=source, location=str(file))
    return drives


def _save_state(file: Path, drives: Mapping[str, Any]) -> None:
    file.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(file) as temporary:
        temporary.write_text(
            json.dumps({"format": _STATE_FORMAT, "version": 1, "drives": drives}),
            encoding="utf-8",
        )


def collect_live(
    settings: SourceSettings, m365: M365Settings, context: CollectContext
) -> tuple[RawPages, dict[str, Any]]:
    """Read the tenant's sites, libraries and permission roots; return the pages and stats."""
    state_file = settings.file_option("delta_state")
    state = load_state(state_file, settings.name)
    with connect(
        settings, m365.graph, PAGES, progress=context.progress, user_agent=USER_AGENT
    ) as client:
        reader = _Reader(client, m365, settings.name, state)
        raw = reader.read()
        raw.notes["graph_url"] = client.graph_url
        if state_file is not None:
            _save_state(state_file, reader.new_state)
        stats = {"mode": "live", **asdict(client.stats), **reader.counts}
        return raw, stats


@dataclass
class _Scan:
    """What one library's delta enumeration leaves: the roots of unique permissions (item id
    → driveItem), their permissions, the roots whose sharing changed (in the order met), the
    new delta link and how many items the pages held."""

    roots: dict[str, Any]
    permissions: dict[str, Any]
    changed: dict[str, None] = field(default_factory=dict)
    delta_link: str | None = None
    items: int = 0


@dataclass
class _Library:
    """A scanned library waiting for the permissions of its changed roots: what each
    look-up answered (item id → permissions), which items vanished, which were refused."""

    drive_id: str
    scan: _Scan
    fresh: dict[str, list[Any]]
    vanished: list[str] = field(default_factory=list)
    refused: dict[str, GraphHTTPError] = field(default_factory=dict)


class _Reader:
    """One live collection: the pages read so far, the gaps, the new delta state."""

    def __init__(
        self, client: GraphClient, m365: M365Settings, source: str, state: Mapping[str, Any]
    ) -> None:
        self.client = client
        self.m365 = m365
        self.source = source
        self.state = state
        self.raw = RawPages()
        self.gaps: list[str] = []
        self.new_state: dict[str, Any] = {}
        # Permission look-ups of every library scanned so far, not yet sent: one $batch holds
        # up to batch_size of them whichever libraries they belong to (json-batching.md: 20
        # requests a batch), so a tenant of many small libraries needs no half-empty batch
        # per library. Libraries are finished, in the order scanned, once all are in.
        self.asked: list[tuple[str, str]] = []
        self.libraries: dict[str, _Library] = {}
        self.counts: dict[str, int] = {
            "delta_items_seen": 0,
            "permission_roots": 0,
            "permission_requests": 0,
            "delta_resyncs": 0,
            "incremental_libraries": 0,
            "personal_sites_skipped": 0,
        }

    def url(self, name: str, fields: list[str], **ids: str) -> str:
        path = self.m365.endpoints[name].format(**ids)
        return query(path, fields, self.m365.graph.page_size if not ids else None)

    def read(self) -> RawPages:
        c = self.client
        try:
            sites = c.pages_of("sites", c.root + self.url("sites", []))
        except GraphHTTPError as error:
            if error.status in (401, 403):
                raise SourceError(
                    f"Graph refused the site list ({error.status} {error.code}); the app needs "
                    "the application permission Sites.Read.All (or Sites.FullControl.All)",
                    source=self.source,
                    location=c.root + self.m365.endpoints["sites"],
                ) from error
            raise
        kept = []
        for page in sites:
            values = [s for s in page.body["value"] if self._wanted(s)]
            kept.append(RawPage("sites", None, page.url, {**page.body, "value": values}))
        for page in kept:
            self.raw.add(page)
        site_ids = [str(s["id"]) for s in self.raw.records("sites")[0]]
        drives, vanished = c.batch(
            "drives",
            [
                (sid, query(self.m365.endpoints["site_drives"].format(id=sid), _DRIVE_FIELDS))
                for sid in site_ids
            ],
        )
        for page in drives:
            self.raw.add(page)
        if vanished:
            self.gaps.append(f"{len(vanished)} sites vanished while their libraries were read")
        self._groups()
        for drive in self.raw.records("drives")[0]:
            self._library(str(drive["id"]))
            self._ask(everything=False)
        self._ask(everything=True)
        for library in self.libraries.values():
            self._finish(library)
        self.raw.notes["gaps"] = self.gaps
        return self.raw

    def _wanted(self, site: Mapping[str, Any]) -> bool:
        web_url = str(site.get("webUrl") or "")
        personal = bool(site.get("isPersonalSite")) or "/personal/" in web_url.lower()
        if personal and not self.m365.wants_personal_site(web_url):
            self.counts["personal_sites_skipped"] += 1
            return False
        return True

    def _groups(self) -> None:
        """Microsoft 365 groups (Teams), the sites they own and their owners."""
        c = self.client
        url = c.root + query(
            self.m365.endpoints["groups"], _GROUP_FIELDS, self.m365.graph.page_size
        )
        try:
            pages = c.pages_of("groups", url)
        except GraphHTTPError as error:
            if error.status not in (403,):
                raise
            self.gaps.append(
                f"Teams and group-connected sites unknown: Graph answered {error.status} "
                f"{error.code} (Group.Read.All missing?); site owners are not known"
            )
            log.warning("%s: %s", self.source, self.gaps[-1])
            return
        for page in pages:
            self.raw.add(page)
        group_ids = [str(g["id"]) for g in self.raw.records("groups")[0]]
        for dataset, name, fields in (
            ("group_sites", "group_sites", ["id", "webUrl"]),
            ("group_owners", "group_owners", _OWNER_FIELDS),
        ):
            requests_ = [
                (gid, query(self.m365.endpoints[name].format(id=gid), fields)) for gid in group_ids
            ]
            found, _vanished = c.batch(dataset, requests_)
            for page in found:
                self.raw.add(page)

    def _delta_pages(self, drive_id: str, url: str) -> Iterable[RawPage]:
        """The library's delta pages from ``url``, one at a time as they arrive: a library
        of millions of files is never held whole (only its permission roots are kept)."""
        headers = {"Prefer": self.m365.prefer}
        return self.client.iter_pages("delta", url, parent=drive_id, headers=headers)

    def _scan(self, drive_id: str, url: str, previous: Mapping[str, Any] | None) -> _Scan:
        """One delta enumeration from ``url``, merged into what ``previous`` held: the roots
        of unique permissions, their known permissions, the roots whose sharing changed."""
        scan = _Scan(
            roots=dict(previous.get("roots", {})) if previous else {},
            permissions=dict(previous.get("permissions", {})) if previous else {},
        )
        roots, changed = scan.roots, scan.changed
        for page in self._delta_pages(drive_id, url):
            values = page.body["value"]
            scan.items += len(values)
            for item in values:
                item_id = str(item["id"])
                if "deleted" in item:
                    roots.pop(item_id, None)
                    scan.permissions.pop(item_id, None)
                    continue
                flagged = str(item.get("@microsoft.graph.sharedChanged", "")).lower() == "true"
                if "root" in item or "shared" in item or flagged:
                    roots[item_id] = item
                    changed[item_id] = None
                elif item_id in roots:
                    roots[item_id] = {**roots[item_id], **item}
            # Only the last page carries the delta link; every page but it, a nextLink.
            scan.delta_link = page.body.get("@odata.deltaLink")
        return scan

    def _library(self, drive_id: str) -> None:
        """One library: its delta, merged with the previous state; the permissions of every
        root whose sharing is new or changed are asked (:meth:`_ask`)."""
        previous = self.state.get(drive_id) if isinstance(self.state.get(drive_id), dict) else None
        link = str(previous["delta_link"]) if previous and previous.get("delta_link") else None
        first = self.client.root + query(
            self.m365.endpoints["delta"].format(id=drive_id), list(self.m365.delta_select)
        )
        try:
            try:
                scan = self._scan(drive_id, link or first, previous if link else None)
                self.counts["incremental_libraries"] += link is not None
            except GraphHTTPError as error:
                if error.status != 410 or link is None:
                    raise
                # The token expired (api/driveitem-delta.md: 410 Gone, resync): enumerate the
                # library again from scratch and forget what the old state said.
                self.counts["delta_resyncs"] += 1
                log.info("%s: delta token of library %s expired; resync", self.source, drive_id)
                scan = self._scan(drive_id, first, None)
        except GraphHTTPError as error:
            if error.status != 403:
                raise
            self.gaps.append(
                f"library {drive_id}: items unreadable ({error.status} {error.code}); its "
                "files and folders with their own permissions are unknown"
            )
            log.warning("%s: %s", self.source, self.gaps[-1])
            return
        self.counts["delta_items_seen"] += scan.items
        endpoint = self.m365.endpoints["item_permissions"]
        changed = list(scan.changed)
        self.asked.extend(
            (f"{drive_id}|{item_id}", endpoint.format(drive=drive_id, item=item_id))
            for item_id in changed
        )
        self.counts["permission_requests"] += len(changed)
        self.libraries[drive_id] = _Library(drive_id, scan, {item_id: [] for item_id in changed})

    def _ask(self, *, everything: bool) -> None:
        """Send the look-ups asked so far in full batches (``everything``: the rest too) and
        hand each answer to its library. Throttled look-ups are retried by the client inside
        the same call, each after its own Retry-After."""
        size = self.m365.graph.batch_size
        count = len(self.asked) if everything else len(self.asked) - len(self.asked) % size
        if not count:
            return
        chunk, self.asked = self.asked[:count], self.asked[count:]
        refused: dict[str, GraphHTTPError] = {}
        try:
            pages, vanished = self.client.batch("permissions", chunk, refused=refused)
        except GraphHTTPError as error:
            if error.status != 403:
                raise
            # The $batch call itself was refused: every look-up in it is unread.
            pages, vanished = [], []
            refused = {parent: error for parent, _ in chunk}
        for page in pages:
            drive_id, _, item_id = str(page.parent).partition("|")
            self.libraries[drive_id].fresh.setdefault(item_id, []).extend(page.body["value"])
        for parent in vanished:
            drive_id, _, item_id = parent.partition("|")
            self.libraries[drive_id].vanished.append(item_id)
        for parent, refusal in refused.items():
            drive_id, _, item_id = parent.partition("|")
            self.libraries[drive_id].refused[item_id] = refusal

    def _finish(self, library: _Library) -> None:
        """One library with its permissions in: drop what vanished or inherits again, keep
        the new state and the pages; refused look-ups are a gap with their count."""
        drive_id, scan, fresh = library.drive_id, library.scan, library.fresh
        roots, permissions = scan.roots, scan.permissions
        if library.refused:
            first = next(iter(library.refused.values()))
            self.gaps.append(
                f"library {drive_id}: permissions of {len(library.refused)} items unreadable "
                f"({first.status} {first.code}); the app needs Sites.FullControl.All to read "
                "sharing links and invitations"
            )
            log.warning("%s: %s", self.source, self.gaps[-1])
            for item_id in library.refused:
                permissions.pop(item_id, None)
                fresh.pop(item_id, None)
        for item_id in library.vanished:
            roots.pop(item_id, None)
            fresh.pop(item_id, None)
            permissions.pop(item_id, None)
        for item_id, values in fresh.items():
            root = "root" in roots.get(item_id, {})
            if not root and values and all(p.get("inheritedFrom") for p in values):
                # The item inherits again: no longer a root of its own permissions.
                roots.pop(item_id, None)
                permissions.pop(item_id, None)
                continue
            permissions[item_id] = values
        self.counts["permission_roots"] += len(roots)
        self.new_state[drive_id] = {
            "delta_link": scan.delta_link,
            "roots": roots,
            "permissions": permissions,
        }
        self.raw.add(
            RawPage("items", drive_id, f"delta-state:{drive_id}", {"value": list(roots.values())})
        )
        endpoint = self.m365.endpoints["item_permissions"]
        for item_id, values in permissions.items():
            if item_id in roots:
                # Read now: the request's URL; carried over from the delta state: said so.
                url = (
                    self.client.root + endpoint.format(drive=drive_id, item=item_id)
                    if item_id in scan.changed
                    else f"delta-state:{drive_id}/{item_id}"
                )
                self.raw.add(
                    RawPage("permissions", f"{drive_id}|{item_id}", url, {"value": values})
                )
