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

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pandas as pd

from accessaudit.connectors.base import CollectContext, Manifest, SourceResult, SourceSettings
from accessaudit.connectors.ldap.mapping import (
    ACCOUNT_FIELDS,
    GROUP_FIELDS,
    POLICY_FIELDS,
    TIME_FIELDS,
    DirectoryMapping,
)
from accessaudit.connectors.ldap.memberships import MembershipEdges, membership_table
from accessaudit.connectors.ldap.syntax import sid_to_string
from accessaudit.connectors.ldap.tables import Tables
from accessaudit.errors import SourceError
from accessaudit.model import TABLES

__all__ = ["DirectoryEntry", "entries_to_result"]

logger = logging.getLogger("accessaudit.connectors.ldap")

#: What both readers yield: the DN, attributes by lower-case name with raw values, and the
#: entry's position (a line number in an export, a running number on a live server).
DirectoryEntry = tuple[str, Mapping[str, list[bytes]], int]


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
    mapping = DirectoryMapping.for_source(settings, manifest)
    gather = _Gatherer(mapping, settings.name)
    for dn, attributes, position in entries:
        gather.add(dn, attributes, position, location)
    return gather.finish(manifest, context, location)


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
        self.policies: dict[str, list[Any]] = {
            "dn": [],
            "position": [],
            **{field: [] for field in POLICY_FIELDS if field in mapping.attributes},
        }
        self.edges = MembershipEdges()
        self.entries = 0
        self.skipped: Counter[str] = Counter()
        # Entries of person-like classes the manifest does not read as accounts, by class.
        self.unlisted_person_classes: Counter[str] = Counter()

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
            entry_kind = "service"
        elif classes & mapping.exclude_classes:
            self.skipped[f"objectClass {sorted(classes & mapping.exclude_classes)[0]}"] += 1
            return
        elif classes & mapping.account_classes:
            entry_kind = "account"
        elif classes & mapping.group_classes:
            entry_kind = "group"
        elif classes & mapping.policy_classes:
            entry_kind = "policy"
        elif classes & mapping.person_like_classes:
            # Someone who may sign in, of a class the manifest does not list: never dropped
            # without a word (OpenLDAP's own sample data uses OpenLDAPperson, for one).
            spelled = [v.decode("utf-8", "replace") for v in attributes["objectclass"]]
            first = next(c for c in spelled if c.lower() in mapping.person_like_classes)
            self.unlisted_person_classes[first] += 1
            self.skipped["person-like class not read as an account"] += 1
            return
        else:
            self.skipped["not an account or group"] += 1
            return
        native_id = None
        if self.by_sid and entry_kind != "policy":
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
            if entry_kind == "policy":
                self._policy(dn, attributes, position)
                return
            if entry_kind == "group":
                self._group(dn, native_id, attributes, position)
            else:
                if not _first(attributes, mapping.names("login")):
                    self.skipped["no login attribute"] += 1
                    return
                self._account(dn, native_id, entry_kind, attributes, position)
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

    def _policy(self, dn: str, attributes: Mapping[str, list[bytes]], position: int) -> None:
        values = [_first(attributes, self.mapping.names(f)) for f in POLICY_FIELDS]
        self.policies["dn"].append(dn)
        self.policies["position"].append(position)
        for field, value in zip(POLICY_FIELDS, values, strict=True):
            if field in self.policies:
                self.policies[field].append(value)

    def finish(
        self, manifest: Manifest, context: CollectContext, location: Callable[[int], str]
    ) -> SourceResult:
        """Build, resolve and conform the three tables; write the report."""
        report: dict[str, Any] = {
            "connector": manifest.connector,
            "flavour": self.mapping.flavour,
            "entries": self.entries,
            "mfa_known": False,
        }
        tables = Tables(
            self.mapping,
            self.source,
            accounts=self.accounts,
            account_class=self.account_class,
            groups=self.groups,
            policies=self.policies,
        )
        accounts = tables.accounts(report, context.as_of, location)
        groups = tables.groups(accounts, report, location)
        memberships = membership_table(self.edges, accounts, groups, self.source, report)
        report["skipped"] = dict(sorted(self.skipped.items()))
        self._report_unlisted_person_classes(report)
        if accounts.empty and groups.empty:
            # A declared directory that yields nothing is a misconfiguration or a failed
            # export far more often than an empty directory: never a quiet "0 findings".
            report.setdefault("warnings", []).insert(
                0,
                f"no account and no group was read from {self.entries} entries: check the "
                "export (or base_dn and filters) and the connector's object classes",
            )
        conformed = {
            "accounts": _conform("accounts", accounts, self.source),
            "groups": _conform("groups", groups, self.source),
            "memberships": TABLES["memberships"].conform(memberships, source=self.source),
        }
        logger.info(
            "%s: %d accounts, %d groups, %d memberships",
            self.source,
            len(conformed["accounts"]),
            len(conformed["groups"]),
            len(conformed["memberships"]),
        )
        return SourceResult(self.source, manifest.connector, conformed, report)

    def _report_unlisted_person_classes(self, report: dict[str, Any]) -> None:
        unlisted = dict(sorted(self.unlisted_person_classes.items()))
        report["unlisted_person_classes"] = unlisted
        if unlisted:
            counts = ", ".join(f"{name}: {count}" for name, count in unlisted.items())
            report.setdefault("warnings", []).append(
                f"{sum(unlisted.values())} entries of person-like object classes that this "
                f"connector does not read as accounts were skipped ({counts}); if they can "
                f"sign in, add them to the source: person_classes = {list(unlisted)!r}"
            )


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


def _conform(table: str, frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """Conform, then sort by key so a live read and an export of one directory are equal."""
    schema = TABLES[table]
    conformed = schema.conform(frame, source=source, origin=frame["origin"])
    return conformed.sort_values(list(schema.key), kind="stable", ignore_index=True)
