"""What the manifest and the source's config say about reading Graph, and URLs in messages.

>>> redact_url("https://graph.microsoft.com/v1.0/users?$top=999&$skiptoken=abc")
'https://graph.microsoft.com/v1.0/users?$top=999&$skiptoken=…'
>>> redact_url("https://auditor:hunter2@graph.example/v1.0")
'https://…@graph.example/v1.0'
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from accessaudit.connectors.base import Manifest, SourceSettings
from accessaudit.connectors.entra.shapes import SHAPES
from accessaudit.errors import ConfigError

__all__ = ["DEFAULT_AUTHORITY", "DEFAULT_GRAPH", "GraphSettings", "endpoint_url", "redact_url"]

log = logging.getLogger("accessaudit.graph")

DEFAULT_AUTHORITY = "https://login.microsoftonline.com"
DEFAULT_GRAPH = "https://graph.microsoft.com"

# Query parameters whose values say what was asked and never carry a secret; every other value
# (skip tokens, signatures) is replaced in messages, logs and the saved index.
_SAFE_PARAMETERS = frozenset(
    {"$select", "$top", "$filter", "$expand", "$count", "$orderby", "$search", "api-version"}
)


def redact_url(url: str) -> str:
    """``url`` without secrets: user information (``user:password@``) and the values of
    opaque query parameters (skip tokens …) replaced by ``…``."""
    try:
        parts = urlsplit(url)
    except ValueError:  # not a URL at all (an unbalanced "[" in the host)
        return "…"
    if "@" in parts.netloc:
        parts = parts._replace(netloc="…@" + parts.netloc.rpartition("@")[2])
    if parts.query:
        pairs = [
            f"{key}={value if key in _SAFE_PARAMETERS else '…'}"
            for key, value in parse_qsl(parts.query, keep_blank_values=True)
        ]
        parts = parts._replace(query="&".join(pairs))
    return urlunsplit(parts)


def endpoint_url(settings: SourceSettings, key: str, default: str) -> str:
    """The source's ``graph_url`` or ``authority_url`` (``key``), checked: HTTPS only (the
    bearer token and the client secret travel to it), no credentials inside the URL.

    ``allow_plaintext = true`` admits ``http://`` for a lab, with a warning.

    >>> endpoint_url(SourceSettings("entra", "entra-id"), "graph_url", DEFAULT_GRAPH)
    'https://graph.microsoft.com'
    """
    value = settings.option(key)
    url = default if value in (None, "") else value
    if not isinstance(url, str):
        raise ConfigError(
            f"source {settings.name!r}: {key} must be a URL, not {type(url).__name__}"
        )
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 (raises ValueError on a port that is not a number)
    except ValueError as error:
        raise ConfigError(
            f"source {settings.name!r}: {key} {redact_url(url)!r} is not a URL ({error})"
        ) from error
    if parts.username is not None or parts.password is not None:
        raise ConfigError(
            f"source {settings.name!r}: {key} {redact_url(url)!r} holds credentials; remove "
            "them (the app signs in with client_secret_env or certificate_path)"
        )
    allow_plaintext = settings.option("allow_plaintext", False)
    if not isinstance(allow_plaintext, bool):
        raise ConfigError(f"source {settings.name!r}: allow_plaintext must be true or false")
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or not parts.hostname:
        raise ConfigError(
            f"source {settings.name!r}: {key} {redact_url(url)!r} must be an https:// URL"
        )
    if scheme == "http":
        if not allow_plaintext:
            raise ConfigError(
                f"source {settings.name!r}: {key} {redact_url(url)!r} is plain http, which "
                "would send the access token and client secret in clear; use https:// (or, "
                "for a lab only, set allow_plaintext = true)"
            )
        log.warning(
            "%s: %s %s is plain http (allow_plaintext = true): tokens travel unencrypted",
            settings.name,
            key,
            redact_url(url),
        )
    return urlunsplit(parts._replace(scheme=scheme)).rstrip("/")


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
    #: The signInActivity field that measures use (successful sign-ins); the others count
    #: attempts, and decide only where the tenant does not report this one.
    sign_in_successful: str = "lastSuccessfulSignInDateTime"
    #: Built-in role names by template id, for roles whose roleDefinition was not collected.
    role_names: Mapping[str, str] = field(default_factory=dict)
    privileged_role_ids: frozenset[str] = frozenset()
    privileged_role_names: frozenset[str] = frozenset()
    privileged_app_roles: frozenset[str] = frozenset()

    @classmethod
    def from_manifest(cls, manifest: Manifest, settings: SourceSettings | None = None) -> Self:
        """Read the manifest's ``[graph]``, ``[endpoints]``, ``[select]``, ``[sign_in]``,
        ``[privileged_roles]``, ``[role_names]`` and ``[privileged_app_roles]``; a source may
        override ``page_size`` and the retry limits."""
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
                sign_in_successful=str(
                    manifest.section("sign_in").get("successful", cls.sign_in_successful)
                ),
                role_names={
                    str(k).lower(): str(v) for k, v in manifest.section("role_names").items()
                },
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
        """The ``$select`` list for endpoint ``name``: the manifest's, plus every property the
        transforms depend on (Graph's default property set leaves out most of them, e.g. a
        user's ``accountEnabled``). Users' ``signInActivity`` and leave date are asked for
        separately, since a licence or permission may refuse them."""
        value = self.select.get(name, [])
        listed = [value] if isinstance(value, str) else [str(v) for v in value]
        optional = {"signInActivity", "employeeLeaveDateTime"} if name == "users" else set()
        needed = ["id", *SHAPES.get(name, {})]
        extra = [p for p in needed if p not in listed and p not in optional and "@" not in p]
        return [*listed, *extra]
