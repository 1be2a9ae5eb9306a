"""Read a live LDAP directory (Active Directory, OpenLDAP, 389-DS) as a stream of raw entries.

:func:`read_entries` is the *get* step of the ``ldap`` protocol: it binds, runs a paged search
(RFC 2696) and yields ``(dn, attributes, position)`` one entry at a time, with lower-case
attribute names and raw byte values, exactly what the LDIF reader yields for an export. The
shared transform in :mod:`accessaudit.connectors.ldap.transform` turns either into tables, so a
live collection and an ``ldapsearch -LLL`` export of the same directory give the same snapshot.

What it takes care of, so the transform never has to:

* **Streaming.** Only one page (``page_size`` entries, default 1000) is held at a time.
* **Range retrieval.** Active Directory returns at most 1,500 values of ``member`` per entry
  (``member;range=0-1499``); the rest is fetched with base searches until the range ends in
  ``*``, so every yielded group has its complete member list. ``range_window`` forces the
  window (tests use it against Samba, which otherwise returns whole attributes).
* **Dropped connections.** A bounded number of reconnects (``retries``, default 3); the search
  resumes from its paging cookie when the server still accepts it, else restarts and skips
  the entries already yielded. Then a :class:`SourceError` naming the server.
* **Unreadable attributes.** A server omits what the bind account may not read without an
  error; the report lists every requested attribute that no entry carried
  (``attributes_not_returned``) and a warning is logged, so a low-privilege bind is visible.
* **Safety.** TLS certificates are verified (``ca_bundle`` or the system store); a simple bind
  over an unencrypted connection is refused unless ``allow_plaintext = true``; the password
  comes from ``password_env`` or a prompt and never reaches a log or a message.

Two interchangeable backends give identical output: ``python-ldap`` (libldap, faster; used
when importable) and ``ldap3`` (pure Python, always installed); ``backend`` forces one.
"""

from __future__ import annotations

import gc
import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from accessaudit.connectors.base import CollectContext, Manifest, SourceSettings
from accessaudit.connectors.ldap._backends import (
    Attributes,
    Connection,
    ConnectionLost,
    LdapFailure,
    Page,
    TlsFailure,
    open_connection,
)
from accessaudit.connectors.ldap._pages import PageNormaliser
from accessaudit.connectors.ldap._report import SearchReferences
from accessaudit.connectors.ldap.options import LdapOptions
from accessaudit.errors import ConfigError, SourceError

__all__ = ["LiveEntries", "RawEntry", "read_entries"]

logger = logging.getLogger("accessaudit.connectors.ldap")

#: What :class:`LiveEntries` yields: DN, attributes, running entry number (1-based).
RawEntry = tuple[str, Attributes, int]

_RETRY_BACKOFF_SECONDS = 0.25
# LDAP result codes this module reacts to (RFC 4511 §4.1.9).
_NO_SUCH_OBJECT = 32
_INVALID_CREDENTIALS = 49


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Keep Python's cyclic garbage collector out of fetching and normalising one page.

    A page of 1,000 entries becomes ~10,000 container objects (dicts, lists, tuples); every
    few hundred allocations trigger a collection that walks the young objects and, every few
    pages, the whole heap (pandas included). With python-ldap that walking took a third of
    the reading time and found nothing: reference counting frees a page. Paused for one page
    (tens of milliseconds; never across a ``yield``, so the caller's code runs with the
    collector on), then restored, so a program that disabled it keeps it disabled. The pause
    is process-wide: another thread's cyclic garbage waits those milliseconds too.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class LiveEntries:
    """The entries of one live LDAP source, read lazily, one page at a time.

    Iterate to run the search; each iteration runs it anew. ``report`` is complete once the
    iteration ends: entries, pages, retries, restarts, range-retrieved groups, backend, server,
    and ``attributes_not_returned``: the requested attributes no entry carried (unreadable for
    the bind account, or empty everywhere; the server does not say which).
    """

    def __init__(self, options: LdapOptions, password: str | None, *, progress: bool) -> None:
        self.options = options
        self._password = password
        self._progress = progress
        self.report: dict[str, Any] = {}

    def __repr__(self) -> str:  # the password stays out of reprs and tracebacks
        return f"LiveEntries({self.options.url!r}, backend={self.options.backend!r})"

    def __iter__(self) -> Iterator[RawEntry]:
        options = self.options
        self.report = {
            "backend": options.backend,
            "server": options.url,
            "base_dn": options.base_dn,
            "page_size": options.page_size,
            "entries": 0,
            "pages": 0,
            "retries": 0,
            "restarts": 0,
            "range_retrieved_groups": 0,
        }
        from tqdm import tqdm  # noqa: PLC0415  (only needed while reading)

        bar = tqdm(
            desc=f"{options.source}: entries",
            unit=" entries",
            file=sys.stderr,
            disable=not self._progress,
            leave=False,
        )
        connection: Connection | None = None
        # Hashes of the DNs yielded so far (~70 bytes each in a set; not the entries): after a
        # restart the server forces by rejecting our cookie, they let us skip what was yielded.
        yielded: set[int] = set()
        pages = PageNormaliser(options)
        references = SearchReferences()
        position = 0
        try:
            connection = self._connect(attempt=0)
            for search_filter in options.filters:
                cookie = b""
                restarted = False
                attempt = 0
                while True:
                    try:
                        with _collector_paused():
                            page, next_cookie, page_references = connection.search(
                                options.base_dn,
                                subtree=True,
                                search_filter=search_filter,
                                attributes=pages.request_attributes(),
                                page_size=options.page_size,
                                cookie=cookie,
                            )
                            entries = pages.normalise(connection, page)
                    except ConnectionLost as error:
                        attempt += 1
                        connection = self._reconnect(connection, attempt, error, position)
                        continue
                    except LdapFailure as error:
                        if cookie and attempt and not restarted:
                            # The new connection does not know the old cookie (slapd ties
                            # cookies to connections): start over and skip what we yielded.
                            logger.warning(
                                "%s: server rejected the paging cookie after reconnecting "
                                "(%s); restarting the search",
                                options.url,
                                error,
                            )
                            cookie = b""
                            restarted = True
                            self.report["restarts"] += 1
                            continue
                        raise self._source_error(error, search_filter) from error
                    attempt = 0
                    self.report["pages"] += 1
                    references.add(page_references)
                    self.report["range_retrieved_groups"] = pages.range_retrieved
                    keys = [hash(dn.lower()) for dn, _ in entries]
                    if yielded.isdisjoint(keys):
                        yielded.update(keys)
                    else:
                        # Only after a restart (or a DN matched by two filters): skip those.
                        fresh: Page = []
                        for entry, key in zip(entries, keys, strict=True):
                            if key not in yielded:
                                yielded.add(key)
                                fresh.append(entry)
                        entries = fresh
                    for dn, attrs in entries:
                        position += 1
                        yield dn, attrs, position
                    bar.update(len(entries))
                    self.report["entries"] = position
                    if not next_cookie:
                        break
                    cookie = next_cookie
        finally:
            bar.close()
            if connection is not None:
                connection.close()
        self._report_not_returned(pages.returned, position)
        self.report["search_references"] = references.report()
        warning = references.warning()
        self.report["warnings"] = [warning] if warning else []
        logger.info(
            "%s: read %d entries in %d pages (%s)",
            options.url,
            position,
            self.report["pages"],
            options.backend,
        )

    def _report_not_returned(self, returned: set[str], entries: int) -> None:
        """Name the requested attributes that no entry carried, and say why it matters.

        LDAP servers leave out, without an error, every attribute the bind account may not
        read (OpenLDAP ACLs, AD deny ACEs), exactly as they leave out an attribute nobody has
        a value for. Only the auditor can tell the two apart, so both are listed: an
        ``employeeNumber`` missing here breaks HR correlation, a missing sign-in or lock
        attribute makes activity or lock state unknown.
        """
        options = self.options
        if not entries:
            self.report["attributes_not_returned"] = []
            return
        special = {"*", "+", "1.1"}
        missing = sorted(
            {
                name
                for name in options.attributes
                if name not in special and name.lower() not in returned
            },
            key=str.lower,
        )
        self.report["attributes_not_returned"] = missing
        if missing:
            logger.warning(
                "%s: no entry carried %s: either no entry has a value, or %s may not read it",
                options.url,
                ", ".join(missing),
                options.bind_dn or "the anonymous bind",
            )

    # -- connecting ---------------------------------------------------------------------------

    def _connect(self, attempt: int) -> Connection:
        options = self.options
        try:
            return open_connection(options, self._password)
        except TlsFailure as error:
            where = f"ca_bundle {options.ca_bundle}" if options.ca_bundle else "the system store"
            raise SourceError(
                f"TLS certificate verification failed for {options.url} ({error}); the server "
                f"certificate is not signed by a CA in {where}: set ca_bundle to the CA "
                "certificate (PEM) that issued it",
                source=options.source,
            ) from error
        except LdapFailure as error:
            if error.code == _INVALID_CREDENTIALS:
                raise SourceError(
                    f"invalid credentials for {options.bind_dn or 'anonymous'} at {options.url}",
                    source=options.source,
                ) from None  # the chained error could carry server text about the bind
            raise SourceError(
                f"connecting to {options.url} failed: {error}", source=options.source
            ) from error
        except ConnectionLost as error:
            if attempt == 0:
                # The very first connection: retry like a dropped one, then give up.
                return self._reconnect(None, 1, error, 0)
            raise

    def _reconnect(
        self, previous: Connection | None, attempt: int, error: Exception, position: int
    ) -> Connection:
        options = self.options
        last: Exception = error
        while attempt <= options.retries:
            logger.warning(
                "%s: connection lost after %d entries (%s); reconnect %d of %d",
                options.url,
                position,
                last,
                attempt,
                options.retries,
            )
            if previous is not None:
                previous.close()
                previous = None
            time.sleep(_RETRY_BACKOFF_SECONDS * attempt)
            self.report["retries"] += 1
            try:
                return self._connect(attempt=attempt)
            except ConnectionLost as again:
                last = again
                attempt += 1
        raise SourceError(
            f"lost the connection to {options.url} after {position} entries and "
            f"{options.retries} reconnect attempt(s): {last}",
            source=options.source,
        ) from last

    def _source_error(self, error: LdapFailure, search_filter: str) -> SourceError:
        options = self.options
        if error.code == _NO_SUCH_OBJECT:
            return SourceError(
                f"base DN {options.base_dn!r} does not exist at {options.url}",
                source=options.source,
            )
        return SourceError(
            f"search of {options.base_dn!r} with {search_filter} failed at {options.url}: {error}",
            source=options.source,
        )


def read_entries(
    settings: SourceSettings, manifest: Manifest, context: CollectContext
) -> LiveEntries:
    """The live entries of one LDAP source, ready to be iterated (nothing is read yet).

    Validates the options (a :class:`ConfigError` for a bad or unsafe configuration), asks
    for the password once (``password_env`` or a prompt), and returns a :class:`LiveEntries`
    whose iteration binds, pages through ``base_dn`` and yields ``(dn, attributes, position)``.

    >>> entries = read_entries(settings, manifest, context)  # doctest: +SKIP
    >>> for dn, attributes, position in entries: ...
    >>> entries.report["entries"]
    1234
    """
    options = LdapOptions.from_settings(settings, manifest)
    if options.bind_dn and not options.encrypted:
        if not options.allow_plaintext:
            raise ConfigError(
                f"source {options.source!r}: refusing a simple bind as {options.bind_dn} over "
                f"unencrypted {options.url}; use ldaps://, set start_tls = true, or set "
                "allow_plaintext = true if you accept the password crossing the network in clear"
            )
        logger.warning(
            "%s: simple bind as %s over an unencrypted connection (allow_plaintext = true)",
            options.url,
            options.bind_dn,
        )
    password = settings.secret("password_env", "LDAP password") if options.bind_dn else None
    return LiveEntries(options, password, progress=context.progress)
