"""Sub-command ``scope``: the blast radius of a compromised account or resource."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from accessaudit.cli._table import add_wide_option, fit_lines, table

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``accessaudit scope --account LOGIN | --resource NAME``."""
    scope = subparsers.add_parser(
        "scope",
        help="what a compromised account reaches, or who reaches a resource; notification clocks",
    )
    scope.add_argument(
        "--config", type=Path, required=True, metavar="FILE", help="the audit config (TOML)"
    )
    scope.add_argument(
        "--snapshot", type=Path, metavar="DIR", help="a saved snapshot (default: collect now)"
    )
    subject = scope.add_mutually_exclusive_group(required=True)
    subject.add_argument(
        "--account", metavar="LOGIN", help="what this (compromised) account reaches"
    )
    subject.add_argument("--resource", metavar="NAME", help="who reaches this resource")
    scope.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="table (default) or json (schema: accessaudit/schemas/scope.json)",
    )
    scope.add_argument(
        "--excel", type=Path, metavar="FILE", help="also write a workbook (link reach included)"
    )
    add_wide_option(scope)
    scope.set_defaults(handler=_scope)


def _scope(args: argparse.Namespace) -> int:
    from accessaudit.analysis import breach_scope
    from accessaudit.collection import collect
    from accessaudit.config import load_config
    from accessaudit.reports.json import scope_document
    from accessaudit.reports.scope_excel import write_scope_workbook
    from accessaudit.snapshot import Snapshot

    config = load_config(args.config)
    snapshot = Snapshot.load(args.snapshot) if args.snapshot else collect(config)
    result = breach_scope(
        snapshot, account=args.account, resource=args.resource, policy=config.policy
    )
    if args.excel:
        write_scope_workbook(result, args.excel)
    if args.format == "json":
        print(json.dumps(scope_document(result), indent=2, default=str))
        return 0
    print(
        fit_lines(
            [
                f"Scope of {result.subject_type} {result.subject!r} as of "
                f"{result.as_of.date()}: {len(result.accounts)} account(s), "
                f"{result.resources['resource_id'].nunique()} resource(s), data categories: "
                f"{', '.join(result.data_categories) or 'none'}; sharing links: "
                f"{result.link_reach['statement']}"
            ],
            wide=args.wide,
        )
    )
    columns = ["login", "resource", "right", "path", "sensitivity", "data_categories"]
    reach = result.resources[columns].astype(object)
    print(table(reach.where(reach.notna(), "").to_numpy().tolist(), columns, wide=args.wide))
    if len(result.links):
        # The same columns for an account's scope and a resource's: the item (resource), its
        # library (drive_id, the id the Graph DELETE names), expiry and who created it.
        links = result.links[
            [
                "resource",
                "reach",
                "right",
                "link_type",
                "link_expires",
                "link_created_by",
                "drive_id",
            ]
        ]
        print("\nSharing links:")
        shown = links.astype(object)
        print(
            table(
                shown.where(shown.notna(), "").to_numpy().tolist(),
                [str(c) for c in links.columns],
                wide=args.wide,
            )
        )
    if len(result.groups):
        groups = result.groups[["name", "system", "privileged", "path"]].astype(object)
        print("\nGroups:")
        print(table(groups.to_numpy().tolist(), [str(c) for c in groups.columns], wide=args.wide))
    if len(result.notifications):
        print("\nNotification clocks:")
        clocks = result.notifications.astype(object)
        print(
            table(
                clocks.where(clocks.notna(), "").to_numpy().tolist(),
                [str(c) for c in clocks.columns],
                wide=args.wide,
            )
        )
    return 0
