"""Collecting returned review workbooks: every row checked, every valid decision kept.

A row's decision is accepted only when the row is one of that reviewer's items, its data cells
and integrity hash are exactly as sent, its decision word is keep / revoke / modify, and the
comment rules hold (a comment is required for keep against a revoke recommendation, and for
modify). Each problem is reported with workbook, sheet and row; a bad row never costs the
other rows their decisions. Accepted decisions are appended to ``decisions.jsonl`` — never
rewritten, each line sealed and chained (:mod:`accessaudit.review.decision_log`) — with the
reviewer, the file's modification time as ``decided_at``, the file name and its SHA-256, so
each decision can be traced to the exact file it came from.

**Which decision is in force** (one rule, for the state and the messages alike): the last
decision logged for an item. A collection logs the decisions of returns it has not logged
before; a workbook already logged (same SHA-256) is re-read but changes nothing. So a later
return supersedes an earlier one, and the result lists each decision it superseded. Two new
returns in the same collection that decide an item differently are a conflict: neither is
logged, the decision in force (if any) stays, and the problem says which it is.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from accessaudit.errors import ReviewError
from accessaudit.review._cells import (
    DATA_COLUMNS,
    DECISIONS,
    HEADER,
    REVIEW_SHEET,
    row_hashes,
    workbook_cells,
)
from accessaudit.review._returned import ReturnedWorkbook, read_workbook
from accessaudit.review.campaign import RETURNED, WORKBOOKS, Campaign
from accessaudit.review.decision_log import (
    LOG_COLUMNS,
    SUPERSEDED_COLUMNS,
    append_decisions,
    logged_before,
    read_decision_log,
    superseded_by,
)

__all__ = [
    "PROBLEM_COLUMNS",
    "SUPERSEDED_COLUMNS",
    "CollectResult",
    "check_workbook",
    "collect_decisions",
]

PROBLEM_COLUMNS = ("workbook", "sheet", "row", "item_id", "problem")
# Returned workbooks are read whatever the case of their extension; .xlsm is how Excel saves
# a workbook someone added a macro to, and openpyxl reads its cells the same way.
_WORKBOOK_SUFFIXES = frozenset({".xlsx", ".xlsm"})


@dataclass(frozen=True)
class CollectResult:
    """What one collection did.

    ``accepted``: decisions accepted in this run (log columns). ``problems``: one row per
    problem (``workbook``, ``sheet``, ``row`` — empty for a whole-workbook or removed-row
    problem — ``item_id``, ``problem``). ``read`` / ``unreadable``: workbook file names.
    ``logged``: how many decisions were new to the log (re-collecting the same file adds
    nothing). ``superseded``: one row per decision in force that a decision logged now
    replaced (:data:`SUPERSEDED_COLUMNS`).
    """

    accepted: pd.DataFrame
    problems: pd.DataFrame
    read: tuple[str, ...]
    unreadable: tuple[str, ...]
    logged: int
    superseded: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=list(SUPERSEDED_COLUMNS))
    )

    @property
    def exit_status(self) -> int:
        """0 when every workbook was clean, 1 when any problem was found."""
        return 1 if len(self.problems) else 0


def collect_decisions(
    campaign: Campaign,
    workbooks: Sequence[Path | str] = (),
    *,
    collected_at: pd.Timestamp | None = None,
) -> CollectResult:
    """Validate returned workbooks and append their valid decisions to the decisions log.

    ``workbooks`` defaults to every file in the campaign's ``returned/`` folder (``.xlsx``
    and ``.xlsm`` in any case are read; any other file is reported, never skipped), or the
    sent workbooks when nothing was returned there. Raises :class:`ReviewError` when no
    workbook could be read at all, or when the decisions log was tampered with; every other
    problem is in ``problems``. The module text gives the rule for which decision is in force.

    >>> result = collect_decisions(load_campaign("reviews/2026-Q4"))  # doctest: +SKIP
    >>> result.problems                                                 # doctest: +SKIP
    """
    files = [Path(w) for w in workbooks] or _default_workbooks(campaign)
    if not files:
        raise ReviewError(f"{campaign.folder}: no workbooks to collect")
    now = (collected_at or pd.Timestamp.now(tz="UTC")).isoformat()
    key = campaign.key()
    # Read (and so check) the log first: a tampered log stops the collection before any work.
    log = read_decision_log(campaign)
    problems: list[pd.DataFrame] = []
    accepted: list[pd.DataFrame] = []
    read: list[str] = []
    unreadable: list[str] = []
    for file in files:
        if file.suffix.lower() not in _WORKBOOK_SUFFIXES:
            unreadable.append(file.name)
            problems.append(
                _problem(
                    file.name,
                    "",
                    f"{file.name}: not an Excel workbook (.xlsx or .xlsm), so none of its "
                    "decisions were read; open it in Excel and save it as Excel Workbook (.xlsx)",
                )
            )
            continue
        try:
            returned = read_workbook(file)
        except ReviewError as error:
            unreadable.append(file.name)
            problems.append(_problem(file.name, "", str(error)))
            continue
        read.append(file.name)
        good, bad = check_workbook(campaign, returned, key)
        problems.append(bad)
        if len(good):
            digest = _sha256(file)
            mtime = pd.Timestamp(os.stat(file).st_mtime, unit="s", tz="UTC").isoformat()
            accepted.append(
                good.assign(
                    campaign_id=campaign.id,
                    decided_at=mtime,
                    source_file=file.name,
                    file_sha256=digest,
                    collected_at=now,
                )
            )
    if not read:
        raise ReviewError(
            f"{campaign.folder}: none of {len(files)} workbook(s) could be read: "
            + "; ".join(str(p["problem"].iloc[0]) for p in problems if len(p))
        )
    decisions = (
        pd.concat(accepted, ignore_index=True)
        if accepted
        else pd.DataFrame(columns=[*LOG_COLUMNS, "workbook_name"])
    )
    identity = ["item_id", "decision", "comment", "file_sha256"]
    replayed = logged_before(decisions, log, identity)
    in_force = log.drop_duplicates("item_id", keep="last").set_index("item_id")
    fresh, conflicts = _drop_conflicts(decisions[~replayed], in_force)
    problems.append(conflicts)
    problem_table = pd.concat([p for p in problems if len(p)] or [_empty_problems()])
    problem_table = problem_table.reset_index(drop=True)
    problem_table["row"] = problem_table["row"].astype("Int64")
    fresh = fresh.drop_duplicates(identity)
    superseded = superseded_by(fresh, in_force)
    logged = append_decisions(campaign, fresh)
    in_run = pd.concat([decisions[replayed].drop_duplicates(identity), fresh])
    return CollectResult(
        accepted=in_run[list(LOG_COLUMNS)].reset_index(drop=True),
        problems=problem_table,
        read=tuple(read),
        unreadable=tuple(unreadable),
        logged=logged,
        superseded=superseded,
    )


def _default_workbooks(campaign: Campaign) -> list[Path]:
    # Every file a person put in returned/ is read or reported; only hidden files (.DS_Store,
    # our own temporaries) are left out.
    folder = campaign.folder / RETURNED
    returned = (
        sorted(p for p in folder.iterdir() if not p.name.startswith(".")) if folder.is_dir() else []
    )
    return returned or sorted((campaign.folder / WORKBOOKS).glob("*.xlsx"))


def _empty_problems() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=object) for c in PROBLEM_COLUMNS})


def _problem(workbook: str, sheet: str, text: str) -> pd.DataFrame:
    return pd.DataFrame(
        [{"workbook": workbook, "sheet": sheet, "row": None, "item_id": "", "problem": text}]
    )


def check_workbook(
    campaign: Campaign, returned: ReturnedWorkbook, key: bytes
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the valid decisions of one returned workbook and its problems (one row per
    problem; ``row`` empty with ``item_id`` empty for a whole-workbook problem). Nothing is
    logged: :func:`collect_decisions` and ``review status`` both use it."""
    rows = returned.rows
    name = returned.path.name
    if returned.campaign_id != campaign.id:
        return rows.iloc[0:0], _problem(
            name,
            "",
            f"workbook belongs to campaign {returned.campaign_id or 'unknown'}, not "
            f"{campaign.id}; none of its rows were accepted",
        )
    mine = campaign.items[campaign.items["reviewer_id"] == returned.reviewer_id]
    if mine.empty:
        return rows.iloc[0:0], _problem(
            name, "", f"reviewer {returned.reviewer_id!r} has no items in campaign {campaign.id}"
        )
    if returned.header != HEADER:
        return rows.iloc[0:0], _problem(
            name,
            REVIEW_SHEET,
            f"row 1: the columns were changed (expected {', '.join(HEADER)}); "
            "none of its rows were accepted",
        )

    expected = workbook_cells(mine).set_index(mine["item_id"].to_numpy())
    integrity = pd.Series(mine["integrity"].to_numpy(), index=mine["item_id"].to_numpy())
    recommendation = pd.Series(mine["recommendation"].to_numpy(), index=mine["item_id"].to_numpy())
    item = rows["Item"]
    known = item.isin(expected.index)
    notes: list[pd.Series] = []

    def note(mask: pd.Series, text: pd.Series | str) -> None:
        if mask.any():
            notes.append(pd.Series(text, index=rows.index)[mask])

    note(
        ~known,
        "row added: item " + item.where(item.ne(""), "(empty)") + " was not sent to this reviewer",
    )
    duplicated = known & item.duplicated(keep=False)
    note(duplicated, "item " + item + " appears in more than one row")

    headers = [h for h, _ in DATA_COLUMNS]
    sent = expected.reindex(item.where(known, expected.index[0])).set_axis(rows.index)
    edited = rows[headers].ne(sent[headers]) & known.to_numpy()[:, None]
    names = pd.Series("", index=rows.index, dtype=object)
    for header in headers:
        names = names + np.where(edited[header].to_numpy(), header + ", ", "")
    edited_names = names.str.removesuffix(", ")
    data_edited = edited.any(axis=1)
    note(data_edited, "data edited in column(s) " + edited_names.astype(str))
    sent_hash = integrity.reindex(item.where(known, "")).set_axis(rows.index)
    recomputed = row_hashes(rows[headers], campaign.id, returned.reviewer_id, key)
    hash_changed = (
        known & ~data_edited & (rows["Integrity"].ne(sent_hash) | recomputed.ne(sent_hash))
    )
    note(hash_changed, "integrity hash changed")

    decision = rows["Decision"].str.strip().str.lower()
    comment = rows["Comment"].str.strip()
    bad_word = decision.ne("") & ~decision.isin(DECISIONS)
    note(
        bad_word,
        "decision " + rows["Decision"].map(repr) + " is not one of " + ", ".join(DECISIONS),
    )
    wanted_revoke = recommendation.reindex(item.where(known, "")).set_axis(rows.index).eq("revoke")
    keep_no_comment = decision.eq("keep") & wanted_revoke & comment.eq("")
    note(keep_no_comment, "keep against a revoke recommendation needs a comment")
    modify_no_comment = decision.eq("modify") & comment.eq("")
    note(modify_no_comment, "modify needs a comment saying what to change")

    removed = expected.index[~expected.index.isin(item)]
    problems = [
        pd.DataFrame(
            {
                "workbook": name,
                "sheet": REVIEW_SHEET,
                "row": rows.loc[n.index, "row"].to_numpy(),
                "item_id": item[n.index].to_numpy(),
                "problem": n.to_numpy(),
            }
        )
        for n in notes
    ]
    if len(removed):
        logins = mine.set_index("item_id").loc[removed]
        problems.append(
            pd.DataFrame(
                {
                    "workbook": name,
                    "sheet": REVIEW_SHEET,
                    "row": None,
                    "item_id": removed.to_numpy(),
                    "problem": (
                        "row removed: item "
                        + removed.to_series().to_numpy()
                        + " ("
                        + logins["login"].to_numpy()
                        + " → "
                        + logins["entitlement"].to_numpy()
                        + ")"
                    ),
                }
            )
        )
    problem_table = (
        pd.concat(problems, ignore_index=True).sort_values("row", na_position="last")
        if problems
        else _empty_problems()
    )
    valid = (
        known
        & ~duplicated
        & ~data_edited
        & ~hash_changed
        & decision.isin(DECISIONS)
        & ~keep_no_comment
        & ~modify_no_comment
    )
    good = pd.DataFrame(
        {
            "item_id": item[valid],
            "reviewer_id": returned.reviewer_id,
            "decision": decision[valid],
            "comment": comment[valid],
            "row": rows.loc[valid, "row"],
            "workbook_name": name,
        }
    )
    return good, problem_table


def _drop_conflicts(
    decisions: pd.DataFrame, in_force: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The same item decided differently in two new returns: neither is logged, and the
    problem names the decision that stays in force (``in_force``, by item id)."""
    if decisions.empty:
        return decisions, _empty_problems()
    kinds = decisions.groupby("item_id")["decision"].transform("nunique")
    conflicting = decisions[kinds > 1]
    if conflicting.empty:
        return decisions.drop_duplicates("item_id"), _empty_problems()
    where = (
        conflicting["workbook_name"]
        + " row "
        + conflicting["row"].astype(str)
        + ": "
        + conflicting["decision"]
    )
    others = where.groupby(conflicting["item_id"]).agg("; ".join)
    before = in_force.reindex(conflicting["item_id"].to_numpy())
    decided_before = pd.Series(before["decision"].to_numpy(), dtype=object)
    stays = (
        ("the decision in force stays " + decided_before.astype(str) + " from ")
        + pd.Series(before["source_file"].to_numpy(), dtype=object).astype(str)
    ).where(decided_before.notna(), "the item stays undecided")
    problems = pd.DataFrame(
        {
            "workbook": conflicting["workbook_name"].to_numpy(),
            "sheet": REVIEW_SHEET,
            "row": conflicting["row"].to_numpy(),
            "item_id": conflicting["item_id"].to_numpy(),
            "problem": (
                "item decided differently in more than one workbook ("
                + conflicting["item_id"].map(others).astype(str)
                + "); neither decision was accepted; "
            ).to_numpy()
            + stays.to_numpy(),
        }
    )
    kept = decisions[kinds <= 1].drop_duplicates(["item_id", "decision", "comment"])
    kept = kept.drop_duplicates("item_id")
    return kept, problems


def _sha256(file: Path) -> str:
    digest = hashlib.sha256()
    with file.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
