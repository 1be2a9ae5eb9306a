"""Microsoft Entra ID through Microsoft Graph: the ``graph`` protocol.

Two ways in, one way out. Live, the connector signs in with msal (client secret, certificate,
device code or interactive), reads Graph v1.0 page by page (``@odata.nextLink`` followed exactly
as returned, ``$batch`` for per-group and per-service-principal calls, 429/503 honoured with
``Retry-After``) and keeps every page it read. With ``path`` set, it re-reads a folder of such
pages instead (``--save-raw`` writes them: ``<save_raw>/<source>/index.json`` plus one JSON file
per page). Both ways end in the same :func:`tables_from_pages`, so a re-read is exact.

The manifest (``connectors/entra-id.toml``) holds the endpoint paths, ``$select`` lists and the
privileged roles; this module holds only the protocol.

>>> from accessaudit.connectors.graph import redact_url
>>> redact_url("https://graph.microsoft.com/v1.0/users?$top=999&$skiptoken=abc")
'https://graph.microsoft.com/v1.0/users?$top=999&$skiptoken=…'
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Self, cast
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import msal
import numpy as np
import pandas as pd
import requests
from msal.oauth2cli.oauth2 import BrowserInteractionTimeoutError
from tqdm import tqdm

from accessaudit.connectors.base import CollectContext, Manifest, SourceResult, SourceSettings
from accessaudit.errors import ConfigError, SourceError
from accessaudit.model import TABLES

__all__ = [
    "DEFAULT_AUTHORITY",
    "DEFAULT_GRAPH",
    "RAW_FORMAT",
    "GraphSettings",
    "RawPage",
    "RawPages",
    "collect",
    "redact_url",
    "tables_from_pages",
]

log = logging.getLogger("accessaudit.graph")

DEFAULT_AUTHORITY = "https://login.microsoftonline.com"
DEFAULT_GRAPH = "https://graph.microsoft.com"
#: Written into ``index.json``; a folder without it is not one of ours.
RAW_FORMAT = "accessaudit-graph-pages"
#: Graph's answer when signInActivity is asked of a tenant without an Entra ID P1/P2 licence.
LICENCE_ERROR = "Authentication_RequestFromNonPremiumTenantOrB2CTenant"

# Query parameters whose values say what was asked and never carry a secret; every other value
# (skip tokens, signatures) is replaced in messages, logs and the saved index.
_SAFE_PARAMETERS = frozenset(
    {"$select", "$top", "$filter", "$expand", "$count", "$orderby", "$search", "api-version"}
)
_DEFAULT_APP_ROLE = "00000000-0000-0000-0000-000000000000"
_ACCOUNT_TYPES = {
    "#microsoft.graph.user": "account",
    "#microsoft.graph.servicePrincipal": "account",
}
_GROUP_TYPE = "#microsoft.graph.group"


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


# --------------------------------------------------------------------------------------------
# Settings from the manifest


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


# --------------------------------------------------------------------------------------------
# Raw pages: what was read, saved and re-read


@dataclass(frozen=True)
class RawPage:
    """One Graph response page: the dataset it belongs to, the object it was asked about
    (a group id for its members, ``None`` for top-level lists), the URL and the JSON body."""

    dataset: str
    parent: str | None
    url: str
    body: Mapping[str, Any]


@dataclass
class RawPages:
    """Every page of one collection, plus notes on what the tenant would not tell.

    ``notes`` keys: ``sign_in_known`` (bool), ``sign_in_fields`` (list), ``mfa_known``,
    ``eligibility_known``, ``gaps`` (sentences for the report), ``graph_url``.
    """

    pages: list[RawPage] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)

    def add(self, page: RawPage) -> None:
        """Keep one page."""
        self.pages.append(page)

    def records(self, dataset: str) -> tuple[list[Mapping[str, Any]], list[str | None]]:
        """Every object of ``dataset`` across its pages, with the parent of each."""
        chosen = [page for page in self.pages if page.dataset == dataset]
        values = [list(page.body.get("value", [])) for page in chosen]
        records = [record for value in values for record in value]
        parents = np.repeat(
            np.array([page.parent for page in chosen], dtype=object),
            [len(value) for value in values],
        ).tolist()
        return records, parents

    def save(self, folder: Path) -> None:
        """Write ``folder/index.json`` and one file per page under ``folder/pages/``.

        The index is written last (through a temporary name), so a folder with an index is
        complete.
        """
        folder.mkdir(parents=True, exist_ok=True)
        entries = []
        for number, page in enumerate(self.pages, start=1):
            name = f"pages/{page.dataset}/{number:06d}.json"
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(page.body, ensure_ascii=False), encoding="utf-8")
            entries.append(
                {
                    "file": name,
                    "dataset": page.dataset,
                    "parent": page.parent,
                    "url": redact_url(page.url),
                }
            )
        index = {"format": RAW_FORMAT, "version": 1, "notes": self.notes, "pages": entries}
        temporary = folder / "index.json.tmp"
        temporary.write_text(json.dumps(index, indent=1, ensure_ascii=False), encoding="utf-8")
        temporary.replace(folder / "index.json")

    @classmethod
    def load(cls, folder: Path, *, source: str | None = None) -> RawPages:
        """Read a folder written by :meth:`save`; a :class:`SourceError` names the bad file."""
        index_file = folder / "index.json"
        index = _read_json_file(index_file, source)
        if not isinstance(index, dict) or index.get("format") != RAW_FORMAT:
            raise SourceError(
                f"not a folder of raw Graph pages (index.json lacks format {RAW_FORMAT!r})",
                source=source,
                location=str(index_file),
            )
        pages = []
        for entry in index.get("pages", []):
            file = folder / str(entry["file"])
            body = _read_json_file(file, source)
            _check_page(body, location=str(file), source=source)
            pages.append(
                RawPage(str(entry["dataset"]), entry.get("parent"), str(entry["url"]), body)
            )
        return cls(pages=pages, notes=dict(index.get("notes", {})))


def _read_json_file(file: Path, source: str | None) -> Any:
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise SourceError("file is missing", source=source, location=str(file)) from error
    except (ValueError, UnicodeDecodeError) as error:
        raise SourceError(f"invalid JSON ({error})", source=source, location=str(file)) from error


def _check_page(body: Any, *, location: str, source: str | None) -> None:
    if not isinstance(body, dict) or not isinstance(body.get("value"), list):
        raise SourceError("malformed Graph page: no 'value' list", source=source, location=location)


# --------------------------------------------------------------------------------------------
# Signing in


class _Token:
    """Access tokens from msal; a fresh one on demand (after a 401)."""

    def __init__(
        self,
        settings: SourceSettings,
        graph: GraphSettings,
        session: requests.Session,
        graph_url: str,
    ) -> None:
        self._source = settings.name
        authority_url = str(settings.option("authority_url") or DEFAULT_AUTHORITY).rstrip("/")
        tenant = str(settings.required("tenant_id"))
        client_id = str(settings.required("client_id"))
        self._authority = f"{authority_url}/{tenant}"
        self._auth = str(settings.option("auth") or "").lower() or (
            "certificate" if settings.option("certificate_path") else "client-secret"
        )
        if self._auth not in ("client-secret", "certificate", "device-code", "interactive"):
            raise ConfigError(
                f"source {settings.name!r}: auth must be client-secret, certificate, "
                f"device-code or interactive, not {self._auth!r}"
            )
        # msal waits forever for the browser's answer by default (a forged or lost answer, no
        # browser at all); an audit run must end, with a SourceError.
        timeout = settings.option("sign_in_timeout", 600)
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise ConfigError(
                f"source {settings.name!r}: sign_in_timeout must be a number of seconds above "
                f"0, not {timeout!r}"
            )
        self._sign_in_timeout = float(timeout)
        self._cache_file = settings.file_option("token_cache")
        self._cache = msal.SerializableTokenCache()
        if self._cache_file is not None and self._cache_file.is_file():
            self._cache.deserialize(self._cache_file.read_text(encoding="utf-8"))
        discovery = settings.option("instance_discovery")
        options: dict[str, Any] = {
            "authority": self._authority,
            "http_client": session,
            "token_cache": self._cache,
            # Microsoft's own hosts are known to msal; any other authority (a test server,
            # a private cloud) cannot be checked against login.microsoftonline.com.
            "instance_discovery": bool(discovery)
            if discovery is not None
            else authority_url == DEFAULT_AUTHORITY,
        }
        self._confidential = self._auth in ("client-secret", "certificate")
        if self._confidential:
            self._scopes = [f"{graph_url}/.default"]
        else:
            self._scopes = [f"{graph_url}/{scope}" for scope in graph.delegated_scopes]
        try:
            if self._auth == "client-secret":
                secret = settings.secret("client_secret_env", "Client secret")
                self._app: Any = msal.ConfidentialClientApplication(
                    client_id, client_credential=secret, **options
                )
            elif self._auth == "certificate":
                self._app = msal.ConfidentialClientApplication(
                    client_id, client_credential=_certificate(settings), **options
                )
            else:
                self._app = msal.PublicClientApplication(client_id, **options)
        except requests.exceptions.SSLError as error:
            raise _tls_error(self._authority, settings.name, error) from error
        except requests.exceptions.RequestException as error:
            raise SourceError(
                f"cannot reach the sign-in authority ({type(error).__name__})",
                source=settings.name,
                location=self._authority,
            ) from error
        except ValueError as error:
            raise SourceError(
                f"sign-in authority refused discovery: {str(error).splitlines()[0]}",
                source=settings.name,
                location=self._authority,
            ) from error

    def get(self) -> str:
        """A valid access token (msal's cache first)."""
        return self._acquire(force=False)

    def refresh(self) -> str:
        """A new access token, never the cached one."""
        return self._acquire(force=True)

    def save_cache(self) -> None:
        """Write the token cache to the file the user named (mode 0600), if it changed."""
        if self._cache_file is None or not self._cache.has_state_changed:
            return
        self._cache_file.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self._cache_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(self._cache.serialize())

    def _acquire(self, *, force: bool) -> str:
        try:
            result = self._acquire_result(force=force)
        except requests.exceptions.SSLError as error:
            raise _tls_error(self._authority, self._source, error) from error
        except requests.exceptions.RequestException as error:
            raise SourceError(
                f"cannot reach the token endpoint ({type(error).__name__})",
                source=self._source,
                location=self._authority,
            ) from error
        token = result.get("access_token") if isinstance(result, dict) else None
        if not token:
            code = result.get("error", "no token") if isinstance(result, dict) else "no token"
            description = (
                str(result.get("error_description", "")).splitlines()[0]
                if isinstance(result, dict) and result.get("error_description")
                else ""
            )
            raise SourceError(
                f"sign-in failed: {code}" + (f": {description}" if description else ""),
                source=self._source,
                location=self._authority,
            )
        return str(token)

    def _acquire_result(self, *, force: bool) -> Any:
        if self._confidential:
            if force:
                # acquire_token_for_client answers from the cache while the token looks
                # valid; a token Graph has just refused must go first.
                cache = self._app.token_cache
                for item in list(cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN)):
                    cache.remove_at(item)
            return self._app.acquire_token_for_client(scopes=self._scopes)
        accounts = self._app.get_accounts()
        if accounts:
            result = self._app.acquire_token_silent(
                self._scopes, account=accounts[0], force_refresh=force
            )
            if result and "access_token" in result:
                return result
        if self._auth == "device-code":
            flow = self._app.initiate_device_flow(scopes=self._scopes)
            if "user_code" not in flow:
                return flow
            # The user must see the code and URL whatever logging is configured.
            sys.stderr.write(str(flow["message"]) + "\n")
            sys.stderr.flush()
            return self._app.acquire_token_by_device_flow(flow)
        try:
            return self._app.acquire_token_interactive(
                scopes=self._scopes, timeout=self._sign_in_timeout
            )
        except BrowserInteractionTimeoutError as error:
            raise SourceError(
                f"interactive sign-in got no valid answer within {self._sign_in_timeout:g} s "
                "(browser not opened, sign-in abandoned, or an answer with the wrong state)",
                source=self._source,
                location=self._authority,
            ) from error


def _certificate(settings: SourceSettings) -> dict[str, Any]:
    path = settings.file_option("certificate_path")
    if path is None or not path.is_file():
        raise ConfigError(f"source {settings.name!r}: certificate_path {path} is not a file")
    passphrase = (
        settings.secret("certificate_password_env", "Certificate password")
        if settings.option("certificate_password_env")
        else None
    )
    credential: dict[str, Any] = {}
    if path.suffix.lower() in (".pfx", ".p12"):
        credential = {"private_key_pfx_path": str(path)}
    else:
        pem = path.read_text(encoding="utf-8")
        if "PRIVATE KEY-----" not in pem or "BEGIN CERTIFICATE" not in pem:
            raise ConfigError(
                f"source {settings.name!r}: {path} must hold the private key and the certificate "
                "(PEM), or be a .pfx / .p12 file"
            )
        credential = {"private_key": pem, "public_certificate": pem}
    if passphrase:
        credential["passphrase"] = passphrase
    return credential


def _tls_error(location: str, source: str, error: Exception) -> SourceError:
    return SourceError(
        "TLS certificate could not be verified; set ca_bundle to the CA that signed it "
        f"({type(error).__name__})",
        source=source,
        location=location,
    )


# --------------------------------------------------------------------------------------------
# Talking to Graph


class _GraphHTTPError(SourceError):
    """Graph answered with an error: the status, Graph's error code and message."""

    def __init__(self, status: int, code: str, message: str, url: str, source: str) -> None:
        self.status = status
        self.code = code
        super().__init__(
            f"Graph answered {status} {code}: {message}", source=source, location=redact_url(url)
        )


@dataclass
class _Stats:
    requests: int = 0
    pages: int = 0
    batches: int = 0
    throttling_retries: int = 0
    token_refreshes: int = 0


class _Graph:
    """Requests to one Graph endpoint with paging, batching, retries and token refresh."""

    def __init__(
        self,
        session: requests.Session,
        token: _Token,
        graph: GraphSettings,
        *,
        graph_url: str,
        source: str,
        progress: bool,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._session = session
        self._token = token
        self._settings = graph
        self.root = f"{graph_url}/{graph.version}"
        self._source = source
        self._progress = progress
        self._sleep = sleep
        self.stats = _Stats()

    def _delay(self, retry_after: str | None, attempt: int) -> float:
        backoff = float(
            min(self._settings.backoff_seconds * 2**attempt, self._settings.backoff_max_seconds)
        )
        if retry_after:
            try:
                return float(max(0.0, min(float(retry_after), self._settings.backoff_max_seconds)))
            except ValueError:
                try:
                    when = parsedate_to_datetime(retry_after)
                    return float(max(0.0, min(when.timestamp() - time.time(), backoff)))
                except (TypeError, ValueError):
                    pass
        return backoff

    def send(
        self,
        method: str,
        url: str,
        *,
        body: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """One request; 401 → one fresh token, 429/503 → wait and retry (bounded)."""
        refreshed = False
        attempt = 0
        while True:
            token = self._token.get()
            self.stats.requests += 1
            try:
                response = self._session.request(
                    method,
                    url,
                    json=body,
                    headers={
                        **(headers or {}),
                        "Authorization": f"Bearer {token}",
                        "Accept": "application/json",
                    },
                    timeout=self._settings.timeout_seconds,
                )
            except requests.exceptions.SSLError as error:
                raise _tls_error(redact_url(url), self._source, error) from error
            except requests.exceptions.RequestException as error:
                raise SourceError(
                    f"cannot reach Microsoft Graph ({type(error).__name__})",
                    source=self._source,
                    location=redact_url(url),
                ) from error
            if response.status_code == 401 and not refreshed:
                refreshed = True
                self.stats.token_refreshes += 1
                log.info("%s: Graph refused the access token; acquiring a fresh one", self._source)
                self._token.refresh()
                continue
            if response.status_code in (429, 503) and attempt < self._settings.max_retries:
                delay = self._delay(response.headers.get("Retry-After"), attempt)
                attempt += 1
                self.stats.throttling_retries += 1
                log.info(
                    "%s: Graph answered %s on %s; retrying in %.2f s",
                    self._source,
                    response.status_code,
                    redact_url(url),
                    delay,
                )
                self._sleep(delay)
                continue
            if response.status_code >= 400:
                code, message = _error_of(_json_or_none(response))
                raise _GraphHTTPError(
                    response.status_code, code or response.reason or "", message, url, self._source
                )
            return response

    def _json(self, response: requests.Response, url: str) -> Any:
        try:
            return response.json()
        except ValueError as error:
            raise SourceError(
                "malformed Graph page: invalid JSON", source=self._source, location=redact_url(url)
            ) from error

    def pages_of(
        self,
        dataset: str,
        url: str,
        *,
        parent: str | None = None,
        headers: Mapping[str, str] | None = None,
        bar: Any = None,
    ) -> list[RawPage]:
        """Every page of a collection, following ``@odata.nextLink`` exactly as returned."""
        pages: list[RawPage] = []
        next_url: str | None = url
        while next_url:
            response = self.send("GET", next_url, headers=headers)
            body = self._json(response, next_url)
            _check_page(body, location=redact_url(next_url), source=self._source)
            pages.append(RawPage(dataset, parent, next_url, body))
            self.stats.pages += 1
            if bar is not None:
                bar.update(len(body["value"]))
            link = body.get("@odata.nextLink")
            next_url = str(link) if link else None
        return pages

    def batch(
        self, dataset: str, requests_by_parent: Sequence[tuple[str, str]]
    ) -> tuple[list[RawPage], list[str]]:
        """GET many relative URLs through ``$batch`` (``batch_size`` per call).

        Returns the pages (sub-responses and their further pages) and the parents whose object
        had vanished (404) since it was listed. Throttled sub-requests are retried in a later
        batch after the longest ``Retry-After`` they asked for.
        """
        pages: list[RawPage] = []
        vanished: list[str] = []
        pending = list(requests_by_parent)
        attempts: dict[str, int] = {}
        size = self._settings.batch_size
        batch_url = f"{self.root}/$batch"
        with tqdm(
            total=len(pending),
            desc=f"{self._source} {dataset}",
            unit="obj",
            file=sys.stderr,
            disable=not self._progress,
            leave=False,
        ) as bar:
            while pending:
                chunk, pending = pending[:size], pending[size:]
                payload = {
                    "requests": [
                        {"id": str(number), "method": "GET", "url": relative}
                        for number, (_, relative) in enumerate(chunk)
                    ]
                }
                response = self.send(
                    "POST", batch_url, body=payload, headers={"Content-Type": "application/json"}
                )
                self.stats.batches += 1
                answer = self._json(response, batch_url)
                responses = answer.get("responses") if isinstance(answer, dict) else None
                if not isinstance(responses, list):
                    raise SourceError(
                        "malformed $batch answer: no 'responses' list",
                        source=self._source,
                        location=batch_url,
                    )
                by_id = {str(item.get("id")): item for item in responses if isinstance(item, dict)}
                retry: list[tuple[str, str]] = []
                wait = 0.0
                follow: list[tuple[str, str]] = []
                for number, (parent, relative) in enumerate(chunk):
                    item = by_id.get(str(number))
                    url = f"{self.root}{relative}"
                    if item is None:
                        raise SourceError(
                            "the $batch answer lacks a response for a request",
                            source=self._source,
                            location=redact_url(url),
                        )
                    status = int(item.get("status", 0))
                    if status == 200:
                        body = item.get("body")
                        _check_page(body, location=redact_url(url), source=self._source)
                        assert isinstance(body, dict)  # _check_page made sure
                        pages.append(RawPage(dataset, parent, url, body))
                        self.stats.pages += 1
                        link = body.get("@odata.nextLink")
                        if link:
                            follow.append((parent, str(link)))
                        bar.update(1)
                    elif status in (429, 503):
                        attempts[relative] = attempts.get(relative, 0) + 1
                        if attempts[relative] > self._settings.max_retries:
                            code, message = _error_of(item.get("body"))
                            raise _GraphHTTPError(status, code, message, url, self._source)
                        self.stats.throttling_retries += 1
                        item_headers = {
                            str(k).lower(): str(v) for k, v in (item.get("headers") or {}).items()
                        }
                        wait = max(
                            wait,
                            self._delay(item_headers.get("retry-after"), attempts[relative] - 1),
                        )
                        retry.append((parent, relative))
                    elif status == 404:
                        vanished.append(parent)
                        bar.update(1)
                    else:
                        code, message = _error_of(item.get("body"))
                        raise _GraphHTTPError(status, code, message, url, self._source)
                for parent, link in follow:
                    pages.extend(self.pages_of(dataset, link, parent=parent))
                if retry:
                    log.info(
                        "%s: %d $batch sub-requests throttled; retrying in %.2f s",
                        self._source,
                        len(retry),
                        wait,
                    )
                    self._sleep(wait)
                    pending = retry + pending
        return pages, vanished


def _json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _error_of(body: Any) -> tuple[str, str]:
    """Graph's ``{"error": {"code", "message"}}``, as far as the body has it."""
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        error = body["error"]
        message = str(error.get("message") or "").strip()
        return str(error.get("code", "")), message.splitlines()[0] if message else ""
    return "", ""


def _query(path: str, select: Sequence[str], top: int | None = None) -> str:
    parts = []
    if select:
        parts.append("$select=" + ",".join(select))
    if top:
        parts.append(f"$top={top}")
    return path + ("?" + "&".join(parts) if parts else "")


# --------------------------------------------------------------------------------------------
# Live collection


def _collect_live(
    settings: SourceSettings, graph: GraphSettings, context: CollectContext
) -> tuple[RawPages, dict[str, Any]]:
    graph_url = str(settings.option("graph_url") or DEFAULT_GRAPH).rstrip("/")
    ca_bundle = settings.file_option("ca_bundle")
    if ca_bundle is not None and not ca_bundle.is_file():
        raise ConfigError(f"source {settings.name!r}: ca_bundle {ca_bundle} is not a file")
    session = requests.Session()
    # REQUESTS_CA_BUNDLE and proxies from the environment would silently override `verify`;
    # the audit trusts exactly the CA it was configured with (or the system's).
    session.trust_env = False
    session.verify = str(ca_bundle) if ca_bundle is not None else True
    token: _Token | None = None
    try:
        token = _Token(settings, graph, session, graph_url)
        client = _Graph(
            session,
            token,
            graph,
            graph_url=graph_url,
            source=settings.name,
            progress=context.progress,
        )
        raw = _read_tenant(client, graph, settings.name, context.progress)
        raw.notes["graph_url"] = graph_url
        stats = {
            "mode": "live",
            "requests": client.stats.requests,
            "pages": client.stats.pages,
            "batches": client.stats.batches,
            "throttling_retries": client.stats.throttling_retries,
            "token_refreshes": client.stats.token_refreshes,
        }
        return raw, stats
    finally:
        if token is not None:
            token.save_cache()
        session.close()


def _read_tenant(client: _Graph, graph: GraphSettings, source: str, progress: bool) -> RawPages:
    raw = RawPages()
    gaps: list[str] = []
    endpoint = graph.endpoints
    top = graph.page_size
    eventual = {"ConsistencyLevel": "eventual"}

    def listing(dataset: str, name: str, *, tolerate: str | None = None) -> bool:
        url = client.root + _query(endpoint[name], graph.fields(name), top)
        with tqdm(
            desc=f"{source} {dataset}",
            unit="obj",
            file=sys.stderr,
            disable=not progress,
            leave=False,
        ) as bar:
            try:
                pages = client.pages_of(dataset, url, headers=eventual, bar=bar)
            except _GraphHTTPError as error:
                if tolerate is None or error.status not in (400, 403, 404):
                    raise
                gaps.append(f"{tolerate}: Graph answered {error.status} {error.code}")
                log.warning("%s: %s unknown (%s %s)", source, tolerate, error.status, error.code)
                return False
        for page in pages:
            raw.add(page)
        return True

    # Users: signInActivity needs a licence and AuditLog.Read.All, employeeLeaveDateTime its
    # own permission; without them Graph refuses the whole request, so ask again without.
    base = graph.fields("users")
    optional = graph.fields("users_optional")
    sign_in = str(graph.select.get("users_sign_in", "signInActivity"))
    want_sign_in, want_optional = True, bool(optional)
    total: int | None = None
    if "users_count" in endpoint:
        try:
            response = client.send("GET", client.root + endpoint["users_count"], headers=eventual)
            total = int(response.text.strip())
        except (_GraphHTTPError, ValueError):
            total = None  # only the progress bar's length depends on it
    while True:
        select = base + (optional if want_optional else []) + ([sign_in] if want_sign_in else [])
        url = client.root + _query(endpoint["users"], select, top)
        try:
            with tqdm(
                total=total,
                desc=f"{source} users",
                unit="user",
                file=sys.stderr,
                disable=not progress,
                leave=False,
            ) as bar:
                pages = client.pages_of("users", url, headers=eventual, bar=bar)
            break
        except _GraphHTTPError as error:
            if error.status != 403:
                raise
            if want_sign_in and error.code == LICENCE_ERROR:
                want_sign_in = False
                gaps.append(
                    "sign-in activity unknown: the tenant has no Entra ID P1/P2 licence "
                    f"({LICENCE_ERROR}); last_sign_in_known is false for every account"
                )
            elif want_optional:
                want_optional = False
                gaps.append(
                    f"{', '.join(optional)} not readable (403 {error.code}); "
                    "grant User-LifeCycleInfo.Read.All to collect it"
                )
            elif want_sign_in:
                want_sign_in = False
                gaps.append(
                    f"sign-in activity unknown: Graph answered 403 {error.code} "
                    "(AuditLog.Read.All missing?); last_sign_in_known is false for every account"
                )
            else:
                raise
            log.warning("%s: %s", source, gaps[-1])
    for page in pages:
        raw.add(page)
    raw.notes["sign_in_known"] = want_sign_in
    raw.notes["sign_in_fields"] = list(graph.sign_in_fields) if want_sign_in else []

    listing("groups", "groups")
    group_ids = [str(r["id"]) for r in raw.records("groups")[0]]
    for dataset, name in (("group_members", "group_members"), ("group_owners", "group_owners")):
        relative = [
            (gid, _query(endpoint[name].format(id=gid), graph.fields(name), top))
            for gid in group_ids
        ]
        pages_, vanished = client.batch(dataset, relative)
        for page in pages_:
            raw.add(page)
        if vanished:
            gaps.append(f"{len(vanished)} groups vanished while their {dataset} were read")

    listing("role_definitions", "role_definitions")
    listing("role_assignments", "role_assignments")
    raw.notes["eligibility_known"] = listing(
        "role_eligibility", "role_eligibility", tolerate="PIM eligible role assignments"
    )
    listing("service_principals", "service_principals")
    sp_ids = [str(r["id"]) for r in raw.records("service_principals")[0]]
    relative = [
        (
            sid,
            _query(
                endpoint["app_role_assigned_to"].format(id=sid),
                graph.fields("app_role_assigned_to"),
                top,
            ),
        )
        for sid in sp_ids
    ]
    pages_, vanished = client.batch("app_role_assigned_to", relative)
    for page in pages_:
        raw.add(page)
    if vanished:
        gaps.append(f"{len(vanished)} service principals vanished while being read")
    listing(
        "oauth2_permission_grants",
        "oauth2_permission_grants",
        tolerate="delegated permission grants",
    )
    listing("applications", "applications", tolerate="application credentials")
    raw.notes["mfa_known"] = listing(
        "mfa_registration", "mfa_registration", tolerate="MFA registration"
    )
    raw.notes["gaps"] = gaps
    return raw


# --------------------------------------------------------------------------------------------
# Pages → tables


def _frame(raw: RawPages, dataset: str) -> pd.DataFrame:
    records, parents = raw.records(dataset)
    if not records:
        return pd.DataFrame({"id": pd.Series([], dtype=object), "_parent": []})
    frame = pd.json_normalize(cast(list[dict[str, Any]], records), max_level=1)
    frame["_parent"] = parents
    return frame


def _col(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name]
    return pd.Series(np.nan, index=frame.index, dtype=object)


def _text(frame: pd.DataFrame, name: str) -> pd.Series:
    return _col(frame, name).astype("string")


def _times(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series, utc=True, errors="coerce", format="ISO8601")


def _lookup(keys: pd.Series, values: pd.Series) -> pd.Series:
    """``keys.map(values)``, also for no keys (where pandas would try to cast the dtype)."""
    if not len(keys):
        return pd.Series([], index=keys.index, dtype=values.dtype)
    return keys.map(values)


def _kind_of_member(odata_type: pd.Series) -> pd.Series:
    text = odata_type.astype("string")
    kind = text.map(_ACCOUNT_TYPES).astype(object)
    kind = kind.where(text.ne(_GROUP_TYPE).fillna(True), "group")
    return kind.fillna("unresolved")


def tables_from_pages(
    raw: RawPages, *, system: str, graph: GraphSettings, as_of: pd.Timestamp
) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """Map Graph pages onto the ``accounts``, ``groups`` and ``memberships`` tables.

    Returns the conformed tables and the report (counts, sign-in and MFA knowledge,
    credentials, delegated grants, gaps). Live collection and re-reading saved pages both end
    here, which is what makes a re-read identical.
    """
    prefix = f"{system}:"
    notes = raw.notes
    sign_in_known = bool(notes.get("sign_in_known", True))
    mfa_known = bool(notes.get("mfa_known", True))
    report: dict[str, Any] = {}

    # ---- users → accounts
    users = _frame(raw, "users")
    user_ids = _text(users, "id")
    fields = [f"signInActivity.{name}" for name in notes.get("sign_in_fields", [])]
    stamps = pd.DataFrame({name: _times(_col(users, name)) for name in fields}, index=users.index)
    if fields:
        last_sign_in = stamps.max(axis=1)
        seen = stamps.notna().any(axis=1)
        latest_from = (
            stamps[seen]
            .idxmax(axis=1)
            .astype(str)
            .str.removeprefix("signInActivity.")
            .value_counts()
            if seen.any()
            else pd.Series(dtype=int)
        )
    else:
        last_sign_in = pd.Series(pd.NaT, index=users.index, dtype="datetime64[ns, UTC]")
        latest_from = pd.Series(dtype=int)
    mfa_frame = _frame(raw, "mfa_registration")
    mfa_by_id = pd.Series(
        _col(mfa_frame, "isMfaRegistered").astype("boolean").to_numpy(),
        index=_text(mfa_frame, "id"),
    )
    mfa_by_id = mfa_by_id[~mfa_by_id.index.duplicated()]
    if mfa_known:
        mfa = user_ids.map(mfa_by_id).astype("boolean")
    else:
        mfa = pd.Series(pd.NA, index=users.index, dtype="boolean")
    user_type = _text(users, "userType").str.lower()
    user_accounts = pd.DataFrame(
        {
            "account_id": prefix + user_ids,
            "system": system,
            "native_id": user_ids,
            "login": _text(users, "userPrincipalName"),
            "display_name": _text(users, "displayName"),
            "email": _text(users, "mail"),
            "upn": _text(users, "userPrincipalName"),
            "employee_id": _text(users, "employeeId"),
            "department": _text(users, "department"),
            "kind": np.where(user_type.eq("guest").fillna(False), "guest", "user"),
            "enabled": _col(users, "accountEnabled").astype("boolean"),
            "expires": _times(_col(users, "employeeLeaveDateTime")),
            "created": _times(_col(users, "createdDateTime")),
            "last_sign_in": last_sign_in,
            "last_sign_in_known": sign_in_known,
            "mfa": mfa,
        }
    )

    # ---- service principals (+ their applications' credentials) → service accounts
    sps = _frame(raw, "service_principals")
    apps = _frame(raw, "applications")
    credentials = _credentials(apps, as_of, graph.long_lived_secret_days)
    app_created = pd.Series(
        _times(_col(apps, "createdDateTime")).to_numpy(), index=_text(apps, "appId")
    )
    app_created = app_created[~app_created.index.duplicated()]
    newest_credential = (
        credentials.groupby("appId")["start"].max()
        if len(credentials)
        else pd.Series(dtype="datetime64[ns, UTC]")
    )
    sp_ids = _text(sps, "id")
    sp_app_ids = _text(sps, "appId")
    sp_accounts = pd.DataFrame(
        {
            "account_id": prefix + sp_ids,
            "system": system,
            "native_id": sp_ids,
            "login": _text(sps, "displayName").fillna(sp_app_ids),
            "display_name": _text(sps, "displayName"),
            "kind": "service",
            "enabled": _col(sps, "accountEnabled").astype("boolean"),
            "created": _lookup(sp_app_ids, app_created),
            "password_last_set": _lookup(sp_app_ids, newest_credential),
            # Service principals' sign-ins live in a separate (beta) report not read here.
            "last_sign_in_known": False,
        }
    )
    accounts = pd.concat([user_accounts, sp_accounts], ignore_index=True)
    accounts = accounts.sort_values("account_id", kind="stable").reset_index(drop=True)
    accounts = TABLES["accounts"].conform(
        accounts, source=system, origin="object " + accounts["native_id"].astype(str)
    )

    # ---- groups, owners and members
    groups = _frame(raw, "groups")
    owners = _frame(raw, "group_owners")
    first_owner = (
        owners.sort_values(["_parent", "id"]).groupby("_parent")["id"].first()
        if len(owners)
        else pd.Series(dtype=object)
    )
    group_ids = _text(groups, "id")
    plain_groups = pd.DataFrame(
        {
            "group_id": prefix + group_ids,
            "system": system,
            "native_id": group_ids,
            "name": _text(groups, "displayName"),
            "kind": "group",
            "privileged": False,
            "owner_id": prefix + group_ids.map(first_owner).astype("string"),
            "description": _text(groups, "description"),
        }
    )
    members = _frame(raw, "group_members")
    member_rows = pd.DataFrame(
        {
            "group_id": prefix + _text(members, "_parent"),
            "member_id": prefix + _text(members, "id"),
            "member_type": _kind_of_member(_col(members, "@odata.type")),
            "assignment": "active",
        }
    )

    # ---- directory roles: active assignments and PIM eligibility
    kind_by_id = pd.concat(
        [
            pd.Series("account", index=user_ids.astype(object)),
            pd.Series("account", index=sp_ids.astype(object)),
            pd.Series("group", index=group_ids.astype(object)),
        ]
    )
    kind_by_id = kind_by_id[~kind_by_id.index.duplicated()]
    definitions = _frame(raw, "role_definitions")
    active = _frame(raw, "role_assignments").assign(assignment="active")
    eligible = _frame(raw, "role_eligibility").assign(assignment="eligible")
    status = _text(eligible, "status")
    eligible = eligible[status.isna() | status.str.lower().eq("provisioned")]
    role_edges = pd.concat([active, eligible], ignore_index=True)
    role_definition_ids = _text(role_edges, "roleDefinitionId")
    principal_ids = _text(role_edges, "principalId")
    role_members = pd.DataFrame(
        {
            "group_id": prefix + "role:" + role_definition_ids,
            "member_id": prefix + principal_ids,
            "member_type": principal_ids.map(kind_by_id).fillna("unresolved"),
            "assignment": _col(role_edges, "assignment"),
        }
    )
    definition_ids = _text(definitions, "id")
    template_ids = _text(definitions, "templateId").fillna(definition_ids).str.lower()
    role_names = _text(definitions, "displayName")
    role_groups = pd.DataFrame(
        {
            "group_id": prefix + "role:" + definition_ids,
            "system": system,
            "native_id": definition_ids,
            "name": role_names,
            "kind": "directory-role",
            "privileged": template_ids.isin(graph.privileged_role_ids).fillna(False)
            | role_names.str.casefold().isin(graph.privileged_role_names).fillna(False),
            "description": _text(definitions, "description"),
        }
    )
    used_roles = set(role_members["group_id"])
    role_groups = role_groups[role_groups["group_id"].isin(used_roles)]
    unknown_roles = sorted(used_roles - set(role_groups["group_id"]))
    if unknown_roles:
        role_groups = pd.concat(
            [
                role_groups,
                pd.DataFrame(
                    {
                        "group_id": unknown_roles,
                        "system": system,
                        "native_id": [g.removeprefix(prefix + "role:") for g in unknown_roles],
                        "name": [g.removeprefix(prefix + "role:") for g in unknown_roles],
                        "kind": "directory-role",
                        "privileged": False,
                    }
                ),
            ],
            ignore_index=True,
        )

    # ---- app roles: one group per (resource service principal, app role)
    assigned = _frame(raw, "app_role_assigned_to")
    app_roles = _app_roles(sps)
    resource_ids = _text(assigned, "resourceId").fillna(_text(assigned, "_parent"))
    app_role_ids = _text(assigned, "appRoleId")
    role_key = resource_ids + ":" + app_role_ids
    role_value = role_key.map(app_roles["value"]) if len(app_roles) else role_key.map({})
    role_value = role_value.astype("string")
    # The all-zero app role id is Graph's "default access" (assigned without a specific role).
    role_value = role_value.mask(
        role_value.isna() & app_role_ids.eq(_DEFAULT_APP_ROLE).fillna(False), "default access"
    ).fillna(app_role_ids)
    resource_names = _text(assigned, "resourceDisplayName").fillna(
        resource_ids.map(pd.Series(_text(sps, "displayName").to_numpy(), index=sp_ids))
    )
    principal_type = _text(assigned, "principalType").str.lower()
    app_role_members = pd.DataFrame(
        {
            "group_id": prefix + "app-role:" + role_key,
            "member_id": prefix + _text(assigned, "principalId"),
            "member_type": np.where(principal_type.eq("group").fillna(False), "group", "account"),
            "assignment": "active",
        }
    )
    app_role_groups = pd.DataFrame(
        {
            "group_id": prefix + "app-role:" + role_key,
            "system": system,
            "native_id": role_key,
            "name": resource_names.fillna(resource_ids) + "/" + role_value,
            "kind": "app-role",
            "privileged": role_value.isin(graph.privileged_app_roles).fillna(False),
            "owner_id": prefix + resource_ids,
        }
    ).drop_duplicates("group_id")

    all_groups = pd.concat([plain_groups, role_groups, app_role_groups], ignore_index=True)
    all_groups = all_groups.sort_values("group_id", kind="stable").reset_index(drop=True)
    all_groups = TABLES["groups"].conform(
        all_groups, source=system, origin="object " + all_groups["native_id"].astype(str)
    )
    memberships = pd.concat([member_rows, role_members, app_role_members], ignore_index=True)
    memberships = (
        memberships.drop_duplicates(["group_id", "member_id", "assignment"])
        .sort_values(["group_id", "member_id", "assignment"], kind="stable")
        .reset_index(drop=True)
    )
    memberships = TABLES["memberships"].conform(memberships, source=system)

    # ---- report
    guests = int(accounts["kind"].eq("guest").sum())
    grants = _frame(raw, "oauth2_permission_grants")
    consent = _text(grants, "consentType")
    scopes = _text(grants, "scope").str.split().explode().dropna()
    report["objects"] = {
        "users": len(users),
        "members": len(users) - guests,
        "guests": guests,
        "groups": len(groups),
        "group_members": len(member_rows),
        "directory_roles": len(role_groups),
        "role_assignments_active": len(active),
        "role_assignments_eligible": len(eligible),
        "role_assignments_scoped": int(_text(role_edges, "directoryScopeId").ne("/").sum()),
        "service_principals": len(sps),
        "app_role_assignments": len(assigned),
        "applications": len(apps),
        "oauth2_permission_grants": len(grants),
    }
    report["sign_in"] = {
        "known": sign_in_known,
        "fields": list(notes.get("sign_in_fields", [])),
        "latest_from": {str(k): int(v) for k, v in latest_from.items()},
        "never_signed_in": int(accounts["last_sign_in"].isna().sum() - len(sp_accounts))
        if sign_in_known
        else None,
    }
    mfa_counts = accounts.loc[accounts["kind"].ne("service"), "mfa"]
    report["mfa"] = {
        "known": mfa_known,
        "registered": int(mfa_counts.eq(True).sum()),
        "not_registered": int(mfa_counts.eq(False).sum()),
        "unknown": int(mfa_counts.isna().sum()),
    }
    if not mfa_known:
        report["mfa"]["note"] = "MFA unknown: the registration report could not be read"
    report["pim_eligibility_known"] = bool(notes.get("eligibility_known", True))
    report["credentials"] = {
        "total": len(credentials),
        "expired": int(credentials["expired"].sum()) if len(credentials) else 0,
        "long_lived": int(credentials["long_lived"].sum()) if len(credentials) else 0,
        "long_lived_days": graph.long_lived_secret_days,
        "details": _jsonable(credentials),
    }
    report["oauth2_permission_grants"] = {
        "total": len(grants),
        "admin_consent": int(consent.eq("AllPrincipals").sum()),
        "user_consent": int(consent.eq("Principal").sum()),
        "clients": int(_text(grants, "clientId").nunique()),
        "top_scopes": {str(k): int(v) for k, v in scopes.value_counts().head(10).items()},
    }
    report["unresolved_members"] = int(memberships["member_type"].eq("unresolved").sum())
    report["gaps"] = list(notes.get("gaps", []))
    tables = {"accounts": accounts, "groups": all_groups, "memberships": memberships}
    return tables, report


def _app_roles(sps: pd.DataFrame) -> pd.DataFrame:
    """The app roles each service principal defines, indexed by ``resourceId:appRoleId``."""
    if "appRoles" not in sps.columns or not len(sps):
        return pd.DataFrame({"value": pd.Series([], dtype="string")})
    exploded = sps[["id", "appRoles"]].explode("appRoles").dropna(subset=["appRoles"])
    if not len(exploded):
        return pd.DataFrame({"value": pd.Series([], dtype="string")})
    roles = pd.json_normalize(exploded["appRoles"].tolist())
    key = exploded["id"].astype(str).to_numpy() + ":" + roles["id"].astype(str).to_numpy()
    value = _text(roles, "value").fillna(_text(roles, "displayName"))
    frame = pd.DataFrame({"value": value.to_numpy()}, index=key)
    return frame[~frame.index.duplicated()]


def _credentials(apps: pd.DataFrame, as_of: pd.Timestamp, long_lived_days: int) -> pd.DataFrame:
    """One row per application secret or certificate, with expiry and lifetime flags."""
    frames = []
    for column, kind in (("passwordCredentials", "secret"), ("keyCredentials", "certificate")):
        if column not in apps.columns:
            continue
        exploded = apps[["appId", "displayName", column]].explode(column).dropna(subset=[column])
        if not len(exploded):
            continue
        details = pd.json_normalize(exploded[column].tolist())
        frames.append(
            pd.DataFrame(
                {
                    "application": exploded["displayName"].astype("string").to_numpy(),
                    "appId": exploded["appId"].astype("string").to_numpy(),
                    "type": kind,
                    "name": _text(details, "displayName").to_numpy(),
                    "start": _times(_col(details, "startDateTime")).to_numpy(),
                    "end": _times(_col(details, "endDateTime")).to_numpy(),
                }
            )
        )
    if not frames:
        return pd.DataFrame(
            {
                "application": pd.Series([], dtype="string"),
                "appId": pd.Series([], dtype="string"),
                "type": pd.Series([], dtype="string"),
                "name": pd.Series([], dtype="string"),
                "start": pd.Series([], dtype="datetime64[ns, UTC]"),
                "end": pd.Series([], dtype="datetime64[ns, UTC]"),
                "expired": pd.Series([], dtype=bool),
                "long_lived": pd.Series([], dtype=bool),
            }
        )
    table = pd.concat(frames, ignore_index=True)
    table["start"] = pd.to_datetime(table["start"], utc=True)
    table["end"] = pd.to_datetime(table["end"], utc=True)
    as_of_utc = pd.Timestamp(as_of)
    as_of_utc = as_of_utc.tz_localize("UTC") if as_of_utc.tzinfo is None else as_of_utc
    table["expired"] = (table["end"] < as_of_utc).fillna(False).astype(bool)
    lifetime = table["end"] - table["start"]
    table["long_lived"] = (
        ((lifetime > pd.Timedelta(days=long_lived_days)) & table["type"].eq("secret"))
        .fillna(False)
        .astype(bool)
    )
    return table.sort_values(["application", "type", "end"], kind="stable").reset_index(drop=True)


def _jsonable(table: pd.DataFrame) -> list[dict[str, Any]]:
    out = table.copy()
    for column in ("start", "end"):
        out[column] = out[column].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    out = out.astype(object).where(out.notna(), None)
    return [
        {str(k): (bool(v) if isinstance(v, np.bool_) else v) for k, v in row.items()}
        for row in out.to_dict("records")
    ]


# --------------------------------------------------------------------------------------------
# The protocol entry point


def collect(settings: SourceSettings, manifest: Manifest, context: CollectContext) -> SourceResult:
    """Read one Entra ID tenant (live through Graph, or a folder of saved pages).

    ``settings.path`` set: re-read the pages a ``--save-raw`` run (or
    :func:`accessaudit.sample_entra.write_tenant`) wrote there. Otherwise sign in with msal and
    read Graph; with ``context.save_raw`` every page goes to ``<save_raw>/<source name>/``.
    Returns ``accounts``, ``groups`` and ``memberships`` and a report of counts, pages,
    batches, throttling retries and what the tenant's licence or permissions hid.

    Example config::

        [[sources]]
        name = "entra"
        connector = "entra-id"
        tenant_id = "contoso.onmicrosoft.com"
        client_id = "00000000-0000-0000-0000-000000000000"
        client_secret_env = "ENTRA_SECRET"
    """
    graph = GraphSettings.from_manifest(manifest, settings)
    if settings.path is not None:
        raw = RawPages.load(settings.path, source=settings.name)
        stats: dict[str, Any] = {"mode": "saved pages", "pages": len(raw.pages)}
    else:
        raw, stats = _collect_live(settings, graph, context)
        if context.save_raw is not None:
            raw.save(Path(context.save_raw) / settings.name)
            stats["saved_to"] = str(Path(context.save_raw) / settings.name)
    tables, report = tables_from_pages(raw, system=settings.name, graph=graph, as_of=context.as_of)
    report = {**stats, **report}
    log.info(
        "%s: %d accounts, %d groups, %d memberships from %d pages",
        settings.name,
        len(tables["accounts"]),
        len(tables["groups"]),
        len(tables["memberships"]),
        report["pages"],
    )
    return SourceResult(
        source=settings.name, connector=manifest.connector, tables=tables, report=report
    )
