"""Run the rules over a snapshot: findings, accepted risks and what could not be checked.

>>> result = run_audit(snapshot, policy)            # doctest: +SKIP
>>> result.summary()                                # rule × severity counts   # doctest: +SKIP
"""

from __future__ import annotations

import html
import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from accessaudit.coverage import collection_warnings, partial_sources, source_warnings
from accessaudit.errors import ConfigError
from accessaudit.findings import SEVERITIES, apply_exceptions, empty_findings
from accessaudit.model import EVERY_ROLE_GROUP, choose_as_of
from accessaudit.policy import Policy
from accessaudit.rules import RULE_INPUTS, RULES, SnapshotView
from accessaudit.rules._arrays import positions
from accessaudit.rules._context import RuleContext
from accessaudit.rules.data import kept_under_hold
from accessaudit.rules.movers import moves_not_judged
from accessaudit.snapshot import Snapshot

_TEXT = pd.StringDtype(na_value=np.nan)

__all__ = ["AuditResult", "run_audit"]

logger = logging.getLogger("accessaudit.audit")


@dataclass(frozen=True)
class AuditResult:
    """The outcome of one audit run. Nothing in it is printed or written.

    ``findings``: what the rules found, accepted risks removed. ``suppressed``: findings a
    current policy exception hides, with ``exception_owner``, ``exception_reason`` and
    ``exception_expires``. ``expired_exceptions``: exceptions past their expiry (their
    findings are in ``findings`` again; ``findings_shown_again`` counts them). ``notes``: what
    the rules could not check (rules whose input no source provided, sources that cannot
    report sign-ins or MFA). ``not_checked``: rule id → why it was not run (its input table is
    empty: "no HR source"). ``warnings``: what the sources could not read (see
    :mod:`accessaudit.coverage`). ``sources``: per source its connector, rows per table and
    warnings. ``snapshot_digest``: the saved snapshot's identity, None for one never saved.
    ``policy``: the policy the rules judged against. ``timings``: seconds per rule.

    Findings carry ``person_name`` and ``department`` (from HR, empty when uncorrelated) beside
    the columns of :data:`accessaudit.findings.FINDING_COLUMNS`.
    """

    findings: pd.DataFrame
    suppressed: pd.DataFrame
    expired_exceptions: pd.DataFrame
    rules_run: tuple[str, ...]
    as_of: pd.Timestamp
    notes: tuple[str, ...] = ()
    timings: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    not_checked: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    warnings: tuple[str, ...] = ()
    sources: tuple[Mapping[str, Any], ...] = ()
    snapshot_digest: str | None = None
    policy: Policy | None = None

    @property
    def rules_checked(self) -> tuple[str, ...]:
        """The rules that ran on data (every rule run minus :attr:`not_checked`)."""
        return tuple(r for r in self.rules_run if r not in self.not_checked)

    @property
    def partial_sources(self) -> tuple[str, ...]:
        """Sources whose export was truncated and allowed as partial: findings may be missing."""
        return tuple(str(s["source"]) for s in self.sources if s.get("partial_export"))

    @property
    def nothing_checked(self) -> bool:
        """True when no rule could run: "0 findings" would be a false all-clear."""
        return not self.rules_checked

    def summary(self) -> pd.DataFrame:
        """Findings per rule (rows, every rule run) and severity (columns), with a total.

        >>> result.summary().loc["leaver-active", "critical"]  # doctest: +SKIP
        3
        """
        counts = pd.crosstab(
            pd.Categorical(self.findings["rule"].astype(object), categories=list(self.rules_run)),
            self.findings["severity"],
            dropna=False,
        )
        counts = counts.reindex(
            index=list(self.rules_run), columns=list(reversed(SEVERITIES)), fill_value=0
        )
        counts.index.name = "rule"
        counts.columns = pd.Index([str(c) for c in counts.columns], name="severity")
        counts["total"] = counts.sum(axis=1)
        return counts.astype("int64")

    def at_or_above(self, severity: str) -> pd.DataFrame:
        """The findings whose severity is ``severity`` or worse."""
        if severity not in SEVERITIES:
            raise ConfigError(f"unknown severity {severity!r} (one of {', '.join(SEVERITIES)})")
        return self.findings[self.findings["severity"] >= severity]

    def _repr_html_(self) -> str:
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in (*self.warnings, *self.notes))
        if self.nothing_checked:
            return f"<p><b>Audit</b> as of {self.as_of.date()}: nothing was checked</p>" + (
                f"<ul>{notes}</ul>" if notes else ""
            )
        return (
            f"<p><b>Audit</b> as of {self.as_of.date()}: {len(self.findings)} findings, "
            f"{len(self.suppressed)} hidden by accepted risks, "
            f"{len(self.expired_exceptions)} expired exceptions</p>"
            + self.summary().to_html()
            + (f"<ul>{notes}</ul>" if notes else "")
        )


def run_audit(
    snapshot: Snapshot,
    policy: Policy,
    *,
    rules: Iterable[str] | None = None,
    as_of: pd.Timestamp | None = None,
    previous: Snapshot | None = None,
) -> AuditResult:
    """Run ``rules`` (default: all, in catalogue order) on ``snapshot`` under ``policy``.

    ``as_of`` (default: the snapshot's date; see :func:`~accessaudit.model.choose_as_of`) is
    the day the rules judge against. ``previous`` (optional) is an earlier snapshot: movers
    HR records no history for are found by comparing the two (``mover-retained-access``).
    Unknown rule ids raise :class:`ConfigError`.
    """
    if not isinstance(policy, Policy):
        hint = " (pass config.policy)" if hasattr(policy, "policy") else ""
        raise TypeError(
            f"run_audit() takes a Policy as its second argument{hint}, not {type(policy).__name__}"
        )
    if not all(hasattr(snapshot, name) for name in ("accounts", "people", "as_of")):
        raise TypeError(
            "run_audit() takes a Snapshot (accessaudit.collect(...) or Snapshot.load(folder)), "
            f"not {type(snapshot).__name__}"
        )
    when = choose_as_of(explicit=as_of, snapshot=snapshot.as_of)
    chosen = tuple(RULES) if rules is None else tuple(dict.fromkeys(rules))
    unknown = [r for r in chosen if r not in RULES]
    if unknown:
        raise ConfigError(f"unknown rule id(s) {', '.join(unknown)} (known: {', '.join(RULES)})")
    context = RuleContext(
        snapshot,
        policy,
        when,
        previous=previous,
        previous_as_of=previous.as_of if previous is not None else None,
    )
    frames = []
    timings: dict[str, float] = {}
    not_checked = _not_checked(snapshot, chosen)
    for rule_id in chosen:
        if rule_id in not_checked:
            logger.info("%s: not checked (%s)", rule_id, not_checked[rule_id])
            continue
        started = time.perf_counter()
        frames.append(RULES[rule_id].function(context, policy, when))
        timings[rule_id] = time.perf_counter() - started
        logger.debug("%s: %d findings in %.2fs", rule_id, len(frames[-1]), timings[rule_id])
    frames = [f for f in frames if len(f)]
    findings = pd.concat(frames, ignore_index=True) if frames else empty_findings()
    order = {rule_id: i for i, rule_id in enumerate(RULES)}
    findings = (
        findings.assign(_severity=findings["severity"].cat.codes, _rule=findings["rule"].map(order))
        .sort_values(
            ["_severity", "_rule", "subject_name", "finding_id"],
            ascending=[False, True, True, True],
            kind="stable",
        )
        .drop(columns=["_severity", "_rule"])
        .reset_index(drop=True)
    )
    findings = _with_people(findings, snapshot.people)
    shown, suppressed, expired = apply_exceptions(findings, policy.exceptions, when)
    sources = getattr(snapshot, "sources", [])
    partial = set(partial_sources(sources))
    return AuditResult(
        findings=shown,
        suppressed=suppressed,
        expired_exceptions=expired,
        rules_run=chosen,
        as_of=when,
        notes=_unchecked_notes(not_checked) + _notes(context, chosen, not_checked),
        timings=MappingProxyType(timings),
        not_checked=MappingProxyType(not_checked),
        warnings=tuple(collection_warnings(sources, getattr(snapshot, "correlation", None))),
        sources=tuple(
            MappingProxyType(
                {
                    "source": s.get("source"),
                    "connector": s.get("connector"),
                    "rows": dict(s.get("rows") or {}),
                    "warnings": source_warnings(s),
                    "partial_export": s.get("source") in partial,
                }
            )
            for s in sources
        ),
        snapshot_digest=_digest(snapshot),
        policy=policy,
    )


def _digest(snapshot: object) -> str | None:
    """The snapshot's digest when it has one (saved or loaded); None for a fresh collection."""
    digest = getattr(snapshot, "digest", None)
    return str(digest) if digest else None


def _not_checked(snapshot: SnapshotView, chosen: tuple[str, ...]) -> dict[str, str]:
    """Rules whose input tables are empty, with the missing inputs in words."""
    empty = {name for name in RULE_INPUTS if not _has_input(snapshot, name)}
    out = {}
    for rule_id in chosen:
        missing = [RULE_INPUTS[n] for n in RULES[rule_id].needs if n in empty]
        if missing:
            out[rule_id] = "; ".join(missing)
    return out


def _has_input(snapshot: SnapshotView, name: str) -> bool:
    if name == "discovered":
        # Resources a connector classified by sampling their data: not in the inventory, yet
        # with data categories (see accessaudit.rules.discovery).
        resources = snapshot.resources
        if resources.empty:
            return False
        found = ~resources["inventoried"].astype("boolean").fillna(True).astype(bool)
        return bool((found & resources["data_categories"].notna()).any())
    if name == "databases":
        # Every database source has the pseudo-group of all its roles (PUBLIC).
        return bool((snapshot.groups["native_id"].astype(object) == EVERY_ROLE_GROUP).any())
    return len(getattr(snapshot, name)) > 0


def _unchecked_notes(not_checked: Mapping[str, str]) -> tuple[str, ...]:
    """One note per missing input: which rules it left unchecked."""
    by_reason: dict[str, list[str]] = {}
    for rule_id, reasons in not_checked.items():
        for reason in reasons.split("; "):
            by_reason.setdefault(reason, []).append(rule_id)
    return tuple(
        f"not checked: {reason} ({', '.join(rules)})" for reason, rules in by_reason.items()
    )


def _with_people(findings: pd.DataFrame, people: pd.DataFrame) -> pd.DataFrame:
    """``findings`` with the HR ``person_name`` and ``department`` of each finding's person
    (for resource findings, the owner), empty where the person is not in HR."""
    at = positions(findings["person_id"], pd.Index(people["person_id"]))
    found = at >= 0
    out = findings.copy()
    for column, source in (("person_name", "name"), ("department", "department")):
        values = np.full(len(findings), np.nan, dtype=object)
        if len(people):
            values[found] = people[source].iloc[at[found]].astype(object).to_numpy()
        out[column] = pd.Series(values, index=findings.index).astype(_TEXT)
    return out


def _notes(
    context: RuleContext, chosen: tuple[str, ...], not_checked: Mapping[str, str]
) -> tuple[str, ...]:
    """What the rules that ran could not judge, per system, in words."""
    accounts = context.accounts
    enabled = accounts["enabled"]
    ran = {r for r in chosen if r not in not_checked}
    notes = []
    if len(context.people) == 0:
        if "third-party-sensitive" in ran:
            notes.append(
                "third-party-sensitive judged guests only: contractors and vendors come from "
                "HR (no HR source)"
            )
        if "unowned-resource" in ran:
            notes.append("unowned-resource could not tell whether owners have left: no HR source")
    if "sod-conflict" in ran and not context.policy.sod:
        notes.append("sod-conflict had nothing to check: the policy names no [[policy.sod]] rules")
    if {"stale-account", "stale-privilege"} & ran:
        unknown = accounts.loc[enabled & ~accounts["last_sign_in_known"], ["system"]]
        for system, count in unknown.groupby("system").size().items():
            notes.append(
                f"{count} enabled account(s) in {system} were not checked for staleness: "
                "the source does not report sign-ins"
            )
    if "mover-retained-access" in ran:
        skipped = moves_not_judged(context, context.policy, context.as_of)
        for reason, count in skipped.value_counts().items():
            notes.append(
                f"{count} mover(s) not checked by mover-retained-access: {reason} "
                f"(e.g. {', '.join(skipped[skipped == reason].index[:3])})"
            )
    if "retention-overdue" in ran and context.policy.holds:
        kept = kept_under_hold(context, context.policy, context.as_of)
        for row in kept.itertuples():
            notes.append(
                f"{row.name}: retention ended {row.retention_ended:%Y-%m-%d}; kept under legal "
                f"hold {row.matter} (owner {row.owner}, since {row.since}) — not a violation"
            )
    for hold in context.policy.holds:
        if hold.has_expired(context.as_of):
            notes.append(
                f"legal hold {hold.matter} on {hold.subject_type} {hold.subject} expired on "
                f"{hold.until} (owner {hold.owner}): release it, or extend it in the policy"
            )
    if "mfa-missing" in ran:
        unknown = accounts.loc[enabled & accounts["mfa"].isna(), ["system"]]
        for system, count in unknown.groupby("system").size().items():
            notes.append(
                f"{count} enabled account(s) in {system} were not checked for MFA: "
                "the source does not report MFA registration"
            )
    return tuple(notes)
