"""Sub-command ``discover``: which database columns hold personal, payment or health data."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tabulate import tabulate

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``accessaudit discover`` to the parser."""
    parser = subparsers.add_parser(
        "discover",
        help="sample the database sources' columns and classify the data they hold",
        description="Read a sample of rows from every table of the config's postgresql and "
        "mysql sources (read-only, with a statement timeout) and classify each column: email, "
        "phone, person name, national ids, payment cards, IBAN, date of birth, address, IP, "
        "health. Reports match rates and confidence, never the values.",
    )
    parser.add_argument("--config", type=Path, required=True, metavar="FILE")
    parser.add_argument(
        "--out", type=Path, metavar="FILE", help="write every column's result (.csv or .json)"
    )
    parser.add_argument(
        "--inventory",
        type=Path,
        metavar="FILE",
        help="also write a data-inventory CSV of the tables found to hold pii/pci/phi",
    )
    parser.add_argument("--sample-rows", type=int, metavar="N", help="rows per table (100)")
    parser.add_argument(
        "--source", action="append", default=[], metavar="NAME", help="only this source"
    )
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.set_defaults(handler=_discover)


def _write(path: Path, text: str) -> None:
    from accessaudit._atomic import atomic_file

    with atomic_file(path) as temporary:
        temporary.write_text(text, encoding="utf-8")


def _discover(args: argparse.Namespace) -> int:
    from accessaudit.config import load_config
    from accessaudit.discovery.run import discover, inventory_from_discovery
    from accessaudit.errors import ConfigError

    results, report = discover(
        load_config(args.config), sample_rows=args.sample_rows, sources=args.source
    )
    for path in (args.out, args.inventory):
        if path is not None and path.suffix.lower() not in (".csv", ".json"):
            raise ConfigError(f"{path}: write .csv or .json")
    if args.out is not None:
        text = (
            results.to_json(orient="records", indent=2)
            if args.out.suffix.lower() == ".json"
            else results.to_csv(index=False)
        )
        _write(args.out, text)
    if args.inventory is not None:
        _write(args.inventory, inventory_from_discovery(results).to_csv(index=False))
    found = results[results["category"].notna() & (results["confidence"] >= 0.5)]
    if args.format == "json":
        print(
            json.dumps(
                {"columns": json.loads(found.to_json(orient="records")), "report": report},
                indent=2,
                default=str,
            )
        )
        return 0
    summary = (
        found.groupby(["source", "category"]).agg(
            columns=("column", "size"), tables=("table", "nunique")
        )
    ).reset_index()
    print(tabulate(summary.to_dict("list"), headers="keys", tablefmt="simple"))
    for source, details in report.items():
        print(
            f"{source}: {details['tables_sampled']} tables sampled, "
            f"{details['tables_not_sampled']} not sampled",
            file=sys.stderr,
        )
    return 0
