"""What the ``m365`` manifest and a source's config say: endpoints, delta headers, label and
role maps, which OneDrive sites to read, which directory the principals belong to."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from accessaudit.connectors._graph.settings import GraphSettings
from accessaudit.connectors.base import Manifest, SourceSettings
from accessaudit.errors import ConfigError
from accessaudit.model import RIGHTS, SENSITIVITIES

__all__ = ["M365Settings"]

#: SharePoint throttles harder than the directory: smaller pages, more and longer retries,
#: unless the manifest's ``[graph]`` says otherwise.
_GRAPH_DEFAULTS = {
    "page_size": 200,
    "max_retries": 8,
    "backoff_seconds": 2.0,
    "backoff_max_seconds": 120.0,
}
_ENDPOINTS = (
    "sites",
    "site_drives",
    "delta",
    "root_permissions",
    "item_permissions",
    "groups",
    "group_sites",
    "group_owners",
)


@dataclass(frozen=True)
class M365Settings:
    """The manifest's endpoints and maps, with the source's choices applied.

    ``onedrive``: ``"all"``, ``"none"`` or a tuple of user principal names whose OneDrive is
    read. ``directory``: the source whose accounts and groups Graph's object ids name.
    """

    graph: GraphSettings
    endpoints: Mapping[str, str]
    prefer: str
    delta_select: tuple[str, ...]
    labels: Mapping[str, str]
    roles: Mapping[str, str]
    onedrive: str | tuple[str, ...] = "all"
    directory: str | None = None
    internal_domains: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def read(cls, manifest: Manifest, settings: SourceSettings) -> Self:
        """The settings of one source; a :class:`ConfigError` names the bad key."""
        graph_settings = GraphSettings.read(manifest, settings, _GRAPH_DEFAULTS)
        endpoints = {str(k): str(v) for k, v in manifest.section("endpoints").items()}
        missing = [name for name in _ENDPOINTS if name not in endpoints]
        if missing:
            raise ConfigError(
                f"connector manifest {manifest.file}: [endpoints] lacks {', '.join(missing)}"
            )
        delta = manifest.section("delta")
        labels = dict(manifest.section("sensitivity_labels"))
        override = settings.option("sensitivity_map")
        if override is not None:
            if not isinstance(override, Mapping):
                raise ConfigError(
                    f"source {settings.name!r}: sensitivity_map must be a table of label = level"
                )
            labels = dict(override)
        for label, level in labels.items():
            if str(level).lower() not in SENSITIVITIES:
                raise ConfigError(
                    f"source {settings.name!r}: sensitivity label {label!r} maps to {level!r}, "
                    f"not one of {', '.join(SENSITIVITIES)}"
                )
        roles = {str(k).lower(): str(v) for k, v in manifest.section("roles").items()}
        for role, right in roles.items():
            if right not in RIGHTS:
                raise ConfigError(
                    f"connector manifest {manifest.file}: [roles] {role} = {right!r} is not "
                    f"one of {', '.join(RIGHTS)}"
                )
        directory = settings.option("directory")
        if directory is not None and (not isinstance(directory, str) or not directory):
            raise ConfigError(f"source {settings.name!r}: directory must name a source")
        domains = settings.option("internal_domains", [])
        if not isinstance(domains, list) or not all(isinstance(d, str) for d in domains):
            raise ConfigError(f"source {settings.name!r}: internal_domains must be a list")
        return cls(
            graph=graph_settings,
            endpoints=endpoints,
            prefer=str(delta.get("prefer", "hierarchicalsharing")),
            delta_select=tuple(str(s) for s in delta.get("select", ())),
            labels={str(k).casefold(): str(v).lower() for k, v in labels.items()},
            roles=roles,
            onedrive=_onedrive(settings),
            directory=directory,
            internal_domains=frozenset(d.lower().lstrip("@") for d in domains),
        )

    def wants_personal_site(self, web_url: str) -> bool:
        """Whether the OneDrive at ``web_url`` is to be read (``onedrive`` setting).

        >>> s = M365Settings(GraphSettings(), {}, "", (), {}, {}, onedrive=("ann@x.com",))
        >>> s.wants_personal_site("https://x-my.sharepoint.com/personal/ann_x_com")
        True
        """
        if self.onedrive == "all":
            return True
        if self.onedrive == "none":
            return False
        folder = web_url.rstrip("/").rpartition("/")[2].lower()
        return any(_personal_folder(upn) == folder for upn in self.onedrive)


def _personal_folder(upn: str) -> str:
    """OneDrive's folder name for a user: every '.' and '@' of the UPN becomes '_'."""
    return upn.lower().replace(".", "_").replace("@", "_")


def _onedrive(settings: SourceSettings) -> str | tuple[str, ...]:
    value: Any = settings.option("onedrive", "all")
    if value in ("all", "none"):
        return str(value)
    if isinstance(value, list) and all(isinstance(v, str) and "@" in v for v in value):
        return tuple(value)
    raise ConfigError(
        f'source {settings.name!r}: onedrive must be "all", "none" or a list of user '
        "principal names"
    )
