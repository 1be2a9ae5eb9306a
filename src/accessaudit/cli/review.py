"""Sub-command ``review``: ``create``, ``collect``, ``status`` and ``remediate``.

Exit status of ``review collect``: 0 every workbook read and every row valid; 1 problems were
found (tampered, added or removed rows, unknown decision words, conflicts, missing comments,
a workbook from another campaign, a file in returned/ that is not .xlsx or .xlsm) — each is
printed with workbook, sheet and row, and every valid decision was still recorded; 2 no
workbook could be read at all, or decisions.jsonl was altered (the line is named). A later
return supersedes an earlier one for the same item, and collect lists what it superseded.
``review status --verify`` exits 1 when a revocation is still present in the new snapshot.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from accessaudit.cli._options import date_option
from accessaudit.cli._table import add_wide_option, fit_lines, table

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``accessaudit review create|collect|status|remediate``."""
    review = subparsers.add_parser(
        "review",
        help="periodic access reviews: workbooks out, decisions in, remediation",
        description="Steps of a review campaign: create (one workbook per reviewer), collect "
        "(validate returned workbooks, log every valid decision), status (completion, overdue, "
        "rejected workbooks, rubber-stamps; --verify checks revocations in a new snapshot) and "
        "remediate (removal plans; nothing is applied).\n\nExit status of collect: 0 every "
        "row valid, 1 problems found (each printed with workbook, sheet and row; valid "
        "decisions still recorded), 2 no workbook could be read. status --verify exits 1 "
        "while a revocation is still present.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = review.add_subparsers(dest="review_command", metavar="STEP", required=True)

    create = commands.add_parser("create", help="create a campaign: one workbook per reviewer")
    create.add_argument(
        "--config", type=Path, required=True, metavar="FILE", help="the audit config (TOML)"
    )
    create.add_argument(
        "--snapshot", type=Path, metavar="DIR", help="a saved snapshot (default: collect now)"
    )
    create.add_argument(
        "--by",
        choices=("manager", "owner"),
        required=True,
        help="manager: each person's access to their HR manager; owner: to the resource owner",
    )
    create.add_argument(
        "--scope",
        default="all",
        metavar="privileged|sensitive|sharing|all|movers|rule=ID",
        help="which entitlements to review (default: all; movers: what each mover brought "
        "along, to the new manager)",
    )
    create.add_argument(
        "--previous-snapshot",
        type=Path,
        metavar="DIR",
        help="an earlier snapshot: finds movers HR keeps no history for (audit and movers scope)",
    )
    create.add_argument(
        "--deadline", metavar="DATE", help="the date reviewers must decide by (YYYY-MM-DD)"
    )
    create.add_argument(
        "--fallback-reviewer",
        metavar="PERSON_ID|EMAIL",
        help="reviews items with no manager/owner and items that would be self-reviewed",
    )
    create.add_argument(
        "--out", type=Path, required=True, metavar="CAMPAIGN_DIR", help="a new campaign folder"
    )
    create.add_argument(
        "--format", choices=("table", "json"), default="table", help="table (default) or json"
    )
    add_wide_option(create)
    create.set_defaults(handler=_create)

    collect = commands.add_parser("collect", help="validate returned workbooks, log decisions")
    collect.add_argument("campaign", type=Path, metavar="CAMPAIGN_DIR", help="the campaign folder")
    collect.add_argument(
        "workbooks",
        type=Path,
        nargs="*",
        metavar="WORKBOOK",
        help="default: every file in CAMPAIGN_DIR/returned/ (.xlsx and .xlsm read, others "
        "reported), else the sent workbooks",
    )
    collect.add_argument(
        "--format", choices=("table", "json"), default="table", help="table (default) or json"
    )
    add_wide_option(collect)
    collect.set_defaults(handler=_collect)

    status = commands.add_parser("status", help="completion, overdue reviewers, rubber-stamps")
    status.add_argument("campaign", type=Path, metavar="CAMPAIGN_DIR", help="the campaign folder")
    status.add_argument(
        "--verify", type=Path, metavar="NEW_SNAPSHOT", help="check revocations were carried out"
    )
    status.add_argument("--as-of", metavar="DATE", help="judge deadlines on this date")
    add_wide_option(status)
    status.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="table (default) or json (schema: accessaudit/schemas/status.json)",
    )
    status.set_defaults(handler=_status)

    remediate = commands.add_parser(
        "remediate", help="write LDIF / Graph / CSV removal plans (nothing is applied)"
    )
    remediate.add_argument(
        "campaign", type=Path, metavar="CAMPAIGN_DIR", help="the campaign folder"
    )
    remediate.add_argument(
        "--out", type=Path, required=True, metavar="DIR", help="folder for the removal plans"
    )
    remediate.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="honour the legal holds of this config too (the campaign keeps those current "
        "when it was created)",
    )
    remediate.set_defaults(handler=_remediate)


def _create(args: argparse.Namespace) -> int:
    from accessaudit.audit import run_audit
    from accessaudit.collection import collect
    from accessaudit.config import load_config
    from accessaudit.review import create_campaign
    from accessaudit.snapshot import Snapshot

    config = load_config(args.config)
    snapshot = Snapshot.load(args.snapshot) if args.snapshot else collect(config)
    previous = Snapshot.load(args.previous_snapshot) if args.previous_snapshot else None
    result = run_audit(snapshot, config.policy, previous=previous)
    campaign = create_campaign(
        snapshot,
        config.policy,
        result,
        by=args.by,
        scope=args.scope,
        out=args.out,
        deadline=date_option("--deadline", args.deadline),
        fallback_reviewer=args.fallback_reviewer,
        previous=previous,
    )
    if args.format == "json":
        print(json.dumps({"folder": str(campaign.folder), **campaign.manifest}, indent=2))
        return 0
    manifest = campaign.manifest
    print(
        fit_lines(
            [
                f"Campaign {campaign.id}: {manifest['items']} items "
                f"({manifest['recommended_revoke']} recommended for revoke) "
                f"for {len(manifest['reviewers'])} reviewers in {campaign.folder}"
            ],
            wide=args.wide,
        )
    )
    reviewers = campaign.reviewers
    if not args.wide:
        # 80 columns: who and how much; the file name (--wide) follows from the reviewer.
        reviewers = reviewers[["reviewer", "email", "items"]]
    print(table(reviewers.to_numpy().tolist(), [str(c) for c in reviewers.columns], wide=args.wide))
    if manifest.get("unassigned_items"):
        print(
            f"accessaudit: {manifest['unassigned_items']} item(s) have no manager/owner and "
            "went to review-unassigned.xlsx; pass --fallback-reviewer to route them",
            file=sys.stderr,
        )
    return 0


def _collect(args: argparse.Namespace) -> int:
    from accessaudit.review import collect_decisions, load_campaign

    campaign = load_campaign(args.campaign)
    result = collect_decisions(campaign, args.workbooks)
    if args.format == "json":
        print(
            json.dumps(
                {
                    "campaign_id": campaign.id,
                    "read": list(result.read),
                    "unreadable": list(result.unreadable),
                    "accepted": len(result.accepted),
                    "logged": result.logged,
                    "superseded": result.superseded.astype(object)
                    .where(result.superseded.notna(), None)
                    .to_dict(orient="records"),
                    "problems": result.problems.astype(object)
                    .where(result.problems.notna(), None)
                    .to_dict(orient="records"),
                },
                indent=2,
                default=str,
            )
        )
        return result.exit_status
    print(
        fit_lines(
            [
                f"Campaign {campaign.id}: read {len(result.read)} workbook(s), accepted "
                f"{len(result.accepted)} decision(s), {result.logged} new in "
                f"{campaign.decisions_log.name}"
            ],
            wide=args.wide,
        )
    )
    if len(result.superseded):
        # The latest return wins (see accessaudit.review.collect); say what it replaced.
        print(f"{len(result.superseded)} decision(s) supersede an earlier return:")
        print(
            table(
                result.superseded.to_numpy().tolist(),
                [str(c) for c in result.superseded.columns],
                wide=args.wide,
            )
        )
    if len(result.problems):
        problems = result.problems.astype(object).where(result.problems.notna(), "")
        print(f"{len(problems)} problem(s):")
        print(
            table(problems.to_numpy().tolist(), [str(c) for c in problems.columns], wide=args.wide)
        )
    return result.exit_status


def _status(args: argparse.Namespace) -> int:
    from accessaudit.review import campaign_status, load_campaign
    from accessaudit.snapshot import Snapshot

    campaign = load_campaign(args.campaign)
    verify = Snapshot.load(args.verify) if args.verify else None
    status = campaign_status(campaign, as_of=date_option("--as-of", args.as_of), verify=verify)
    still = (
        int((status.verification["status"] == "still present").sum())
        if status.verification is not None
        else 0
    )
    if args.format == "json":
        print(json.dumps(status.to_dict(), indent=2, default=str))
        return 1 if still else 0
    # The deadline as given (the workbooks show the same date), not the end-of-day instant.
    deadline = status.deadline_day or "none"
    print(
        f"Campaign {status.campaign_id}: {status.decided} of {status.items} items decided "
        f"({status.completion:.0%}); deadline {deadline}"
    )
    returned = status.reviewers[status.reviewers["rejected"] > 0]
    for row in returned.itertuples(index=False):
        print(
            f"Returned but rejected: {row.reviewer} ({row.reviewer_id}): {row.rejected} row(s) "
            "could not be accepted; run `accessaudit review collect` for each problem"
        )
    reviewers = status.reviewers.drop(columns=["workbook"]).assign(
        completion=lambda t: (t["completion"] * 100).round().astype(int).astype(str) + "%"
    )
    if not args.wide:
        # Fits 80 columns: who, how far, and the signals; --wide adds ids and the split.
        reviewers = reviewers[
            ["reviewer", "items", "decided", "completion", "overdue", "rejected", "rubber_stamp"]
        ].rename(columns={"completion": "done", "rubber_stamp": "signals"})
    print(table(reviewers.to_numpy().tolist(), [str(c) for c in reviewers.columns], wide=args.wide))
    if status.verification is not None:
        done = len(status.verification) - still
        print(f"\nRevocations carried out: {done}; still present: {still}")
        if len(status.verification):
            print(
                table(
                    status.verification.to_numpy().tolist(),
                    [str(c) for c in status.verification.columns],
                    wide=args.wide,
                )
            )
    return 1 if still else 0


def _remediate(args: argparse.Namespace) -> int:
    from accessaudit.config import load_config
    from accessaudit.review import load_campaign, write_remediation

    holds = load_config(args.config).policy.holds if args.config else ()
    plan = write_remediation(load_campaign(args.campaign), args.out, holds=holds)
    print(
        f"Remediation plan in {plan.folder} (nothing applied): {plan.ldif} LDAP removal(s) in "
        f"{plan.files['ldif'].name}, {plan.graph} Graph request(s) in "
        f"{plan.files['graph'].name}, {plan.manual} manual change(s) in "
        f"{plan.files['manual'].name}"
    )
    return 0
