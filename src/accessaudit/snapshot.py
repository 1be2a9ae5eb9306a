"""The Snapshot: normalised tables of one organisation on one date, and their evidence on disk.

On disk a snapshot is a folder of Parquet files plus ``manifest.json`` holding the SHA-256 of
every file. It is written into a temporary sibling folder and renamed into place, so a reader
(or a crash) never sees half of one; :func:`verify_snapshot` proves it was not altered since.

>>> snapshot = Snapshot.from_tables({}, as_of="2026-11-21")
>>> snapshot.accounts.empty, str(snapshot.as_of)
(True, '2026-11-21 00:00:00+00:00')
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from accessaudit._atomic import atomic_folder
from accessaudit._version import __version__
from accessaudit.entitlements import effective_access, effective_memberships
from accessaudit.errors import SnapshotError
from accessaudit.model import (
    OLDEST_READABLE_SCHEMA,
    SCHEMA_VERSION,
    STORED_TABLES,
    utc_timestamp,
)

__all__ = ["MANIFEST_NAME", "Snapshot", "verify_snapshot"]

MANIFEST_NAME = "manifest.json"
_FORMAT = "accessaudit-snapshot"
_CHUNK = 1 << 20


class Snapshot:
    """The stored tables (``people``, ``accounts``, ``groups``, ``memberships``, ``resources``,
    ``grants``) plus metadata, and the derived ``effective_memberships`` and ``access``.

    A snapshot is not modified after it is made: rules and reports read it, and a new
    collection makes a new one. Build one with :meth:`from_tables` or :meth:`load`.
    """

    def __init__(
        self,
        tables: Mapping[str, pd.DataFrame],
        *,
        as_of: pd.Timestamp,
        sources: Sequence[Mapping[str, Any]] = (),
        correlation: Mapping[str, Any] | None = None,
        manifest: Mapping[str, Any] | None = None,
    ) -> None:
        self._tables = dict(tables)
        self.as_of = as_of
        self.sources = [dict(s) for s in sources]
        self.correlation = dict(correlation or {})
        self.manifest = dict(manifest or {})

    @classmethod
    def from_tables(
        cls,
        tables: Mapping[str, pd.DataFrame],
        *,
        as_of: pd.Timestamp | str,
        sources: Sequence[Mapping[str, Any]] = (),
        correlation: Mapping[str, Any] | None = None,
    ) -> Snapshot:
        """A snapshot of ``tables`` (any subset of the stored tables; absent ones are empty).

        Tables are conformed to their schemas unless they already match, so hand-built frames
        in a notebook or a test get the same dtypes and checks as collected ones.
        """
        unknown = set(tables) - set(STORED_TABLES)
        if unknown:
            raise SnapshotError(f"not snapshot tables: {', '.join(sorted(unknown))}")
        conformed: dict[str, pd.DataFrame] = {}
        for name, schema in STORED_TABLES.items():
            frame = tables.get(name)
            if frame is None:
                conformed[name] = schema.empty()
                continue
            try:
                schema.check(frame)
                conformed[name] = frame
            except SnapshotError:
                conformed[name] = schema.conform(frame, source=name)
        return cls(conformed, as_of=utc_timestamp(as_of), sources=sources, correlation=correlation)

    # The tables, by name, as properties so a notebook user can tab-complete them.
    @property
    def people(self) -> pd.DataFrame:
        """HR people (see :data:`accessaudit.model.TABLES`)."""
        return self._tables["people"]

    @property
    def accounts(self) -> pd.DataFrame:
        """Accounts in every system, correlated to people."""
        return self._tables["accounts"]

    @property
    def groups(self) -> pd.DataFrame:
        """Groups, directory roles and app roles."""
        return self._tables["groups"]

    @property
    def memberships(self) -> pd.DataFrame:
        """Direct membership edges."""
        return self._tables["memberships"]

    @property
    def resources(self) -> pd.DataFrame:
        """Data stores from the inventory and from permission exports."""
        return self._tables["resources"]

    @property
    def grants(self) -> pd.DataFrame:
        """Permissions on resources."""
        return self._tables["grants"]

    @property
    def tables(self) -> Mapping[str, pd.DataFrame]:
        """The stored tables by name."""
        return dict(self._tables)

    @cached_property
    def effective_memberships(self) -> pd.DataFrame:
        """Account → group at any depth of nesting, with the path (computed once)."""
        return effective_memberships(self.groups, self.memberships)

    @cached_property
    def access(self) -> pd.DataFrame:
        """Account → resource with the highest right and how it is held (computed once)."""
        return effective_access(self.grants, self.effective_memberships, self.groups)

    @property
    def snapshot_id(self) -> str | None:
        """SHA-256 of the manifest on disk, the identity review campaigns pin; None before
        the snapshot was saved or loaded."""
        value = self.manifest.get("manifest_sha256")
        return str(value) if value else None

    def counts(self) -> pd.DataFrame:
        """Rows per table, for a quick look."""
        return pd.DataFrame(
            {"rows": {name: len(frame) for name, frame in self._tables.items()}}
        ).rename_axis("table")

    def __repr__(self) -> str:
        sizes = ", ".join(f"{name}={len(frame)}" for name, frame in self._tables.items())
        return f"<Snapshot as_of={self.as_of.date()} {sizes}>"

    def _repr_html_(self) -> str:
        sources = ", ".join(str(s.get("source", "?")) for s in self.sources) or "none"
        return (
            f"<p><b>Snapshot</b> as of {self.as_of.date()} from {sources}</p>"
            + self.counts().to_html()
        )

    # ----------------------------------------------------------------------------------
    def save(self, folder: Path | str) -> Path:
        """Write the snapshot to ``folder`` atomically and return the folder.

        The tables are written into a temporary sibling folder, hashed into the manifest, and
        the folder is renamed into place; an existing snapshot there is replaced only once the
        new one is complete. A folder that exists but is not a snapshot is left untouched.
        """
        target = Path(folder)
        if target.exists() and not (target / MANIFEST_NAME).exists() and any(target.iterdir()):
            raise SnapshotError(f"{target} exists and is not a snapshot; refusing to overwrite")
        with atomic_folder(target) as staging:
            files: dict[str, Any] = {}
            for name, frame in self._tables.items():
                file = staging / f"{name}.parquet"
                frame.to_parquet(file, index=False)
                files[name] = {"file": file.name, "rows": len(frame), "sha256": _sha256(file)}
            manifest = {
                "format": _FORMAT,
                "schema_version": SCHEMA_VERSION,
                "library_version": __version__,
                "as_of": self.as_of.isoformat(),
                "sources": self.sources,
                "correlation": self.correlation,
                "tables": files,
            }
            manifest_text = json.dumps(manifest, indent=2, sort_keys=True, default=str)
            (staging / MANIFEST_NAME).write_text(manifest_text + "\n", encoding="utf-8")
        self.manifest = {**manifest, "manifest_sha256": _sha256(target / MANIFEST_NAME)}
        return target

    @classmethod
    def load(cls, folder: Path | str, *, verify: bool = True) -> Snapshot:
        """Read a snapshot folder; with ``verify`` (the default) every file's hash is checked
        first and a mismatch is a :class:`SnapshotError` naming the files."""
        source = Path(folder)
        manifest = _read_manifest(source)
        if verify:
            problems = verify_snapshot(source)
            if problems:
                raise SnapshotError(
                    f"snapshot {source} does not match its manifest: " + "; ".join(problems)
                )
        version = manifest.get("schema_version")
        if not isinstance(version, int) or not OLDEST_READABLE_SCHEMA <= version <= SCHEMA_VERSION:
            raise SnapshotError(
                f"snapshot {source} has schema version {version}, this accessaudit reads "
                f"versions {OLDEST_READABLE_SCHEMA} to {SCHEMA_VERSION}"
            )
        tables = {}
        for name, schema in STORED_TABLES.items():
            entry = manifest["tables"].get(name)
            if entry is None:
                raise SnapshotError(f"snapshot {source} has no table {name}")
            frame = schema.restore(pd.read_parquet(source / entry["file"]))
            schema.check(frame)
            tables[name] = frame
        return cls(
            tables,
            as_of=utc_timestamp(manifest["as_of"]),
            sources=manifest.get("sources", []),
            correlation=manifest.get("correlation", {}),
            manifest={**manifest, "manifest_sha256": _sha256(source / MANIFEST_NAME)},
        )


def verify_snapshot(folder: Path | str) -> list[str]:
    """Check every file of a snapshot against its manifest.

    Returns one line per problem (a file whose SHA-256 differs, a missing file, a file the
    manifest does not list); an empty list means the snapshot is intact.
    """
    source = Path(folder)
    manifest = _read_manifest(source)
    problems = []
    listed = {MANIFEST_NAME}
    for name, entry in sorted(manifest.get("tables", {}).items()):
        file = source / str(entry.get("file", ""))
        listed.add(file.name)
        if not file.is_file():
            problems.append(f"{file.name}: missing (table {name})")
        elif _sha256(file) != entry.get("sha256"):
            problems.append(f"{file.name}: SHA-256 differs from the manifest (table {name})")
    for extra in sorted(p.name for p in source.iterdir() if p.name not in listed):
        problems.append(f"{extra}: not listed in the manifest")
    return problems


def _read_manifest(folder: Path) -> dict[str, Any]:
    file = folder / MANIFEST_NAME
    if not file.is_file():
        raise SnapshotError(f"{folder} is not a snapshot: {MANIFEST_NAME} is missing")
    try:
        manifest = json.loads(file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise SnapshotError(f"{file}: not a valid manifest ({error})") from error
    if not isinstance(manifest, dict) or manifest.get("format") != _FORMAT:
        raise SnapshotError(f"{file}: not an accessaudit snapshot manifest")
    return manifest


def _sha256(file: Path) -> str:
    digest = hashlib.sha256()
    with file.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
