"""Legal holds: people, accounts and data that must be preserved for a legal matter.

A hold names one subject — a person (HR person_id or email), an account (account_id or
login) or a resource (resource_id or name) — with the matter, the day it started, the day it
ends (empty: until released) and its owner (the lawyer or counsel who placed it). Holds come
from the policy (``[[policy.holds]]``) or a CSV file (``[policy] holds_file``) with the columns
``person, account, resource, matter, since, until, owner``.

While a hold is current, accessaudit never proposes to delete what it covers: a remediation
plan says "disable, do not delete: legal hold <matter>" instead, and ``retention-overdue``
reports held data as kept under legal hold rather than as a violation.

>>> hold = LegalHold("person", "E1001", "Doe v. Corp", dt.date(2026, 1, 5), None, "counsel")
>>> hold.is_current(pd.Timestamp("2026-11-21", tz="UTC"))
True
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from accessaudit.errors import ConfigError

__all__ = [
    "HOLD_COLUMNS",
    "HOLD_SUBJECTS",
    "LegalHold",
    "held_accounts",
    "held_resources",
    "hold_from_mapping",
    "read_holds_file",
]

#: What a hold can name, in the order a hold entry is read.
HOLD_SUBJECTS = ("person", "account", "resource")
#: The columns of a hold file (and the keys of a ``[[policy.holds]]`` entry).
HOLD_COLUMNS = (*HOLD_SUBJECTS, "matter", "since", "until", "owner")
#: Columns of the tables :func:`held_accounts` and :func:`held_resources` return.
HELD_COLUMNS = ("matter", "owner", "since", "until", "held_as")


@dataclass(frozen=True)
class LegalHold:
    """One legal hold on one subject (``subject_type`` is person, account or resource)."""

    subject_type: str
    subject: str
    matter: str
    since: dt.date
    until: dt.date | None
    owner: str

    def is_current(self, as_of: pd.Timestamp) -> bool:
        """True from ``since`` through ``until`` (inclusive; no ``until``: until released)."""
        day = as_of.tz_convert("UTC").date() if as_of.tzinfo else as_of.date()
        return self.since <= day and (self.until is None or day <= self.until)

    def has_expired(self, as_of: pd.Timestamp) -> bool:
        """True once the day after ``until`` has come."""
        day = as_of.tz_convert("UTC").date() if as_of.tzinfo else as_of.date()
        return self.until is not None and self.until < day

    @property
    def note(self) -> str:
        """How a hold reads in a plan or a report: ``legal hold <matter> (owner ...)``."""
        return f"legal hold {self.matter} (owner {self.owner}, since {self.since.isoformat()})"


def _date(value: Any, where: str, *, required: bool) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ConfigError(f"{where} is required (a date, YYYY-MM-DD)")
        return None
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ConfigError(f"{where} is not a date (YYYY-MM-DD): {value!r}") from None


def hold_from_mapping(item: Mapping[str, Any], where: str) -> LegalHold:
    """One hold from a ``[[policy.holds]]`` table or a hold-file row; ``where`` names it in
    errors (``audit.toml: policy.holds[0]`` or ``holds.csv:3``)."""
    unknown = sorted(set(item) - set(HOLD_COLUMNS))
    if unknown:
        raise ConfigError(
            f"{where}.{unknown[0]} is not a known key (known: {', '.join(HOLD_COLUMNS)})"
        )
    named = [
        (kind, str(item[kind]).strip())
        for kind in HOLD_SUBJECTS
        if item.get(kind) is not None and str(item[kind]).strip()
    ]
    if len(named) != 1:
        raise ConfigError(f"{where}: name exactly one of person, account or resource")
    texts = {}
    for key in ("matter", "owner"):
        value = item.get(key)
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{where}.{key} is required (a non-empty string)")
        texts[key] = value.strip()
    since = _date(item.get("since"), f"{where}.since", required=True)
    until = _date(item.get("until"), f"{where}.until", required=False)
    assert since is not None
    if until is not None and until < since:
        raise ConfigError(f"{where}.until ({until}) is before since ({since})")
    kind, subject = named[0]
    return LegalHold(kind, subject, texts["matter"], since, until, texts["owner"])


def read_holds_file(path: Path) -> tuple[LegalHold, ...]:
    """Read a hold CSV (header ``person,account,resource,matter,since,until,owner``; a file
    may leave out subject columns it does not use). Errors name the file and line."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as stream:
            reader = csv.DictReader(stream)
            header = [h.strip() for h in reader.fieldnames or ()]
            missing = [c for c in ("matter", "since", "owner") if c not in header]
            if missing:
                raise ConfigError(f"{path}: hold file lacks column(s) {', '.join(missing)}")
            holds = []
            for line, row in enumerate(reader, start=2):
                cleaned = {
                    (k or "").strip(): (v or "").strip() or None for k, v in row.items() if k
                }
                holds.append(hold_from_mapping(cleaned, f"{path}:{line}"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: hold file not found") from None
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise ConfigError(f"{path}: hold file unreadable ({error})") from error
    return tuple(holds)


def _current(holds: Iterable[LegalHold], kind: str, as_of: pd.Timestamp) -> pd.DataFrame:
    rows = [
        {
            "key": h.subject.casefold(),
            "matter": h.matter,
            "owner": h.owner,
            "since": h.since,
            "until": h.until,
        }
        for h in holds
        if h.subject_type == kind and h.is_current(as_of)
    ]
    return pd.DataFrame(rows, columns=["key", "matter", "owner", "since", "until"])


def _match(
    frame: pd.DataFrame, id_column: str, keys: Sequence[str], holds: pd.DataFrame, held_as: str
) -> pd.DataFrame:
    """Rows of ``frame`` whose ``keys`` columns (casefolded) name a hold; first hold wins."""
    parts = []
    for column in keys:
        values = frame[column].astype("string").str.casefold()
        parts.append(
            pd.DataFrame({id_column: frame[id_column].astype(str), "key": values}).dropna()
        )
    if not parts:
        return pd.DataFrame(columns=[id_column, *HELD_COLUMNS])
    found = pd.concat(parts, ignore_index=True).merge(holds, on="key")
    found = found.drop_duplicates(id_column).drop(columns=["key"])
    return found.assign(held_as=held_as)


def held_accounts(
    holds: Iterable[LegalHold],
    accounts: pd.DataFrame,
    people: pd.DataFrame,
    as_of: pd.Timestamp,
) -> pd.DataFrame:
    """Accounts under a current hold: named themselves (account_id or login) or belonging to
    a held person (person_id or email). Columns: account_id, matter, owner, since, until,
    held_as (``account`` or ``person``)."""
    holds = tuple(holds)
    on_account = _match(
        accounts,
        "account_id",
        ("account_id", "login"),
        _current(holds, "account", as_of),
        "account",
    )
    held_people = _match(
        people, "person_id", ("person_id", "email"), _current(holds, "person", as_of), "person"
    )
    via_person = (
        accounts[["account_id", "person_id"]].astype(object).merge(held_people, on="person_id")
    )
    via_person = via_person.drop(columns=["person_id"])
    out = pd.concat([on_account, via_person], ignore_index=True).drop_duplicates("account_id")
    return out.reset_index(drop=True)


def held_resources(
    holds: Iterable[LegalHold], resources: pd.DataFrame, as_of: pd.Timestamp
) -> pd.DataFrame:
    """Resources under a current hold (named by resource_id or name). Columns: resource_id,
    matter, owner, since, until, held_as."""
    return _match(
        resources,
        "resource_id",
        ("resource_id", "name"),
        _current(tuple(holds), "resource", as_of),
        "resource",
    ).reset_index(drop=True)
