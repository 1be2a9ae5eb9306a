"""The audit policy: thresholds, privileged groups, approvals, SoD rules and accepted risks.

Thresholds live here (read from the ``[policy]`` table of the audit TOML), never in rule code.

>>> policy = Policy.from_mapping({"stale_days": 60}, origin="audit.toml")
>>> policy.stale_days, policy.privileged_stale_days
(60, 30)
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pandas as pd

from accessaudit.errors import ConfigError
from accessaudit.holds import LegalHold, hold_from_mapping, read_holds_file
from accessaudit.model import RULE_IDS

__all__ = ["Policy", "RiskException", "SodRule"]


@dataclass(frozen=True)
class SodRule:
    """A segregation-of-duties rule: no one person may hold all of ``entitlements``.

    Each entitlement names a group (name or group_id) or a resource (name or resource_id).
    """

    name: str
    entitlements: tuple[str, ...]


@dataclass(frozen=True)
class RiskException:
    """An accepted risk: findings of ``rule`` about ``subject`` are hidden until ``expires``.

    ``subject`` matches a finding's login / group / resource name, its subject_id, its
    entitlement or its finding_id (case-insensitive). ``expires`` is the last day (UTC) on
    which the exception holds; from the next day its findings show again.
    """

    rule: str
    subject: str
    owner: str
    reason: str
    expires: dt.date

    def is_current(self, as_of: pd.Timestamp) -> bool:
        """True while ``as_of`` (UTC) is on or before the expiry date."""
        return as_of.tz_convert("UTC").date() <= self.expires


def _empty_approved() -> Mapping[str, tuple[str, ...]]:
    return MappingProxyType({})


@dataclass(frozen=True)
class Policy:
    """Every threshold and list the rules read. Build it with :meth:`from_mapping`."""

    stale_days: int = 90
    privileged_stale_days: int = 30
    new_account_grace_days: int = 14
    peer_min_size: int = 5
    peer_max_share: float = 0.10
    #: link-no-expiry: an anonymous or external link without expiry older than this.
    link_max_age_days: int = 90
    privileged_groups: tuple[str, ...] = ()
    approved: Mapping[str, tuple[str, ...]] = field(default_factory=_empty_approved)
    service_account_patterns: tuple[str, ...] = ()
    sod: tuple[SodRule, ...] = ()
    exceptions: tuple[RiskException, ...] = ()
    mover_grace_days: int = 30
    joiner_tolerance_days: int = 7
    joiner_window_days: int = 90
    third_party_expiry_days: int = 30
    holds: tuple[LegalHold, ...] = ()

    def _repr_html_(self) -> str:
        """A compact card for Jupyter: thresholds on one line, then counts of the lists."""
        approved = ", ".join(
            f"{html.escape(group)} ({len(logins)})" for group, logins in self.approved.items()
        )
        return (
            f"<p><b>Policy</b>: stale after {self.stale_days} days (privileged "
            f"{self.privileged_stale_days}), new-account grace {self.new_account_grace_days} "
            f"days, peers: at least {self.peer_min_size}, outlier below "
            f"{self.peer_max_share:.0%}</p><ul>"
            f"<li>privileged groups added: "
            f"{html.escape(', '.join(self.privileged_groups)) or 'none'}</li>"
            f"<li>approved lists: {approved or 'none'}</li>"
            f"<li>{len(self.sod)} SoD rule(s), {len(self.exceptions)} accepted risk(s), "
            f"{len(self.service_account_patterns)} service-account pattern(s)</li></ul>"
        )

    def to_dict(self) -> dict[str, Any]:
        """Every threshold and list as plain JSON-able values (dates as ISO text), for the
        JSON envelope and the workpaper's Summary sheet.

        >>> Policy(stale_days=60).to_dict()["stale_days"]
        60
        """
        return {
            "stale_days": self.stale_days,
            "privileged_stale_days": self.privileged_stale_days,
            "new_account_grace_days": self.new_account_grace_days,
            "peer_min_size": self.peer_min_size,
            "peer_max_share": self.peer_max_share,
            "link_max_age_days": self.link_max_age_days,
            "mover_grace_days": self.mover_grace_days,
            "joiner_tolerance_days": self.joiner_tolerance_days,
            "joiner_window_days": self.joiner_window_days,
            "third_party_expiry_days": self.third_party_expiry_days,
            "privileged_groups": list(self.privileged_groups),
            "approved": {group: list(logins) for group, logins in self.approved.items()},
            "service_account_patterns": list(self.service_account_patterns),
            "sod": [{"name": r.name, "entitlements": list(r.entitlements)} for r in self.sod],
            "exceptions": [
                {
                    "rule": e.rule,
                    "subject": e.subject,
                    "owner": e.owner,
                    "reason": e.reason,
                    "expires": e.expires.isoformat(),
                }
                for e in self.exceptions
            ],
            "holds": [
                {
                    "subject_type": h.subject_type,
                    "subject": h.subject,
                    "matter": h.matter,
                    "since": h.since.isoformat(),
                    "until": h.until.isoformat() if h.until else None,
                    "owner": h.owner,
                }
                for h in self.holds
            ],
        }

    @classmethod
    def from_mapping(
        cls, mapping: Mapping[str, Any], *, origin: str, base_dir: Path | None = None
    ) -> Policy:
        """Parse the ``[policy]`` table of an audit config.

        ``origin`` names the file for error messages. Unknown keys, wrong types, bad dates and
        exceptions without an owner, reason or expiry raise :class:`ConfigError`.
        ``base_dir`` resolves a relative ``holds_file`` (default: the working folder).

        >>> Policy.from_mapping({"privileged": {"groups": ["Tier0"]}}, origin="a.toml")
        ... # doctest: +ELLIPSIS
        Policy(stale_days=90, ..., privileged_groups=('Tier0',), ...)
        """
        reader = _Reader(origin)
        allowed = {
            "stale_days",
            "privileged_stale_days",
            "new_account_grace_days",
            "peer_min_size",
            "peer_max_share",
            "link_max_age_days",
            "privileged",
            "service_accounts",
            "sod",
            "exceptions",
            "mover_grace_days",
            "joiner_tolerance_days",
            "joiner_window_days",
            "third_party_expiry_days",
            "holds",
            "holds_file",
        }
        reader.no_unknown(mapping, allowed, "policy")
        privileged = reader.table(mapping, "privileged", "policy")
        reader.no_unknown(privileged, {"groups", "approved"}, "policy.privileged")
        service = reader.table(mapping, "service_accounts", "policy")
        reader.no_unknown(service, {"patterns"}, "policy.service_accounts")
        approved_raw = reader.table(privileged, "approved", "policy.privileged")
        approved = {
            str(group): reader.strings(approved_raw, group, f"policy.privileged.approved.{group}")
            for group in approved_raw
        }
        return cls(
            stale_days=reader.days(mapping, "stale_days", 90),
            privileged_stale_days=reader.days(mapping, "privileged_stale_days", 30),
            new_account_grace_days=reader.days(mapping, "new_account_grace_days", 14),
            peer_min_size=reader.days(mapping, "peer_min_size", 5, minimum=2),
            peer_max_share=reader.share(mapping, "peer_max_share", 0.10),
            link_max_age_days=reader.days(mapping, "link_max_age_days", 90),
            privileged_groups=reader.strings(privileged, "groups", "policy.privileged.groups"),
            approved=MappingProxyType(approved),
            service_account_patterns=reader.strings(
                service, "patterns", "policy.service_accounts.patterns"
            ),
            sod=tuple(
                reader.sod(item, f"policy.sod[{i}]")
                for i, item in enumerate(reader.array(mapping, "sod", "policy"))
            ),
            exceptions=tuple(
                reader.exception(item, f"policy.exceptions[{i}]")
                for i, item in enumerate(reader.array(mapping, "exceptions", "policy"))
            ),
            mover_grace_days=reader.days(mapping, "mover_grace_days", 30),
            joiner_tolerance_days=reader.days(mapping, "joiner_tolerance_days", 7),
            joiner_window_days=reader.days(mapping, "joiner_window_days", 90),
            third_party_expiry_days=reader.days(mapping, "third_party_expiry_days", 30),
            holds=reader.holds(mapping, base_dir),
        )


@dataclass(frozen=True)
class _Reader:
    """Typed access to a TOML table with errors that name the file and key."""

    origin: str

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.origin}: {key} {problem}")

    def no_unknown(self, table: Mapping[str, Any], allowed: set[str], where: str) -> None:
        unknown = sorted(set(table) - allowed)
        if unknown:
            raise self.fail(
                f"{where}.{unknown[0]}", f"is not a known key (known: {', '.join(sorted(allowed))})"
            )

    def table(self, table: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
        value = table.get(key, {})
        if not isinstance(value, Mapping):
            raise self.fail(f"{where}.{key}", "must be a table")
        return value

    def array(self, table: Mapping[str, Any], key: str, where: str) -> list[Mapping[str, Any]]:
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
            raise self.fail(f"{where}.{key}", f"must be an array of tables ([[{where}.{key}]])")
        return value

    def days(self, table: Mapping[str, Any], key: str, default: int, minimum: int = 0) -> int:
        value = table.get(key, default)
        # bool is an int in Python; `stale_days = true` is a typo, not 1 day.
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(f"policy.{key}", f"must be a whole number, not {value!r}")
        if value < minimum:
            raise self.fail(f"policy.{key}", f"must be at least {minimum}, not {value}")
        return value

    def share(self, table: Mapping[str, Any], key: str, default: float) -> float:
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(f"policy.{key}", f"must be a number, not {value!r}")
        if not 0 < value <= 1:
            raise self.fail(f"policy.{key}", f"must be a share between 0 and 1, not {value}")
        return float(value)

    def text(self, table: Mapping[str, Any], key: str, where: str) -> str:
        value = table.get(key)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"{where}.{key}", "is required (a non-empty string)")
        return value.strip()

    def strings(self, table: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(where, "must be a list of strings")
        return tuple(value)

    def holds(self, table: Mapping[str, Any], base_dir: Path | None) -> tuple[LegalHold, ...]:
        listed = tuple(
            hold_from_mapping(item, f"{self.origin}: policy.holds[{i}]")
            for i, item in enumerate(self.array(table, "holds", "policy"))
        )
        file = table.get("holds_file")
        if file is None:
            return listed
        if not isinstance(file, str) or not file.strip():
            raise self.fail("policy.holds_file", "must be a path to a CSV file")
        path = Path(file).expanduser()
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        return listed + read_holds_file(path)

    def sod(self, item: Mapping[str, Any], where: str) -> SodRule:
        self.no_unknown(item, {"name", "entitlements"}, where)
        entitlements = self.strings(item, "entitlements", f"{where}.entitlements")
        if len(set(entitlements)) < 2:
            raise self.fail(f"{where}.entitlements", "must name at least two entitlements")
        return SodRule(self.text(item, "name", where), entitlements)

    def exception(self, item: Mapping[str, Any], where: str) -> RiskException:
        self.no_unknown(item, {"rule", "subject", "owner", "reason", "expires"}, where)
        rule = self.text(item, "rule", where)
        if rule not in RULE_IDS:
            raise self.fail(f"{where}.rule", f"{rule!r} is not a rule id (see `accessaudit rules`)")
        expires = item.get("expires")
        if isinstance(expires, dt.datetime):
            expires = expires.date()
        elif isinstance(expires, str):
            try:
                expires = dt.date.fromisoformat(expires.strip())
            except ValueError:
                raise self.fail(
                    f"{where}.expires", f"is not a date (YYYY-MM-DD): {expires!r}"
                ) from None
        if not isinstance(expires, dt.date):
            raise self.fail(f"{where}.expires", "is required: the date the accepted risk ends")
        return RiskException(
            rule=rule,
            subject=self.text(item, "subject", where),
            owner=self.text(item, "owner", where),
            reason=self.text(item, "reason", where),
            expires=expires,
        )
