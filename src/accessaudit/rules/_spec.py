"""Rule metadata and the view of a snapshot that rules read."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Protocol

import pandas as pd

from accessaudit.findings import SEVERITIES, make_findings
from accessaudit.model import RULE_IDS
from accessaudit.policy import Policy

__all__ = ["RULE_INPUTS", "RuleFunction", "RuleSpec", "SnapshotView"]

#: The snapshot tables a rule can need, and what is missing when one is empty, in the words
#: the audit notes use ("not checked: no HR source").
RULE_INPUTS: Mapping[str, str] = MappingProxyType(
    {
        "accounts": "no accounts collected (no directory or identity source)",
        "people": "no HR source",
        "memberships": "no group memberships collected",
        "resources": "no data inventory or permission source",
        "grants": "no permission source (ACL or grants export)",
        "discovered": "no source sampled its data (discover = true)",
        "databases": "no database source (postgresql or mysql connector)",
    }
)


class SnapshotView(Protocol):
    """What a rule reads from a snapshot (``accessaudit.snapshot.Snapshot`` has all of it)."""

    @property
    def people(self) -> pd.DataFrame: ...
    @property
    def accounts(self) -> pd.DataFrame: ...
    @property
    def groups(self) -> pd.DataFrame: ...
    @property
    def memberships(self) -> pd.DataFrame: ...
    @property
    def resources(self) -> pd.DataFrame: ...
    @property
    def grants(self) -> pd.DataFrame: ...
    @property
    def effective_memberships(self) -> pd.DataFrame: ...
    @property
    def access(self) -> pd.DataFrame: ...


RuleFunction = Callable[[SnapshotView, Policy, pd.Timestamp], pd.DataFrame]


@dataclass(frozen=True)
class RuleSpec:
    """A rule and what a reviewer needs to know about it.

    ``controls`` are the control references a finding of this rule evidences (SOX ITGC,
    ISO 27001:2022, SOC 2, NIST SP 800-53, GDPR, HIPAA). ``needs`` names the snapshot tables
    the rule judges (see :data:`RULE_INPUTS`): when one of them is empty, the audit reports
    the rule as not checked instead of running it on nothing and calling the result clean.
    ``thresholds`` names the ``[policy]`` keys it reads; ``false_positives`` says when a
    finding may be right by the data and still not a problem (for the rule reference).
    """

    id: str
    title: str
    severity: str
    rationale: str
    remediation: str
    controls: tuple[str, ...]
    function: RuleFunction
    needs: tuple[str, ...] = ("accounts",)
    thresholds: tuple[str, ...] = ()
    false_positives: str = ""

    def __post_init__(self) -> None:
        # A typo in a rule's metadata must fail when the catalogue loads, not in a report.
        if self.id not in RULE_IDS:
            raise ValueError(f"rule id {self.id!r} is not in accessaudit.model.RULE_IDS")
        if self.severity not in SEVERITIES:
            raise ValueError(
                f"rule {self.id}: severity {self.severity!r} is not one of {SEVERITIES}"
            )
        if not (
            self.title
            and self.rationale
            and self.remediation
            and self.controls
            and self.false_positives
        ):
            raise ValueError(
                f"rule {self.id}: needs title, rationale, remediation, controls and false_positives"
            )
        unknown = [n for n in self.needs if n not in RULE_INPUTS]
        if not self.needs or unknown:
            raise ValueError(
                f"rule {self.id}: needs {unknown or 'nothing'}; name tables of {list(RULE_INPUTS)}"
            )

    def no_findings(self) -> pd.DataFrame:
        """This rule's findings table with no rows (for a run that finds nothing to judge)."""
        empty = pd.Series([], dtype=object)
        return self.findings(
            subject_type="person",
            subject_id=empty,
            subject_name=empty,
            system=empty,
            person_id=empty,
            message=empty,
            evidence=pd.DataFrame(index=empty.index),
        )

    def account_findings(
        self,
        rows: pd.DataFrame,
        *,
        message: pd.Series,
        evidence: pd.DataFrame,
        entitlement: pd.Series | None = None,
        entitlement_key: pd.Series | None = None,
    ) -> pd.DataFrame:
        """Findings about accounts: the subject (id, login, system, person) read from the
        account columns of ``rows``, aligned with ``message`` and ``evidence``."""
        return self.findings(
            subject_type="account",
            subject_id=rows["account_id"],
            subject_name=rows["login"],
            system=rows["system"],
            person_id=rows["person_id"],
            message=message,
            evidence=evidence,
            entitlement=entitlement,
            entitlement_key=entitlement_key,
        )

    def grant_findings(
        self,
        grants: pd.DataFrame,
        resources: pd.DataFrame,
        *,
        message: pd.Series,
        evidence: pd.DataFrame,
        entitlement: pd.Series,
        entitlement_key: pd.Series,
    ) -> pd.DataFrame:
        """Findings about resources reached by grants: the subject is each grant's resource
        (its name and owner from ``resources``, aligned with ``grants``), in the grant's
        system, the entitlement the grant itself."""
        return self.findings(
            subject_type="resource",
            subject_id=grants["resource_id"].astype(object),
            subject_name=resources["name"].astype(object),
            system=grants["system"].astype(object),
            person_id=resources["owner_id"].astype(object),
            message=message,
            evidence=evidence,
            entitlement=entitlement,
            entitlement_key=entitlement_key,
        )

    def findings(
        self,
        *,
        subject_type: str,
        subject_id: pd.Series,
        subject_name: pd.Series,
        system: pd.Series,
        person_id: pd.Series,
        message: pd.Series,
        evidence: pd.DataFrame,
        entitlement: pd.Series | None = None,
        entitlement_key: pd.Series | None = None,
    ) -> pd.DataFrame:
        """This rule's findings table from aligned Series (see :func:`make_findings`)."""
        return make_findings(
            rule=self.id,
            severity=self.severity,
            controls=self.controls,
            subject_type=subject_type,
            subject_id=subject_id,
            subject_name=subject_name,
            system=system,
            person_id=person_id,
            message=message,
            evidence=evidence,
            entitlement=entitlement,
            entitlement_key=entitlement_key,
        )
