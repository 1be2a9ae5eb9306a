"""Sub-commands ``audit`` (run the rules, print or write the report) and ``rules`` (catalogue).

``--format json`` prints only the JSON envelope on stdout (schema: ``accessaudit/schemas/
audit.json``); everything else goes to stderr. Exit status: 0 ran with nothing at or above
``--fail-on``, 1 findings at or above it, 2 bad input (our errors propagate to
:func:`accessaudit.cli.main`, which prints one line) or nothing could be checked: no rule had
its data, or with ``--fail-on`` no rule that finds at or above that severity had its data.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from accessaudit.cli._options import add_progress_flags, date_option, wants_progress
from accessaudit.cli._table import add_wide_option, table

if TYPE_CHECKING:
    from accessaudit.audit import AuditResult
from accessaudit._vocabulary import SEVERITIES
from accessaudit.errors import ConfigError

__all__ = ["register"]

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_NOTHING_CHECKED = 2


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``audit`` and ``rules`` to the ``accessaudit`` parser."""
    audit = subparsers.add_parser(
        "audit",
        help="run the rules on a snapshot (or collect one first) and report the findings",
        description="Collect from the config's sources (or load --snapshot), run the rules "
        "under the config's policy, print a summary or the JSON envelope, and optionally "
        "write the Excel report. What the sources could not read and what the rules could "
        "not check is printed after the summary.",
        epilog="example:\n  accessaudit audit --config audit.toml --snapshot snapshots/2026-Q4 "
        "\\\n      --excel report.xlsx --fail-on high",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    audit.add_argument(
        "--config", type=Path, required=True, metavar="FILE", help="the audit config (TOML)"
    )
    audit.add_argument(
        "--snapshot", type=Path, metavar="DIR", help="a saved snapshot folder (default: collect)"
    )
    audit.add_argument(
        "--as-of", metavar="DATE", help="judge as of this date (default: snapshot, then config)"
    )
    audit.add_argument(
        "--previous-snapshot",
        type=Path,
        metavar="DIR",
        help="an earlier snapshot: movers HR keeps no history for are found by comparing",
    )
    audit.add_argument("--excel", type=Path, metavar="FILE", help="also write the workbook")
    audit.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="table: the summary for people (default); json: the envelope for machines",
    )
    audit.add_argument(
        "--fail-on",
        choices=tuple(reversed(SEVERITIES)),
        metavar="SEVERITY",
        help="exit 1 when a finding is at or above this severity, 2 when no rule that finds at "
        f"or above it could be checked ({', '.join(reversed(SEVERITIES))}; default: never)",
    )
    audit.add_argument(
        "--rules", metavar="ID,…", help="run only these rule ids (see `accessaudit rules`)"
    )
    add_wide_option(audit)
    add_progress_flags(audit)
    audit.set_defaults(handler=_run_audit_command)

    rules = subparsers.add_parser(
        "rules",
        help="the rule catalogue",
        description="Every rule with its severity, title and the controls it evidences.",
        epilog="example:\n  accessaudit rules --format json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    rules.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="table (default) or json (with rationale, remediation and inputs)",
    )
    add_wide_option(rules)
    rules.set_defaults(handler=_list_rules_command)


def _run_audit_command(args: argparse.Namespace) -> int:
    """``accessaudit audit``: returns the exit status."""
    # Imported here so `accessaudit rules` and `--help` stay fast (pandas-heavy modules).
    from accessaudit.audit import run_audit
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
        # Only when collecting: the connectors' modules are not needed to read a snapshot.
        from accessaudit.collection import collect

        progress = wants_progress(args)
        snapshot = collect(config, progress=progress, as_of=as_of)
    # The audit date follows accessaudit.model.choose_as_of: --as-of, else the snapshot's.
    previous = Snapshot.load(args.previous_snapshot) if args.previous_snapshot else None
    result = run_audit(snapshot, config.policy, rules=chosen, as_of=as_of, previous=previous)
    if args.excel is not None:
        from accessaudit.reports.excel import write_report

        write_report(args.excel, result, snapshot)
    if args.format == "json":
        from accessaudit.reports.json import audit_json

        sys.stdout.write(audit_json(result) + "\n")
    else:
        from accessaudit.reports.console import summary_table

        sys.stdout.write(summary_table(result, wide=args.wide) + "\n")
        if args.excel is not None:
            sys.stdout.write(f"Report written to {args.excel}\n")
    unchecked = _nothing_checked(result, args.fail_on)
    if unchecked:
        print(f"accessaudit: nothing could be checked: {unchecked}", file=sys.stderr)
        return EXIT_NOTHING_CHECKED
    if args.fail_on and len(result.at_or_above(args.fail_on)):
        return EXIT_FINDINGS
    return EXIT_OK


def _nothing_checked(result: AuditResult, fail_on: str | None) -> str:
    """Why the run cannot vouch for anything ('' when it can): no rule ran, or no rule that
    finds at or above ``fail_on`` ran. A cron job must not read either as "clean"."""
    from accessaudit.rules import RULES

    reasons = "; ".join(
        dict.fromkeys(r for text in result.not_checked.values() for r in text.split("; "))
    )
    if result.nothing_checked:
        return f"no rule had the data it needs ({reasons or 'no rule was run'})"
    if fail_on:
        order = {s: i for i, s in enumerate(SEVERITIES)}
        relevant = [r for r in result.rules_run if order[RULES[r].severity] >= order[fail_on]]
        if relevant and all(r in result.not_checked for r in relevant):
            return (
                f"no rule that finds {fail_on} or worse could run ({', '.join(relevant)}: "
                f"{reasons})"
            )
    return ""


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
                "needs": list(s.needs),
            }
            for s in RULES.values()
        ]
        sys.stdout.write(json.dumps(items, indent=2, ensure_ascii=False) + "\n")
        return EXIT_OK
    if args.wide:
        rows = [[s.id, s.severity, s.title, "; ".join(s.controls)] for s in RULES.values()]
        headers = ["id", "severity", "title", "controls"]
    else:
        # The controls are in --wide, --format json and docs/rules.md.
        rows = [[s.id, s.severity, s.title] for s in RULES.values()]
        headers = ["id", "severity", "title"]
    sys.stdout.write(table(rows, headers, wide=args.wide) + "\n")
    return EXIT_OK
