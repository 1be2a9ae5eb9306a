"""Sub-commands ``audit`` (run the rules, print or write the report) and ``rules`` (catalogue).

``--format json`` prints only the JSON array on stdout; everything else goes to stderr.
Exit status: 0 ran with nothing at or above ``--fail-on``, 1 findings at or above it, 2 bad
input (our errors propagate to :func:`accessaudit.cli.main`, which prints one line).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tabulate import tabulate

from accessaudit.cli._options import date_option
from accessaudit.errors import ConfigError
from accessaudit.findings import SEVERITIES

__all__ = ["register"]

EXIT_OK = 0
EXIT_FINDINGS = 1


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``audit`` and ``rules`` to the ``accessaudit`` parser."""
    audit = subparsers.add_parser(
        "audit",
        help="run the rules on a snapshot (or collect one first) and report the findings",
        description="Collect from the config's sources (or load --snapshot), run the rules "
        "under the config's policy, print a summary or the JSON findings, and optionally "
        "write the Excel report.",
    )
    audit.add_argument("--config", type=Path, required=True, metavar="FILE")
    audit.add_argument("--snapshot", type=Path, metavar="DIR", help="a saved snapshot folder")
    audit.add_argument(
        "--previous-snapshot",
        type=Path,
        metavar="DIR",
        help="an earlier snapshot: movers HR keeps no history for are found by comparing",
    )
    audit.add_argument(
        "--as-of", metavar="DATE", help="judge as of this date (default: config, then snapshot)"
    )
    audit.add_argument("--excel", type=Path, metavar="FILE", help="also write the workbook")
    audit.add_argument("--format", choices=("table", "json"), default="table")
    audit.add_argument(
        "--fail-on",
        choices=tuple(reversed(SEVERITIES)),
        metavar="SEVERITY",
        help="exit 1 when a finding is at or above this severity "
        f"({', '.join(reversed(SEVERITIES))}; default: never)",
    )
    audit.add_argument("--rules", metavar="ID,…", help="run only these rule ids")
    audit.add_argument(
        "--progress",
        dest="progress",
        action="store_true",
        default=None,
        help="progress bars on stderr while collecting (default: when stderr is a terminal)",
    )
    audit.add_argument("--no-progress", dest="progress", action="store_false")
    audit.set_defaults(handler=_run_audit_command)

    rules = subparsers.add_parser("rules", help="the rule catalogue")
    rules.add_argument("--format", choices=("table", "json"), default="table")
    rules.set_defaults(handler=_list_rules_command)


def _run_audit_command(args: argparse.Namespace) -> int:
    """``accessaudit audit``: returns the exit status."""
    # Imported here so `accessaudit rules` and `--help` stay fast (pandas-heavy modules).
    from accessaudit.audit import run_audit
    from accessaudit.collection import collect
    from accessaudit.config import load_config
    from accessaudit.rules import RULES
    from accessaudit.snapshot import Snapshot

    chosen = None
    if args.rules:
        chosen = [r.strip() for r in str(args.rules).split(",") if r.strip()]
        unknown = [r for r in chosen if r not in RULES]
        if unknown:
            raise ConfigError(
                f"--rules: unknown rule id(s) {', '.join(unknown)} (see `accessaudit rules`)"
            )
    config = load_config(args.config)
    as_of = date_option("--as-of", args.as_of)
    if args.snapshot is not None:
        snapshot = Snapshot.load(args.snapshot)
    else:
        progress = bool(sys.stderr.isatty()) if args.progress is None else bool(args.progress)
        snapshot = collect(config, progress=progress, as_of=as_of)
    # The audit date follows accessaudit.model.choose_as_of: --as-of, else the snapshot's.
    previous = Snapshot.load(args.previous_snapshot) if args.previous_snapshot else None
    result = run_audit(snapshot, config.policy, rules=chosen, as_of=as_of, previous=previous)
    if args.excel is not None:
        from accessaudit.reports.excel import write_report

        write_report(args.excel, result, snapshot)
    if args.format == "json":
        from accessaudit.reports.json import findings_json

        sys.stdout.write(findings_json(result) + "\n")
    else:
        from accessaudit.reports.console import summary_table

        sys.stdout.write(summary_table(result) + "\n")
        if args.excel is not None:
            sys.stdout.write(f"Report written to {args.excel}\n")
    if args.fail_on and len(result.at_or_above(args.fail_on)):
        return EXIT_FINDINGS
    return EXIT_OK


def _list_rules_command(args: argparse.Namespace) -> int:
    """``accessaudit rules``: the catalogue as a table or JSON."""
    from accessaudit.rules import RULES

    if args.format == "json":
        items = [
            {
                "id": s.id,
                "severity": s.severity,
                "title": s.title,
                "rationale": s.rationale,
                "remediation": s.remediation,
                "controls": list(s.controls),
            }
            for s in RULES.values()
        ]
        sys.stdout.write(json.dumps(items, indent=2, ensure_ascii=False) + "\n")
        return EXIT_OK
    rows = [[s.id, s.severity, s.title, "; ".join(s.controls)] for s in RULES.values()]
    sys.stdout.write(
        tabulate(
            rows, headers=["id", "severity", "title", "controls"], maxcolwidths=[None, None, 40, 60]
        )
        + "\n"
    )
    return EXIT_OK
