"""What every connector shares: its settings, its manifest, what it returns.

A *manifest* (a TOML file in ``connectors/``) names a connector flavour and says which
*protocol* code reads it (``ldap``, ``graph``, ``hr-csv``, ``data-inventory``, ``ntfs-acl``,
``grants-csv``) and how the source's native fields map onto the snapshot tables. A user adds a
flavour (say, 389-DS with its own employee-id attribute) by adding a manifest, without Python.

A protocol is a function ``collect(settings, manifest, context) -> SourceResult``. It reads one
configured source and returns rows already conformed to :mod:`accessaudit.model`, plus a
collection report. It never writes anything but, when asked, the raw pages it read.

A connector knows no other connector: sources are read in any order. What a source says about
*other* sources' objects (a permission naming ``CORP\\alice``, a path inside an inventoried
share, an owner's e-mail address) is returned as written, and resolved when the snapshot is
built (:mod:`accessaudit.resolve`).
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from accessaudit.errors import ConfigError, SourceError
from accessaudit.model import REFERENCES, TABLES

__all__ = [
    "CollectContext",
    "CollectFunction",
    "Manifest",
    "SourceResult",
    "SourceSettings",
]


@dataclass(frozen=True)
class SourceSettings:
    """One ``[[sources]]`` table of the audit config.

    ``name`` becomes the ``system`` of everything the source yields; ``path`` (resolved against
    the config file's folder) selects an export instead of the live source; ``options`` holds
    every other key of the table as written (``url``, ``base_dn``, ``domain`` …).
    """

    name: str
    connector: str
    path: Path | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    base_dir: Path = field(default_factory=Path)

    def option(self, key: str, default: Any = None) -> Any:
        """The option ``key``, or ``default`` when the config does not set it."""
        return self.options.get(key, default)

    def required(self, key: str) -> Any:
        """The option ``key``; a :class:`ConfigError` naming the source when it is missing."""
        if key not in self.options or self.options[key] in ("", None):
            raise ConfigError(f"source {self.name!r} ({self.connector}) needs {key!r}")
        return self.options[key]

    def file_option(self, key: str) -> Path | None:
        """An option that names a file, resolved against the config's folder."""
        value = self.options.get(key)
        if value in (None, ""):
            return None
        candidate = Path(str(value)).expanduser()
        return candidate if candidate.is_absolute() else self.base_dir / candidate

    def secret(self, env_key: str, prompt: str) -> str:
        """A secret from the environment variable the option ``env_key`` names, else a prompt.

        Secrets never come from the config's plain text: the option holds the *name* of the
        variable. Without it, and with no terminal to prompt on, this is a ConfigError.
        """
        variable = self.options.get(env_key)
        if variable:
            value = os.environ.get(str(variable))
            if value:
                return value
            raise ConfigError(
                f"source {self.name!r}: environment variable {variable} ({env_key}) is not set"
            )
        if not os.isatty(0):
            raise ConfigError(
                f"source {self.name!r}: set {env_key} to the name of an environment variable "
                "holding the secret (no terminal to prompt on)"
            )
        return getpass.getpass(f"{prompt} for source {self.name}: ")


@dataclass(frozen=True)
class Manifest:
    """A connector flavour read from ``connectors/NAME.toml``.

    ``settings`` is the rest of the file: attribute maps, well-known privileged groups, column
    names. Protocol code reads what it needs from there, so a new flavour is a new file.
    """

    connector: str
    protocol: str
    description: str
    file: Path
    settings: Mapping[str, Any] = field(default_factory=dict)

    def section(self, name: str) -> Mapping[str, Any]:
        """A sub-table of the manifest (``[attributes]``), empty when absent."""
        value = self.settings.get(name, {})
        if not isinstance(value, Mapping):
            raise ConfigError(f"connector manifest {self.file}: [{name}] must be a table")
        return value


@dataclass
class SourceResult:
    """What one source yielded: conformed tables (a subset of the stored tables), the
    permissions it names as written, and a report.

    ``references`` (conformed to :data:`accessaudit.model.REFERENCES`, or None) holds
    permissions whose principal (``CORP\\alice``, a SID, a login) and resource (a path, an
    inventory name) name other sources' objects; the snapshot stage resolves them into
    ``grants`` (and non-inventoried ``resources``), whatever order sources were read in.

    ``report`` is JSON-able and goes into the snapshot manifest: counts per object type,
    unresolved identities, attributes the bind account could not read, whether MFA and
    sign-ins were known, warnings. The snapshot stage adds what it resolved for this source.
    """

    source: str
    connector: str
    tables: dict[str, pd.DataFrame]
    report: dict[str, Any] = field(default_factory=dict)
    references: pd.DataFrame | None = None

    def __post_init__(self) -> None:
        unknown = set(self.tables) - set(TABLES)
        if unknown:
            raise SourceError(f"connector returned unknown tables {sorted(unknown)}")
        if self.references is not None:
            REFERENCES.check(self.references)


@dataclass(frozen=True)
class CollectContext:
    """What a connector may know beyond its own settings: the audit date, whether to show
    progress, and where to keep raw pages (``--save-raw``). Nothing about other sources."""

    as_of: pd.Timestamp
    progress: bool = False
    save_raw: Path | None = None


class CollectFunction(Protocol):
    """The signature of a protocol's ``collect``."""

    def __call__(
        self, settings: SourceSettings, manifest: Manifest, context: CollectContext
    ) -> SourceResult: ...
