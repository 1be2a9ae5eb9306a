"""Sub-commands ``demo``, ``collect``, ``verify`` and ``connectors``."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from accessaudit._evidence import PASSPHRASE_ENV
from accessaudit.cli._options import add_progress_flags, date_option, wants_progress
from accessaudit.cli._table import add_wide_option, fit_lines, table
from accessaudit.errors import ConfigError

__all__ = ["register"]

_DEFAULT_DEMO_FOLDER = "accessaudit-demo"
_DEMO_ENTRIES = frozenset({"sample", "snapshot", "report.xlsx", "review"})


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the foundation commands to the ``accessaudit`` parser."""
    demo = subparsers.add_parser(
        "demo",
        help="the whole job on the built-in sample organisation",
        description="Write the sample organisation's exports, collect them into a snapshot, "
        "audit it, and write the Excel report and the review workbooks.",
    )
    demo.add_argument(
        "--out",
        type=Path,
        default=Path(_DEFAULT_DEMO_FOLDER),
        metavar="DIR",
        help=f"output folder (default: ./{_DEFAULT_DEMO_FOLDER})",
    )
    demo.add_argument("--size", type=int, default=1500, help="people in the sample (1500)")
    add_progress_flags(demo)
    add_wide_option(demo)
    demo.set_defaults(handler=_demo)

    collect = subparsers.add_parser("collect", help="read every source into a snapshot folder")
    collect.add_argument(
        "--config", type=Path, required=True, metavar="FILE", help="the audit config (TOML)"
    )
    collect.add_argument(
        "--out", type=Path, required=True, metavar="DIR", help="the snapshot folder to write"
    )
    collect.add_argument("--as-of", metavar="DATE", help="judge the data as of this date")
    collect.add_argument(
        "--save-raw",
        type=Path,
        metavar="DIR",
        help="also keep the raw pages of live sources (Entra ID) here",
    )
    collect.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="table (default) or json (schema: accessaudit/schemas/collect.json)",
    )
    collect.add_argument(
        "--sign-key",
        type=Path,
        metavar="FILE",
        help="sign the manifest with this Ed25519 private key (PEM); an encrypted key's "
        "passphrase is read from the variable named by --passphrase-env",
    )
    collect.add_argument(
        "--passphrase-env",
        default=PASSPHRASE_ENV,
        metavar="VAR",
        help=f"environment variable holding the signing key's passphrase ({PASSPHRASE_ENV})",
    )
    add_progress_flags(collect)
    add_wide_option(collect)
    collect.set_defaults(handler=_collect)

    verify = subparsers.add_parser(
        "verify",
        help="check a snapshot folder against its manifest's SHA-256 hashes",
        description="Check every file against manifest.json; with --digest, that the snapshot "
        "is the one whose digest you recorded; with --public-key, that your key signed it. "
        "Exit 1 when anything differs.",
    )
    verify.add_argument("snapshot", type=Path, metavar="DIR", help="the snapshot folder")
    verify.add_argument(
        "--digest", metavar="HEX", help="the snapshot digest printed when it was collected"
    )
    verify.add_argument(
        "--public-key", type=Path, metavar="FILE", help="Ed25519 public key (PEM) of the signer"
    )
    verify.set_defaults(handler=_verify)

    keygen = subparsers.add_parser(
        "keygen",
        help="make an Ed25519 key pair for signing snapshots (collect --sign-key)",
        description="Write FILE (the private key, mode 0600; encrypted with the passphrase in "
        f"${PASSPHRASE_ENV} when set) and FILE with the suffix .pub (the public key, for "
        "verify --public-key). Existing files are never overwritten.",
    )
    keygen.add_argument(
        "private_key", type=Path, metavar="FILE", help="where to write the private key (PEM)"
    )
    keygen.add_argument(
        "--passphrase-env",
        default=PASSPHRASE_ENV,
        metavar="VAR",
        help=f"environment variable holding the passphrase that encrypts it ({PASSPHRASE_ENV})",
    )
    keygen.set_defaults(handler=_keygen)

    connectors = subparsers.add_parser("connectors", help="list the connector manifests")
    connectors.add_argument(
        "--format", choices=("table", "json"), default="table", help="table (default) or json"
    )
    connectors.add_argument(
        "--config", type=Path, metavar="FILE", help="include the config's own connector_paths"
    )
    add_wide_option(connectors)
    connectors.set_defaults(handler=_connectors)


def _collect(args: argparse.Namespace) -> int:
    from accessaudit._evidence import load_signing_key
    from accessaudit.collection import collect
    from accessaudit.config import load_config
    from accessaudit.coverage import collection_warnings
    from accessaudit.snapshot import check_replaceable

    config = load_config(args.config)
    as_of = date_option("--as-of", args.as_of)
    # The key is read before anything is collected: a wrong passphrase should not cost a
    # whole collection.
    sign_key = (
        load_signing_key(args.sign_key, passphrase_env=args.passphrase_env)
        if args.sign_key
        else None
    )
    check_replaceable(args.out)
    snapshot = collect(config, progress=wants_progress(args), save_raw=args.save_raw, as_of=as_of)
    snapshot.save(args.out, sign_key=sign_key)
    if args.format == "json":
        print(
            json.dumps(
                {
                    "snapshot": str(args.out),
                    "digest": snapshot.digest,
                    "signed": sign_key is not None,
                    "as_of": snapshot.as_of.isoformat(),
                    "tables": snapshot.counts()["rows"].to_dict(),
                    "sources": snapshot.sources,
                    "correlation": snapshot.correlation,
                    "warnings": collection_warnings(snapshot.sources, snapshot.correlation),
                },
                indent=2,
                default=str,
            )
        )
    else:
        print(_collection_summary(snapshot, args.out, wide=args.wide))
    return 0


def _collection_summary(snapshot: object, folder: Path, *, wide: bool = False) -> str:
    from accessaudit.coverage import collection_warnings, partial_sources
    from accessaudit.reports.console import collection_lines
    from accessaudit.snapshot import Snapshot

    assert isinstance(snapshot, Snapshot)
    rows = [
        [s["source"], s["connector"], ", ".join(f"{k} {v}" for k, v in s["rows"].items())]
        for s in snapshot.sources
    ]
    matched = snapshot.correlation.get("matched", {})
    partial = partial_sources(snapshot.sources)
    lines = [
        *([f"PARTIAL EXPORT of {', '.join(partial)}: findings may be missing."] if partial else []),
        f"Snapshot written to {folder} (as of {snapshot.as_of.date()})",
        f"Snapshot digest (SHA-256 of the manifest; keep it with the evidence): {snapshot.digest}",
        table(rows, ["source", "connector", "rows"], wide=wide),
        "Correlation: "
        + ", ".join(f"{how} {count}" for how, count in matched.items())
        + f"; unmatched human accounts {snapshot.correlation.get('unmatched_human_accounts', 0)}",
        # What the sources could not read is said here, not only in manifest.json.
        *collection_lines(collection_warnings(snapshot.sources, snapshot.correlation), wide=wide),
    ]
    # Tables are already fitted; fit_lines wraps the sentences (a digest stays whole).
    return "\n".join(fit_lines(line.split("\n"), wide=wide) for line in lines)


def _verify(args: argparse.Namespace) -> int:
    from accessaudit.preserve import is_bundle

    if is_bundle(args.snapshot):
        from accessaudit.cli.evidence import verify_bundle_command

        if args.digest or args.public_key:
            raise ConfigError(
                f"{args.snapshot} is an evidence bundle: --digest and --public-key check "
                "snapshots; a bundle is checked against its evidence.json"
            )
        return verify_bundle_command(args.snapshot)
    from accessaudit.snapshot import snapshot_digest, verify_snapshot

    problems = verify_snapshot(args.snapshot, digest=args.digest, public_key=args.public_key)
    if problems:
        for problem in problems:
            print(f"{args.snapshot}: {problem}", file=sys.stderr)
        return 1
    checked = ["every file matches manifest.json"]
    if args.digest:
        checked.append("the digest is the one expected")
    if args.public_key:
        checked.append(f"signed by {args.public_key.name}")
    print(f"{args.snapshot}: intact ({'; '.join(checked)})")
    print(f"snapshot digest: {snapshot_digest(args.snapshot)}")
    return 0


def _keygen(args: argparse.Namespace) -> int:
    from accessaudit._evidence import generate_key_pair

    private, public = generate_key_pair(args.private_key, passphrase_env=args.passphrase_env)
    print(f"private key: {private} (keep it with the auditor, never with the snapshots)")
    print(f"public key:  {public} (for accessaudit verify --public-key)")
    return 0


def _connectors(args: argparse.Namespace) -> int:
    from accessaudit.config import load_config
    from accessaudit.connectors import find_manifests

    manifests = load_config(args.config).manifests if args.config else find_manifests()
    rows = [
        {
            "connector": m.connector,
            "protocol": m.protocol,
            "description": m.description,
            "file": str(m.file),
        }
        for m in sorted(manifests.values(), key=lambda m: m.connector)
    ]
    if args.format == "json":
        print(json.dumps(rows, indent=2))
    else:
        print(
            table(
                [[r["connector"], r["protocol"], r["description"]] for r in rows],
                ["connector", "protocol", "description"],
                wide=args.wide,
            )
        )
    return 0


def _demo(args: argparse.Namespace) -> int:
    from accessaudit.audit import run_audit
    from accessaudit.collection import collect
    from accessaudit.config import load_config
    from accessaudit.reports.console import summary_table
    from accessaudit.reports.excel import write_report
    from accessaudit.review import create_campaign
    from accessaudit.sample import write_sample_organisation

    out: Path = args.out
    _check_demo_folder(out)
    say = _stderr_step
    say(f"writing the sample organisation ({args.size} people) to {out / 'sample'}")
    config_path = write_sample_organisation(out / "sample", size=args.size)
    config = load_config(config_path)
    say("collecting every source")
    snapshot = collect(config, progress=wants_progress(args))
    snapshot.save(out / "snapshot")
    say(f"snapshot saved to {out / 'snapshot'}")
    result = run_audit(snapshot, config.policy)
    write_report(out / "report.xlsx", result, snapshot)
    say(f"Excel report written to {out / 'report.xlsx'}")
    review_folder = out / "review"
    if review_folder.exists():
        # A re-run replaces the campaign the demo made last time (create_campaign itself
        # never overwrites one), after _check_demo_folder proved that is what it is.
        shutil.rmtree(review_folder)
    # In the sample, access of people without a manager (and self-reviews) goes to the CIO,
    # as an IT-risk owner would in a real campaign.
    cio = snapshot.people.loc[snapshot.people["title"] == "Chief Information Officer", "person_id"]
    campaign = create_campaign(
        snapshot,
        config.policy,
        result,
        by="manager",
        scope="privileged",
        out=review_folder,
        fallback_reviewer=str(cio.iloc[0]) if len(cio) else None,
    )
    say(
        f"review workbooks written to {out / 'review' / 'workbooks'} "
        f"({len(campaign.reviewers)} reviewers, {len(campaign.items)} items)"
    )
    print(_collection_summary(snapshot, out / "snapshot", wide=args.wide))
    print()
    print(summary_table(result, wide=args.wide))
    return 0


def _check_demo_folder(out: Path) -> None:
    """The demo writes into ``out`` only when it is new, empty, or a demo folder from an
    earlier run (nothing but what the demo writes, its snapshot and campaign provably ours)."""
    from accessaudit.errors import ConfigError
    from accessaudit.review.campaign import CAMPAIGN_ENTRIES, load_campaign
    from accessaudit.snapshot import check_replaceable

    if not out.exists() and not out.is_symlink():
        return
    refusal = f"--out {out}: exists and is not a folder an earlier demo wrote; left untouched"
    if out.is_symlink() or not out.is_dir():
        raise ConfigError(f"{refusal} (it is not a folder)")
    foreign = sorted(p.name for p in out.iterdir() if p.name not in _DEMO_ENTRIES)
    if foreign:
        raise ConfigError(f"{refusal} (it holds {', '.join(foreign[:5])}); choose a new folder")
    check_replaceable(out / "snapshot")
    review = out / "review"
    if review.exists():
        load_campaign(review)
        extra = sorted(p.name for p in review.iterdir() if p.name not in CAMPAIGN_ENTRIES)
        if extra:
            raise ConfigError(f"{refusal} ({review} holds {', '.join(extra[:5])})")


def _stderr_step(message: str) -> None:
    print(f"accessaudit: {message}", file=sys.stderr)
