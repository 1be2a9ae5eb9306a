"""Where Graph is and how to talk to it: endpoint URLs (HTTPS only, no credentials), the
transport settings every Graph connector shares, and URLs made safe for messages.

>>> redact_url("https://graph.microsoft.com/v1.0/users?$top=999&$skiptoken=abc")
'https://graph.microsoft.com/v1.0/users?$top=999&$skiptoken=…'
>>> redact_url("https://auditor:hunter2@graph.example/v1.0")
'https://…@graph.example/v1.0'
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from accessaudit.connectors.base import Manifest, SourceSettings
from accessaudit.errors import ConfigError

__all__ = [
    "DEFAULT_AUTHORITY",
    "DEFAULT_GRAPH",
    "SOURCE_OVERRIDES",
    "GraphSettings",
    "endpoint_url",
    "query",
    "redact_url",
]

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


#: The transport settings a source may override in its own config.
SOURCE_OVERRIDES = ("page_size", "max_retries", "backoff_seconds", "timeout_seconds")


@dataclass(frozen=True)
class GraphSettings:
    """How to talk to Graph, whatever is read: version, page and ``$batch`` sizes, retries,
    back-off, time-outs and the delegated scopes of an interactive sign-in."""

    version: str = "v1.0"
    page_size: int = 999
    batch_size: int = 20
    max_retries: int = 6
    backoff_seconds: float = 1.0
    backoff_max_seconds: float = 60.0
    timeout_seconds: float = 60.0
    delegated_scopes: tuple[str, ...] = ()

    @classmethod
    def options(
        cls,
        manifest: Manifest,
        settings: SourceSettings | None,
        defaults: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The manifest's ``[graph]`` section as keyword arguments of this class, with the
        source's overrides (:data:`SOURCE_OVERRIDES`) applied and ``defaults`` where neither
        says; ``$batch`` holds at most 20 requests, Graph's limit."""
        graph = {**(defaults or {}), **manifest.section("graph")}
        if settings is not None:
            for key in SOURCE_OVERRIDES:
                if settings.option(key) is not None:
                    graph[key] = settings.option(key)
        base = cls()
        try:
            return {
                "version": str(graph.get("version", base.version)),
                "page_size": int(graph.get("page_size", base.page_size)),
                "batch_size": min(int(graph.get("batch_size", base.batch_size)), 20),
                "max_retries": int(graph.get("max_retries", base.max_retries)),
                "backoff_seconds": float(graph.get("backoff_seconds", base.backoff_seconds)),
                "backoff_max_seconds": float(
                    graph.get("backoff_max_seconds", base.backoff_max_seconds)
                ),
                "timeout_seconds": float(graph.get("timeout_seconds", base.timeout_seconds)),
                "delegated_scopes": tuple(str(s) for s in graph.get("delegated_scopes", ())),
            }
        except (TypeError, ValueError) as error:
            raise ConfigError(f"connector manifest {manifest.file}: {error}") from error

    @classmethod
    def read(
        cls,
        manifest: Manifest,
        settings: SourceSettings | None = None,
        defaults: Mapping[str, Any] | None = None,
    ) -> Self:
        """The transport settings of one source (:meth:`options`); a :class:`ConfigError`
        names the manifest."""
        return cls(**cls.options(manifest, settings, defaults))


def query(path: str, select: Sequence[str], top: int | None = None) -> str:
    """``path`` with ``$select`` and ``$top`` added (to a ``$filter`` it may already carry);
    spaces percent-encoded, so the URL also goes verbatim into a ``$batch`` body.

    >>> query("/groups/{id}/members", ["id", "displayName"], 999)
    '/groups/{id}/members?$select=id,displayName&$top=999'
    >>> query("/x?$filter=groupId eq 'g'", ["id"])
    "/x?$filter=groupId%20eq%20'g'&$select=id"
    """
    parts = []
    if select:
        parts.append("$select=" + ",".join(select))
    if top:
        parts.append(f"$top={top}")
    separator = "&" if "?" in path else "?"
    return path.replace(" ", "%20") + (separator + "&".join(parts) if parts else "")
