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
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from accessaudit._atomic import atomic_folder
from accessaudit._evidence import (
    MANIFEST_FORMAT,
    MANIFEST_NAME,
    SIGNATURE_MEMBER,
    check_signature,
    load_public_key,
    manifest_digest,
    sign_manifest,
)
from accessaudit._evidence import read_manifest as _read_manifest
from accessaudit._version import __version__
from accessaudit.entitlements import effective_access, effective_memberships
from accessaudit.errors import SnapshotError
from accessaudit.model import (
    OLDEST_READABLE_SCHEMA,
    SCHEMA_VERSION,
    STORED_TABLES,
    utc_timestamp,
)

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

__all__ = ["MANIFEST_NAME", "Snapshot", "check_replaceable", "snapshot_digest", "verify_snapshot"]

_CHUNK = 1 << 20
# Threads that read a snapshot's files at once: more than the big tables gains nothing.
_MOST_READERS = 4
# Members Snapshot adds to the manifest it read; they are not part of the file's content.
_DERIVED = frozenset({"manifest_sha256"})


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

    @property
    def digest(self) -> str | None:
        """The snapshot digest: SHA-256 of its canonical manifest (see
        :mod:`accessaudit._evidence`), the value ``accessaudit verify --digest`` checks and
        every report records; None before the snapshot was saved or loaded."""
        if not self.manifest:
            return None
        return manifest_digest({k: v for k, v in self.manifest.items() if k not in _DERIVED})

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
    def save(self, folder: Path | str, *, sign_key: Ed25519PrivateKey | None = None) -> Path:
        """Write the snapshot to ``folder`` atomically and return the folder.

        The tables are written into a temporary sibling folder, hashed into the manifest, and
        the folder is renamed into place. An existing ``folder`` is replaced only when it is
        provably an accessaudit snapshot (our format and schema version, and exactly the files
        its manifest lists); anything else there is left untouched and is a
        :class:`SnapshotError`. ``sign_key`` (see :func:`accessaudit._evidence.load_signing_key`)
        adds an Ed25519 signature of the manifest; :attr:`digest` names the result.
        """
        target = Path(folder)
        check_replaceable(target)
        with atomic_folder(target) as staging:
            files: dict[str, Any] = {}
            for name, frame in self._tables.items():
                file = staging / f"{name}.parquet"
                frame.to_parquet(file, index=False)
                files[name] = {"file": file.name, "rows": len(frame), "sha256": _sha256(file)}
            written = {
                "format": MANIFEST_FORMAT,
                "schema_version": SCHEMA_VERSION,
                "library_version": __version__,
                "as_of": self.as_of.isoformat(),
                "sources": self.sources,
                "correlation": self.correlation,
                "tables": files,
            }
            # Through JSON and back, so the digest is of exactly what a reader will parse.
            manifest = json.loads(json.dumps(written, default=str))
            if sign_key is not None:
                manifest[SIGNATURE_MEMBER] = sign_manifest(manifest, sign_key)
            manifest_text = json.dumps(manifest, indent=2, sort_keys=True)
            (staging / MANIFEST_NAME).write_text(manifest_text + "\n", encoding="utf-8")
        self.manifest = {**manifest, "manifest_sha256": _sha256(target / MANIFEST_NAME)}
        return target

    @classmethod
    def load(cls, folder: Path | str, *, verify: bool = True) -> Snapshot:
        """Read a snapshot folder; with ``verify`` (the default) every file's hash is checked
        first and a mismatch is a :class:`SnapshotError` naming the files."""
        source = Path(folder)
        manifest = _read_manifest(source)
        version = manifest.get("schema_version")
        if not isinstance(version, int) or not OLDEST_READABLE_SCHEMA <= version <= SCHEMA_VERSION:
            raise SnapshotError(
                f"snapshot {source} has schema version {version}, this accessaudit reads "
                f"versions {OLDEST_READABLE_SCHEMA} to {SCHEMA_VERSION}"
            )
        files = {}
        for name in STORED_TABLES:
            entry = manifest["tables"].get(name)
            if entry is None:
                raise SnapshotError(f"snapshot {source} has no table {name}")
            files[name] = source / entry["file"]
        read = _read_tables(source, files, verify=verify)
        tables = {}
        for name, schema in STORED_TABLES.items():
            frame = schema.restore(read.pop(name))
            schema.check(frame)
            tables[name] = frame
        return cls(
            tables,
            as_of=utc_timestamp(manifest["as_of"]),
            sources=manifest.get("sources", []),
            correlation=manifest.get("correlation", {}),
            manifest={**manifest, "manifest_sha256": _sha256(source / MANIFEST_NAME)},
        )


def _read_tables(
    source: Path, files: Mapping[str, Path], *, verify: bool
) -> dict[str, pd.DataFrame]:
    """Each table's Parquet file read as pandas does, after (with ``verify``) every file's hash
    was checked; a mismatch is a :class:`SnapshotError` naming the files.

    The hashes and the tables are worked on side by side, largest file first: hashing and
    Parquet decoding release the GIL, and decoding the memberships' millions of ids keeps one
    core busy while the hashes and the other tables take the other (0.45 s of CPU in ~0.3 s
    at 200,000 people on two cores, bench/README.md).
    """
    # Largest first: the memberships start at once instead of after the small tables.
    order = sorted(files, key=lambda name: _size(files[name]), reverse=True)
    workers = max(1, min(len(order) + verify, os.cpu_count() or 1, _MOST_READERS))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        checked = pool.submit(verify_snapshot, source) if verify else None
        reading = {name: pool.submit(pd.read_parquet, files[name]) for name in order}
        # The hashes are judged before any table is used, so an altered file is reported as
        # such, never as whatever a Parquet reader makes of it.
        problems = checked.result() if checked is not None else []
        if problems:
            pool.shutdown(cancel_futures=True)
            raise SnapshotError(
                f"snapshot {source} does not match its manifest: " + "; ".join(problems)
            )
        return {name: reading[name].result() for name in files}


def _size(file: Path) -> int:
    try:
        return file.stat().st_size
    except OSError:
        # Missing: the read reports it (and verify_snapshot before it, when verifying).
        return 0


def verify_snapshot(
    folder: Path | str,
    *,
    digest: str | None = None,
    public_key: Path | str | None = None,
) -> list[str]:
    """Check every file of a snapshot against its manifest, and optionally the manifest itself.

    Returns one line per problem (a file whose SHA-256 differs, a missing file, a file the
    manifest does not list, a table that is a symbolic link; with ``digest``, a snapshot
    digest other than the one expected; with ``public_key``, a missing or invalid
    signature); an empty list means the snapshot is intact. A manifest that cannot be
    read, or that names a file outside its folder, is a :class:`SnapshotError`; so is an
    unreadable ``public_key`` (a :class:`~accessaudit.errors.ConfigError`).

    >>> verify_snapshot("snapshots/2026-Q4", digest="9f2c…")  # doctest: +SKIP
    []
    """
    source = Path(folder)
    key = load_public_key(public_key) if public_key is not None else None
    manifest = _read_manifest(source)
    problems = []
    listed = {MANIFEST_NAME}
    for name, entry in sorted(manifest["tables"].items()):
        file = source / entry["file"]
        listed.add(file.name)
        if file.is_symlink():
            problems.append(
                f"{file.name}: a symbolic link, not a file of the snapshot (table {name})"
            )
        elif not file.is_file():
            problems.append(f"{file.name}: missing (table {name})")
        elif _sha256(file) != entry["sha256"]:
            problems.append(f"{file.name}: SHA-256 differs from the manifest (table {name})")
    for extra in sorted(p.name for p in source.iterdir() if p.name not in listed):
        problems.append(f"{extra}: not listed in the manifest")
    if (source / MANIFEST_NAME).is_symlink():
        problems.append(f"{MANIFEST_NAME}: a symbolic link, not the snapshot's own manifest")
    if digest is not None:
        actual = manifest_digest(manifest)
        if actual != digest.strip().lower():
            problems.append(
                f"{MANIFEST_NAME}: snapshot digest {actual} is not the expected {digest.strip()}"
            )
    if key is not None:
        problem = check_signature(manifest, key)
        if problem:
            problems.append(f"{MANIFEST_NAME}: {problem}")
    return problems


def snapshot_digest(folder: Path | str) -> str:
    """The digest of the snapshot in ``folder`` (SHA-256 of its canonical manifest), read
    from its manifest without checking the tables (that is :func:`verify_snapshot`'s job)."""
    return manifest_digest(_read_manifest(Path(folder)))


def check_replaceable(folder: Path | str) -> None:
    """Raise :class:`SnapshotError` unless ``folder`` may receive a snapshot: it does not
    exist, is an empty folder, or is provably a snapshot this library wrote (our format and
    schema version, and nothing in it but the files its manifest lists).

    Called by :meth:`Snapshot.save`; the command line calls it before collecting too, so a
    wrong ``--out`` is refused before an hour of collection, not after.
    """
    target = Path(folder)
    if not target.exists() and not target.is_symlink():
        return
    if target.is_symlink() or not target.is_dir():
        raise SnapshotError(f"{target} exists and is not a folder; refusing to replace it")
    try:
        entries = list(target.iterdir())
    except OSError as error:
        raise SnapshotError(f"{target}: cannot read the folder ({error.strerror})") from error
    if not entries:
        return
    refusal = f"{target} exists and is not an accessaudit snapshot, so it was left untouched"
    try:
        manifest = _read_manifest(target)
    except SnapshotError as error:
        raise SnapshotError(f"{refusal}: {error}; choose another folder") from error
    if manifest.get("schema_version") != SCHEMA_VERSION:
        raise SnapshotError(
            f"{refusal}: its manifest has schema version {manifest.get('schema_version')!r}, "
            f"not {SCHEMA_VERSION}; choose another folder"
        )
    listed = {MANIFEST_NAME} | {entry["file"] for entry in manifest["tables"].values()}
    foreign = sorted(
        p.name for p in entries if p.name not in listed or p.is_symlink() or not p.is_file()
    )
    if foreign:
        shown = ", ".join(foreign[:5]) + (
            f" and {len(foreign) - 5} more" if len(foreign) > 5 else ""
        )
        raise SnapshotError(
            f"{refusal}: it holds files its manifest does not list ({shown}); choose another folder"
        )


def _sha256(file: Path) -> str:
    digest = hashlib.sha256()
    with file.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
