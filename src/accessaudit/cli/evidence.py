"""Sub-command ``evidence``: preserve what accessaudit knows of one person, hashed.

``accessaudit evidence --person X --snapshot DIR [--snapshot DIR …] [--campaign DIR …]
--out DIR`` writes an evidence bundle (see :mod:`accessaudit.preserve`); ``accessaudit verify
DIR`` checks it as it checks a snapshot.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["register", "verify_bundle_command"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``accessaudit evidence``."""
    evidence = subparsers.add_parser(
        "evidence",
        help="preserve everything known of one person as a hashed evidence bundle",
        description="Preserve what accessaudit knows of one person at a date: accounts, "
        "memberships with their paths, data reachable, sign-ins across the snapshots given and "
        "review decisions, with the snapshot digests, as a hashed bundle that `accessaudit "
        "verify` checks.",
    )
    evidence.add_argument(
        "--person", required=True, metavar="ID|EMAIL|LOGIN", help="the person (or account)"
    )
    evidence.add_argument(
        "--snapshot",
        type=Path,
        action="append",
        required=True,
        metavar="DIR",
        help="a saved snapshot; repeat for the sign-in history across snapshots",
    )
    evidence.add_argument(
        "--campaign",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="a review campaign whose decisions about the person are included; repeatable",
    )
    evidence.add_argument(
        "--config", type=Path, metavar="FILE", help="the audit config (its privileged groups)"
    )
    evidence.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="DIR",
        help="a new folder for the hashed evidence bundle (accessaudit verify checks it)",
    )
    evidence.set_defaults(handler=_evidence)


def _evidence(args: argparse.Namespace) -> int:
    from accessaudit.config import load_config
    from accessaudit.preserve import preserve_evidence
    from accessaudit.review import load_campaign
    from accessaudit.snapshot import Snapshot

    policy = load_config(args.config).policy if args.config else None
    snapshots = [Snapshot.load(folder) for folder in args.snapshot]
    campaigns = [load_campaign(folder) for folder in args.campaign]
    folder = preserve_evidence(snapshots, args.person, args.out, campaigns=campaigns, policy=policy)
    print(
        f"Evidence bundle for {args.person} written to {folder} (verify with: "
        f"accessaudit verify {folder})"
    )
    return 0


def verify_bundle_command(folder: Path) -> int:
    """``accessaudit verify`` on an evidence bundle: 0 intact, 1 a file differs."""
    from accessaudit.preserve import BUNDLE_MANIFEST, verify_bundle

    problems = verify_bundle(folder)
    if problems:
        for problem in problems:
            print(f"{folder}: {problem}", file=sys.stderr)
        return 1
    print(f"{folder}: intact (every file matches {BUNDLE_MANIFEST})")
    return 0
