"""What the manifest and the source's config say about reading Graph, and URLs in messages.

>>> redact_url("https://graph.microsoft.com/v1.0/users?$top=999&$skiptoken=abc")
'https://graph.microsoft.com/v1.0/users?$top=999&$skiptoken=…'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from accessaudit.connectors.base import Manifest, SourceSettings
from accessaudit.errors import ConfigError

__all__ = ["DEFAULT_AUTHORITY", "DEFAULT_GRAPH", "GraphSettings", "redact_url"]

DEFAULT_AUTHORITY = "https://login.microsoftonline.com"
DEFAULT_GRAPH = "https://graph.microsoft.com"

# Query parameters whose values say what was asked and never carry a secret; every other value
# (skip tokens, signatures) is replaced in messages, logs and the saved index.
_SAFE_PARAMETERS = frozenset(
    {"$select", "$top", "$filter", "$expand", "$count", "$orderby", "$search", "api-version"}
)


def redact_url(url: str) -> str:
    """``url`` with the values of opaque query parameters (skip tokens …) replaced by ``…``."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    pairs = [
        f"{key}={value if key in _SAFE_PARAMETERS else '…'}"
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit(parts._replace(query="&".join(pairs)))


@dataclass(frozen=True)
class GraphSettings:
    """What the manifest says about reading Graph: paths, ``$select`` lists, limits, roles."""

    version: str = "v1.0"
    page_size: int = 999
    batch_size: int = 20
    max_retries: int = 6
    backoff_seconds: float = 1.0
    backoff_max_seconds: float = 60.0
    timeout_seconds: float = 60.0
    long_lived_secret_days: int = 730
    delegated_scopes: tuple[str, ...] = ()
    endpoints: Mapping[str, str] = field(default_factory=dict)
    select: Mapping[str, Any] = field(default_factory=dict)
    sign_in_fields: tuple[str, ...] = (
        "lastSuccessfulSignInDateTime",
        "lastSignInDateTime",
        "lastNonInteractiveSignInDateTime",
    )
    privileged_role_ids: frozenset[str] = frozenset()
    privileged_role_names: frozenset[str] = frozenset()
    privileged_app_roles: frozenset[str] = frozenset()

    @classmethod
    def from_manifest(cls, manifest: Manifest, settings: SourceSettings | None = None) -> Self:
        """Read the manifest's ``[graph]``, ``[endpoints]``, ``[select]``, ``[sign_in]``,
        ``[privileged_roles]`` and ``[privileged_app_roles]``; a source may override
        ``page_size`` and the retry limits."""
        graph = dict(manifest.section("graph"))
        if settings is not None:
            for key in ("page_size", "max_retries", "backoff_seconds", "timeout_seconds"):
                if settings.option(key) is not None:
                    graph[key] = settings.option(key)
        roles = manifest.section("privileged_roles")
        try:
            result = cls(
                version=str(graph.get("version", "v1.0")),
                page_size=int(graph.get("page_size", 999)),
                batch_size=min(int(graph.get("batch_size", 20)), 20),
                max_retries=int(graph.get("max_retries", 6)),
                backoff_seconds=float(graph.get("backoff_seconds", 1.0)),
                backoff_max_seconds=float(graph.get("backoff_max_seconds", 60.0)),
                timeout_seconds=float(graph.get("timeout_seconds", 60.0)),
                long_lived_secret_days=int(graph.get("long_lived_secret_days", 730)),
                delegated_scopes=tuple(graph.get("delegated_scopes", ())),
                endpoints=dict(manifest.section("endpoints")),
                select=dict(manifest.section("select")),
                sign_in_fields=tuple(manifest.section("sign_in").get("fields", cls.sign_in_fields)),
                privileged_role_ids=frozenset(
                    str(x).lower() for x in roles.get("template_ids", ())
                ),
                privileged_role_names=frozenset(str(x).casefold() for x in roles.get("names", ())),
                privileged_app_roles=frozenset(
                    str(x) for x in manifest.section("privileged_app_roles").get("values", ())
                ),
            )
        except (TypeError, ValueError) as error:
            raise ConfigError(f"connector manifest {manifest.file}: {error}") from error
        missing = [
            name
            for name in (
                "users",
                "groups",
                "group_members",
                "group_owners",
                "role_definitions",
                "role_assignments",
                "role_eligibility",
                "service_principals",
                "app_role_assigned_to",
                "oauth2_permission_grants",
                "applications",
                "mfa_registration",
            )
            if name not in result.endpoints
        ]
        if missing:
            raise ConfigError(
                f"connector manifest {manifest.file}: [endpoints] lacks {', '.join(missing)}"
            )
        return result

    def fields(self, name: str) -> list[str]:
        """The ``$select`` list for endpoint ``name`` (empty: Graph's default properties)."""
        value = self.select.get(name, [])
        return [value] if isinstance(value, str) else [str(v) for v in value]
