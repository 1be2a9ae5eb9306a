"""Evidence bundles: everything accessaudit knows of one person, preserved and hashed.

For an investigation or a legal hold, :func:`preserve_evidence` writes a folder::

    evidence.json          the bundle manifest: person, date, snapshot digests, file hashes
    person.csv             the HR record (as of the latest snapshot)
    accounts.csv           every account of the person, in every system
    memberships.csv        group memberships at any depth, with the path that gives each
    data_reachable.csv     every resource the accounts reach, right, path, sensitivity
    sign_in_history.csv    enabled / last sign-in per account in each snapshot given
    review_decisions.csv   decisions about the person's access in the campaigns given

Every file's SHA-256 is in ``evidence.json``, and so is each source snapshot's digest (the
SHA-256 of its manifest). The folder is written atomically; :func:`verify_bundle` (and
``accessaudit verify DIR``) checks it has not changed since.

>>> folder = preserve_evidence([snapshot], "jdoe", "evidence/jdoe")  # doctest: +SKIP
>>> verify_bundle(folder)                                             # doctest: +SKIP
[]
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from accessaudit._atomic import atomic_folder
from accessaudit._version import __version__
from accessaudit.analysis.person import person_record, sign_in_history
from accessaudit.errors import AccessAuditError
from accessaudit.policy import Policy
from accessaudit.review.campaign import Campaign
from accessaudit.review.decision_log import read_decision_log
from accessaudit.snapshot import Snapshot

__all__ = ["BUNDLE_FORMAT", "BUNDLE_MANIFEST", "is_bundle", "preserve_evidence", "verify_bundle"]

BUNDLE_FORMAT = "accessaudit-evidence-bundle"
BUNDLE_MANIFEST = "evidence.json"
_CHUNK = 1 << 20


def _sha256(file: Path) -> str:
    digest = hashlib.sha256()
    with file.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _decisions(campaigns: Sequence[Campaign], account_ids: set[str]) -> pd.DataFrame:
    columns = [
        "campaign_id",
        "item_id",
        "login",
        "entitlement",
        "recommendation",
        "reviewer_id",
        "decision",
        "comment",
        "decided_at",
        "collected_at",
    ]
    parts = []
    for campaign in campaigns:
        items = campaign.items[campaign.items["account_id"].astype(str).isin(account_ids)]
        log = read_decision_log(campaign)
        merged = log.merge(
            items[["item_id", "login", "entitlement", "recommendation"]], on="item_id"
        )
        parts.append(merged.reindex(columns=columns))
    if not parts:
        return pd.DataFrame(columns=columns)
    return pd.concat(parts, ignore_index=True)


def preserve_evidence(
    snapshots: Sequence[Snapshot],
    person: str,
    out: Path | str,
    *,
    campaigns: Sequence[Campaign] = (),
    policy: Policy | None = None,
    created: pd.Timestamp | None = None,
) -> Path:
    """Write the evidence bundle of ``person`` (person_id, email or one of their logins).

    The latest of ``snapshots`` (by date) gives the person, accounts, memberships and data
    reachable; all of them give the sign-in history. ``campaigns`` add the review decisions
    about the person's accounts. ``out`` must not be a non-empty folder. Returns ``out``.
    """
    if not snapshots:
        raise AccessAuditError("an evidence bundle needs at least one snapshot")
    target = Path(out)
    if target.exists() and any(target.iterdir()):
        raise AccessAuditError(f"{target} exists and is not empty; choose a new folder")
    latest = max(snapshots, key=lambda s: s.as_of)
    record = person_record(latest, person, policy)
    account_ids = set(record.accounts["account_id"].astype(str))
    tables = {
        "person.csv": record.person,
        "accounts.csv": record.accounts,
        "memberships.csv": record.memberships,
        "data_reachable.csv": record.data_reachable,
        "sign_in_history.csv": sign_in_history(snapshots, sorted(account_ids)),
        "review_decisions.csv": _decisions(campaigns, account_ids),
    }
    when = (created or pd.Timestamp.now(tz="UTC")).tz_convert("UTC")
    with atomic_folder(target) as staging:
        files: dict[str, Any] = {}
        for name, table in tables.items():
            table.to_csv(staging / name, index=False)
            files[name] = {"rows": len(table), "sha256": _sha256(staging / name)}
        manifest = {
            "format": BUNDLE_FORMAT,
            "library_version": __version__,
            "created": when.isoformat(),
            "person": record.subject,
            "asked_for": person,
            "as_of": latest.as_of.isoformat(),
            "snapshots": [
                {"as_of": s.as_of.isoformat(), "digest": s.snapshot_id}
                for s in sorted(snapshots, key=lambda s: s.as_of)
            ],
            "campaigns": [c.id for c in campaigns],
            "files": files,
        }
        (staging / BUNDLE_MANIFEST).write_text(
            json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8"
        )
    return target


def is_bundle(folder: Path | str) -> bool:
    """True when ``folder`` holds an evidence bundle manifest."""
    return (Path(folder) / BUNDLE_MANIFEST).is_file()


def verify_bundle(folder: Path | str) -> list[str]:
    """Check every file of an evidence bundle against ``evidence.json``: one line per file
    whose SHA-256 differs, that is missing, or that the manifest does not list."""
    source = Path(folder)
    try:
        manifest = json.loads((source / BUNDLE_MANIFEST).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as error:
        raise AccessAuditError(f"{source / BUNDLE_MANIFEST}: unreadable ({error})") from error
    if not isinstance(manifest, dict) or manifest.get("format") != BUNDLE_FORMAT:
        raise AccessAuditError(f"{source / BUNDLE_MANIFEST}: not an accessaudit evidence bundle")
    problems = []
    listed = {BUNDLE_MANIFEST}
    for name, entry in sorted(manifest.get("files", {}).items()):
        file = source / name
        listed.add(name)
        if not file.is_file():
            problems.append(f"{name}: missing")
        elif _sha256(file) != entry.get("sha256"):
            problems.append(f"{name}: SHA-256 differs from {BUNDLE_MANIFEST}")
    for extra in sorted(p.name for p in source.iterdir() if p.name not in listed):
        problems.append(f"{extra}: not listed in {BUNDLE_MANIFEST}")
    return problems
