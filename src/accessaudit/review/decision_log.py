"""The decisions log of a campaign (``decisions.jsonl``): append-only, every line sealed and
chained to the one before it.

Each line is one JSON object: the decision (:data:`LOG_COLUMNS`) plus

* ``chain`` — the ``seal`` of the line before it (``""`` on the first line);
* ``seal`` — HMAC-SHA256, with the campaign key, of the line's canonical JSON without
  ``seal`` (sorted keys, no whitespace, UTF-8).

So an edited line fails its own seal, and a removed, inserted or reordered line breaks the
chain at the line after it; reading the log (``review collect``, ``status``, ``remediate``)
then stops with a :class:`ReviewError` naming the line. Without the campaign key
(``campaign.key``, never in a workbook) nobody can write a line that passes. Removing the
*last* lines cannot be told from their never having been written: keep the collect output
(or a copy of the log) with the evidence.

Lines are written whole: all the new lines of one collection in one ``write`` followed by
``fsync``; a write that fails (a full disk) is cut back to where it started, so the log
never keeps half of a collection. A torn last line left by a crash (no final newline, not a
valid line) is ignored with a warning and cut off before the next append.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from accessaudit.errors import ReviewError
from accessaudit.review.campaign import Campaign

__all__ = [
    "LOG_COLUMNS",
    "SUPERSEDED_COLUMNS",
    "append_decisions",
    "current_decisions",
    "logged_before",
    "read_decision_log",
    "superseded_by",
]

logger = logging.getLogger("accessaudit.review")

LOG_COLUMNS = (
    "campaign_id",
    "item_id",
    "reviewer_id",
    "decision",
    "comment",
    "decided_at",
    "source_file",
    "file_sha256",
    "row",
    "collected_at",
)
SUPERSEDED_COLUMNS = (
    "item_id",
    "decision",
    "workbook",
    "row",
    "superseded_decision",
    "superseded_file",
    "superseded_collected_at",
)
_CHAIN = "chain"
_SEAL = "seal"
# Domain separation: a seal can never be mistaken for a workbook row's integrity hash, which
# uses the same campaign key.
_SEAL_CONTEXT = b"accessaudit decisions.jsonl v1\n"


def read_decision_log(campaign: Campaign) -> pd.DataFrame:
    """Every decision in the campaign's ``decisions.jsonl``, in the order written.

    Each line's seal and chain are checked first: an edited, removed, inserted or reordered
    line is a :class:`ReviewError` naming the log and the line number. A torn last line (a
    crash or a full disk mid-write) is ignored with a warning.
    """
    records, _, _ = _read(campaign.decisions_log, campaign.key())
    return _frame(records)


def current_decisions(campaign: Campaign) -> pd.DataFrame:
    """The decision in force for each item: the last one logged (see
    :func:`accessaudit.review.collect_decisions` for the rule that decides what is logged)."""
    log = read_decision_log(campaign)
    return log.drop_duplicates("item_id", keep="last").reset_index(drop=True)


def append_decisions(campaign: Campaign, decisions: pd.DataFrame) -> int:
    """Seal, chain and append ``decisions`` (:data:`LOG_COLUMNS`) to the log in one write;
    return how many lines were added. A failed write leaves the log as it was and is a
    :class:`ReviewError` saying nothing was added."""
    if decisions.empty:
        return 0
    log = campaign.decisions_log
    key = campaign.key()
    records: list[dict[str, Any]] = [
        {
            str(column): (int(value) if column == "row" else str(value))
            for column, value in row.items()
        }
        for row in decisions.loc[:, list(LOG_COLUMNS)].to_dict(orient="records")
    ]
    try:
        descriptor = os.open(log, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as error:
        raise ReviewError(f"{log}: cannot open the decisions log ({error.strerror})") from error
    try:
        _, chain, keep = _read(log, key)
        lines = []
        for record in records:
            body = {**record, _CHAIN: chain}
            chain = _seal(key, body)
            lines.append(json.dumps({**body, _SEAL: chain}, sort_keys=True, ensure_ascii=False))
        data = ("\n".join(lines) + "\n").encode("utf-8")
        size = os.fstat(descriptor).st_size
        if keep.needs_newline:
            data = b"\n" + data
        if size > keep.length:
            logger.warning(
                "%s: removed a torn last line (%d bytes) before appending", log, size - keep.length
            )
        _write_whole(descriptor, keep.length, data, log)
    finally:
        os.close(descriptor)
    return len(records)


def logged_before(decisions: pd.DataFrame, log: pd.DataFrame, identity: list[str]) -> pd.Series:
    """A mask of ``decisions`` already in ``log`` with the same ``identity`` columns (a return
    read again), which change nothing."""
    if decisions.empty or log.empty:
        return pd.Series(False, index=decisions.index)
    seen = pd.MultiIndex.from_frame(log[identity].astype(str))
    mask = pd.MultiIndex.from_frame(decisions[identity].astype(str)).isin(seen)
    return pd.Series(mask, index=decisions.index)


def superseded_by(fresh: pd.DataFrame, in_force: pd.DataFrame) -> pd.DataFrame:
    """One row (:data:`SUPERSEDED_COLUMNS`) per decision in force (``in_force``, by item id)
    that a ``fresh`` decision replaces with another decision or comment."""
    before = in_force.reindex(fresh["item_id"].to_numpy())
    was = before["decision"].to_numpy(dtype=object)
    was_comment = before["comment"].to_numpy(dtype=object)
    changed = before["decision"].notna().to_numpy() & (
        (was != fresh["decision"].to_numpy(dtype=object))
        | (was_comment != fresh["comment"].to_numpy(dtype=object))
    )
    rows = fresh[changed]
    old = before[changed]
    return pd.DataFrame(
        {
            "item_id": rows["item_id"].to_numpy(),
            "decision": rows["decision"].to_numpy(),
            "workbook": rows["source_file"].to_numpy(),
            "row": rows["row"].to_numpy(),
            "superseded_decision": old["decision"].to_numpy(),
            "superseded_file": old["source_file"].to_numpy(),
            "superseded_collected_at": old["collected_at"].to_numpy(),
        },
        columns=list(SUPERSEDED_COLUMNS),
    )


class _End:
    """Where the valid part of the log ends, and whether its last line lacks a newline."""

    def __init__(self, length: int, needs_newline: bool) -> None:
        self.length = length
        self.needs_newline = needs_newline


def _write_whole(descriptor: int, at: int, data: bytes, log: Path) -> None:
    try:
        os.ftruncate(descriptor, at)
        os.lseek(descriptor, at, os.SEEK_SET)
        written = os.write(descriptor, data)
        if written != len(data):
            # A regular file writes short only when the disk or the file-size limit is hit.
            raise OSError(28, "No space left on device (short write)")
        os.fsync(descriptor)
    except OSError as error:
        try:
            os.ftruncate(descriptor, at)
        except OSError:
            logger.warning("%s: could not cut back a failed append", log)
        raise ReviewError(
            f"{log}: cannot append decisions ({error.strerror or error}); nothing was added "
            "to the log; free some space and run review collect again"
        ) from error


def _read(log: Path, key: bytes) -> tuple[list[dict[str, Any]], str, _End]:
    """The log's records, the seal of its last line, and where its valid part ends."""
    try:
        data = log.read_bytes()
    except FileNotFoundError:
        return [], "", _End(0, needs_newline=False)
    except OSError as error:
        raise ReviewError(f"{log}: cannot read the decisions log ({error.strerror})") from error
    pieces = data.split(b"\n")
    tail = pieces.pop()  # b"" when the file ends with a newline
    records: list[dict[str, Any]] = []
    chain = ""
    for number, piece in enumerate(pieces, start=1):
        record = _line(piece, number, log, key, chain)
        records.append(record)
        chain = str(record[_SEAL])
    end = _End(len(data) - len(tail), needs_newline=False)
    if tail:
        number = len(pieces) + 1
        try:
            record = _line(tail, number, log, key, chain)
        except ReviewError as error:
            logger.warning(
                "%s:%d: ignoring a torn last line (%d bytes, no newline: a write was cut "
                "short); it is removed at the next collect (%s)",
                log,
                number,
                len(tail),
                error,
            )
        else:
            records.append(record)
            chain = str(record[_SEAL])
            end = _End(len(data), needs_newline=True)
    return records, chain, end


def _line(piece: bytes, number: int, log: Path, key: bytes, chain: str) -> dict[str, Any]:
    where = f"{log}:{number}"
    try:
        record = json.loads(piece.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        raise ReviewError(f"{where}: not a JSON line ({error})") from error
    if not isinstance(record, dict):
        raise ReviewError(f"{where}: not a decision (a JSON object)")
    missing = [c for c in (*LOG_COLUMNS, _CHAIN, _SEAL) if c not in record]
    if missing:
        raise ReviewError(f"{where}: not a sealed decision line (no {', '.join(missing)})")
    bad = [
        c
        for c in (*LOG_COLUMNS, _CHAIN, _SEAL)
        if not isinstance(record[c], int if c == "row" else str) or isinstance(record[c], bool)
    ]
    if bad:
        raise ReviewError(f"{where}: wrong type in {', '.join(bad)}")
    body = {k: v for k, v in record.items() if k != _SEAL}
    if not hmac.compare_digest(_seal(key, body).encode(), record[_SEAL].encode()):
        raise ReviewError(
            f"{where}: the line was altered (its seal does not match); the decisions log "
            "cannot be trusted"
        )
    if record[_CHAIN] != chain:
        raise ReviewError(
            f"{where}: the line does not follow line {number - 1} (a line was removed, "
            "inserted or moved before it); the decisions log cannot be trusted"
            if number > 1
            else f"{where}: the first line does not start the log (lines were removed before "
            "it); the decisions log cannot be trusted"
        )
    return record


def _seal(key: bytes, body: Mapping[str, Any]) -> str:
    canonical = json.dumps(dict(body), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hmac.new(key, _SEAL_CONTEXT + canonical.encode("utf-8"), hashlib.sha256).hexdigest()


def _frame(records: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    if not records:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in LOG_COLUMNS})
    return pd.DataFrame(
        [{c: r[c] for c in LOG_COLUMNS} for r in records], columns=list(LOG_COLUMNS)
    )
