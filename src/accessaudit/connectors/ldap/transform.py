"""Directory entries → the ``accounts``, ``groups`` and ``memberships`` tables.

:func:`entries_to_result` is the *transform* step of the ``ldap`` protocol: the LDIF reader and
the live reader both yield ``(dn, attributes, position)``, and both end here, so a live read
and an export of one directory give the same snapshot. What each attribute means comes from the
connector manifest (:mod:`accessaudit.connectors.ldap.mapping`), so a site whose employee id
lives in ``extensionAttribute1`` edits a manifest, not this module.

The transform streams: each entry appends to plain column lists, and every conversion that
scales with the organisation (times, bit flags, DN matching, membership resolution) runs once,
vectorised, at the end.
"""

from __future__ import annotations

import fnmatch
import logging
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from accessaudit.connectors.base import CollectContext, Manifest, SourceResult, SourceSettings
from accessaudit.connectors.ldap.mapping import (
    ACCOUNT_FIELDS,
    GROUP_FIELDS,
    TIME_FIELDS,
    DirectoryMapping,
)
from accessaudit.connectors.ldap.memberships import (
    MembershipEdges,
    dn_index,
    membership_table,
    sample,
)
from accessaudit.connectors.ldap.syntax import (
    DOMAIN_SID,
    PERMANENT_LOCK,
    convert_times,
    never_times,
    normalise_dn,
    sid_to_string,
)
from accessaudit.errors import SourceError
from accessaudit.model import TABLES

__all__ = ["DirectoryEntry", "entries_to_result"]

logger = logging.getLogger("accessaudit.connectors.ldap")

#: What both readers yield: the DN, attributes by lower-case name with raw values, and the
#: entry's position (a line number in an export, a running number on a live server).
DirectoryEntry = tuple[str, Mapping[str, list[bytes]], int]

_UAC_ACCOUNTDISABLE = 0x2
_UAC_LOCKOUT = 0x10
_UAC_DONT_EXPIRE_PASSWORD = 0x10000
_UAC_PASSWORD_EXPIRED = 0x800000


def entries_to_result(
    entries: Iterable[DirectoryEntry],
    settings: SourceSettings,
    manifest: Manifest,
    context: CollectContext,
    *,
    location: Callable[[int], str],
) -> SourceResult:
    """Turn directory entries into conformed ``accounts``, ``groups`` and ``memberships``.

    ``entries`` yields ``(dn, attributes, position)`` with attribute names lower-cased and
    raw byte values (as :func:`~accessaudit.connectors.ldap.ldif.read_ldif` and the live connector
    give them); ``location(position)`` names an entry in error messages (``corp.ldif:120``).
    The report says what was read, skipped, unresolved and unreadable.
    """
    mapping = DirectoryMapping.from_manifest(manifest)
    gather = _Gatherer(mapping, settings.name)
    for dn, attributes, position in entries:
        gather.add(dn, attributes, position, location)
    return gather.finish(settings, manifest, location)


class _Gatherer:
    """Column lists filled while streaming; turned into tables once, at the end."""

    def __init__(self, mapping: DirectoryMapping, source: str) -> None:
        self.mapping = mapping
        self.source = source
        self.by_sid = mapping.id_attribute != "dn"
        self.accounts: dict[str, list[Any]] = {"dn": [], "native_id": [], "position": []}
        self.account_class: list[str] = []
        for field in ACCOUNT_FIELDS:
            if field in mapping.attributes:
                self.accounts[field] = []
        for field in TIME_FIELDS:
            for name in mapping.names(field):
                self.accounts[f"{field}:{name}"] = []
        self.groups: dict[str, list[Any]] = {
            "dn": [],
            "native_id": [],
            "position": [],
            **{field: [] for field in GROUP_FIELDS if field in mapping.attributes},
        }
        # Which column list each mapped attribute feeds, worked out once rather than per entry.
        self.account_plan: list[tuple[list[Any], tuple[str, ...]]] = [
            (self.accounts[field], mapping.attributes[field])
            for field in ACCOUNT_FIELDS
            if field in mapping.attributes
        ] + [
            (self.accounts[f"{field}:{name}"], (name,))
            for field in TIME_FIELDS
            for name in mapping.names(field)
        ]
        self.group_plan: list[tuple[list[Any], tuple[str, ...]]] = [
            (self.groups[field], mapping.attributes[field])
            for field in GROUP_FIELDS
            if field in mapping.attributes
        ]
        self.edges = MembershipEdges()
        self.entries = 0
        self.skipped: Counter[str] = Counter()

    def add(
        self,
        dn: str,
        attributes: Mapping[str, list[bytes]],
        position: int,
        location: Callable[[int], str],
    ) -> None:
        """Sort one entry into accounts, groups or skipped, and note its edges."""
        self.entries += 1
        mapping = self.mapping
        classes = {v.decode("utf-8", "replace").lower() for v in attributes.get("objectclass", ())}
        if not dn:
            self.skipped["root DSE or empty DN"] += 1
            return
        if not classes:
            self.skipped["no objectClass"] += 1
            return
        if classes & mapping.service_classes:
            account_class = "service"
        elif classes & mapping.exclude_classes:
            self.skipped[f"objectClass {sorted(classes & mapping.exclude_classes)[0]}"] += 1
            return
        elif classes & mapping.account_classes:
            account_class = ""
        elif classes & mapping.group_classes:
            account_class = "group"
        else:
            self.skipped["not an account or group"] += 1
            return
        native_id = None
        if self.by_sid:
            raw_id = attributes.get(mapping.id_attribute)
            if not raw_id:
                self.skipped[f"no {mapping.label(mapping.id_attribute)}"] += 1
                return
            try:
                native_id = sid_to_string(raw_id[0])
            except (ValueError, UnicodeDecodeError) as error:
                raise SourceError(
                    f"{mapping.label(mapping.id_attribute)} of {dn!r}: {error}",
                    source=self.source,
                    location=location(position),
                ) from error
        try:
            if account_class == "group":
                self._group(dn, native_id, attributes, position)
            else:
                if not _first(attributes, mapping.names("login")):
                    self.skipped["no login attribute"] += 1
                    return
                self._account(dn, native_id, account_class, attributes, position)
            self.edges.add_member_of(dn, _all(attributes, mapping.names("member_of")))
        except UnicodeDecodeError as error:
            raise SourceError(
                f"an attribute of {dn!r} is not UTF-8 text: {error}",
                source=self.source,
                location=location(position),
            ) from error

    def _account(
        self,
        dn: str,
        native_id: str | None,
        account_class: str,
        attributes: Mapping[str, list[bytes]],
        position: int,
    ) -> None:
        columns = self.accounts
        columns["dn"].append(dn)
        columns["native_id"].append(native_id)
        columns["position"].append(position)
        self.account_class.append(account_class)
        for column, names in self.account_plan:
            column.append(_first(attributes, names))

    def _group(
        self,
        dn: str,
        native_id: str | None,
        attributes: Mapping[str, list[bytes]],
        position: int,
    ) -> None:
        columns = self.groups
        columns["dn"].append(dn)
        columns["native_id"].append(native_id)
        columns["position"].append(position)
        for column, names in self.group_plan:
            column.append(_first(attributes, names))
        self.edges.add_members(dn, _all(attributes, self.mapping.names("member")))
        self.edges.add_member_uids(dn, _all(attributes, self.mapping.names("member_uid")))

    def finish(
        self, settings: SourceSettings, manifest: Manifest, location: Callable[[int], str]
    ) -> SourceResult:
        """Build, resolve and conform the three tables; write the report."""
        report: dict[str, Any] = {
            "connector": manifest.connector,
            "flavour": self.mapping.flavour,
            "entries": self.entries,
            "mfa_known": False,
        }
        accounts = self._accounts_frame(report, location)
        groups = self._groups_frame(accounts, report, location)
        memberships = membership_table(self.edges, accounts, groups, self.source, report)
        report["skipped"] = dict(sorted(self.skipped.items()))
        tables = {
            "accounts": _conform("accounts", accounts, self.source),
            "groups": _conform("groups", groups, self.source),
            "memberships": TABLES["memberships"].conform(memberships, source=self.source),
        }
        logger.info(
            "%s: %d accounts, %d groups, %d memberships",
            self.source,
            len(tables["accounts"]),
            len(tables["groups"]),
            len(tables["memberships"]),
        )
        return SourceResult(self.source, manifest.connector, tables, report)

    def _identity(self, raw: pd.DataFrame, id_column: str) -> pd.DataFrame:
        """The columns every directory object has: where it was read, its DN, the DN key
        members are resolved by, its native id (objectSid or the DN) and ``system:native``."""
        frame = pd.DataFrame(index=raw.index)
        frame["position"] = raw["position"]
        frame["dn"] = raw["dn"].astype(pd.StringDtype(na_value=np.nan))
        frame["key"] = normalise_dn(frame["dn"])
        native = frame["key"] if not self.by_sid else raw["native_id"].astype("string")
        frame["native_id"] = native
        frame[id_column] = self.source + ":" + native
        frame["system"] = self.source
        if self.by_sid:
            frame["sid"] = native
        return frame

    def _accounts_frame(
        self, report: dict[str, Any], location: Callable[[int], str]
    ) -> pd.DataFrame:
        mapping = self.mapping
        raw = pd.DataFrame(self.accounts, dtype=object)
        frame = self._identity(raw, "account_id")
        for field in ("login", "upn", "email", "display_name", "employee_id", "department"):
            if field in raw:
                frame[field] = raw[field]
        for field in TIME_FIELDS:
            if mapping.names(field):
                frame[field] = self._times(raw, field, location)
        sign_in_values = sum(
            int(raw[f"last_sign_in:{n}"].notna().sum()) for n in mapping.names("last_sign_in")
        )
        # A whole export without one sign-in value means the attributes were not exported or
        # not kept (no lastbind overlay), not that nobody ever signed in: say "unknown" rather
        # than let every account look unused.
        known = sign_in_values > 0 or len(frame) == 0
        frame["last_sign_in_known"] = known
        report["last_sign_in_known"] = known
        if not known:
            names = "/".join(mapping.label(n) for n in mapping.names("last_sign_in"))
            report.setdefault("warnings", []).append(
                f"no account carries {names}: sign-ins are unknown, not 'never'"
            )
        frame["enabled"] = True
        frame["locked"] = pd.Series(pd.NA, index=frame.index, dtype="boolean")
        frame["password_never_expires"] = False
        unreadable: dict[str, int] = {}
        if "user_account_control" in raw:
            self._account_control(raw, frame, report, unreadable, location)
        if "locked_time" in raw:
            locked_time = raw["locked_time"].astype(pd.StringDtype(na_value=np.nan)).str.strip()
            permanent = (locked_time == PERMANENT_LOCK).fillna(False).astype(bool)
            present = locked_time.notna()
            # ppolicy leaves no trace on an unlocked account, so absence means "not locked"
            # only when the export carries operational attributes (createTimestamp) at all.
            operational = (
                frame["created"].notna()
                if "created" in frame
                else pd.Series(False, index=frame.index)
            )
            locked = frame["locked"].copy()
            locked[operational] = False
            locked[present] = True
            frame["locked"] = locked
            frame["enabled"] = frame["enabled"] & ~permanent
            report["locked_permanently"] = int(permanent.sum())
        report["unreadable_attributes"] = unreadable
        frame["kind"] = self._kinds(frame, raw)
        frame["origin"] = [location(p) for p in frame["position"]]
        report["accounts"] = len(frame)
        report["accounts_by_kind"] = {
            str(k): int(v) for k, v in frame["kind"].value_counts().sort_index().items()
        }
        report["accounts_disabled"] = int((~frame["enabled"].astype(bool)).sum())
        report["accounts_locked"] = int(frame["locked"].fillna(False).astype(bool).sum())
        if "primary_group" in raw:
            frame["primary_group"] = raw["primary_group"]
        return frame

    def _account_control(
        self,
        raw: pd.DataFrame,
        frame: pd.DataFrame,
        report: dict[str, Any],
        unreadable: dict[str, int],
        location: Callable[[int], str],
    ) -> None:
        """userAccountControl and its computed sibling → enabled, locked, never-expires."""
        names = self.mapping.attributes
        uac = self._integers(raw, "user_account_control", location)
        # Absent or 0 means the bind account may not read it (no real account has UAC 0):
        # keep the account, enabled as the conservative default, and say so in the report.
        readable = uac.notna() & (uac != 0)
        bits = uac.fillna(0).astype("int64")
        unreadable_count = int((~readable).sum())
        if unreadable_count:
            unreadable[self.mapping.label(names["user_account_control"][0])] = unreadable_count
        frame["enabled"] = ~readable | ((bits & _UAC_ACCOUNTDISABLE) == 0)
        frame["password_never_expires"] = readable & ((bits & _UAC_DONT_EXPIRE_PASSWORD) != 0)
        locked = frame["locked"].copy()
        if "account_control_computed" in raw:
            computed = self._integers(raw, "account_control_computed", location)
            computed_bits = computed.fillna(0).astype("int64")
            locked[computed.notna()] = False
            locked[(computed_bits & _UAC_LOCKOUT) != 0] = True
            report["password_expired"] = int(((computed_bits & _UAC_PASSWORD_EXPIRED) != 0).sum())
        # AD hardly ever sets the LOCKOUT bit in the stored UAC, so its absence proves
        # nothing; only a computed value (or the bit itself) makes "locked" known.
        locked[(bits & _UAC_LOCKOUT) != 0] = True
        frame["locked"] = locked

    def _times(self, raw: pd.DataFrame, field: str, location: Callable[[int], str]) -> pd.Series:
        """The latest of the attributes mapped to a time field, as UTC timestamps."""
        parsed = []
        for name in self.mapping.names(field):
            values = raw[f"{field}:{name}"]
            times = convert_times(values, self.mapping.formats[field])
            bad = values.notna() & times.isna() & ~never_times(values, self.mapping.formats[field])
            what = f"is not a {self.mapping.formats[field]} time"
            self._refuse(bad, raw, values, f"{self.mapping.label(name)} {{!r}} {what}", location)
            parsed.append(times)
        return pd.concat(parsed, axis=1).max(axis=1).astype(pd.DatetimeTZDtype("ns", "UTC"))

    def _integers(self, raw: pd.DataFrame, field: str, location: Callable[[int], str]) -> pd.Series:
        values = raw[field]
        numbers = pd.to_numeric(values, errors="coerce", dtype_backend="numpy_nullable")
        label = self.mapping.label(self.mapping.attributes[field][0])
        what = f"{label} {{!r}} is not a number"
        self._refuse(values.notna() & numbers.isna(), raw, values, what, location)
        return numbers.astype("Int64")

    def _refuse(
        self,
        bad: pd.Series,
        raw: pd.DataFrame,
        values: pd.Series,
        message: str,
        location: Callable[[int], str],
    ) -> None:
        """Raise for the first bad value (``message`` formats it), naming its entry."""
        flags = bad.to_numpy(dtype=bool)
        if flags.any():
            first = int(np.flatnonzero(flags)[0])
            raise SourceError(
                message.format(values.iloc[first]),
                source=self.source,
                location=location(int(raw["position"].iloc[first])),
            )

    def _kinds(self, frame: pd.DataFrame, raw: pd.DataFrame) -> pd.Series:
        login = frame["login"].astype(pd.StringDtype(na_value=np.nan))
        kind = pd.Series("user", index=frame.index, dtype=object)
        admin = _glob_mask(login, self.mapping.admin_patterns)
        if self.by_sid and self.mapping.admin_rids:
            rid = frame["native_id"].str.upper().str.extract(DOMAIN_SID)["rid"]
            admin |= pd.to_numeric(rid, errors="coerce").isin(self.mapping.admin_rids)
        service = _glob_mask(login, self.mapping.service_patterns)
        service |= pd.Series(self.account_class, index=frame.index, dtype=object) == "service"
        kind[admin] = "admin"
        kind[service] = "service"
        return kind

    def _groups_frame(
        self, accounts: pd.DataFrame, report: dict[str, Any], location: Callable[[int], str]
    ) -> pd.DataFrame:
        mapping = self.mapping
        raw = pd.DataFrame(self.groups, dtype=object)
        frame = self._identity(raw, "group_id")
        frame["kind"] = "group"
        name = raw["group_name"] if "group_name" in raw else pd.Series(pd.NA, index=raw.index)
        # A group without a readable name still needs one a person can read: its first RDN.
        rdn = frame["dn"].str.extract(r"^[^=]+=((?:\\.|[^,\\])*)", expand=False)
        frame["name"] = name.fillna(rdn)
        if "description" in raw:
            frame["description"] = raw["description"]
        privileged = frame["name"].str.lower().isin(mapping.privileged_names).fillna(False)
        if self.by_sid:
            parts = frame["native_id"].str.upper().str.extract(DOMAIN_SID)
            rid = pd.to_numeric(parts["rid"], errors="coerce")
            privileged |= rid.isin(mapping.privileged_rids) & parts["domain"].notna()
            privileged |= frame["native_id"].str.upper().isin(mapping.privileged_sids)
        if mapping.use_admin_count and "admin_count" in raw:
            admin_count = pd.to_numeric(raw["admin_count"], errors="coerce")
            privileged |= admin_count == 1
        frame["privileged"] = privileged.fillna(False).astype(bool)
        frame["owner_id"] = pd.Series(pd.NA, index=frame.index, dtype=object)
        if "owner" in raw and len(frame):
            owners = normalise_dn(raw["owner"])
            index = dn_index(accounts, frame)
            resolved = owners.map(index["id"])
            frame["owner_id"] = resolved
            missing = owners.notna() & resolved.isna()
            report["owners_unresolved"] = sample(raw["owner"][missing])
        frame["origin"] = [location(p) for p in frame["position"]]
        report["groups"] = len(frame)
        report["groups_privileged"] = int(frame["privileged"].sum())
        return frame


def _first(attributes: Mapping[str, list[bytes]], names: tuple[str, ...]) -> str | None:
    for name in names:
        values = attributes.get(name)
        if values:
            return values[0].decode("utf-8").strip()
    return None


def _all(attributes: Mapping[str, list[bytes]], names: tuple[str, ...]) -> list[str]:
    if len(names) == 1:
        return [v.decode("utf-8") for v in attributes.get(names[0], ())]
    return [v.decode("utf-8") for name in names for v in attributes.get(name, ())]


def _glob_mask(values: pd.Series, patterns: tuple[str, ...]) -> pd.Series:
    if not patterns:
        return pd.Series(False, index=values.index)
    regex = "|".join(f"(?:{fnmatch.translate(p)})" for p in patterns)
    return values.str.match(regex, flags=re.IGNORECASE).fillna(False).astype(bool)


def _conform(table: str, frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """Conform, then sort by key so a live read and an export of one directory are equal."""
    schema = TABLES[table]
    conformed = schema.conform(frame, source=source, origin=frame["origin"])
    return conformed.sort_values(list(schema.key), kind="stable", ignore_index=True)
