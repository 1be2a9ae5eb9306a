"""Which Graph endpoints are read, in what order, and what a refusal of each one means.

Users first (``signInActivity`` and the leave date dropped, and reported, when the tenant's
licence or the app's permissions refuse them), then groups with their members and owners
through ``$batch``, directory roles (active and PIM-eligible), service principals with their
app role assignments, delegated grants, applications and the MFA registration report.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import asdict
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from accessaudit.connectors._graph.client import GraphClient, GraphHTTPError, connect
from accessaudit.connectors._graph.pages import RawPages
from accessaudit.connectors._graph.settings import query
from accessaudit.connectors.base import CollectContext, SourceSettings
from accessaudit.connectors.entra.frames import guest_users
from accessaudit.connectors.entra.settings import EntraSettings
from accessaudit.connectors.entra.shapes import PAGES

__all__ = ["collect_live"]

log = logging.getLogger("accessaudit.graph")

#: Graph's answer when signInActivity is asked of a tenant without an Entra ID P1/P2 licence.
LICENCE_ERROR = "Authentication_RequestFromNonPremiumTenantOrB2CTenant"


def collect_live(
    settings: SourceSettings, graph: EntraSettings, context: CollectContext
) -> tuple[RawPages, dict[str, Any]]:
    """Sign in and read the tenant: every page read, and the request statistics."""
    with connect(settings, graph, PAGES, progress=context.progress) as client:
        raw = _read_tenant(client, graph, settings.name, context.progress)
        raw.notes["graph_url"] = client.graph_url
        stats = {"mode": "live", **asdict(client.stats)}
        return raw, stats


def _read_tenant(
    client: GraphClient, graph: EntraSettings, source: str, progress: bool
) -> RawPages:
    raw = RawPages()
    gaps: list[str] = []
    endpoint = graph.endpoints
    top = graph.page_size
    eventual = {"ConsistencyLevel": "eventual"}

    def listing(dataset: str, name: str, *, tolerate: str | None = None) -> bool:
        url = client.root + query(endpoint[name], graph.fields(name), top)
        with tqdm(
            desc=f"{source} {dataset}",
            unit="obj",
            file=sys.stderr,
            disable=not progress,
            leave=False,
        ) as bar:
            try:
                pages = client.pages_of(dataset, url, headers=eventual, bar=bar)
            except GraphHTTPError as error:
                if tolerate is None or error.status not in (400, 403, 404):
                    raise
                gaps.append(f"{tolerate}: Graph answered {error.status} {error.code}")
                log.warning("%s: %s unknown (%s %s)", source, tolerate, error.status, error.code)
                return False
        for page in pages:
            raw.add(page)
        return True

    # Users: signInActivity needs a licence and AuditLog.Read.All, employeeLeaveDateTime its
    # own permission; without them Graph refuses the whole request, so ask again without.
    base = graph.fields("users")
    optional = graph.fields("users_optional")
    sign_in = str(graph.select.get("users_sign_in", "signInActivity"))
    want_sign_in, want_optional = True, bool(optional)
    total: int | None = None
    if "users_count" in endpoint:
        try:
            response = client.send("GET", client.root + endpoint["users_count"], headers=eventual)
            total = int(response.text.strip())
        except (GraphHTTPError, ValueError):
            total = None  # only the progress bar's length depends on it
    while True:
        select = base + (optional if want_optional else []) + ([sign_in] if want_sign_in else [])
        url = client.root + query(endpoint["users"], select, top)
        try:
            with tqdm(
                total=total,
                desc=f"{source} users",
                unit="user",
                file=sys.stderr,
                disable=not progress,
                leave=False,
            ) as bar:
                pages = client.pages_of("users", url, headers=eventual, bar=bar)
            break
        except GraphHTTPError as error:
            if error.status != 403:
                raise
            if want_sign_in and error.code == LICENCE_ERROR:
                want_sign_in = False
                gaps.append(
                    "sign-in activity unknown: the tenant has no Entra ID P1/P2 licence "
                    f"({LICENCE_ERROR}); last_sign_in_known is false for every account"
                )
            elif want_optional:
                want_optional = False
                gaps.append(
                    f"{', '.join(optional)} not readable (403 {error.code}); "
                    "grant User-LifeCycleInfo.Read.All to collect it"
                )
            elif want_sign_in:
                want_sign_in = False
                gaps.append(
                    f"sign-in activity unknown: Graph answered 403 {error.code} "
                    "(AuditLog.Read.All missing?); last_sign_in_known is false for every account"
                )
            else:
                raise
            log.warning("%s: %s", source, gaps[-1])
    for page in pages:
        raw.add(page)
    raw.notes["sign_in_known"] = want_sign_in
    raw.notes["sign_in_fields"] = list(graph.sign_in_fields) if want_sign_in else []
    _read_sponsors(client, graph, raw, gaps, source)

    listing("groups", "groups")
    group_ids = [str(r["id"]) for r in raw.records("groups")[0]]
    for dataset, name in (("group_members", "group_members"), ("group_owners", "group_owners")):
        relative = [
            (gid, query(endpoint[name].format(id=gid), graph.fields(name), top))
            for gid in group_ids
        ]
        pages_, vanished = client.batch(dataset, relative)
        for page in pages_:
            raw.add(page)
        if vanished:
            gaps.append(f"{len(vanished)} groups vanished while their {dataset} were read")
    _read_group_pim(client, graph, raw, gaps, source)

    listing("role_definitions", "role_definitions")
    listing("role_assignments", "role_assignments")
    raw.notes["eligibility_known"] = listing(
        "role_eligibility", "role_eligibility", tolerate="PIM eligible role assignments"
    )
    listing("service_principals", "service_principals")
    sp_ids = [str(r["id"]) for r in raw.records("service_principals")[0]]
    relative = [
        (
            sid,
            query(
                endpoint["app_role_assigned_to"].format(id=sid),
                graph.fields("app_role_assigned_to"),
                top,
            ),
        )
        for sid in sp_ids
    ]
    pages_, vanished = client.batch("app_role_assigned_to", relative)
    for page in pages_:
        raw.add(page)
    if vanished:
        gaps.append(f"{len(vanished)} service principals vanished while being read")
    listing(
        "oauth2_permission_grants",
        "oauth2_permission_grants",
        tolerate="delegated permission grants",
    )
    listing("applications", "applications", tolerate="application credentials")
    raw.notes["mfa_known"] = listing(
        "mfa_registration", "mfa_registration", tolerate="MFA registration"
    )
    raw.notes["gaps"] = gaps
    return raw


def _refused(
    error: GraphHTTPError, raw: RawPages, gaps: list[str], source: str, *, note: str, what: str
) -> None:
    """Note a 400/403 refusal of an optional read (``<note>_known`` false, the reason, a gap
    and a warning) so the collection goes on and says what it does not know; raise others."""
    if error.status not in (400, 403):
        raise error
    reason = f"Graph answered {error.status} {error.code}".strip()
    raw.notes[f"{note}_known"] = False
    raw.notes[f"{note}_reason"] = reason
    gaps.append(f"{what} unknown: {reason}")
    log.warning("%s: %s unknown (%s)", source, what, reason)


def _read_sponsors(
    client: GraphClient, graph: EntraSettings, raw: RawPages, gaps: list[str], source: str
) -> None:
    """Each guest's sponsors (``/users/{id}/sponsors``, users or groups), through ``$batch``.

    Only guests are asked: sponsors are the people responsible for a guest's access
    (api/user-list-sponsors.md). A 400/403 is noted (sponsors unknown, guest-without-sponsor
    then judges on HR alone) and the collection goes on.
    """
    endpoint = graph.endpoints.get("user_sponsors")
    if endpoint is None:
        raw.notes["sponsors_known"] = False
        raw.notes["sponsors_reason"] = "the connector manifest names no sponsors endpoint"
        return
    records = raw.records("users")[0]
    users = pd.DataFrame(
        {name: [r.get(name) for r in records] for name in ("userType", "userPrincipalName")}
    )
    # The accounts table's own rule (frames.guest_users): the guests asked here are exactly
    # the accounts stored as guests, so no B2B member costs a request.
    guests = [str(records[at]["id"]) for at in np.flatnonzero(guest_users(users).to_numpy())]
    relative = [
        (uid, query(endpoint.format(id=uid), graph.fields("user_sponsors"))) for uid in guests
    ]
    try:
        pages, vanished = client.batch("user_sponsors", relative)
    except GraphHTTPError as error:
        _refused(error, raw, gaps, source, note="sponsors", what="guest sponsors")
        return
    for page in pages:
        raw.add(page)
    if vanished:
        gaps.append(f"{len(vanished)} guests vanished while their sponsors were read")
    raw.notes["sponsors_known"] = True


def _read_group_pim(
    client: GraphClient, graph: EntraSettings, raw: RawPages, gaps: list[str], source: str
) -> None:
    """PIM for Groups eligibility and assignment schedules, one filtered request per group.

    Dynamic and on-premises-synced groups cannot be governed by PIM, so they are not asked
    about (the overview asks callers to keep these requests few). A 400/403 (no Entra ID P2 /
    Governance licence, or PrivilegedEligibilitySchedule.Read.AzureADGroup missing) is noted
    and the collection goes on.
    """
    endpoint = graph.endpoints
    names = ("group_eligibility", "group_assignments")
    if not all(name in endpoint for name in names):
        raw.notes["group_pim_known"] = False
        raw.notes["group_pim_reason"] = "the connector manifest names no PIM for Groups endpoints"
        return
    governable = [
        str(record["id"])
        for record in raw.records("groups")[0]
        if "DynamicMembership" not in (record.get("groupTypes") or [])
        and record.get("onPremisesSyncEnabled") is not True
    ]
    found = []
    for name in names:
        relative = [
            (gid, query(endpoint[name].format(id=gid), graph.fields(name))) for gid in governable
        ]
        try:
            pages, _vanished = client.batch(name, relative)
        except GraphHTTPError as error:
            _refused(error, raw, gaps, source, note="group_pim", what="PIM for Groups schedules")
            return
        found.extend(pages)
    for page in found:
        raw.add(page)
    raw.notes["group_pim_known"] = True
