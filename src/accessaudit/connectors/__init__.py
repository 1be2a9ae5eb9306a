"""Connectors: manifests found on disk, protocol code that reads the sources they describe.

This module is the registry only: which code reads each protocol and which keys a
``[[sources]]`` table of it may hold. Connectors run in any order; nothing here ranks them.

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
    "source_keys",
]

#: Keys every ``[[sources]]`` table may hold.
_COMMON_KEYS = frozenset({"name", "connector", "path"})
#: The keys each protocol reads from its ``[[sources]]`` table, besides the common ones. A
#: config naming any other key is refused; tests/test_files_connectors.py checks that every
#: key the protocol code reads is listed here.
_LDAP_KEYS = frozenset(
    {
        "url",
        "base_dn",
        "bind_dn",
        "password_env",
        "ca_bundle",
        "start_tls",
        "allow_plaintext",
        "page_size",
        "timeout",
        "retries",
        "range_window",
        "attributes",
        "backend",
        "nested",
        "filter",
        "allow_partial_export",
        "person_classes",
        "ppolicy_default",
    }
)
_GRAPH_KEYS = frozenset(
    {
        "tenant_id",
        "client_id",
        "client_secret_env",
        "certificate_path",
        "certificate_password_env",
        "auth",
        "authority_url",
        "graph_url",
        "ca_bundle",
        "token_cache",
        "instance_discovery",
        "sign_in_timeout",
        "page_size",
        "max_retries",
        "backoff_seconds",
        "timeout_seconds",
        "allow_plaintext",
    }
)
_M365_KEYS = _GRAPH_KEYS | {
    "directory",
    "onedrive",
    "delta_state",
    "sensitivity_map",
    "internal_domains",
}
_FILE_KEYS = frozenset({"columns", "encoding", "sheet", "delimiter"})
_HR_KEYS = _FILE_KEYS | {
    "status_map",
    "worker_type_map",
    "default_worker_type",
    "date_format",
    "job_history",
    "job_history_columns",
}
_INVENTORY_KEYS = _FILE_KEYS | {"sensitivity_map", "type_map", "date_format"}
_NTFS_ACL_KEYS = _FILE_KEYS | {"domain", "directory"}
_GRANTS_KEYS = _FILE_KEYS | {"directory", "right_map", "resource_type"}
_DATABASE_KEYS = frozenset(
    {
        "host",
        "port",
        "user",
        "password_env",
        "ca_bundle",
        "connect_timeout",
        "statement_timeout",
        "email_domain",
        "last_use_query",
        "discover",
        "discover_min_confidence",
        "sample_rows",
        "ssl_ca",
        "ssl_verify",
    }
)
_POSTGRESQL_KEYS = _DATABASE_KEYS | {
    "dbname",
    "service",
    "sslmode",
    "sslrootcert",
    "databases",
    "exclude_databases",
}
# One package serves both flavours and reads its keys in shared code, so MySQL/MariaDB accepts
# the PostgreSQL-only keys too (they are ignored there).
_MYSQL_KEYS = _POSTGRESQL_KEYS

#: protocol name -> (module, function, the source keys it reads). Modules are imported only
#: when a source uses them.
PROTOCOLS: Mapping[str, tuple[str, str, frozenset[str]]] = {
    "ldap": ("accessaudit.connectors.ldap", "collect", _LDAP_KEYS),
    "graph": ("accessaudit.connectors.entra", "collect", _GRAPH_KEYS),
    "m365": ("accessaudit.connectors.m365", "collect", _M365_KEYS),
    "hr-csv": ("accessaudit.connectors.files", "collect_hr", _HR_KEYS),
    "data-inventory": ("accessaudit.connectors.files", "collect_inventory", _INVENTORY_KEYS),
    "ntfs-acl": ("accessaudit.connectors.files", "collect_ntfs_acl", _NTFS_ACL_KEYS),
    "grants-csv": ("accessaudit.connectors.files", "collect_grants", _GRANTS_KEYS),
    "postgresql": ("accessaudit.connectors.databases", "collect_postgresql", _POSTGRESQL_KEYS),
    "mysql": ("accessaudit.connectors.databases", "collect_mysql", _MYSQL_KEYS),
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


def source_keys(protocol: str) -> frozenset[str]:
    """Every key a ``[[sources]]`` table of ``protocol`` may hold (common ones included)."""
    return _COMMON_KEYS | PROTOCOLS[protocol][2]
