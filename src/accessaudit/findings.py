"""The findings table: its columns, stable ids, and accepted risks (exceptions) with expiry.

A finding is one row. Its ``finding_id`` is the first 16 hex characters of the SHA-256 of the
rule id and the subject's identity (subject type and id, plus the entitlement it is about), so
the same problem has the same id in every run, whatever the row order or the audit date.

Columns (DESIGN.md): ``finding_id, rule, severity, subject_type, subject_id, subject_name,
system, person_id, message, evidence, controls``; extra: ``entitlement`` — the group, role,
resource or SoD rule the finding is about, empty when the finding is about the subject alone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from accessaudit._vocabulary import SEVERITIES
from accessaudit.policy import RiskException

__all__ = [
    "FINDING_COLUMNS",
    "SEVERITIES",
    "SEVERITY_DTYPE",
    "SUBJECT_TYPES",
    "apply_exceptions",
    "empty_findings",
    "finding_ids",
    "make_findings",
]

#: Least to most severe, so ``findings.severity >= "high"`` works on the ordered categorical.
SEVERITY_DTYPE = pd.CategoricalDtype(list(SEVERITIES), ordered=True)
SUBJECT_TYPES: tuple[str, ...] = ("account", "group", "resource", "person", "membership", "grant")

FINDING_COLUMNS: tuple[str, ...] = (
    "finding_id",
    "rule",
    "severity",
    "subject_type",
    "subject_id",
    "subject_name",
    "system",
    "person_id",
    "message",
    "evidence",
    "controls",
    "entitlement",
)

_TEXT = pd.StringDtype(na_value=np.nan)


def empty_findings() -> pd.DataFrame:
    """A findings table with no rows and the right dtypes."""
    return _typed(pd.DataFrame({c: pd.Series([], dtype=object) for c in FINDING_COLUMNS}))


def finding_ids(
    rule: pd.Series | str, subject_type: pd.Series, subject_id: pd.Series, key: pd.Series
) -> pd.Series:
    """SHA-256 of ``rule | subject_type | subject_id | key``, first 16 hex characters.

    ``key`` is the entitlement's own id (group_id, resource_id, SoD rule name) or "".

    >>> ids = finding_ids(
    ...     "stale-account", pd.Series(["account"]), pd.Series(["corp:jdoe"]), pd.Series([""])
    ... )
    >>> len(ids.iloc[0])
    16
    """
    identity = (
        (rule if isinstance(rule, str) else rule.astype(str))
        + "\x1f"
        + subject_type.astype(str)
        + "\x1f"
        + subject_id.astype(str)
        + "\x1f"
        + key.fillna("").astype(str)
    )
    # SHA-256 has no vectorised pandas/numpy form; one hashlib call per finding (not per
    # account or membership) is cheap: ~1 µs each.
    return pd.Series(
        [hashlib.sha256(v.encode()).hexdigest()[:16] for v in identity.tolist()],
        index=identity.index,
        dtype=_TEXT,
    )


def make_findings(
    *,
    rule: str,
    severity: str,
    controls: Sequence[str],
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
    """Assemble a rule's findings from aligned Series (one element per finding).

    ``evidence`` columns become each finding's evidence dict (empty values left out);
    ``entitlement_key`` (default: ``entitlement``) goes into the finding id.
    """
    index = subject_id.index
    if entitlement is None:
        entitlement = pd.Series(np.nan, index=index, dtype=_TEXT)
    key = entitlement if entitlement_key is None else entitlement_key
    st = pd.Series(subject_type, index=index)
    frame = pd.DataFrame(
        {
            "finding_id": finding_ids(rule, st, subject_id, key),
            "rule": rule,
            "severity": severity,
            "subject_type": subject_type,
            "subject_id": subject_id,
            "subject_name": subject_name,
            "system": system,
            "person_id": person_id,
            "message": message,
            "evidence": _evidence_dicts(evidence.set_axis(index)),
            "controls": [tuple(controls)] * len(index),
            "entitlement": entitlement,
        },
        index=index,
    )
    return _typed(frame)


def _evidence_dicts(evidence: pd.DataFrame) -> list[dict[str, object]]:
    """One dict per row, leaving out empty values so the evidence reads cleanly.

    Built column-wise (one zip over object arrays), then empty values are deleted where the
    column has them: no per-cell pandas calls, which matters at millions of findings.
    """
    keys = [str(c) for c in evidence.columns]
    columns = [evidence[c].astype(object).to_numpy() for c in evidence.columns]
    empty = [np.flatnonzero(evidence[c].isna().to_numpy()) for c in evidence.columns]
    if not keys:
        return [{} for _ in range(len(evidence))]
    # Plain zip (no strict=): the columns come from one frame, and this is the hot loop.
    records = [dict(zip(keys, values)) for values in zip(*columns)]  # noqa: B905
    for key, rows in zip(keys, empty, strict=True):
        for row in rows.tolist():  # only the empty cells
            del records[row][key]
    return records


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    if tuple(frame.columns) != FINDING_COLUMNS:
        frame = frame.loc[:, list(FINDING_COLUMNS)]
    out = frame.reset_index(drop=True)
    for column in (
        "finding_id",
        "rule",
        "subject_type",
        "subject_id",
        "subject_name",
        "system",
        "person_id",
        "message",
        "entitlement",
    ):
        if out[column].dtype != _TEXT:
            out[column] = out[column].astype(_TEXT)
    out["severity"] = out["severity"].astype(SEVERITY_DTYPE)
    return out


def apply_exceptions(
    findings: pd.DataFrame, exceptions: Iterable[RiskException], as_of: pd.Timestamp
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Split ``findings`` by the policy's accepted risks.

    Returns ``(shown, suppressed, expired)``: ``shown`` are findings no current exception
    hides; ``suppressed`` the hidden ones with ``exception_owner``, ``exception_reason`` and
    ``exception_expires``; ``expired`` one row per exception past its expiry, with how many
    findings it would have hidden (they are in ``shown`` again).
    """
    rows = [
        {
            "rule": e.rule,
            "subject": e.subject,
            "owner": e.owner,
            "reason": e.reason,
            "expires": e.expires,
            "current": e.is_current(as_of),
        }
        for e in exceptions
    ]
    table = pd.DataFrame(
        rows, columns=["rule", "subject", "owner", "reason", "expires", "current"]
    ).astype({"current": bool})
    table["subject_key"] = table["subject"].astype(str).str.casefold()
    # Only findings of a rule some exception names can match; most runs have few exceptions
    # and millions of findings, so narrow first, then compare casefolded names.
    candidates = findings[findings["rule"].isin(table["rule"]).to_numpy(dtype=bool)]
    wanted = set(table["subject_key"])
    parts = []
    for column in ("subject_id", "subject_name", "entitlement", "finding_id"):
        key = candidates[column].str.casefold()
        hit = key.isin(wanted).to_numpy(dtype=bool)
        parts.append(
            pd.DataFrame(
                {
                    "row": candidates.index[hit],
                    "rule": candidates["rule"][hit].astype(str).to_numpy(),
                    "subject_key": key[hit].astype(str).to_numpy(),
                }
            )
        )
    names = pd.concat(parts, ignore_index=True)
    matched = names.merge(table, on=["rule", "subject_key"], how="inner")
    current = (
        matched[matched["current"]]
        .sort_values("expires", ascending=False, kind="stable")
        .drop_duplicates("row")
        .set_index("row")
    )
    hidden = findings.index.isin(current.index)
    suppressed = findings[hidden].copy()
    suppressed["exception_owner"] = current.loc[suppressed.index, "owner"].to_numpy()
    suppressed["exception_reason"] = current.loc[suppressed.index, "reason"].to_numpy()
    suppressed["exception_expires"] = current.loc[suppressed.index, "expires"].to_numpy()
    expired_hits = (
        matched[~matched["current"]]
        .drop_duplicates(["rule", "subject", "expires", "row"])
        .groupby(["rule", "subject", "expires"], sort=False)
        .size()
        .rename("findings_shown_again")
        .reset_index()
    )
    expired = table[~table["current"]].drop(columns=["current", "subject_key"])
    expired = expired.merge(expired_hits, on=["rule", "subject", "expires"], how="left")
    expired["findings_shown_again"] = expired["findings_shown_again"].fillna(0).astype("int64")
    return (
        findings[~hidden].reset_index(drop=True) if hidden.any() else findings,
        suppressed.reset_index(drop=True),
        expired.reset_index(drop=True),
    )
