"""Connectors: manifests found on disk, protocol code that reads the sources they describe.

>>> from accessaudit.connectors import find_manifests
>>> sorted(find_manifests())[:2]
['active-directory', 'data-inventory']
"""

from __future__ import annotations

import importlib
import tomllib
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import cast

from accessaudit.connectors.base import (
    CollectContext,
    CollectFunction,
    Manifest,
    SourceResult,
    SourceSettings,
)
from accessaudit.errors import ConfigError

__all__ = [
    "PROTOCOLS",
    "CollectContext",
    "CollectFunction",
    "Manifest",
    "SourceResult",
    "SourceSettings",
    "builtin_manifest_dir",
    "find_manifests",
    "load_protocol",
    "protocol_phase",
]

#: protocol name -> (module, function, phase). Sources are collected in phase order, so a
#: permission export (phase 3) can resolve identities against directories (phase 0) and map
#: paths onto the inventory (phase 2). Modules are imported only when a source uses them.
PROTOCOLS: Mapping[str, tuple[str, str, int]] = {
    "ldap": ("accessaudit.connectors.ldap", "collect", 0),
    "graph": ("accessaudit.connectors.entra", "collect", 0),
    "hr-csv": ("accessaudit.connectors.files", "collect_hr", 1),
    "data-inventory": ("accessaudit.connectors.files", "collect_inventory", 2),
    "ntfs-acl": ("accessaudit.connectors.files", "collect_ntfs_acl", 3),
    "grants-csv": ("accessaudit.connectors.files", "collect_grants", 3),
    "postgresql": ("accessaudit.connectors.databases", "collect_postgresql", 0),
    "mysql": ("accessaudit.connectors.databases", "collect_mysql", 0),
}


def builtin_manifest_dir() -> Path:
    """The folder of the manifests shipped with accessaudit.

    An installed wheel carries them as ``accessaudit/manifests``; a checkout (``pip install
    -e .``) has them in the repository's top-level ``connectors/``.
    """
    packaged = Path(str(resources.files("accessaudit"))) / "manifests"
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[3] / "connectors"
    if checkout.is_dir():
        return checkout
    raise ConfigError("accessaudit's connector manifests are missing from this installation")


def find_manifests(extra_dirs: Iterable[Path] = ()) -> dict[str, Manifest]:
    """Every manifest by connector name: the built-in ones, then ``extra_dirs`` (which may add
    flavours or override a built-in one of the same name)."""
    manifests: dict[str, Manifest] = {}
    for folder in (builtin_manifest_dir(), *extra_dirs):
        if not folder.is_dir():
            raise ConfigError(f"connector folder {folder} does not exist")
        for file in sorted(folder.glob("*.toml")):
            manifest = _read_manifest(file)
            manifests[manifest.connector] = manifest
    return manifests


def _read_manifest(file: Path) -> Manifest:
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"connector manifest {file}: {error}") from error
    try:
        connector = str(data.pop("connector"))
        protocol = str(data.pop("protocol"))
    except KeyError as error:
        raise ConfigError(f"connector manifest {file}: missing key {error}") from error
    if protocol not in PROTOCOLS:
        raise ConfigError(
            f"connector manifest {file}: protocol {protocol!r} is not one of {', '.join(PROTOCOLS)}"
        )
    return Manifest(
        connector=connector,
        protocol=protocol,
        description=str(data.pop("description", "")),
        file=file,
        settings=data,
    )


def load_protocol(protocol: str) -> CollectFunction:
    """Import the code that reads sources of ``protocol``."""
    module_name, function_name, _ = PROTOCOLS[protocol]
    module = importlib.import_module(module_name)
    return cast(CollectFunction, getattr(module, function_name))


def protocol_phase(protocol: str) -> int:
    """When sources of ``protocol`` are collected relative to the others (lower first)."""
    return PROTOCOLS[protocol][2]
