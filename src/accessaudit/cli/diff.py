"""Sub-command ``diff OLD NEW``: what changed between two snapshots."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from accessaudit.cli._table import add_wide_option, fit_lines, table

__all__ = ["register"]

_SHOWN_ROWS = 20


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``accessaudit diff OLD NEW``."""
    diff = subparsers.add_parser(
        "diff",
        help="accounts, memberships and access added, removed or changed between snapshots",
    )
    diff.add_argument("old", type=Path, metavar="OLD", help="the earlier snapshot folder")
    diff.add_argument("new", type=Path, metavar="NEW", help="the later snapshot folder")
    diff.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="audit config whose policy names extra privileged groups (default: built-ins only)",
    )
    diff.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="table (default) or json (schema: accessaudit/schemas/diff.json)",
    )
    diff.add_argument("--excel", type=Path, metavar="FILE", help="also write a workbook")
    add_wide_option(diff)
    diff.set_defaults(handler=_diff)


def _diff(args: argparse.Namespace) -> int:
    from accessaudit.analysis import diff_snapshots
    from accessaudit.config import load_config
    from accessaudit.reports.diff_excel import write_diff_workbook
    from accessaudit.reports.json import diff_document
    from accessaudit.snapshot import Snapshot

    policy = load_config(args.config).policy if args.config else None
    change = diff_snapshots(Snapshot.load(args.old), Snapshot.load(args.new), policy=policy)
    if args.excel:
        write_diff_workbook(change, args.excel)
    if args.format == "json":
        print(json.dumps(diff_document(change), indent=2, default=str))
        return 0
    print(f"Changes from {change.old_as_of.date()} to {change.new_as_of.date()}")
    print(
        fit_lines(
            [f"Snapshot digests: old {change.old_digest}, new {change.new_digest}"],
            wide=args.wide,
        )
    )
    summary = change.summary().astype(object)
    print(
        table(
            summary.where(summary.notna(), "").to_numpy().tolist(),
            [str(c) for c in summary.columns],
            wide=args.wide,
        )
    )
    for name, changes in change.tables().items():
        if changes.empty:
            continue
        print(f"\n{name} ({len(changes)})")
        shown = changes.head(_SHOWN_ROWS).astype(object)
        if not args.wide:
            # 80 columns: the names a person reads, not the ids behind them (--wide has all).
            ids = [c for c in shown.columns if str(c).endswith("_id") and c != "person_id"]
            shown = shown.drop(columns=ids) if len(ids) < len(shown.columns) else shown
        print(
            table(
                shown.where(shown.notna(), "").to_numpy().tolist(),
                [str(c) for c in shown.columns],
                wide=args.wide,
            )
        )
        if len(changes) > _SHOWN_ROWS:
            print(f"… and {len(changes) - _SHOWN_ROWS} more (use --format json or --excel)")
    return 0
