"""The truth of the sample organisation as plain DataFrames, built with vectorised numpy/pandas.

The bulk population is clean by construction (every entitlement is shared by a fair part of a
department, leavers are disabled, third parties only reach internal data); every planted
problem comes from the cast in :mod:`accessaudit.sample._cast`, so the list of planted problems
is exact. At benchmark scale, extra project groups nested ``nesting_depth`` levels deep and
random memberships bring the directory to the requested size.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from accessaudit.errors import ConfigError
from accessaudit.model import utc_timestamp
from accessaudit.sample import _cast as cast
from accessaudit.sample._names import FIRST_NAMES, LAST_NAMES, TRANSLITERATION

__all__ = ["DEFAULT_AS_OF", "MIN_SIZE", "Organisation", "generate_organisation"]

#: The demo's "today".
DEFAULT_AS_OF = pd.Timestamp("2026-11-21", tz="UTC")
MIN_SIZE = 200
_DAY = pd.Timedelta(days=1)
_USERS_OU = "OU=Users,OU=Corp"
_DISABLED_OU = "OU=Disabled Users,OU=Corp"
_PROJECT_OU = "OU=Projects,OU=Groups,OU=Corp"


@dataclass(frozen=True)
class Organisation:
    """The sample organisation's truth, before it is written in any export format.

    ``people`` has exactly the HR roster columns. ``users`` holds every AD object of class user
    (people's accounts, admin, service, gMSA, shared and built-in accounts) with ``login`` (the
    sAMAccountName), ``kind``, ``rid``, ``dn``, ``enabled``, ``password_never_expires``,
    ``created``, ``last_logon`` (NaT = never), ``pwd_last_set``, ``account_expires`` and the
    directory attributes. ``groups`` has ``name``, ``sid``, ``dn``, ``privileged`` …;
    ``memberships`` the direct edges ``group``, ``member`` (a login, a group name or a foreign
    DN) and ``member_type`` (user / group / foreign), all categorical so 5 million rows stay
    small. ``resources`` is the data inventory, ``acl`` the NTFS permission export, ``grants``
    the other systems' permissions, ``policy`` the ``[policy]`` table of the audit config and
    ``planted`` the problems planted on purpose (see :func:`accessaudit.sample.planted_problems`).
    ``previous_people`` is the HR roster of the previous quarter (see :func:`previous_roster`).
    """

    as_of: pd.Timestamp
    seed: int
    people: pd.DataFrame
    users: pd.DataFrame
    groups: pd.DataFrame
    memberships: pd.DataFrame
    resources: pd.DataFrame
    acl: pd.DataFrame
    grants: pd.DataFrame
    planted: pd.DataFrame
    policy: Mapping[str, Any] = field(default_factory=dict)
    previous_people: pd.DataFrame = field(default_factory=pd.DataFrame)


def generate_organisation(
    size: int = 1500,
    seed: int = 42,
    as_of: pd.Timestamp | None = None,
    *,
    groups: int | None = None,
    memberships: int | None = None,
    nesting_depth: int = 6,
) -> Organisation:
    """Build the sample organisation: about ``size`` people and their accounts, groups, data.

    ``groups`` and ``memberships`` (totals) grow the directory for benchmarks: project groups
    nested ``nesting_depth`` levels deep are added until there are ``groups`` groups, and random
    account → project group memberships until there are ``memberships`` direct edges. The same
    arguments always give the same organisation.

    >>> org = generate_organisation(300, seed=1)
    >>> len(org.people) == 300, "Domain Admins" in set(org.groups["name"])
    (True, True)
    """
    if size < MIN_SIZE:
        raise ConfigError(f"the sample organisation needs at least {MIN_SIZE} people, not {size}")
    if nesting_depth < 1:
        raise ConfigError(f"nesting_depth must be at least 1, not {nesting_depth}")
    as_of = utc_timestamp(as_of if as_of is not None else DEFAULT_AS_OF)
    rng = np.random.default_rng(seed)
    people, people_logins, previous_groups = _people(rng, size, as_of)
    users = _users(rng, people, people_logins, as_of)
    # memberships beyond the natural ones hang on project groups; add some if none were asked
    project_default = max(nesting_depth, size // 10) if memberships else 0
    group_table, next_rid = _groups(people, people_logins, groups, project_default, nesting_depth)
    # users' RIDs follow the groups' (built-in accounts keep their well-known RIDs)
    rids = np.where(users["rid"] > 0, users["rid"], next_rid + np.arange(len(users)))
    users["rid"] = rids.astype("int64")
    users["sid"] = _sid_strings(rids).to_numpy()
    edges = _memberships(
        rng, people, people_logins, users, group_table, previous_groups=previous_groups
    )
    edges = _scale_memberships(
        rng, edges, users, group_table, target=memberships or 0, depth=nesting_depth
    )
    resources = _resources(people, people_logins, as_of)
    return Organisation(
        as_of=as_of,
        seed=seed,
        people=people,
        users=users,
        groups=group_table,
        memberships=edges,
        resources=resources,
        acl=_acl(),
        grants=_grants(),
        planted=_planted(users, people, people_logins),
        policy=_policy(people, people_logins, as_of),
        previous_people=previous_roster(people, people_logins, as_of),
    )


# --- people ---------------------------------------------------------------------------------


def ascii_word(text: str) -> str:
    """``Łukasz`` → ``lukasz``: lower-case ASCII letters and digits only (for logins, emails)."""
    text = "".join(TRANSLITERATION.get(ch, ch) for ch in text)
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return "".join(ch for ch in folded.lower() if ch.isalnum())


def _dedupe(words: pd.Series) -> pd.Series:
    """Second and later occurrences get 2, 3, … appended (``jsmith``, ``jsmith2``)."""
    occurrence = words.groupby(words, sort=False).cumcount()
    suffix = (occurrence + 1).astype(str).where(occurrence > 0, "")
    return words + suffix


def _allocate(rng: np.random.Generator, count: int, shares: Sequence[float]) -> np.ndarray:
    """Split ``count`` rows over choices by share, shuffled; never exactly one holder of a
    choice (a sole holder is a peer outlier by definition, and the bulk must be clean)."""
    weights = np.asarray(shares, dtype=float) / float(np.sum(shares))
    counts = np.floor(weights * count).astype(int)
    counts[0] += count - counts.sum()
    ones = counts == 1
    counts[0] += int(ones.sum())
    counts[ones] = 0
    return rng.permutation(np.repeat(np.arange(len(shares)), counts))


def _people(
    rng: np.random.Generator, size: int, as_of: pd.Timestamp
) -> tuple[pd.DataFrame, pd.Series, dict[str, str]]:
    """The HR roster (cast first, then the bulk sorted by department) and everyone's login."""
    departments = cast.DEPARTMENTS
    n = size - len(cast.CAST_PEOPLE)
    weights = np.array([d.weight for d in departments])
    dept = np.sort(rng.choice(len(departments), size=n, p=weights / weights.sum()))
    starts = np.searchsorted(dept, np.arange(len(departments)))
    ends = np.append(starts[1:], n)

    role = np.full(n, 2, dtype=np.int8)  # 0 head, 1 manager, 2 staff
    title = np.empty(n, dtype=object)
    manager_pos = np.full(n, -1, dtype=np.int64)  # -1: reports to the CEO
    for index, department in enumerate(departments):
        lo, hi = int(starts[index]), int(ends[index])
        if hi <= lo:
            raise ConfigError(f"size {size} leaves department {department.name} empty")
        managers = max(1, (hi - lo - 1) // 9)
        role[lo] = 0
        role[lo + 1 : lo + 1 + managers] = 1
        title[lo] = department.head_title
        title[lo + 1 : lo + 1 + managers] = department.manager_title
        manager_pos[lo + 1 : lo + 1 + managers] = lo
        staff = np.arange(lo + 1 + managers, hi)
        choice = _allocate(rng, len(staff), [t[1] for t in department.titles])
        title[staff] = np.array([t[0] for t in department.titles], dtype=object)[choice]
        manager_pos[staff] = rng.integers(lo + 1, lo + 1 + managers, size=len(staff))

    leaders = role < 2
    contractor_share = np.array([d.contractor_share for d in departments])[dept]
    vendor_share = np.array([d.vendor_share for d in departments])[dept]
    draw = rng.random(n)
    worker = np.where(draw < contractor_share, "contractor", "employee").astype(object)
    worker[(draw >= contractor_share) & (draw < contractor_share + vendor_share)] = "vendor"
    worker[leaders] = "employee"
    draw = rng.random(n)
    status = np.where(draw < 0.08, "terminated", np.where(draw < 0.10, "leave", "active"))
    status = status.astype(object)
    status[leaders] = "active"

    tenure = rng.integers(30, 3650, size=n)
    tenure[leaders] = rng.integers(2500, 5000, size=int(leaders.sum()))
    end_days = np.full(n, np.nan)
    terminated = status == "terminated"
    left = rng.integers(1, 365, size=n)
    end_days[terminated] = -left[terminated]
    tenure = np.where(terminated, left + rng.integers(60, 2500, size=n), tenure)
    contract = (worker != "employee") & ~terminated
    end_days[contract] = rng.integers(30, 365, size=n)[contract]

    first = rng.integers(0, len(FIRST_NAMES), size=n)
    last = rng.integers(0, len(LAST_NAMES), size=n)
    first_names = np.array(FIRST_NAMES, dtype=object)
    last_names = np.array(LAST_NAMES, dtype=object)
    first_ascii = np.array([ascii_word(w) for w in FIRST_NAMES], dtype=object)
    last_ascii = np.array([ascii_word(w) for w in LAST_NAMES], dtype=object)

    people_cast = cast.CAST_PEOPLE
    names = pd.Series(
        [p.name for p in people_cast] + list(first_names[first] + " " + last_names[last])
    )
    bulk_login = pd.Series(first_ascii[first]).str[0] + pd.Series(last_ascii[last])
    # cast logins first, then logins nobody may take (the cast's other accounts, and the gone
    # owner of an orphaned admin account), then the bulk, which yields on any clash
    cast_logins = pd.Series([p.login for p in people_cast])
    reserved = pd.Series([a.login.lower() for a in cast.CAST_ACCOUNTS] + list(cast.GONE_LOGINS))
    logins = _dedupe(pd.concat([cast_logins, reserved, bulk_login], ignore_index=True))
    logins = pd.concat(
        [logins.iloc[: len(cast_logins)], logins.iloc[len(cast_logins) + len(reserved) :]],
        ignore_index=True,
    )
    cast_mail = [".".join(ascii_word(part) for part in p.name.split(" ")) for p in people_cast]
    mail_local = pd.Series(cast_mail + list(first_ascii[first] + "." + last_ascii[last]))
    emails = _dedupe(mail_local) + "@" + cast.MAIL_DOMAIN

    total = len(names)
    ids = "E" + pd.Series(np.arange(10001, 10001 + total)).astype(str)
    cast_index = {p.login: i for i, p in enumerate(people_cast)}
    head_index = len(people_cast) + starts  # the bulk head of each department
    dept_head = {d.name: int(head_index[i]) for i, d in enumerate(departments)}

    def cast_manager(person: cast.CastPerson) -> int:
        if person.manager == "":
            return -1
        if person.manager == "head":
            return dept_head[person.department]
        return cast_index[person.manager]

    ceo = cast_index["mhale"]
    bulk_manager = np.where(manager_pos < 0, ceo, manager_pos + len(people_cast))
    manager_index = np.concatenate([[cast_manager(p) for p in people_cast], bulk_manager])
    manager_ids = ids.to_numpy(dtype=object)[np.maximum(manager_index, 0)]
    manager_ids = np.where(manager_index < 0, None, manager_ids)

    start_days = np.concatenate([[p.start for p in people_cast], -tenure])
    end_offsets = np.concatenate(
        [[np.nan if p.end is None else p.end for p in people_cast], end_days]
    )
    midnight = as_of.normalize()
    people = pd.DataFrame(
        {
            "employee_id": ids,
            "name": names,
            "email": emails,
            "department": [p.department for p in people_cast] + [departments[i].name for i in dept],
            "title": [p.title for p in people_cast] + list(title),
            "manager_id": manager_ids,
            "status": [p.status for p in people_cast] + list(status),
            "worker_type": [p.worker_type for p in people_cast] + list(worker),
            "start_date": midnight + pd.to_timedelta(start_days, unit="D"),
            "end_date": midnight + pd.to_timedelta(end_offsets, unit="D"),
        }
    )
    people = pd.concat([people, _history(people_cast, len(people), midnight)], axis=1)
    people["manager_id"] = people["manager_id"].astype("str")
    return people, logins, dict(cast.MOVERS)


def _history(
    people_cast: Sequence[cast.CastPerson], total: int, midnight: pd.Timestamp
) -> pd.DataFrame:
    """The HR history and contract columns: the cast's lifecycle plants, empty for the bulk."""

    def days(values: list[int | None]) -> pd.Series:
        offsets = [np.nan if v is None else v for v in values] + [np.nan] * (total - len(values))
        return pd.Series(midnight + pd.to_timedelta(offsets, unit="D"))

    blank: list[str | None] = [None] * (total - len(people_cast))
    return pd.DataFrame(
        {
            "previous_department": [p.moved_from or None for p in people_cast] + blank,
            "previous_title": [None] * total,
            "moved_on": days([p.moved for p in people_cast]),
            "contract_end": days([p.contract_end for p in people_cast]),
            "sponsor_id": [None] * total,
            "rehired_on": days([p.rehired for p in people_cast]),
        }
    )


def previous_roster(people: pd.DataFrame, logins: pd.Series, as_of: pd.Timestamp) -> pd.DataFrame:
    """The HR roster as it stood ``PREVIOUS_QUARTER_DAYS`` before ``as_of``: people who had
    started, in the department they had then (HR history, or ``PREVIOUS_ROLES``), without
    history columns — the previous quarter's export, for finding moves between snapshots."""
    then = as_of.normalize() - cast.PREVIOUS_QUARTER_DAYS * _DAY
    roster = people.copy()
    moved_since = (roster["moved_on"] > then).to_numpy(dtype=bool, na_value=False)
    roster.loc[moved_since, "department"] = roster.loc[moved_since, "previous_department"]
    at = pd.Index(logins).get_indexer(list(cast.PREVIOUS_ROLES))
    for row, (department, title) in zip(at, cast.PREVIOUS_ROLES.values(), strict=True):
        roster.loc[row, ["department", "title"]] = [department, title]
    started = (roster["start_date"] <= then).to_numpy(dtype=bool, na_value=False)
    roster = roster[started].reset_index(drop=True)
    for column in ("previous_department", "previous_title", "sponsor_id"):
        roster[column] = None
    for column in ("moved_on", "contract_end", "rehired_on"):
        roster[column] = pd.NaT
    return roster


# --- accounts -------------------------------------------------------------------------------


def _dn(cn: pd.Series, container: pd.Series) -> pd.Series:
    return "CN=" + cn + "," + container + "," + cast.DOMAIN_DN


def _users(
    rng: np.random.Generator, people: pd.DataFrame, logins: pd.Series, as_of: pd.Timestamp
) -> pd.DataFrame:
    """Every AD user object: one account per person (most leavers' disabled, some deleted),
    plus the cast's extra accounts."""
    n = len(people)
    n_cast = len(cast.CAST_PEOPLE)
    is_cast = np.arange(n) < n_cast
    status = people["status"].to_numpy()
    terminated = status == "terminated"
    # HR keeps leavers; IT deleted about a third of their accounts, disabled the rest.
    deleted = terminated & (rng.random(n) < 0.3) & ~is_cast
    keep = ~deleted
    seconds = pd.to_timedelta(rng.integers(8 * 3600, 18 * 3600, size=n), unit="s")
    created = (
        people["start_date"] - pd.to_timedelta(rng.integers(1, 10, size=n), unit="D") + seconds
    )
    recent = as_of - pd.to_timedelta(rng.integers(600, 14 * 86400, size=n), unit="s")
    away = as_of - pd.to_timedelta(rng.integers(20 * 86400, 80 * 86400, size=n), unit="s")
    before_leaving = people["end_date"] - pd.to_timedelta(
        rng.integers(0, 4 * 86400, size=n), unit="s"
    )
    last_logon = pd.Series(recent, index=people.index)
    last_logon = last_logon.mask(pd.Series(status == "leave"), pd.Series(away, index=people.index))
    last_logon = last_logon.mask(pd.Series(terminated), before_leaving)
    last_logon = last_logon.where(last_logon > created, created + pd.Timedelta(hours=2))
    pwd_last_set = last_logon - pd.to_timedelta(rng.integers(0, 85 * 86400, size=n), unit="s")
    pwd_last_set = pwd_last_set.where(pwd_last_set > created, created + pd.Timedelta(minutes=5))
    third_party = people["worker_type"].to_numpy() != "employee"
    expires = people["end_date"].where(pd.Series(third_party & ~terminated))

    cn = people["name"]
    ou = pd.Series(
        np.where(terminated, _DISABLED_OU, "OU=" + people["department"] + "," + _USERS_OU)
    )
    clash = pd.DataFrame({"cn": cn, "ou": ou}).duplicated(keep="first")
    cn = cn.where(~clash, cn + " (" + logins + ")")
    given = people["name"].str.split(" ", n=1).str[0]
    surname = people["name"].str.split(" ", n=1).str[1]
    accounts = pd.DataFrame(
        {
            "login": logins,
            "kind": "user",
            "owner_login": logins,
            "cn": cn,
            "container": ou,
            "given_name": given,
            "surname": surname,
            "display_name": people["name"],
            "email": people["email"],
            "employee_id": people["employee_id"],
            "department": people["department"],
            "title": people["title"],
            "description": pd.Series(pd.NA, index=people.index, dtype="str"),
            "enabled": ~terminated,
            "password_never_expires": False,
            "created": created,
            "last_logon": last_logon,
            "pwd_last_set": pwd_last_set,
            "account_expires": expires,
        }
    )[keep].reset_index(drop=True)

    by_login = {login: i for i, login in enumerate(accounts["login"])}
    person_by_login = dict(zip(logins, range(n), strict=True))
    extra_rows: list[dict[str, Any]] = []
    midnight = as_of.normalize()
    for spec in cast.CAST_ACCOUNTS:
        logon = None if spec.logon is None else as_of + spec.logon * _DAY - pd.Timedelta(hours=3)
        if spec.login in by_login:  # an override of a person's own account
            row = by_login[spec.login]
            accounts.loc[row, "enabled"] = spec.enabled
            accounts.loc[row, "last_logon"] = logon if logon is not None else pd.NaT
            accounts.loc[row, "password_never_expires"] = spec.never_expires
            if spec.created is not None:
                stamp = midnight + spec.created * _DAY + pd.Timedelta(hours=9)
                accounts.loc[row, "created"] = stamp
                accounts.loc[row, "pwd_last_set"] = stamp + pd.Timedelta(minutes=5)
            if not spec.enabled:
                accounts.loc[row, "container"] = _DISABLED_OU
            continue
        owner = person_by_login.get(spec.owner) if spec.owner else None
        person: dict[Hashable, Any] | None = (
            people.iloc[[owner]].to_dict("records")[0] if owner is not None else None
        )
        made: pd.Timestamp
        if spec.created is not None:
            made = midnight + spec.created * _DAY + pd.Timedelta(hours=10)
        elif person is not None:
            made = person["start_date"] - 7 * _DAY + pd.Timedelta(hours=10)
        else:
            made = midnight - 1000 * _DAY
        display = spec.display_name
        if not display and person is not None:
            display = person["name"] + (" (admin)" if spec.kind == "admin" else "")
        login = spec.login
        password_set = made + pd.Timedelta(minutes=5)
        if logon is not None:
            password_set = max(password_set, logon - 40 * _DAY)
        extra_rows.append(
            {
                "login": login,
                "kind": spec.kind,
                "owner_login": spec.owner or pd.NA,
                "cn": login.rstrip("$") if spec.kind == "gmsa" else (display or login),
                "container": spec.container or _USERS_OU,
                "given_name": pd.NA,
                "surname": pd.NA,
                "display_name": display or pd.NA,
                "email": (
                    person["email"]
                    if person is not None and spec.kind == "user"
                    else ("finance@" + cast.MAIL_DOMAIN if spec.kind == "shared" else pd.NA)
                ),
                "employee_id": person["employee_id"]
                if person is not None and spec.employee_id
                else pd.NA,
                "department": person["department"] if person is not None else pd.NA,
                "title": pd.NA,
                "description": spec.description or pd.NA,
                "enabled": spec.enabled,
                "password_never_expires": spec.never_expires,
                "created": made,
                "last_logon": logon if logon is not None else pd.NaT,
                "pwd_last_set": password_set,
                "account_expires": pd.NaT,
            }
        )
    extras = pd.DataFrame(extra_rows)
    for column in ("created", "last_logon", "pwd_last_set", "account_expires"):
        extras[column] = pd.to_datetime(extras[column], utc=True)
    users: pd.DataFrame = pd.concat([accounts, extras], ignore_index=True)
    for column in ("created", "last_logon", "pwd_last_set", "account_expires"):
        users[column] = pd.to_datetime(users[column], utc=True).astype("datetime64[ns, UTC]")
    users["enabled"] = users["enabled"].astype(bool)
    users["password_never_expires"] = users["password_never_expires"].astype(bool)
    rids = {"krbtgt": 502, "Guest": 501}
    users["rid"] = users["login"].map(rids).fillna(0).astype("int64")
    users["primary_group_rid"] = np.where(
        users["kind"] == "gmsa", 515, np.where(users["login"] == "Guest", 514, 513)
    )
    users["dn"] = _dn(users["cn"], users["container"])
    return users


# --- groups and memberships ------------------------------------------------------------------


def _sid_strings(rids: np.ndarray) -> pd.Series:
    return cast.DOMAIN_SID + "-" + pd.Series(rids).astype(str)


def _groups(
    people: pd.DataFrame,
    logins: pd.Series,
    target: int | None,
    project_default: int,
    depth: int,
) -> tuple[pd.DataFrame, int]:
    """Well-known, department, role, resource and application groups; project groups on top
    when a benchmark asks for more (``target`` groups in all). RIDs: groups from 1104, then
    users; returns the table and the next free RID."""
    specs = (*cast.WELL_KNOWN_GROUPS, *cast.department_groups(), *cast.CUSTOM_GROUPS)
    heads = people.loc[
        people["title"].isin({d.head_title for d in cast.DEPARTMENTS}),
        ["department", "employee_id"],
    ]
    head_login = dict(zip(heads["department"], logins[heads.index].to_numpy(), strict=True))
    short_to_dept = {d.short: d.name for d in cast.DEPARTMENTS}
    rows = []
    next_rid = 1104
    for spec in specs:
        if spec.builtin_rid:
            sid = f"S-1-5-32-{spec.builtin_rid}"
        else:
            rid = spec.rid or next_rid
            next_rid += 0 if spec.rid else 1
            sid = f"{cast.DOMAIN_SID}-{rid}"
        owner = spec.managed_by
        if owner == "cfo":
            owner = head_login["Finance"]
        if spec.name.startswith("G-") and spec.name[2:] in short_to_dept:
            owner = head_login[short_to_dept[spec.name[2:]]]
        rows.append(
            {
                "name": spec.name,
                "sid": sid,
                "dn": f"CN={spec.name},{spec.container},{cast.DOMAIN_DN}",
                "description": spec.description,
                "group_type": spec.group_type,
                "protected": spec.protected,
                "managed_by": owner or pd.NA,
                "tier": -1,
            }
        )
    table = pd.DataFrame(rows)
    extra = max(0, target - len(table)) if target is not None else project_default
    if extra:
        numbers = pd.Series(np.arange(1, extra + 1)).astype(str).str.zfill(6)
        names = "GRP-" + numbers
        rids = np.arange(next_rid, next_rid + extra)
        next_rid += extra
        project = pd.DataFrame(
            {
                "name": names,
                "sid": _sid_strings(rids),
                "dn": "CN=" + names + "," + _PROJECT_OU + "," + cast.DOMAIN_DN,
                "description": "Project group",
                "group_type": cast.GLOBAL_SECURITY,
                "protected": False,
                "managed_by": pd.Series(pd.NA, index=names.index, dtype="str"),
                "tier": depth - _project_levels(extra, depth),
                "department": _project_departments(people, extra),
            }
        )
        table = pd.concat([table, project], ignore_index=True)
    privileged_names = {"IT-Tier0", "DL-FS-Payments-FullControl"}
    table["privileged"] = table["protected"] | table["name"].isin(privileged_names)
    return table, next_rid


#: Low-discrepancy steps (golden ratio, plastic number): spread project groups evenly over
#: departments and levels without drawing from the generator's random stream.
_DEPARTMENT_STEP = 0.6180339887498949
_LEVEL_STEP = 0.7548776662466927
#: Each nesting level holds this fraction of the groups of the level above it.
_LEVEL_DECAY = 0.55


def _project_levels(count: int, depth: int) -> np.ndarray:
    """Nesting level of each project group, 1 (top, no parent) to ``depth`` (deepest).

    Level ``L`` holds ``_LEVEL_DECAY ** (L - 1)`` as many groups as level 1; for depth 6
    that is about 46 % / 25 % / 14 % / 8 % / 4 % / 2 %. The first ``depth`` groups take the
    levels ``depth``, ``depth - 1``, …, 1, so every level exists however few groups there are.
    """
    weights = _LEVEL_DECAY ** np.arange(depth)
    bounds = np.cumsum(weights / weights.sum())
    bounds[-1] = 1.0
    spread = (np.arange(count) * _LEVEL_STEP) % 1.0
    levels = np.searchsorted(bounds, spread, side="right") + 1
    first = min(count, depth)
    levels[:first] = np.arange(depth, depth - first, -1)
    return np.minimum(levels, depth).astype(np.int64)


def _project_departments(people: pd.DataFrame, count: int) -> np.ndarray:
    """The HR department each project group belongs to, in proportion to headcount."""
    headcount = people["department"].value_counts().sort_index()
    bounds = np.cumsum(headcount.to_numpy(dtype=float)) / float(headcount.sum())
    bounds[-1] = 1.0
    spread = (np.arange(count) * _DEPARTMENT_STEP) % 1.0
    at = np.minimum(np.searchsorted(bounds, spread, side="right"), len(bounds) - 1)
    return headcount.index.to_numpy(dtype=object)[at]


def _memberships(
    rng: np.random.Generator,
    people: pd.DataFrame,
    logins: pd.Series,
    users: pd.DataFrame,
    groups: pd.DataFrame,
    *,
    previous_groups: Mapping[str, str],
) -> pd.DataFrame:
    """Direct edges as integer codes into ``users`` (members 0…U-1), ``groups`` (U…) and the
    foreign principal (last)."""
    group_code = pd.Series(np.arange(len(groups)), index=groups["name"])
    n_users = len(users)
    # a person's own account only: a second account holds just what it was given
    member_of_user = users[(users["kind"] == "user") & (users["login"] == users["owner_login"])]
    person_row = pd.Series(np.arange(len(people)), index=logins)
    owner_rows = person_row.reindex(member_of_user["owner_login"]).to_numpy()
    has_person = ~np.isnan(owner_rows)
    user_codes = member_of_user.index.to_numpy()[has_person]
    owners = people.iloc[owner_rows[has_person].astype(int)]

    short = {d.name: d.short for d in cast.DEPARTMENTS} | cast.SMALL_DEPARTMENTS
    dept_group = group_code.reindex("G-" + owners["department"].map(short)).to_numpy()
    title_group_name = {t[0]: t[2] for d in cast.DEPARTMENTS for t in d.titles if t[2]}
    role_group = group_code.reindex(owners["title"].map(title_group_name)).to_numpy()
    has_role = ~np.isnan(role_group)
    vpn = rng.random(len(user_codes)) < 0.5
    mail = owners["status"].to_numpy() != "terminated"

    group_parts = [
        dept_group,
        role_group[has_role],
        np.full(int(vpn.sum()), group_code["VPN-Users"]),
        np.full(int(mail.sum()), group_code["All-Staff"]),
    ]
    member_parts = [user_codes, user_codes[has_role], user_codes[vpn], user_codes[mail]]

    login_code = pd.Series(np.arange(n_users), index=users["login"])
    movers = list(previous_groups.items())
    cast_edges = [*cast.CAST_MEMBERSHIPS, *((g, login) for login, g in movers)]
    foreign_code = n_users + len(groups)
    for group, member in cast_edges:
        group_parts.append(np.array([group_code[group]]))
        if member == cast.FOREIGN_MEMBER:
            member_parts.append(np.array([foreign_code]))
        elif member in login_code.index:
            member_parts.append(np.array([login_code[member]]))
        else:
            member_parts.append(np.array([n_users + group_code[member]]))
    for child, parent in cast.NESTING:
        group_parts.append(np.array([group_code[parent]]))
        member_parts.append(np.array([n_users + group_code[child]]))
    return pd.DataFrame(
        {
            "group": np.concatenate(group_parts).astype(np.int64),
            "member": np.concatenate(member_parts).astype(np.int64),
        }
    ).drop_duplicates(ignore_index=True)


#: Popular project groups are held by this share of their department (uniform draw, then
#: scaled to the membership budget).
_POPULAR_SHARE = (0.15, 0.45)
#: Mean number of direct members of a niche project group (Poisson).
_NICHE_MEMBERS = 0.2
#: Share of project memberships that go to a popular group of *another* department.
_OUTSIDE_SHARE = 0.001


def _scale_memberships(
    rng: np.random.Generator,
    codes: pd.DataFrame,
    users: pd.DataFrame,
    groups: pd.DataFrame,
    *,
    target: int,
    depth: int,
) -> pd.DataFrame:
    """Nest the project groups, add account memberships up to ``target`` direct edges, and turn
    the codes into categorical names.

    The shape follows a real directory rather than uniform noise, so that the audit's rules
    see what they would see in one:

    * **Nesting.** A project group at level ``L`` > 1 (see :func:`_project_levels`: about
      46 % of groups are top level, 25 % one level down, … 2 % six levels down) is a member of
      one random group of its own department one level up, so its chain of ancestors is
      exactly ``L - 1`` long.
    * **Popular groups.** In each department, enough project groups to carry the membership
      budget (about 74 per department at 25 direct memberships per account) are held by
      15–45 % of the department's people accounts. They take almost all memberships; each is
      a window of a per-department shuffle of the accounts, so people's groups overlap the way
      teams do.
    * **Niche groups.** Every other project group has Poisson(0.2) direct members from its
      department: most are empty (as in any directory that has lived a few years) or
      containers of deeper groups.
    * **Outsiders.** 0.1 % of project memberships put an account into a popular group of
      another department.

    Peer-outlier findings therefore come from niche-group members and outsiders, with their
    ancestors: about 0.3 % of the direct memberships (about 14,000 at 5,000,000), where
    uniformly random memberships made nearly every one of them an outlier. A group is
    unremarkable only when 10 % of a department holds it, and with the sample's nine
    departments that leaves room for a few hundred well-held groups per department, which
    is why most project groups are small.
    """
    n_users = len(users)
    tier = groups["tier"].to_numpy()
    parts = [codes]
    project = np.flatnonzero(tier >= 0)
    if len(project):
        level = (depth - tier[project]).astype(np.int64)
        names, dept = np.unique(groups["department"].iloc[project].astype(str), return_inverse=True)

        # Nesting: a parent one level up in the same department (any department when the
        # group's own has none at that level).
        key = dept * (depth + 1) + level
        by_key = np.argsort(key, kind="stable")
        sorted_key = key[by_key]
        child = np.flatnonzero(level > 1)
        want = key[child] - 1
        lo = np.searchsorted(sorted_key, want)
        count = np.searchsorted(sorted_key, want, side="right") - lo
        by_level = np.argsort(level, kind="stable")
        sorted_level = level[by_level]
        any_lo = np.searchsorted(sorted_level, level[child] - 1)
        any_count = np.searchsorted(sorted_level, level[child] - 1, side="right") - any_lo
        pick = rng.random(len(child))
        own = count > 0
        parent = np.where(
            own,
            by_key[np.minimum(lo + (pick * count).astype(np.int64), len(key) - 1)],
            by_level[np.minimum(any_lo + (pick * any_count).astype(np.int64), len(key) - 1)],
        )
        has_parent = own | (any_count > 0)
        parts.append(
            pd.DataFrame(
                {
                    "group": project[parent[has_parent]],
                    "member": n_users + project[child[has_parent]],
                }
            )
        )
        need = target - sum(len(p) for p in parts)
        if need > 0:
            parts += _project_members(
                rng, users, groups, project=project, dept=dept, names=names, need=need
            )
    codes = pd.concat(parts, ignore_index=True)
    codes = pd.concat(parts, ignore_index=True)
    member_names = pd.concat(
        [users["login"], groups["name"], pd.Series([cast.FOREIGN_MEMBER])], ignore_index=True
    )
    member_type = np.where(
        codes["member"] < n_users,
        0,
        np.where(codes["member"] < n_users + len(groups), 1, 2),
    )
    return pd.DataFrame(
        {
            "group": pd.Categorical.from_codes(
                codes["group"].to_numpy(), categories=pd.Index(groups["name"])
            ),
            "member": pd.Categorical.from_codes(
                codes["member"].to_numpy(), categories=pd.Index(member_names)
            ),
            "member_type": pd.Categorical.from_codes(
                member_type, categories=pd.Index(["user", "group", "foreign"])
            ),
        }
    )


def _project_members(
    rng: np.random.Generator,
    users: pd.DataFrame,
    groups: pd.DataFrame,
    *,
    project: np.ndarray,
    dept: np.ndarray,
    names: np.ndarray,
    need: int,
) -> list[pd.DataFrame]:
    """``need`` distinct account → project group edges (fewer only when the departments are
    too small to hold them): niche members, outsiders, then popular groups' windows."""
    people_accounts = (users["kind"] == "user").to_numpy() & users["department"].notna().to_numpy()
    account_dept = pd.Index(names).get_indexer(users["department"].astype(object))
    people_accounts &= account_dept >= 0
    members = np.flatnonzero(people_accounts)
    if not len(members):
        return []
    # Per-department shuffles of the accounts, concatenated: department d is the slice
    # offset[d]:offset[d] + size[d].
    shuffled = members[rng.permutation(len(members))]
    shuffled = shuffled[np.argsort(account_dept[shuffled], kind="stable")]
    size = np.bincount(account_dept[members], minlength=len(names))
    offset = np.r_[0, np.cumsum(size)[:-1]]
    n_groups = len(groups)

    # Popular groups: the same number in every department (their sizes follow headcount).
    per_person = need / len(members)
    wanted = int(np.ceil(per_person / float(np.mean(_POPULAR_SHARE))))
    available = np.bincount(dept, minlength=len(names))
    popular_count = np.minimum(np.maximum(wanted, 1), available) * (size > 0)
    rank = np.empty(len(project), dtype=np.int64)
    order = np.lexsort((rng.random(len(project)), dept))
    first_of_dept = np.searchsorted(dept[order], dept[order])
    rank[order] = np.arange(len(project)) - first_of_dept
    popular = rank < popular_count[dept]

    # Niche members: in-department, a handful per group at most.
    niche = np.flatnonzero(~popular & (size[dept] > 0))
    niche_size = rng.poisson(_NICHE_MEMBERS, size=len(niche))
    niche_group = np.repeat(niche, niche_size)
    d = dept[niche_group]
    niche_member = shuffled[offset[d] + (rng.random(len(d)) * size[d]).astype(np.int64)]

    # Outsiders: a popular group of another department.
    popular_groups = np.flatnonzero(popular)
    outside = round(need * _OUTSIDE_SHARE) if len(popular_groups) else 0
    out_group = popular_groups[rng.integers(0, max(len(popular_groups), 1), size=outside)]
    out_member = members[rng.integers(0, len(members), size=outside)]
    other = account_dept[out_member] != dept[out_group]
    out_group, out_member = out_group[other], out_member[other]

    extra_group = np.concatenate([niche_group, out_group])
    extra_member = np.concatenate([niche_member, out_member])
    key = extra_member.astype(np.int64) * n_groups + project[extra_group]
    _, first = np.unique(key, return_index=True)
    first = np.sort(first)
    extra_group, extra_member = extra_group[first], extra_member[first]

    # Popular groups take the rest, split by drawn share x headcount (largest remainder), each
    # a window of its department's shuffle, so no account appears twice in one group.
    budget = max(need - len(extra_group), 0)
    pd_ = dept[popular_groups]
    weight = rng.uniform(*_POPULAR_SHARE, size=len(popular_groups)) * size[pd_]
    exact = budget * weight / weight.sum() if weight.sum() > 0 else weight
    counts = np.minimum(np.floor(exact).astype(np.int64), size[pd_])
    short = budget - int(counts.sum())
    if short > 0:
        room = np.flatnonzero(counts < size[pd_])
        by_remainder = room[np.argsort(-(exact - np.floor(exact))[room], kind="stable")]
        counts[by_remainder[:short]] += 1
    start = (rng.random(len(popular_groups)) * size[pd_]).astype(np.int64)
    group_at = np.repeat(np.arange(len(popular_groups)), counts)
    step = np.arange(len(group_at)) - np.repeat(np.cumsum(counts) - counts, counts)
    d = pd_[group_at]
    window = offset[d] + (start[group_at] + step) % size[d]
    return [
        pd.DataFrame({"group": project[popular_groups[group_at]], "member": shuffled[window]}),
        pd.DataFrame({"group": project[extra_group], "member": extra_member}),
    ]


# --- data inventory, permissions, policy, planted problems ----------------------------------


def _resources(people: pd.DataFrame, logins: pd.Series, as_of: pd.Timestamp) -> pd.DataFrame:
    """The data inventory with owners resolved to emails and ages to timestamps."""
    owners = {
        f"login:{login}": str(mail) for login, mail in zip(logins, people["email"], strict=True)
    }
    bulk = people.iloc[len(cast.CAST_PEOPLE) :]
    heads = bulk.drop_duplicates("title")
    owners |= {f"title:{t}": str(m) for t, m in zip(heads["title"], heads["email"], strict=True)}
    table = pd.DataFrame(
        list(cast.RESOURCES),
        columns=[
            "resource",
            "type",
            "system",
            "path",
            "owner",
            "sensitivity",
            "data_categories",
            "retention_days",
            "last_modified",
            "third_parties",
        ],
    )
    table["owner"] = table["owner"].map(lambda ref: owners.get(ref, "")).astype("str")
    modified = as_of.normalize() - pd.to_timedelta(table["last_modified"], unit="D")
    table["last_modified"] = (modified + pd.Timedelta(hours=17, minutes=42)).dt.strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    table["retention_days"] = table["retention_days"].astype("Int64")
    return table


def _acl() -> pd.DataFrame:
    """Get-Acl rows for the shares on fs01 and some of their folders."""
    standard = (
        ("BUILTIN\\Administrators", cast.FULL, "Allow"),
        ("NT AUTHORITY\\SYSTEM", cast.FULL, "Allow"),
        ("CREATOR OWNER", cast.GENERIC_ALL, "Allow"),
    )
    rows: list[tuple[str, str, str, str, str]] = []
    prefix = f"Microsoft.PowerShell.Core\\FileSystem::{cast.FS}\\"
    share_aces = dict(cast.ACL_SHARES)
    for share, aces in cast.ACL_SHARES:
        rows += [(prefix + share, *ace, "False") for ace in standard + aces]
    for share, folder, own in cast.ACL_FOLDERS:
        path = f"{prefix}{share}\\{folder}"
        rows += [(path, *ace, "False") for ace in own]
        rows += [(path, *ace, "True") for ace in standard + share_aces[share]]
    # the board minutes folder does not inherit: a protected ACL set by hand
    board = f"{prefix}legal\\Board"
    rows += [
        (board, "BUILTIN\\Administrators", cast.FULL, "Allow", "False"),
        (board, "NT AUTHORITY\\SYSTEM", cast.FULL, "Allow", "False"),
        (board, f"{cast.NETBIOS}\\G-Executive", cast.READ, "Allow", "False"),
        (board, f"{cast.NETBIOS}\\DL-FS-Legal-RW", cast.MODIFY, "Allow", "False"),
    ]
    columns = ["Path", "IdentityReference", "FileSystemRights", "AccessControlType", "IsInherited"]
    return pd.DataFrame(rows, columns=columns)


def _grants() -> pd.DataFrame:
    return pd.DataFrame(list(cast.GRANTS), columns=["principal", "resource", "right"])


_APPROVED_ADMINS = ("adm.praman", "adm.twojcik", "adm.ogrant")


def _policy(people: pd.DataFrame, logins: pd.Series, as_of: pd.Timestamp) -> dict[str, Any]:
    email = dict(zip(logins, people["email"], strict=True))
    day = as_of.normalize()
    return {
        "stale_days": 90,
        "privileged_stale_days": 30,
        "new_account_grace_days": 14,
        "peer_min_size": 5,
        "peer_max_share": 0.1,
        "privileged": {
            "groups": ["IT-Tier0", "DL-FS-Payments-FullControl"],
            "approved": {
                "Domain Admins": list(_APPROVED_ADMINS),
                "IT-Tier0": list(_APPROVED_ADMINS),
                "Administrators": list(_APPROVED_ADMINS),
                "Enterprise Admins": ["adm.praman"],
                "Backup Operators": ["svc-backup"],
                "DL-FS-Payments-FullControl": ["ahassan"],
            },
        },
        "service_accounts": {"patterns": ["svc-*", "*$"]},
        "mover_grace_days": 30,
        "joiner_tolerance_days": 7,
        "joiner_window_days": 90,
        "third_party_expiry_days": 30,
        "sod": [
            {
                "name": "Invoice entry and payment release",
                "entitlements": ["AP-Invoice-Entry", "AP-Payment-Release"],
            }
        ],
        "exceptions": [
            {
                "rule": "password-never-expires",
                "subject": "rlee",
                "owner": email["praman"],
                "reason": "Logs on to the LC-MS analyser's vendor software, which cannot rotate "
                "passwords; the account is limited to the lab VLAN (CHG-4711).",
                "expires": (day + 120 * _DAY).date(),
            },
            {
                "rule": "orphan-account",
                "subject": "temp.audit",
                "owner": email["rkerr"],
                "reason": "Temporary account for the external auditors' FY2026 fieldwork.",
                "expires": (day - 52 * _DAY).date(),
            },
        ],
        "holds": [_hold(email, day, hold) for hold in cast.HOLDS],
    }


def _hold(
    email: Mapping[str, str],
    day: pd.Timestamp,
    spec: tuple[str, str, str, int, int | None, str],
) -> dict[str, Any]:
    person, resource, matter, since, until, owner = spec
    hold: dict[str, Any] = {"person": email[person]} if person else {"resource": resource}
    hold.update(matter=matter, since=(day + since * _DAY).date(), owner=email[owner])
    if until is not None:
        hold["until"] = (day + until * _DAY).date()
    return hold


def _planted(users: pd.DataFrame, people: pd.DataFrame, logins: pd.Series) -> pd.DataFrame:
    table = pd.DataFrame(
        list(cast.PLANTED), columns=["rule", "subject_type", "subject", "expect", "why"]
    )
    owner = users.set_index("login")["owner_login"]
    name = pd.Series(people["name"].to_numpy(), index=logins)
    table["person"] = table["subject"].map(owner).map(name).astype("str")
    return table
