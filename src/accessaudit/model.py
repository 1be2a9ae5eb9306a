"""The normalised tables of a snapshot, as explicit schemas.

Each table is a contract: its columns, their dtypes, which may be empty and which words are
allowed. Connectors hand their rows to :meth:`TableSchema.conform`, which coerces the dtypes
and reports every bad row (by source, file and line) in one :class:`~accessaudit.SourceError`
whose ``failures`` DataFrame lists them all.

>>> from accessaudit.model import TABLES
>>> TABLES["accounts"].column_names[:3]
('account_id', 'system', 'native_id')
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from accessaudit.errors import ConfigError, SnapshotError, SourceError

__all__ = [
    "ANY_HOST_GROUP",
    "DERIVED_TABLES",
    "EVERY_ROLE_GROUP",
    "FALSE_WORDS",
    "LINK_COLUMNS",
    "LINK_SCOPES",
    "OLDEST_READABLE_SCHEMA",
    "PRINCIPAL_TYPES",
    "REFERENCES",
    "RESOURCE_TYPES",
    "RIGHTS",
    "RULE_IDS",
    "SCHEMA_VERSION",
    "SENSITIVITIES",
    "STATUSES",
    "STORED_TABLES",
    "TABLES",
    "TRUE_WORDS",
    "WORKER_TYPES",
    "Column",
    "TableSchema",
    "choose_as_of",
    "failures_error",
    "iso_timestamp",
    "utc_timestamp",
]

#: Bumped whenever a stored table changes shape; written into every snapshot manifest.
#: Version 2 added the HR history and contract columns of ``people`` (all optional): a
#: version-1 snapshot still loads, with those columns empty (see :meth:`TableSchema.restore`).
#: Version 3 added ``accounts.sponsor_id`` and ``grants.drive_id`` / ``item_id`` (optional,
#: empty in older snapshots).
SCHEMA_VERSION = 3
#: The oldest snapshot schema this version reads.
OLDEST_READABLE_SCHEMA = 1

#: Ordered from least to most; comparisons (``>= "confidential"``) work on these categoricals.
SENSITIVITIES = ("public", "internal", "confidential", "restricted")
RIGHTS = ("read", "write", "admin", "owner")
#: An HR person's status and kind of worker.
STATUSES = ("active", "leave", "terminated")
WORKER_TYPES = ("employee", "contractor", "vendor")
#: Kinds of data store in the inventory.
RESOURCE_TYPES = (
    "share", "folder", "database", "site", "bucket", "app", "other", "library", "file",
)  # fmt: skip
#: What a grant's or membership's principal turned out to be. ``link``: a sharing link that
#: reaches a class of people rather than named ones (principal_id ``anyone`` or
#: ``organization``); ``external``: an e-mail address invited from outside the directory.
PRINCIPAL_TYPES = ("account", "group", "unresolved", "link", "external")
#: The scopes of a Microsoft 365 sharing link (resources/sharinglink.md).
LINK_SCOPES = ("anonymous", "organization", "users", "existingAccess")
#: Words read as true / false in boolean columns (compared lower-case, trimmed).
TRUE_WORDS = frozenset({"true", "yes", "y", "1", "t"})
FALSE_WORDS = frozenset({"false", "no", "n", "0", "f"})

#: The rule ids, a public contract (DESIGN.md), in catalogue order. The one list: the policy
#: checks exception rules against it, and the rule catalogue is ordered and checked by it.
RULE_IDS: tuple[str, ...] = (
    "stale-account",
    "leaver-active",
    "orphan-account",
    "excess-privilege",
    "stale-privilege",
    "peer-outlier",
    "sod-conflict",
    "third-party-sensitive",
    "mfa-missing",
    "password-never-expires",
    "direct-grant",
    "unowned-resource",
    "unclassified-resource",
    "retention-overdue",
    "disabled-privileged",
    "public-link",
    "org-wide-link",
    "link-no-expiry",
    "external-sharing",
    "unclassified-sensitive-data",
    "mover-retained-access",
    "joiner-early-access",
    "joiner-excess",
    "third-party-expiring",
    "guest-without-sponsor",
    "public-database-grant",
)

#: Native ids of the database pseudo-groups rules read: PostgreSQL's ``PUBLIC`` (every role),
#: and the MySQL/MariaDB accounts whose host is ``%`` (the mysql manifest's ``any-host``
#: role attribute).
EVERY_ROLE_GROUP = "@public"
ANY_HOST_GROUP = "@any-host"

Kind = Literal["str", "bool", "boolean", "datetime", "int", "category", "label"]

_MAX_FAILURES_IN_MESSAGE = 3


@dataclass(frozen=True)
class Column:
    """One column: its name, kind of value, whether it may be empty, and allowed words."""

    name: str
    kind: Kind
    required: bool = False
    allowed: tuple[str, ...] | None = None
    ordered: bool = False
    default: object = None
    description: str = ""

    def dtype(self) -> Any:
        """The pandas dtype a conformed column has."""
        if self.kind == "str":
            return pd.StringDtype(na_value=np.nan)
        if self.kind == "bool":
            return np.dtype(bool)
        if self.kind == "boolean":
            return pd.BooleanDtype()
        if self.kind == "datetime":
            return pd.DatetimeTZDtype("ns", "UTC")
        if self.kind == "int":
            return pd.Int64Dtype()
        if self.kind == "label":
            # Free-text values that repeat a lot (group paths): categorical keeps millions of
            # rows cheap. Categories are whatever occurs, so dtype equality is by kind only.
            return pd.CategoricalDtype()
        return pd.CategoricalDtype(list(self.allowed or ()), ordered=self.ordered)

    def filled(self, index: pd.Index) -> pd.Series:
        """This column's default (missing when it has none) on every row of ``index``, in its
        dtype: what an optional column an older snapshot lacks reads as.

        Built in the dtype directly: through Python objects this took ~0.1 s per 200,000
        rows of people.
        """
        dtype = self.dtype()
        if self.default is not None:
            return pd.Series(self.default, index=index, dtype=object).astype(dtype)
        if isinstance(dtype, pd.CategoricalDtype):
            codes = np.full(len(index), -1, dtype=np.int8)
            return pd.Series(pd.Categorical.from_codes(codes, dtype=dtype), index=index)
        return pd.Series(index=index, dtype=dtype)


@dataclass(frozen=True)
class TableSchema:
    """A snapshot table: columns, primary key and a line saying what one row is."""

    name: str
    row: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    column_index: Mapping[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "column_index", {c.name: c for c in self.columns})

    @property
    def column_names(self) -> tuple[str, ...]:
        """The columns in their stored order."""
        return tuple(c.name for c in self.columns)

    def empty(self) -> pd.DataFrame:
        """A table with no rows and the right dtypes."""
        return pd.DataFrame({c.name: pd.Series([], dtype=c.dtype()) for c in self.columns})

    def conform(
        self,
        frame: pd.DataFrame,
        *,
        source: str | None = None,
        origin: pd.Series | None = None,
        headers: Mapping[str, str] | None = None,
        hints: Mapping[str, str] | None = None,
        date_format: str | None = None,
        require: tuple[str, ...] = (),
    ) -> pd.DataFrame:
        """Return ``frame`` with exactly this table's columns, coerced to their dtypes.

        Optional columns that are absent are added (empty, or their default); extra columns
        are dropped. Every value that cannot be coerced, every empty required value, every word
        outside a column's allowed set and every row sharing a key with another is collected;
        if there is any, one :class:`SourceError` names the first few (in row order) and
        carries them all in ``failures``. The message stays short however many rows are bad.

        ``origin`` (same index as ``frame``) says where each row came from, e.g.
        ``"hr.csv:14"``; without it rows are named by position. ``headers`` names columns as
        the source does (``{"person_id": "employee_id"}``) and ``hints`` adds what the user can
        do about a bad value (``{"status": "map it in [sources.status_map]"}``). ``require``
        names optional columns that this source must nevertheless fill.

        Text dates must be ISO 8601 (``2026-11-21``, ``2026-11-21T08:00:00Z``), or match
        ``date_format`` (strftime) when given. Dates beyond what a timestamp holds
        (``9999-12-31`` for "no end", ``0001-01-01``) are stored empty: no date.

        >>> TABLES["people"].conform(pd.DataFrame({"person_id": ["1"], "name": ["Ann"],
        ...     "status": ["active"], "worker_type": ["employee"], "system": ["hr"],
        ...     "end_date": ["9999-12-31"]}))["end_date"].isna().all()
        np.True_
        """
        if origin is None:
            origin = pd.Series([f"row {i + 1}" for i in range(len(frame))], index=frame.index)
        headers = headers or {}
        hints = hints or {}
        missing = [
            c.name
            for c in self.columns
            if c.required and c.default is None and c.name not in frame.columns
        ]
        if missing:
            raise SourceError(
                f"{self.name}: missing required column(s) {', '.join(missing)}", source=source
            )
        position = pd.Series(np.arange(len(frame)), index=frame.index)
        out: dict[str, pd.Series] = {}
        failures: list[pd.DataFrame] = []
        for column in self.columns:
            if column.name in frame.columns:
                raw = frame[column.name]
            else:
                raw = pd.Series(column.default, index=frame.index, dtype=object)
            coerced, bad = _coerce(raw, column, date_format)
            if column.required or column.name in require:
                bad = bad | (coerced.isna() & ~bad)
            if bad.any():
                hint = f"; {hints[column.name]}" if column.name in hints else ""
                failures.append(
                    pd.DataFrame(
                        {
                            "position": position[bad].to_numpy(),
                            "location": origin[bad].astype(str).to_numpy(),
                            "column": headers.get(column.name, column.name),
                            "value": raw[bad].astype(str).to_numpy(),
                            "problem": np.where(
                                raw[bad].isna().to_numpy(),
                                "empty but required",
                                _problem_text(column, date_format) + hint,
                            ),
                        }
                    )
                )
            out[column.name] = coerced
        result = pd.DataFrame(out, index=frame.index)
        if self.key and len(result):
            # keep=False: every row sharing a key is named, so the user sees all the lines.
            # Empty keys are reported as empty above, not as repeats of each other.
            filled = result[list(self.key)].notna().all(axis=1)
            duplicated = result.duplicated(list(self.key), keep=False) & filled
            if duplicated.any():
                failures.append(
                    pd.DataFrame(
                        {
                            "position": position[duplicated].to_numpy(),
                            "location": origin[duplicated].astype(str).to_numpy(),
                            "column": ",".join(headers.get(k, k) for k in self.key),
                            "value": result.loc[duplicated, list(self.key)]
                            .astype(object)
                            .astype(str)
                            .agg("/".join, axis=1)
                            .to_numpy(),
                            "problem": "duplicate key",
                        }
                    )
                )
        if failures:
            raise failures_error(pd.concat(failures, ignore_index=True), source=source)
        return result.reset_index(drop=True)

    def restore(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Give categorical columns read back from Parquet their schema's categories again
        (Parquet keeps the codes but not always the full, ordered category list), and add
        optional columns an older snapshot does not have yet (empty), in schema order."""
        restored = frame.copy(deep=False)
        absent = [c for c in self.columns if c.name not in restored.columns and not c.required]
        if absent:
            for column in absent:
                restored[column.name] = column.filled(restored.index)
            restored = restored[[c for c in self.column_names if c in restored.columns]]
        for column in self.columns:
            if column.kind == "category" and column.name in restored.columns:
                values = restored[column.name]
                dtype = column.dtype()
                if isinstance(values.dtype, pd.CategoricalDtype):
                    restored[column.name] = _recategorised(values, dtype)
                else:
                    restored[column.name] = values.astype("string").astype(dtype)
        return restored

    def check(self, frame: pd.DataFrame) -> None:
        """Raise :class:`SnapshotError` unless ``frame`` has exactly this table's columns and
        dtypes (used on load, where data must already be conformed)."""
        if tuple(frame.columns) != self.column_names:
            raise SnapshotError(
                f"table {self.name} has columns {list(frame.columns)}, "
                f"expected {list(self.column_names)}"
            )
        for column in self.columns:
            dtype = frame[column.name].dtype
            if column.kind == "label" and isinstance(dtype, pd.CategoricalDtype):
                continue
            if dtype != column.dtype():
                raise SnapshotError(
                    f"table {self.name} column {column.name} has dtype "
                    f"{frame[column.name].dtype}, expected {column.dtype()}"
                )


def _recategorised(values: pd.Series, dtype: pd.CategoricalDtype) -> pd.Series:
    """A categorical column read back from Parquet, with the schema's categories.

    Stored categories that begin the schema's list in its order (the usual case: Parquet
    keeps the words that occur, or an older, shorter list) keep their codes as they are:
    recoding millions of memberships would make a fresh array of them for nothing (on a VM,
    0.1 s of first-touch memory at 5,000,000 rows). Otherwise the few categories are recoded,
    not every row, and a stored word outside the list becomes missing, as through strings.
    """
    stored = values.cat.categories
    wanted = dtype.categories
    if len(stored) <= len(wanted) and stored.equals(wanted[: len(stored)]):
        codes = values.cat.codes.to_numpy()
        return pd.Series(
            pd.Categorical.from_codes(codes, dtype=dtype), index=values.index, name=values.name
        )
    return values.cat.set_categories(wanted, ordered=dtype.ordered)


def utc_timestamp(value: pd.Timestamp | str | object) -> pd.Timestamp:
    """``value`` as a UTC timestamp: every time in a snapshot is UTC, and a date without a
    zone (``"2026-11-21"``) is taken as UTC midnight."""
    stamp = pd.Timestamp(value)  # type: ignore[arg-type]
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def iso_timestamp(value: object, *, where: str) -> pd.Timestamp:
    """A date a user gave (``--as-of``, ``--deadline``, ``[audit] as_of``) as a UTC timestamp.

    Only ISO 8601 is accepted (``2026-11-21``, or a date and time such as
    ``2026-11-21T09:00:00+01:00``), because ``01/02/2026`` is 1 February to some readers and
    2 January to others; a TOML date or a ``datetime`` is taken as it is. Anything else, or
    a date outside what pandas can hold (years 1678-2261), is a :class:`ConfigError` naming
    ``where``.

    >>> iso_timestamp("2026-12-15", where="--deadline").isoformat()
    '2026-12-15T00:00:00+00:00'
    """
    if isinstance(value, pd.Timestamp | dt.datetime | dt.date):
        parsed: object = value
    elif isinstance(value, str):
        text = value.strip()
        try:
            parsed = (
                dt.date.fromisoformat(text) if len(text) <= 10 else dt.datetime.fromisoformat(text)
            )
        except ValueError:
            raise ConfigError(
                f"{where}: {value!r} is not a date in ISO 8601 form; write it as YYYY-MM-DD "
                "(for example 2026-12-15)"
            ) from None
    else:
        raise ConfigError(f"{where}: {value!r} is not a date; write it as YYYY-MM-DD")
    try:
        # Nanoseconds, as every table holds: a date past 2262 must fail here, not mid-audit.
        return utc_timestamp(parsed).as_unit("ns")
    except (ValueError, OverflowError):
        # pandas' nanosecond timestamps end in 2262 (OutOfBoundsDatetime is a ValueError).
        raise ConfigError(
            f"{where}: {value!r} is outside the dates accessaudit can judge "
            f"({pd.Timestamp.min.date()} to {pd.Timestamp.max.date()})"
        ) from None


def choose_as_of(
    *,
    explicit: object = None,
    snapshot: object = None,
    configured: object = None,
) -> pd.Timestamp:
    """The one rule for the date an audit judges against (UTC), first given wins:

    1. ``explicit`` — ``--as-of`` on the command line, or ``as_of=`` passed to the API;
    2. ``snapshot`` — the date of a saved snapshot being audited (the day its data was read);
    3. ``configured`` — ``[audit] as_of`` in the config (for a collection, and so its snapshot);
    4. now.

    >>> choose_as_of(snapshot="2026-09-30", configured="2026-11-21").date().isoformat()
    '2026-09-30'
    """
    for value in (explicit, snapshot, configured):
        if value is not None:
            return utc_timestamp(value)
    return pd.Timestamp.now(tz="UTC")


def failures_error(failures: pd.DataFrame, *, source: str | None) -> SourceError:
    """One :class:`SourceError` for a table of bad rows (columns ``location``, ``column``,
    ``value``, ``problem``, and optionally ``position`` to sort them in input order).

    The message names the first few, in input order, and how many more there are; the error
    carries every row in ``failures`` and the first row's location in ``location``.
    """
    if "position" in failures.columns:
        failures = failures.sort_values("position", kind="stable").drop(columns="position")
    failures = failures.reset_index(drop=True)
    shown = [
        f"{r.location}: {_failure_text(r.column, r.value, r.problem)}"
        for r in failures.head(_MAX_FAILURES_IN_MESSAGE).itertuples()
    ]
    first_location = str(failures.loc[0, "location"])
    shown[0] = shown[0].removeprefix(f"{first_location}: ")
    more = len(failures) - _MAX_FAILURES_IN_MESSAGE
    if more > 0:
        shown.append(f"and {more} more (see .failures)")
    return SourceError("; ".join(shown), source=source, location=first_location, failures=failures)


def _failure_text(column: object, value: object, problem: object) -> str:
    shown = f" {value!r}" if value not in ("", "nan", "<NA>", None) else ""
    return f"{column}{shown} {problem}"


def _replace_surrogates(value: object) -> object:
    if not isinstance(value, str):
        return value
    # Through UTF-16, a pair of surrogates becomes its character again and a lone one one U+FFFD.
    return value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def _problem_text(column: Column, date_format: str | None = None) -> str:
    if column.allowed is not None:
        return f"is not one of {', '.join(column.allowed)}"
    if column.kind == "datetime":
        if date_format:
            return f"does not match date_format {date_format!r}"
        return "is not an ISO 8601 date (YYYY-MM-DD); set date_format for this source"
    return {
        "bool": "is not true/false",
        "boolean": "is not true/false",
        "int": "is not a whole number",
    }.get(column.kind, "is not valid")


_LARGEST_WHOLE = 2**53
#: The range a nanosecond timestamp holds; dates outside it are "no date" (9999-12-31).
_EARLIEST = pd.Timestamp.min.tz_localize("UTC")
_LATEST = pd.Timestamp.max.tz_localize("UTC")


def _coerce_dates(raw: pd.Series, date_format: str | None) -> tuple[pd.Series, pd.Series]:
    """Text or datetime values as UTC timestamps; a mask of values that are not dates."""
    was_missing = raw.isna()
    if isinstance(raw.dtype, pd.DatetimeTZDtype):
        parsed = raw.dt.tz_convert("UTC")
    elif pd.api.types.is_datetime64_dtype(raw.dtype):
        parsed = raw.dt.tz_localize("UTC")
    elif pd.api.types.is_numeric_dtype(raw.dtype):
        parsed = pd.to_datetime(raw, utc=True, errors="coerce")
    else:
        text = raw.astype("string").str.strip()
        text = text.mask(text == "")
        parsed = pd.to_datetime(text, utc=True, errors="coerce", format=date_format or "ISO8601")
    # Parsed at microsecond resolution; a timestamp holds 1677-2262, so far dates (HR's
    # 9999-12-31 "no end", 0001-01-01) become no date rather than an overflow.
    beyond = ((parsed < _EARLIEST) | (parsed > _LATEST)).fillna(False).astype(bool)
    parsed = parsed.mask(beyond).astype(pd.DatetimeTZDtype("ns", "UTC"))
    return parsed, parsed.isna() & ~was_missing & ~beyond


def _coerce(
    raw: pd.Series, column: Column, date_format: str | None = None
) -> tuple[pd.Series, pd.Series]:
    """Coerce one column; return the coerced values and a mask of values that would not go."""
    was_missing = raw.isna()
    dtype = column.dtype()
    if column.kind == "str":
        try:
            coerced = raw.astype(dtype)
        except UnicodeEncodeError:
            # A lone surrogate (JSON allows "\ud800") cannot be stored as UTF-8: it becomes
            # U+FFFD, visibly, rather than costing the whole collection. Only on this rare
            # path is the column walked value by value.
            coerced = raw.map(_replace_surrogates).astype(dtype)
        return coerced, pd.Series(False, index=raw.index)
    if column.kind in ("bool", "boolean"):
        if pd.api.types.is_bool_dtype(raw.dtype):
            values = raw.astype("boolean")
        else:
            words = raw.astype("string").str.strip().str.lower()
            values = pd.Series(pd.NA, index=raw.index, dtype="boolean")
            values[words.isin(TRUE_WORDS).fillna(False).astype(bool)] = True
            values[words.isin(FALSE_WORDS).fillna(False).astype(bool)] = False
        bad = values.isna() & ~was_missing
        if column.kind == "bool":
            fill = bool(column.default) if column.default is not None else False
            return values.fillna(fill).astype(bool), bad
        return values, bad
    if column.kind == "datetime":
        return _coerce_dates(raw, date_format)
    if column.kind == "label":
        coerced = raw if isinstance(raw.dtype, pd.CategoricalDtype) else raw.astype("category")
        return coerced, pd.Series(False, index=raw.index)
    if column.kind == "int":
        # As floats, so 20-digit numbers and 1e400 are bad values, not an overflow; whole
        # numbers beyond 2**53 cannot be told apart, so they are bad too.
        numbers = pd.to_numeric(raw, errors="coerce").astype("float64")
        whole = (numbers % 1 == 0) & (numbers.abs() <= _LARGEST_WHOLE)
        bad = ~was_missing & ~whole
        return numbers.where(whole).astype(dtype), bad
    if raw.dtype == dtype:
        return raw, pd.Series(False, index=raw.index)
    words = raw.astype("string").str.strip().str.lower()
    known = words.isin(column.allowed or ()).fillna(False).astype(bool)
    coerced = pd.Series(pd.Categorical(words.where(known), dtype=dtype), index=raw.index)
    return coerced, ~known & ~was_missing


def _str(name: str, required: bool = False, description: str = "") -> Column:
    return Column(name, "str", required=required, description=description)


def _time(name: str, description: str = "") -> Column:
    return Column(name, "datetime", description=description)


def _enum(
    name: str,
    allowed: tuple[str, ...],
    *,
    required: bool = True,
    ordered: bool = False,
    description: str = "",
) -> Column:
    return Column(
        name,
        "category",
        required=required,
        allowed=allowed,
        ordered=ordered,
        description=description,
    )


PEOPLE = TableSchema(
    "people",
    "a person from HR",
    (
        _str("person_id", True, "employee id from HR"),
        _str("name", True),
        _str("email"),
        _str("department"),
        _str("title"),
        _str("manager_id", description="person_id of the manager"),
        _enum("status", STATUSES),
        _enum("worker_type", WORKER_TYPES),
        _time("start_date"),
        _time("end_date"),
        _str("system", True, "the HR source it came from"),
        # HR history and contract facts (schema version 2), all optional: the lifecycle rules
        # (movers, joiners, rehires, third parties) read them when HR provides them.
        _str("previous_department", description="department before the last move"),
        _str("previous_title", description="title before the last move"),
        _time("moved_on", "effective date of the last move (department or title)"),
        _time("contract_end", "end of a contractor's or vendor's contract"),
        _str("sponsor_id", description="person_id of the sponsor of a third party"),
        _time("rehired_on", "date of the person's latest return after leaving"),
    ),
    key=("person_id",),
)

ACCOUNTS = TableSchema(
    "accounts",
    "an account in one system",
    (
        _str("account_id", True, "system:native-id, unique across the snapshot"),
        _str("system", True, "the configured source name"),
        _str("native_id", True, "the source's own identifier (objectSid, DN, object id)"),
        _str("login", True, "sAMAccountName, uid or userPrincipalName as people type it"),
        _str("display_name"),
        _str("email"),
        _str("upn"),
        _str("employee_id", description="the employee id the source carries, if any"),
        _str("department", description="the department the source carries, if any"),
        _str("dn", description="distinguished name, for LDAP sources"),
        _str("sid"),
        _str("person_id", description="correlated HR person, empty when unmatched"),
        _enum(
            "correlated_by",
            ("employee-id", "email", "upn", "owner-login", "manual", "unmatched"),
            required=False,
        ),
        _enum("kind", ("user", "admin", "service", "guest", "shared")),
        Column("enabled", "bool", required=True),
        Column("locked", "boolean", description="locked out, where the source says"),
        _time("expires", "account expiry date, empty for never"),
        _time("created"),
        _time("last_sign_in", "empty means never signed in (see last_sign_in_known)"),
        Column(
            "last_sign_in_known",
            "bool",
            default=True,
            description="false where the source could not report sign-ins at all",
        ),
        _time("password_last_set"),
        Column("password_never_expires", "bool", default=False),
        Column("mfa", "boolean", description="MFA registered; empty where the source can't say"),
        _str(
            "sponsor_id",
            description="account_id or group_id of the sponsor the source records for a guest "
            "(Entra sponsors; of several, the first enabled user)",
        ),
    ),
    key=("account_id",),
)

GROUPS = TableSchema(
    "groups",
    "a group or role",
    (
        _str("group_id", True, "system:native-id"),
        _str("system", True),
        _str("native_id", True),
        _str("name", True),
        _enum("kind", ("group", "directory-role", "app-role")),
        Column("privileged", "bool", required=True, default=False),
        _str("owner_id", description="account_id or person_id of the owner"),
        _str("dn"),
        _str("sid"),
        _str("description"),
    ),
    key=("group_id",),
)

MEMBERSHIPS = TableSchema(
    "memberships",
    "a direct membership edge",
    (
        _str("group_id", True),
        _str("member_id", True, "account_id or group_id; for unresolved members the raw value"),
        _enum("member_type", PRINCIPAL_TYPES),
        _enum("assignment", ("active", "eligible")),
    ),
    key=("group_id", "member_id", "assignment"),
)

RESOURCES = TableSchema(
    "resources",
    "a data store",
    (
        _str("resource_id", True, "system:name"),
        _str("system", True),
        _str("name", True),
        _enum("type", RESOURCE_TYPES),
        _str("path", description="UNC path, URL or connection string"),
        _str("owner", description="the owner as the inventory wrote it"),
        _str("owner_id", description="person_id of the owner"),
        _enum("sensitivity", SENSITIVITIES, required=False, ordered=True),
        _str("data_categories", description="';'-joined, sorted: pci;phi;pii"),
        Column("retention_days", "int"),
        _time("last_modified"),
        _str("third_parties"),
        Column("inventoried", "bool", required=True, default=True),
        _str("parent_id", description="resource_id of the site or folder it sits in, if any"),
    ),
    key=("resource_id",),
)

GRANTS = TableSchema(
    "grants",
    "a permission on a resource",
    (
        _str("principal_id", True, "account_id or group_id; for unresolved, the raw identity"),
        _enum("principal_type", PRINCIPAL_TYPES),
        _str("resource_id", True),
        _enum("right", RIGHTS, ordered=True),
        Column("inherited", "bool", default=False),
        Column("deny", "bool", default=False),
        _str("path", description="the exact path or object the permission sits on"),
        _str("system", True, "the source of the permission"),
        # Sharing links and invitations (m365); empty for every other permission.
        _str("link_type", description="view, edit or embed, for a sharing link"),
        _enum("link_scope", LINK_SCOPES, required=False, description="a sharing link's scope"),
        _time("link_expires", "when the link or invitation expires; empty for never"),
        _time("link_created", "when the link was created, where the source says"),
        _str("link_created_by", description="who created or sent it, where the source says"),
        Column("link_has_password", "boolean", description="the link needs a password"),
        Column("link_prevents_download", "boolean", description="view without download"),
        _str("permission_id", description="the source's id of the permission (for removal)"),
        # Where a Microsoft 365 permission sits, for the Graph call that removes it
        # (DELETE /drives/{drive_id}/items/{item_id}/permissions/{permission_id}). Optional:
        # a snapshot written before them loads with them empty (TableSchema.restore).
        _str("drive_id", description="the Graph drive (library) id the permission sits in"),
        _str("item_id", description="the Graph driveItem id the permission sits on"),
    ),
)

#: The grant columns that describe a sharing link and locate its permission; references
#: carry them through resolution (:mod:`accessaudit.resolve`).
LINK_COLUMNS = (
    "link_type",
    "link_scope",
    "link_expires",
    "link_created",
    "link_created_by",
    "link_has_password",
    "link_prevents_download",
    "permission_id",
    "drive_id",
    "item_id",
)

REFERENCES = TableSchema(
    "references",
    "a permission as its source wrote it, before principal and resource are resolved",
    (
        Column(
            "principal",
            "label",
            required=True,
            description="as written: DOMAIN\\name or a SID (windows), or an account_id, "
            "group_id, login or group name (name)",
        ),
        _enum("principal_form", ("windows", "name")),
        Column("domain", "label", description="NetBIOS domain of DOMAIN\\name identities"),
        Column(
            "directory",
            "label",
            description="the source whose accounts and groups the principal names; empty for any",
        ),
        Column(
            "resource",
            "label",
            required=True,
            description="as written: a path (path) or a resource_id or inventory name (name)",
        ),
        _enum("resource_form", ("path", "name")),
        _enum(
            "resource_type",
            RESOURCE_TYPES,
            required=False,
            description="the type of a resource the inventory does not know (name form)",
        ),
        _enum(
            "right",
            RIGHTS,
            required=False,
            ordered=True,
            description="empty where the entry gives no data right (kept to be counted)",
        ),
        Column("inherited", "bool", default=False),
        Column("deny", "bool", default=False),
        Column("system", "label", required=True, description="the source"),
        _str("location", True, "file:line it came from"),
        # A specific-people sharing link names people of the directory: the grant resolved
        # from it keeps the link (optional; empty for every other permission).
        *(c for c in GRANTS.columns if c.name in LINK_COLUMNS),
    ),
)

EFFECTIVE_MEMBERSHIPS = TableSchema(
    "effective_memberships",
    "an account in a group through any depth of nesting",
    (
        Column("account_id", "label", required=True),
        Column("group_id", "label", required=True),
        Column("depth", "int", required=True, description="1 = direct member"),
        Column(
            "path",
            "label",
            required=True,
            description="group names from the account's direct group to this one",
        ),
        _enum("assignment", ("active", "eligible")),
    ),
    key=("account_id", "group_id"),
)

ACCESS = TableSchema(
    "access",
    "an account's effective right on a resource",
    (
        _str("account_id", True),
        _str("resource_id", True),
        _enum("right", RIGHTS, ordered=True),
        Column("via", "label", required=True, description="'direct' or the granting group"),
        Column("path", "label", required=True, description="how the right is held"),
    ),
    key=("account_id", "resource_id"),
)

#: Tables a snapshot stores, in the order connectors fill them.
STORED_TABLES: Mapping[str, TableSchema] = {
    t.name: t for t in (PEOPLE, ACCOUNTS, GROUPS, MEMBERSHIPS, RESOURCES, GRANTS)
}
#: Tables computed from the stored ones, never written by hand.
DERIVED_TABLES: Mapping[str, TableSchema] = {t.name: t for t in (EFFECTIVE_MEMBERSHIPS, ACCESS)}
TABLES: Mapping[str, TableSchema] = {**STORED_TABLES, **DERIVED_TABLES}
