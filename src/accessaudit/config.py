"""The audit config (TOML) as small frozen settings objects.

Secrets are never in the file: sources name the environment variable that holds them
(``password_env``, ``client_secret_env``). Relative paths resolve against the config's folder.

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "audit.toml").write_text('''
... [audit]
... as_of = "2026-11-21"
... [[sources]]
... name = "hr"
... connector = "hr-csv"
... path = "hr.csv"
... ''')
>>> config = load_config(folder / "audit.toml")
>>> config.sources[0].name, config.sources[0].path.name, str(config.as_of.date())
('hr', 'hr.csv', '2026-11-21')
"""

from __future__ import annotations

import html
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from accessaudit.connectors import Manifest, SourceSettings, find_manifests, source_keys
from accessaudit.errors import ConfigError
from accessaudit.model import iso_timestamp
from accessaudit.policy import Policy

__all__ = ["AUDIT_KEYS", "AuditConfig", "load_config", "parse_config"]

#: Keys of the ``[audit]`` table.
AUDIT_KEYS = frozenset({"as_of", "identity_map", "connector_paths"})
#: Key names that say "a secret is here": refused anywhere in a source, whatever the value.
_SECRET_LOOKING = re.compile(
    r"pass(word|wd|phrase)|pwd|secret|token|credential|"
    r"(private|api|access|signing|client|shared)[_-]?key|key[_-]?material",
    re.IGNORECASE,
)
#: ...unless the key names where the secret is kept: an environment variable, a file.
_SECRET_REFERENCE = re.compile(r"(_env|_path|_file|_cache)$", re.IGNORECASE)
_SOURCE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class AuditConfig:
    """One audit: where its sources are, the policy, the date it is judged on."""

    path: Path | None
    sources: tuple[SourceSettings, ...]
    policy: Policy
    as_of: pd.Timestamp | None = None
    identity_map: Path | None = None
    connector_paths: tuple[Path, ...] = ()
    manifests: Mapping[str, Manifest] = field(default_factory=dict, repr=False)

    def _repr_html_(self) -> str:
        """A compact card for Jupyter: the file, the date, one line per source."""
        rows = "".join(
            f"<li>{html.escape(s.name)}: {html.escape(s.connector)}"
            + (f" ({html.escape(str(s.path))})" if s.path is not None else "")
            + "</li>"
            for s in self.sources
        )
        where = html.escape(str(self.path)) if self.path is not None else "built in code"
        when = self.as_of.date() if self.as_of is not None else "now"
        return (
            f"<p><b>Audit config</b> {where}, as of {when}: {len(self.sources)} source(s)</p>"
            f"<ul>{rows}</ul>{self.policy._repr_html_()}"
        )


def load_config(path: Path | str) -> AuditConfig:
    """Read and check an audit config file. Errors name the file and the key."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise ConfigError(f"{file}: config file not found") from error
    except UnicodeDecodeError as error:
        raise ConfigError(f"{file}: not UTF-8 text ({error.reason})") from error
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{file}: {error}") from error
    except RecursionError as error:
        # tomllib parses nested arrays recursively; no real config nests this deep.
        raise ConfigError(f"{file}: values nested too deeply to be an audit config") from error
    return parse_config(data, base_dir=file.resolve().parent, origin=str(file))


def parse_config(data: Mapping[str, Any], *, base_dir: Path, origin: str) -> AuditConfig:
    """Build an :class:`AuditConfig` from an already parsed TOML document."""
    unknown = set(data) - {"audit", "sources", "policy"}
    if unknown:
        raise ConfigError(f"{origin}: unknown top-level table(s) {', '.join(sorted(unknown))}")
    audit = _table(data.get("audit", {}), f"{origin}: [audit]")
    unknown = set(audit) - AUDIT_KEYS
    if unknown:
        raise ConfigError(
            f"{origin}: unknown key(s) in [audit]: {', '.join(sorted(unknown))} "
            f"(known: {', '.join(sorted(AUDIT_KEYS))})"
        )
    connector_paths = tuple(
        _resolve(base_dir, str(p)) for p in _list(audit.get("connector_paths", []), origin)
    )
    manifests = find_manifests(connector_paths)
    raw_sources = data.get("sources", [])
    if not isinstance(raw_sources, list):
        raise ConfigError(f"{origin}: sources must be an array of tables ([[sources]])")
    sources = tuple(
        _source(raw, index, base_dir, origin, manifests) for index, raw in enumerate(raw_sources)
    )
    names = [s.name for s in sources]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise ConfigError(f"{origin}: source name(s) used twice: {', '.join(duplicated)}")
    policy = Policy.from_mapping(
        _table(data.get("policy", {}), f"{origin}: [policy]"), origin=origin, base_dir=base_dir
    )
    identity_map = audit.get("identity_map")
    return AuditConfig(
        path=Path(origin) if origin else None,
        sources=sources,
        policy=policy,
        as_of=_date(audit["as_of"], origin) if "as_of" in audit else None,
        identity_map=_resolve(base_dir, str(identity_map)) if identity_map else None,
        connector_paths=connector_paths,
        manifests=manifests,
    )


def _source(
    raw: Any, index: int, base_dir: Path, origin: str, manifests: Mapping[str, Manifest]
) -> SourceSettings:
    where = f"{origin}: sources[{index}]"
    table = dict(_table(raw, where))
    name = table.pop("name", None)
    connector = table.pop("connector", None)
    if not isinstance(name, str) or not _SOURCE_NAME.match(name):
        raise ConfigError(f"{where}: 'name' must be a short word (letters, digits, . _ -)")
    if not isinstance(connector, str):
        raise ConfigError(f"{where} ({name}): 'connector' is required")
    if connector not in manifests:
        raise ConfigError(
            f"{where} ({name}): unknown connector {connector!r}; "
            f"known: {', '.join(sorted(manifests))}"
        )
    # A secret written into the file is refused: the config is evidence and is shared.
    _refuse_secrets(table, f"{where} ({name})")
    allowed = source_keys(manifests[connector].protocol)
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ConfigError(
            f"{where} ({name}): unknown key(s) {', '.join(unknown)} for connector "
            f"{connector!r} (known: {', '.join(sorted(allowed - {'name', 'connector'}))})"
        )
    path = table.pop("path", None)
    return SourceSettings(
        name=name,
        connector=connector,
        path=_resolve(base_dir, str(path)) if path else None,
        options=table,
        base_dir=base_dir,
    )


def _refuse_secrets(value: Any, where: str) -> None:
    """Refuse a key that looks like a secret at any depth of ``value``. The keys of word
    maps (``status_map = { "Secret" = "restricted" }``) are their words, not settings."""
    if isinstance(value, list):
        for item in value:
            _refuse_secrets(item, where)
        return
    if not isinstance(value, Mapping):
        return
    for key, inner in value.items():
        if _SECRET_LOOKING.search(str(key)) and not _SECRET_REFERENCE.search(str(key)):
            raise ConfigError(
                f"{where}: {key!r} looks like a secret; secrets never go in the config file "
                f"(it is evidence and gets shared): put it in an environment variable and name "
                f"that variable with '{key}_env', or use a certificate file"
            )
        if not str(key).endswith("_map"):
            _refuse_secrets(inner, f"{where}.{key}")


def _table(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where} must be a table")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise ConfigError(f"{where}: expected a list, got {value!r}")
    return value


def _resolve(base_dir: Path, value: str) -> Path:
    candidate = Path(value).expanduser()
    return candidate if candidate.is_absolute() else base_dir / candidate


def _date(value: Any, origin: str) -> pd.Timestamp:
    return iso_timestamp(value, where=f"{origin}: [audit] as_of")
