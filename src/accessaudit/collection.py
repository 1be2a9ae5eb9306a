"""Collection: run every configured source's connector and build one Snapshot.

Sources are read in the order configured; none depends on another. Building the snapshot
then resolves what sources say about each other (owners, ACL identities, paths, grant
principals: :mod:`accessaudit.resolve`) and correlates accounts to people
(:mod:`accessaudit.identity`). The snapshot is the same whatever order sources are listed in.
Nothing is written here: a failed source raises, and the caller has no snapshot to save.

>>> from accessaudit.sample import write_sample_organisation  # doctest: +SKIP
>>> snapshot = collect(load_config(write_sample_organisation(tmp)))  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from accessaudit.config import AuditConfig, load_config
from accessaudit.connectors import CollectContext, SourceResult, load_protocol
from accessaudit.errors import SnapshotError, SourceError
from accessaudit.identity import correlate_accounts, read_identity_map
from accessaudit.model import STORED_TABLES, TableSchema, choose_as_of
from accessaudit.resolve import resolve_references
from accessaudit.snapshot import Snapshot

__all__ = ["build_snapshot", "collect"]

logger = logging.getLogger("accessaudit.collection")


def collect(
    config: AuditConfig | Path | str,
    *,
    progress: bool = False,
    save_raw: Path | None = None,
    as_of: pd.Timestamp | None = None,
) -> Snapshot:
    """Read every source of ``config`` and return the snapshot (not yet saved).

    ``config`` is an :class:`AuditConfig` or the path of an audit TOML file
    (``collect("audit.toml")``); anything else is a :class:`TypeError` naming what was given.
    ``save_raw`` keeps the raw pages of live sources that support it (Entra ID) in that
    folder, so they can be re-read later with ``path = …``. ``as_of`` overrides the config's
    date.
    """
    if isinstance(config, str | Path):
        config = load_config(config)
    elif not isinstance(config, AuditConfig):
        raise TypeError(
            "collect() takes an AuditConfig (accessaudit.load_config('audit.toml')) or the path "
            f"of an audit TOML file, not {type(config).__name__}"
        )
    when = choose_as_of(explicit=as_of, configured=config.as_of)
    context = CollectContext(as_of=when, progress=progress, save_raw=save_raw)
    results: dict[str, SourceResult] = {}
    for settings in tqdm(
        config.sources, desc="sources", unit="source", disable=not progress, file=sys.stderr
    ):
        manifest = config.manifests[settings.connector]
        logger.info("collecting %s (%s)", settings.name, settings.connector)
        protocol = load_protocol(manifest.protocol)
        try:
            result = protocol(settings, manifest, context)
        except OSError as error:
            # Files and sockets fail in many ways; the user needs to know which source.
            raise SourceError(str(error), source=settings.name) from error
        results[settings.name] = result
    identity_map = read_identity_map(config.identity_map) if config.identity_map else None
    return build_snapshot(
        list(results.values()),
        as_of=when,
        service_patterns=config.policy.service_account_patterns,
        identity_map=identity_map,
    )


def build_snapshot(
    results: Sequence[SourceResult],
    *,
    as_of: pd.Timestamp,
    service_patterns: Sequence[str] = (),
    identity_map: pd.DataFrame | None = None,
) -> Snapshot:
    """Combine source results into a Snapshot: resolve references across sources, concatenate
    each table, check keys across sources, correlate accounts to people and classify account
    kinds. Sources are taken in name order, so the result does not depend on the order the
    results come in."""
    results = resolve_references(sorted(results, key=lambda r: r.source))
    tables: dict[str, pd.DataFrame] = {}
    for name, schema in STORED_TABLES.items():
        frames = [r.tables[name] for r in results if name in r.tables and len(r.tables[name])]
        if not frames:
            tables[name] = schema.empty()
            continue
        if len(frames) == 1 and _conforms(schema, frames[0]):
            tables[name] = frames[0]
            continue
        combined = pd.concat(frames, ignore_index=True)
        origin = pd.concat(
            [
                pd.Series(f"source {r.source}", index=range(len(r.tables[name])))
                for r in results
                if name in r.tables and len(r.tables[name])
            ],
            ignore_index=True,
        )
        # Conform again: categoricals from different sources unify, and a key used by two
        # sources (two HR files with the same employee) is caught here.
        tables[name] = schema.conform(combined, source="snapshot", origin=origin)
    accounts, correlation = correlate_accounts(
        tables["accounts"],
        tables["people"],
        service_patterns=service_patterns,
        identity_map=identity_map,
    )
    tables["accounts"] = accounts
    sources: list[Mapping[str, object]] = [
        {
            "source": r.source,
            "connector": r.connector,
            "rows": {name: len(frame) for name, frame in r.tables.items()},
            "report": r.report,
        }
        for r in results
    ]
    return Snapshot(tables, as_of=as_of, sources=sources, correlation=correlation)


def _conforms(schema: TableSchema, frame: pd.DataFrame) -> bool:
    try:
        schema.check(frame)
    except SnapshotError:
        return False
    return True
