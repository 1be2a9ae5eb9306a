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

import pandas as pd

from accessaudit.errors import ConfigError
from accessaudit.findings import SEVERITIES, apply_exceptions, empty_findings
from accessaudit.model import choose_as_of
from accessaudit.policy import Policy
from accessaudit.rules import RULES
from accessaudit.rules._context import RuleContext
from accessaudit.rules.data import kept_under_hold
from accessaudit.snapshot import Snapshot

__all__ = ["AuditResult", "run_audit"]

logger = logging.getLogger("accessaudit.audit")


@dataclass(frozen=True)
class AuditResult:
    """The outcome of one audit run. Nothing in it is printed or written.

    ``findings``: what the rules found, accepted risks removed. ``suppressed``: findings a
    current policy exception hides, with ``exception_owner``, ``exception_reason`` and
    ``exception_expires``. ``expired_exceptions``: exceptions past their expiry (their
    findings are in ``findings`` again; ``findings_shown_again`` counts them). ``notes``: what
    the rules could not check (sources that cannot report sign-ins or MFA). ``timings``:
    seconds per rule.
    """

    findings: pd.DataFrame
    suppressed: pd.DataFrame
    expired_exceptions: pd.DataFrame
    rules_run: tuple[str, ...]
    as_of: pd.Timestamp
    notes: tuple[str, ...] = ()
    timings: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))

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
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes)
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
    for rule_id in chosen:
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
    shown, suppressed, expired = apply_exceptions(findings, policy.exceptions, when)
    return AuditResult(
        findings=shown,
        suppressed=suppressed,
        expired_exceptions=expired,
        rules_run=chosen,
        as_of=when,
        notes=_notes(context, chosen),
        timings=MappingProxyType(timings),
    )


def _notes(context: RuleContext, chosen: tuple[str, ...]) -> tuple[str, ...]:
    """What the chosen rules could not judge, per system, in words."""
    accounts = context.accounts
    enabled = accounts["enabled"]
    notes = []
    if {"stale-account", "stale-privilege"} & set(chosen):
        unknown = accounts[enabled & ~accounts["last_sign_in_known"]]
        for system, count in unknown.groupby("system").size().items():
            notes.append(
                f"{count} enabled account(s) in {system} were not checked for staleness: "
                "the source does not report sign-ins"
            )
    if "retention-overdue" in chosen and context.policy.holds:
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
    if "mfa-missing" in chosen:
        unknown = accounts[enabled & accounts["mfa"].isna()]
        for system, count in unknown.groupby("system").size().items():
            notes.append(
                f"{count} enabled account(s) in {system} were not checked for MFA: "
                "the source does not report MFA registration"
            )
    return tuple(notes)
