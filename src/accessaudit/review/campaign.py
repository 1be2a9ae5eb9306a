"""Creating and opening review campaigns.

A campaign folder holds::

    campaign.json        the manifest: id, created, snapshot hash, deadline, reviewers
    items.parquet        every item under review, with recommendation and integrity hash
    campaign.key         the HMAC key of the workbooks' integrity column (never in a workbook)
    workbooks/           one workbook per reviewer, as sent
    returned/            put returned workbooks here; ``review collect`` reads them
    decisions.jsonl      append-only log of accepted decisions (written by collect)

It is written into a temporary sibling folder and renamed into place, so a half-written
campaign never exists.
"""

from __future__ import annotations

import html
import json
import re
import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from accessaudit._atomic import atomic_folder
from accessaudit.errors import ReviewError
from accessaudit.model import iso_timestamp
from accessaudit.policy import Policy
from accessaudit.review._assign import (
    UNASSIGNED,
    assign_reviewers,
    describe_items,
    finalise,
    select_scope,
)
from accessaudit.review._cells import row_hashes, workbook_cells
from accessaudit.review._items import FindingsSource, ReviewBy, build_items
from accessaudit.review._movers import mover_items
from accessaudit.review._workbook import ReviewWorkbooks
from accessaudit.snapshot import Snapshot

__all__ = [
    "CAMPAIGN_ENTRIES",
    "CAMPAIGN_FORMAT",
    "Campaign",
    "create_campaign",
    "load_campaign",
]

CAMPAIGN_FORMAT = "accessaudit-review-campaign"
MANIFEST = "campaign.json"
ITEMS = "items.parquet"
KEY = "campaign.key"
WORKBOOKS = "workbooks"
RETURNED = "returned"
DECISIONS_LOG = "decisions.jsonl"
# Everything a campaign folder may hold; a folder with anything else is not (only) ours.
CAMPAIGN_ENTRIES = frozenset({MANIFEST, ITEMS, KEY, WORKBOOKS, RETURNED, DECISIONS_LOG})


@dataclass(frozen=True)
class Campaign:
    """An open review campaign: its folder, manifest and items.

    ``reviewers`` is a table with ``reviewer_id``, ``reviewer``, ``email``, ``workbook``
    (relative to the folder) and ``items``.
    """

    folder: Path
    manifest: dict[str, Any]
    items: pd.DataFrame

    @property
    def id(self) -> str:
        """The campaign id written into every workbook."""
        return str(self.manifest["id"])

    @property
    def created(self) -> pd.Timestamp:
        """When the campaign was created (UTC)."""
        return pd.Timestamp(self.manifest["created"])

    @property
    def deadline(self) -> pd.Timestamp | None:
        """The review deadline day (UTC midnight; decisions are due by the end of that day,
        the date the workbooks show), or None."""
        value = self.manifest.get("deadline")
        return pd.Timestamp(value, tz="UTC") if value else None

    @property
    def reviewers(self) -> pd.DataFrame:
        """One row per reviewer with their workbook and item count."""
        rows = [{"reviewer_id": k, **v} for k, v in self.manifest["reviewers"].items()]
        return pd.DataFrame(rows, columns=["reviewer_id", "reviewer", "email", "workbook", "items"])

    def _repr_html_(self) -> str:
        """A compact card for Jupyter: id, deadline, scope, counts (not the items table)."""
        manifest = self.manifest
        revoke = int((self.items["recommendation"] == "revoke").sum()) if len(self.items) else 0
        return (
            f"<p><b>Review campaign</b> {html.escape(self.id)} by "
            f"{html.escape(str(manifest.get('by', '?')))}, scope "
            f"{html.escape(str(manifest.get('scope', '?')))}, deadline "
            f"{html.escape(str(manifest.get('deadline') or 'none'))}: {len(self.items)} items "
            f"({revoke} recommended for revoke) for {len(manifest.get('reviewers', {}))} "
            f"reviewer(s); folder {html.escape(str(self.folder))}</p>"
        )

    def key(self) -> bytes:
        """The campaign's HMAC key."""
        try:
            return bytes.fromhex((self.folder / KEY).read_text(encoding="ascii").strip())
        except (OSError, ValueError) as error:
            raise ReviewError(f"{self.folder / KEY}: campaign key unreadable ({error})") from error

    @property
    def decisions_log(self) -> Path:
        """The append-only decisions log."""
        return self.folder / DECISIONS_LOG


def create_campaign(
    snapshot: Snapshot,
    policy: Policy,
    audit_result: FindingsSource | None,
    *,
    by: ReviewBy,
    out: Path | str,
    scope: str = "all",
    deadline: str | pd.Timestamp | None = None,
    fallback_reviewer: str | None = None,
    created: pd.Timestamp | None = None,
    previous: Snapshot | None = None,
) -> Campaign:
    """Create a review campaign in ``out``: items, one workbook per reviewer, the key.

    ``by`` is ``"manager"`` (each person's entitlements to their HR manager) or ``"owner"``
    (each access row on a resource to its owner). ``scope`` is ``all``, ``privileged``,
    ``sensitive``, ``rule=RULE_ID`` or ``movers`` (what each mover brought along, to the new
    manager; ``previous``, an earlier snapshot, finds moves HR does not record and tells
    exactly what was held before — see :mod:`accessaudit.review._movers`).
    ``fallback_reviewer`` (person id or email) takes items with no usable manager / owner
    and items that would be self-reviewed. ``audit_result`` (what ``run_audit`` returns)
    supplies the findings shown on each item.

    Raises :class:`ReviewError` when ``out`` is a non-empty folder, when the scope selects no
    item, or when items have no reviewer and no fallback is given.

    >>> campaign = create_campaign(snapshot, policy, result, by="manager",   # doctest: +SKIP
    ...                            out="reviews/2026-Q4", fallback_reviewer="ciso@example.com")
    """
    if by not in ("manager", "owner"):
        raise ReviewError(f"review by {by!r}: use manager or owner")
    target = Path(out)
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise ReviewError(f"{target} exists and is not a folder; choose a new campaign folder")
    if target.exists() and any(target.iterdir()):
        raise ReviewError(f"{target} exists and is not empty; choose a new campaign folder")
    deadline_text = (
        iso_timestamp(deadline, where="deadline").strftime("%Y-%m-%d")
        if deadline is not None
        else None
    )
    findings = audit_result.findings if audit_result is not None else None
    items = build_items(snapshot, policy, findings, by=by)
    if scope == "movers":
        items = mover_items(items, snapshot, policy, previous)
    else:
        items = select_scope(items, scope)
    if items.empty:
        raise ReviewError(f"review scope {scope!r} by {by} selects no entitlement to review")
    items = finalise(assign_reviewers(items, snapshot.people, by=by, fallback=fallback_reviewer))

    created_at = (created or pd.Timestamp.now(tz="UTC")).tz_convert("UTC")
    campaign_id = f"rc-{created_at:%Y%m%d}-{secrets.token_hex(4)}"
    key = secrets.token_bytes(32)
    cells = workbook_cells(items)
    items["integrity"] = row_hashes(cells, campaign_id, items["reviewer_id"], key)

    with atomic_folder(target) as staging:
        (staging / WORKBOOKS).mkdir()
        (staging / RETURNED).mkdir()
        key_file = staging / KEY
        key_file.write_text(key.hex() + "\n", encoding="ascii")
        key_file.chmod(0o600)
        reviewers: dict[str, dict[str, Any]] = {}
        used_names: set[str] = set()
        workbooks = ReviewWorkbooks(campaign_id=campaign_id, deadline=deadline_text)
        for reviewer_id, part in items.groupby("reviewer_id", sort=True):
            name = part["reviewer"].iloc[0] or str(reviewer_id)
            file_name = (
                "review-unassigned.xlsx"
                if reviewer_id == UNASSIGNED
                else _file_name(name, str(reviewer_id), used_names)
            )
            workbooks.write(
                staging / WORKBOOKS / file_name,
                part,
                reviewer_id=str(reviewer_id),
                reviewer=name,
                cells=cells.loc[part.index],
            )
            reviewers[str(reviewer_id)] = {
                "reviewer": name,
                "email": part["reviewer_email"].iloc[0],
                "workbook": f"{WORKBOOKS}/{file_name}",
                "items": len(part),
            }
        items.to_parquet(staging / ITEMS, index=False)
        manifest = {
            "format": CAMPAIGN_FORMAT,
            "id": campaign_id,
            "created": created_at.isoformat(),
            "by": by,
            "scope": scope,
            "deadline": deadline_text,
            "fallback_reviewer": fallback_reviewer,
            "snapshot": {
                "as_of": snapshot.as_of.isoformat(),
                "manifest_sha256": snapshot.snapshot_id,
                "digest": snapshot.digest,
            },
            "policy": {
                "stale_days": policy.stale_days,
                "peer_min_size": policy.peer_min_size,
                "peer_max_share": policy.peer_max_share,
            },
            **describe_items(items),
            "reviewers": reviewers,
            # Holds current at creation travel with the campaign: remediation honours them.
            "legal_holds": _holds_record(policy, snapshot, created_at),
        }
        (staging / MANIFEST).write_text(
            json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
    return Campaign(folder=target, manifest=manifest, items=items)


def _holds_record(
    policy: Policy, snapshot: Snapshot, created: pd.Timestamp
) -> list[dict[str, Any]]:
    """The holds current at creation, a person named by email recorded by person_id (the
    items carry person_ids), so remediation honours them without the snapshot."""
    people = snapshot.people
    emails = people["email"].astype("string").str.casefold()
    records = []
    for hold in policy.holds:
        if not hold.is_current(created):
            continue
        subject = hold.subject
        if hold.subject_type == "person":
            match = people.loc[(emails == subject.casefold()).fillna(False), "person_id"]
            subject = str(match.iloc[0]) if len(match) else subject
        records.append(
            {
                hold.subject_type: subject,
                "matter": hold.matter,
                "since": hold.since.isoformat(),
                "until": hold.until.isoformat() if hold.until else None,
                "owner": hold.owner,
            }
        )
    return records


def load_campaign(folder: Path | str) -> Campaign:
    """Open a campaign folder; :class:`ReviewError` when it is not one or is incomplete."""
    source = Path(folder)
    manifest_file = source / MANIFEST
    if not manifest_file.is_file():
        raise ReviewError(f"{source} is not a review campaign: {MANIFEST} is missing")
    try:
        manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise ReviewError(f"{manifest_file}: not a valid campaign manifest ({error})") from error
    if not isinstance(manifest, dict) or manifest.get("format") != CAMPAIGN_FORMAT:
        raise ReviewError(f"{manifest_file}: not an accessaudit review campaign")
    try:
        items = pd.read_parquet(source / ITEMS)
    except (OSError, ValueError) as error:
        raise ReviewError(f"{source / ITEMS}: campaign items unreadable ({error})") from error
    return Campaign(folder=source, manifest=manifest, items=items)


#: Letters NFKD does not decompose into an ASCII base letter.
_TRANSLITERATE = str.maketrans(
    {"ß": "ss", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "đ": "d",
     "Đ": "D", "œ": "oe", "Œ": "OE", "þ": "th", "Þ": "Th", "ı": "i"}
)  # fmt: skip


def _file_name(name: str, reviewer_id: str, used: set[str]) -> str:
    """A safe, unique workbook file name for a reviewer; accented names stay readable
    ("François Rogers" → ``review-francois-rogers-….xlsx``)."""
    plain = unicodedata.normalize("NFKD", f"{name} {reviewer_id}".translate(_TRANSLITERATE))
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    slug = re.sub(r"[^A-Za-z0-9]+", "-", plain).strip("-").lower() or "reviewer"
    candidate = f"review-{slug}.xlsx"
    counter = 2
    while candidate in used:
        candidate = f"review-{slug}-{counter}.xlsx"
        counter += 1
    used.add(candidate)
    return candidate
