"""Requests to Microsoft Graph: paging, ``$batch``, 429/503 with ``Retry-After``, one fresh
token after a 401, ``@odata.nextLink`` kept on the Graph host, and Graph's error bodies turned
into :class:`GraphHTTPError`. :func:`connect` opens the session, the sign-in and the client
the way every Graph connector needs them."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from tqdm import tqdm

from accessaudit.connectors._graph.auth import AccessTokens, tls_error
from accessaudit.connectors._graph.pages import RawPage
from accessaudit.connectors._graph.settings import (
    DEFAULT_GRAPH,
    GraphSettings,
    endpoint_url,
    redact_url,
)
from accessaudit.connectors._graph.shapes import PageShapes
from accessaudit.connectors.base import SourceSettings
from accessaudit.errors import ConfigError, SourceError

__all__ = ["GraphClient", "GraphHTTPError", "RequestStats", "connect"]

log = logging.getLogger("accessaudit.graph")


class GraphHTTPError(SourceError):
    """Graph answered with an error: the status, Graph's error code and message."""

    def __init__(self, status: int, code: str, message: str, url: str, source: str) -> None:
        self.status = status
        self.code = code
        super().__init__(
            f"Graph answered {status} {code}: {message}", source=source, location=redact_url(url)
        )


@dataclass
class RequestStats:
    """What a collection cost: requests, pages, batches, throttling retries, new tokens."""

    requests: int = 0
    pages: int = 0
    batches: int = 0
    throttling_retries: int = 0
    token_refreshes: int = 0


class GraphClient:
    """Requests to one Graph endpoint with paging, batching, retries and token refresh."""

    def __init__(
        self,
        session: requests.Session,
        token: AccessTokens,
        graph: GraphSettings,
        *,
        shapes: PageShapes,
        graph_url: str,
        source: str,
        progress: bool,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._session = session
        self._token = token
        self._settings = graph
        self._shapes = shapes
        self.graph_url = graph_url
        self.root = f"{graph_url}/{graph.version}"
        root = urlsplit(self.root)
        self._origin = (root.scheme.lower(), root.netloc.lower())
        self._source = source
        self._progress = progress
        self._sleep = sleep
        self.stats = RequestStats()

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
                raise tls_error(redact_url(url), self._source, error) from error
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
                raise GraphHTTPError(
                    response.status_code, code or response.reason or "", message, url, self._source
                )
            return response

    def _json(self, response: requests.Response, url: str) -> Any:
        try:
            return response.json()
        except (ValueError, RecursionError) as error:
            raise SourceError(
                "malformed Graph page: invalid JSON", source=self._source, location=redact_url(url)
            ) from error

    def _next(self, link: str, url: str) -> str:
        """``@odata.nextLink`` as returned, refused if it leaves the Graph endpoint: the next
        request carries the access token."""
        try:
            target = urlsplit(link)
        except ValueError:
            target = urlsplit("")
        if (target.scheme.lower(), target.netloc.lower()) != self._origin:
            raise SourceError(
                f"malformed Graph page: '@odata.nextLink' leads to {redact_url(link)!r}, away "
                "from the Graph endpoint; the access token is not sent there",
                source=self._source,
                location=redact_url(url),
            )
        return link

    def iter_pages(
        self,
        dataset: str,
        url: str,
        *,
        parent: str | None = None,
        headers: Mapping[str, str] | None = None,
        bar: Any = None,
    ) -> Iterator[RawPage]:
        """Each page of a collection as it arrives, following ``@odata.nextLink`` exactly as
        returned: a caller that keeps only what it needs holds one page at a time."""
        next_url: str | None = url
        while next_url:
            response = self.send("GET", next_url, headers=headers)
            body = self._json(response, next_url)
            self._shapes.check_page(
                body, dataset=dataset, location=redact_url(next_url), source=self._source
            )
            self.stats.pages += 1
            if bar is not None:
                bar.update(len(body["value"]))
            link = body.get("@odata.nextLink")
            page_url = next_url
            next_url = self._next(str(link), next_url) if link else None
            yield RawPage(dataset, parent, page_url, body)

    def pages_of(
        self,
        dataset: str,
        url: str,
        *,
        parent: str | None = None,
        headers: Mapping[str, str] | None = None,
        bar: Any = None,
    ) -> list[RawPage]:
        """Every page of a collection (:meth:`iter_pages`), kept."""
        return list(self.iter_pages(dataset, url, parent=parent, headers=headers, bar=bar))

    def batch(
        self,
        dataset: str,
        requests_by_parent: Sequence[tuple[str, str]],
        *,
        refused: dict[str, GraphHTTPError] | None = None,
    ) -> tuple[list[RawPage], list[str]]:
        """GET many relative URLs through ``$batch`` (``batch_size`` per call).

        Returns the pages (sub-responses and their further pages) and the parents whose object
        had vanished (404) since it was listed. Throttled sub-requests are retried in a later
        batch after the longest ``Retry-After`` they asked for. A 403 of one sub-request
        raises, unless ``refused`` is given: then it is recorded there (parent → the error)
        and the other requests go on — for callers whose requests span several objects (one
        library's refusal must not hide another's answers).
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
                        self._shapes.check_page(
                            body, dataset=dataset, location=redact_url(url), source=self._source
                        )
                        assert isinstance(body, dict)  # check_page made sure
                        pages.append(RawPage(dataset, parent, url, body))
                        self.stats.pages += 1
                        link = body.get("@odata.nextLink")
                        if link:
                            follow.append((parent, self._next(str(link), url)))
                        bar.update(1)
                    elif status in (429, 503):
                        attempts[relative] = attempts.get(relative, 0) + 1
                        if attempts[relative] > self._settings.max_retries:
                            code, message = _error_of(item.get("body"))
                            raise GraphHTTPError(status, code, message, url, self._source)
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
                    elif status == 403 and refused is not None:
                        code, message = _error_of(item.get("body"))
                        refused[parent] = GraphHTTPError(status, code, message, url, self._source)
                        bar.update(1)
                    else:
                        code, message = _error_of(item.get("body"))
                        raise GraphHTTPError(status, code, message, url, self._source)
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


@contextmanager
def connect(
    settings: SourceSettings,
    graph: GraphSettings,
    shapes: PageShapes,
    *,
    progress: bool,
    user_agent: str | None = None,
) -> Iterator[GraphClient]:
    """A signed-in :class:`GraphClient` for one source; the token cache is saved and the
    session closed on the way out, whatever happened.

    ``graph_url`` and ``authority_url`` must be HTTPS (see
    :func:`~accessaudit.connectors._graph.settings.endpoint_url`); the session trusts exactly
    ``ca_bundle`` (or the system's CAs), never the environment's.
    """
    graph_url = endpoint_url(settings, "graph_url", DEFAULT_GRAPH)
    ca_bundle = settings.file_option("ca_bundle")
    if ca_bundle is not None and not ca_bundle.is_file():
        raise ConfigError(f"source {settings.name!r}: ca_bundle {ca_bundle} is not a file")
    session = requests.Session()
    # REQUESTS_CA_BUNDLE and proxies from the environment would silently override `verify`;
    # the audit trusts exactly the CA it was configured with (or the system's).
    session.trust_env = False
    session.verify = str(ca_bundle) if ca_bundle is not None else True
    if user_agent is not None:
        session.headers["User-Agent"] = user_agent
    token: AccessTokens | None = None
    try:
        token = AccessTokens(settings, graph, session, graph_url)
        yield GraphClient(
            session,
            token,
            graph,
            shapes=shapes,
            graph_url=graph_url,
            source=settings.name,
            progress=progress,
        )
    finally:
        if token is not None:
            token.save_cache()
        session.close()


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
