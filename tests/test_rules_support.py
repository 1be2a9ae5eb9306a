"""A small hand-built organisation for the rule, findings and report tests.

Rows are written as short dicts; :func:`org` fills in the columns a test does not care about
(an enabled user account that signed in last week, created long ago) and conforms every table
through the real schemas and ``Snapshot.from_tables`` — real data, not mocks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from accessaudit.policy import Policy
from accessaudit.snapshot import Snapshot

AS_OF = pd.Timestamp("2026-11-21", tz="UTC")
RECENT = "2026-11-14"
LONG_AGO = "2024-01-01"


def person(person_id: str, **values: Any) -> dict[str, Any]:
    """An active employee unless told otherwise."""
    return {
        "person_id": person_id,
        "name": values.pop("name", person_id.title()),
        "email": f"{person_id}@example.com",
        "department": "Finance",
        "status": "active",
        "worker_type": "employee",
        "start_date": "2020-01-01",
        "system": "hr",
        **values,
    }


def account(login: str, **values: Any) -> dict[str, Any]:
    """An enabled user account in ``corp`` that signed in recently."""
    system = values.pop("system", "corp")
    return {
        "account_id": f"{system}:{login}",
        "system": system,
        "native_id": login,
        "login": login,
        "display_name": login.title(),
        "person_id": login,
        "correlated_by": "employee-id",
        "kind": "user",
        "enabled": True,
        "created": LONG_AGO,
        "last_sign_in": RECENT,
        **values,
    }


def group(name: str, **values: Any) -> dict[str, Any]:
    """A non-privileged group in ``corp`` whose id is ``corp:NAME``."""
    system = values.pop("system", "corp")
    return {
        "group_id": f"{system}:{name}",
        "system": system,
        "native_id": name,
        "name": name,
        "kind": "group",
        "privileged": False,
        **values,
    }


def member(
    group_name: str, member: str, member_type: str = "account", **values: Any
) -> dict[str, Any]:
    """``member`` (login or group name, in corp) directly in ``group_name``."""
    return {
        "group_id": f"corp:{group_name}",
        "member_id": f"corp:{member}",
        "member_type": member_type,
        "assignment": "active",
        **values,
    }


def resource(name: str, **values: Any) -> dict[str, Any]:
    """An inventoried internal share in ``files``."""
    return {
        "resource_id": f"files:{name}",
        "system": "files",
        "name": name,
        "type": "share",
        "sensitivity": "internal",
        "inventoried": True,
        **values,
    }


def grant(
    principal: str, resource_name: str, principal_type: str = "group", **values: Any
) -> dict[str, Any]:
    """``principal`` (group name or login in corp) has ``right`` (default read) on a resource."""
    return {
        "principal_id": f"corp:{principal}",
        "principal_type": principal_type,
        "resource_id": f"files:{resource_name}",
        "right": "read",
        "path": f"\\\\fs01\\{resource_name}",
        "system": "files",
        **values,
    }


def org(
    *,
    people: Sequence[dict[str, Any]] = (),
    accounts: Sequence[dict[str, Any]] = (),
    groups: Sequence[dict[str, Any]] = (),
    memberships: Sequence[dict[str, Any]] = (),
    resources: Sequence[dict[str, Any]] = (),
    grants: Sequence[dict[str, Any]] = (),
    as_of: pd.Timestamp = AS_OF,
) -> Snapshot:
    """A snapshot of the given rows; people for every account's person_id are added."""
    people = list(people)
    known = {p["person_id"] for p in people}
    for a in accounts:
        pid = a.get("person_id")
        if pid and pid not in known and a.get("kind", "user") in ("user", "admin"):
            people.append(person(pid))
            known.add(pid)
    tables = {
        "people": pd.DataFrame(people),
        "accounts": pd.DataFrame(list(accounts)),
        "groups": pd.DataFrame(list(groups)),
        "memberships": pd.DataFrame(list(memberships)),
        "resources": pd.DataFrame(list(resources)),
        "grants": pd.DataFrame(list(grants)),
    }
    return Snapshot.from_tables({k: v for k, v in tables.items() if len(v)}, as_of=as_of)


def policy(**mapping: Any) -> Policy:
    """A policy from the same mapping the ``[policy]`` TOML table gives."""
    return Policy.from_mapping(mapping, origin="test.toml")


def run(rule: str, snapshot: Snapshot, pol: Policy | None = None) -> pd.DataFrame:
    """The findings of one rule, called the way run_audit calls it."""
    from accessaudit.rules import RULES

    return RULES[rule].function(snapshot, pol or policy(), snapshot.as_of)


def subjects(findings: pd.DataFrame) -> list[str]:
    """The sorted subject names of ``findings``."""
    return sorted(findings["subject_name"].astype(str))


def test_org_fills_people_for_accounts() -> None:
    snapshot = org(accounts=[account("jdoe")])
    assert snapshot.people["person_id"].tolist() == ["jdoe"]
    assert snapshot.accounts["enabled"].tolist() == [True]


def test_org_nested_groups_reach_the_outer_group() -> None:
    snapshot = org(
        accounts=[account("jdoe")],
        groups=[group("Inner"), group("Outer")],
        memberships=[member("Inner", "jdoe"), member("Outer", "Inner", "group")],
    )
    em = snapshot.effective_memberships
    assert set(em["group_id"].astype(str)) == {"corp:Inner", "corp:Outer"}


def test_positions_match_pandas_lookup_for_few_many_categorical_and_missing_ids() -> None:
    from accessaudit.rules._arrays import positions

    index = pd.Index([f"corp:{i}" for i in range(100)], dtype="str")
    few = pd.Series(["corp:5", None, "corp:99", "cloud:1", "corp:5"], dtype="str")
    many = pd.Series([f"corp:{i}" for i in range(0, 300, 2)] + [None], dtype="str")
    for values in (few, many, many.astype("category"), few.astype(object)):
        expected = index.get_indexer(pd.Index(values.astype(object)))
        assert positions(values, index).tolist() == expected.tolist()
    assert positions(pd.Series([], dtype="str"), index).tolist() == []
