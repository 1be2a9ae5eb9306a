"""Entra guest sponsors: read per guest through $batch, stored on the account, judged by
guest-without-sponsor; a refused read is said, never taken as "no sponsor" silently.

Shapes follow microsoft-graph-docs-contrib api-reference/v1.0/api/user-list-sponsors.md:
``GET /users/{id}/sponsors`` answers a collection of ``#microsoft.graph.user`` and
``#microsoft.graph.group`` objects ("Sponsors are users and groups that are responsible for
this guest's privileges in the tenant").
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest

from accessaudit.audit import run_audit
from accessaudit.collection import build_snapshot
from accessaudit.connectors import CollectContext, SourceResult, SourceSettings, find_manifests
from accessaudit.connectors.entra import collect
from accessaudit.policy import Policy
from accessaudit.sample._entra import GUEST_SITE_GROUP, build_tenant
from graph_server import (
    CLIENT_SECRET,
    Faults,
    GraphServer,
    PkiFiles,
    make_people,
    make_pki,
    sign_in_options,
)

AS_OF = pd.Timestamp("2026-11-21T12:00:00", tz="UTC")
SECRET_ENV = "ACCESSAUDIT_TEST_SPONSORS_SECRET"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PkiFiles:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def people() -> pd.DataFrame:
    return make_people(240, seed=3)


@pytest.fixture(scope="module")
def tenant(people: pd.DataFrame) -> dict[str, Any]:
    built = build_tenant(people, as_of=AS_OF)
    # A fourth kind of guest: two sponsors, the first (by id) disabled, the second current —
    # one departed sponsor must not hide a current one.
    users = {u["id"]: u for u in built["users"]}
    guests = [u for u in built["users"] if u["userType"] == "Guest"]
    disabled = next(u for u in built["users"] if u["accountEnabled"] is False)
    active = next(
        u
        for u in built["users"]
        if u["accountEnabled"] and u["userType"] == "Member" and u["id"] > disabled["id"]
    )
    built["user_sponsors"][guests[3]["id"]] = [
        {"@odata.type": "#microsoft.graph.user", "id": u["id"], "displayName": u["displayName"]}
        for u in (disabled, active)
    ]
    assert users[active["id"]]["accountEnabled"]
    return built


def _collect(server: GraphServer, pki: PkiFiles) -> SourceResult:
    options = sign_in_options(server, pki, SECRET_ENV) | {"backoff_seconds": 0.01}
    source = SourceSettings("cloud", "entra-id", options=options)
    return collect(source, find_manifests()["entra-id"], CollectContext(as_of=AS_OF))


@pytest.fixture
def served(tenant: dict[str, Any], pki: PkiFiles) -> Iterator[tuple[dict[str, Any], PkiFiles]]:
    os.environ[SECRET_ENV] = CLIENT_SECRET
    try:
        yield tenant, pki
    finally:
        del os.environ[SECRET_ENV]


def _guests(result: SourceResult) -> pd.DataFrame:
    accounts = result.tables["accounts"]
    return accounts[accounts["kind"] == "guest"].set_index("native_id")


def test_sponsors_are_read_for_guests_and_one_current_sponsor_is_enough(
    served: tuple[dict[str, Any], PkiFiles], people: pd.DataFrame
) -> None:
    tenant, pki = served
    with GraphServer(tenant, pki) as server:
        result = _collect(server, pki)
    guests = _guests(result)
    ids = [u["id"] for u in tenant["users"] if u["userType"] == "Guest"]
    sponsors = tenant["user_sponsors"]
    board = next(g["id"] for g in tenant["groups"] if g["displayName"] == GUEST_SITE_GROUP)
    assert guests.loc[ids[0], "sponsor_id"] == "cloud:" + sponsors[ids[0]][0]["id"]
    assert guests.loc[ids[2], "sponsor_id"] == "cloud:" + board  # a group sponsors it
    assert guests.loc[ids[3], "sponsor_id"] == "cloud:" + sponsors[ids[3]][1]["id"]
    assert guests.loc[ids[4:], "sponsor_id"].isna().all()
    assert result.report["sponsors_known"] is True
    assert not any("sponsor" in warning for warning in result.report["warnings"])
    # Members are never asked: sponsors belong to guests.
    assert result.tables["accounts"].query("kind == 'user'")["sponsor_id"].isna().all()

    hr = SourceResult("hr", "hr-csv", {"people": _hr_people(people)})
    snapshot = build_snapshot([result, hr], as_of=AS_OF)
    found = run_audit(snapshot, Policy(), rules=["guest-without-sponsor"]).findings
    flagged = dict(zip(found["subject_id"], found["message"], strict=True))
    assert set(flagged) == {"cloud:" + i for i in (ids[1], ids[4], ids[5])}
    assert "its directory sponsor" in flagged["cloud:" + ids[1]]
    assert flagged["cloud:" + ids[1]].endswith(("has left", "is disabled"))
    assert flagged["cloud:" + ids[4]].endswith("no sponsor or manager is recorded")


def test_a_refused_sponsors_read_is_said_and_guests_are_judged_on_hr_alone(
    served: tuple[dict[str, Any], PkiFiles],
) -> None:
    tenant, pki = served
    faults = Faults(sponsors_403=True)
    with GraphServer(tenant, pki, faults=faults) as s:
        result = _collect(s, pki)
    assert _guests(result)["sponsor_id"].isna().all()
    assert result.report["sponsors_known"] is False
    assert "403" in result.report["sponsors_reason"]
    said = [w for w in result.report["warnings"] if "guest sponsors" in w]
    assert said and "judges 6 guests on HR sponsors and managers only" in said[-1]
    # The rest of the collection goes on.
    assert len(result.tables["memberships"]) > 0


def _hr_people(people: pd.DataFrame) -> pd.DataFrame:
    from accessaudit.model import TABLES

    rows = people.rename(columns={"employee_id": "person_id"}).assign(system="hr")
    return TABLES["people"].conform(rows, source="hr")


def test_sponsors_are_asked_for_exactly_the_accounts_stored_as_guests(
    served: tuple[dict[str, Any], PkiFiles],
) -> None:
    """One guest rule for the sponsors read and the accounts table (user.md: userType
    "Member" or "Guest"; a guest's UPN has the form ``<address>#EXT#@<tenant>``): a B2B
    member with an #EXT# UPN is a member and is not asked; a guest whose userType Graph did
    not return is told apart by its UPN and is asked."""
    tenant, pki = served
    users = [dict(u) for u in tenant["users"]]
    member = next(u for u in users if u["userType"] == "Member" and u["accountEnabled"])
    member["userPrincipalName"] = "partner_fabrikam.example#EXT#@contoso.onmicrosoft.com"
    untyped = next(u for u in users if u["userType"] == "Guest")
    untyped.pop("userType")
    with GraphServer({**tenant, "users": users}, pki) as server:
        result = _collect(server, pki)
        asked = set(server.counters.sponsor_requests)
    guests = set(_guests(result).index)
    assert asked == guests
    assert untyped["id"] in guests and member["id"] not in guests
    assert len(guests) == sum(u.get("userType") == "Guest" for u in users) + 1
