"""Read a live LDAP directory (Active Directory, OpenLDAP, 389-DS) as a stream of raw entries.

:func:`read_entries` is the *get* step of the ``ldap`` protocol: it binds, runs a paged search
(RFC 2696) and yields ``(dn, attributes, position)`` one entry at a time, with lower-case
attribute names and raw byte values, exactly what the LDIF reader yields for an export. The
shared transform in :mod:`accessaudit.connectors.directory` turns either into tables, so a
live collection and an ``ldapsearch -LLL`` export of the same directory give the same snapshot.

What it takes care of, so the transform never has to:

* **Streaming.** Only one page (``page_size`` entries, default 1000) is held at a time.
* **Range retrieval.** Active Directory returns at most 1,500 values of ``member`` per entry
  (``member;range=0-1499``); the rest is fetched with base searches until the range ends in
  ``*``, so every yielded group has its complete member list. ``range_window`` forces the
  window (tests use it against Samba, which otherwise returns whole attributes).
* **Nesting, server side.** With ``nested = "in-chain"`` each group also carries
  :data:`IN_CHAIN_ATTRIBUTE`: every member at any depth, found by the AD matching rule
  ``1.2.840.113556.1.4.1941``. The default (``"client"``) leaves nesting to the transform.
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
import socket
import ssl
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal, Protocol
from urllib.parse import unquote, urlsplit

from accessaudit.connectors.base import CollectContext, Manifest, SourceSettings
from accessaudit.errors import ConfigError, SourceError

__all__ = [
    "BACKENDS",
    "IN_CHAIN_ATTRIBUTE",
    "IN_CHAIN_RULE",
    "Attributes",
    "LdapOptions",
    "LiveEntries",
    "RawEntry",
    "read_entries",
]

logger = logging.getLogger("accessaudit.connectors.ldap")

#: The values of one entry: lower-case attribute name -> raw values.
Attributes = dict[str, list[bytes]]
#: What :class:`LiveEntries` yields: DN, attributes, running entry number (1-based).
RawEntry = tuple[str, Attributes, int]

BACKENDS = ("python-ldap", "ldap3")
#: The LDAP_MATCHING_RULE_IN_CHAIN of Active Directory (transitive group membership).
IN_CHAIN_RULE = "1.2.840.113556.1.4.1941"
#: Synthetic attribute carrying a group's members at any depth when ``nested = "in-chain"``.
IN_CHAIN_ATTRIBUTE = "accessaudit-in-chain-member"

_PAGED_RESULTS_OID = "1.2.840.113556.1.4.319"
_DEFAULT_PAGE_SIZE = 1000
_DEFAULT_TIMEOUT = 30.0
_DEFAULT_RETRIES = 3
_RETRY_BACKOFF_SECONDS = 0.25
# LDAP result codes this module reacts to (RFC 4511 §4.1.9).
_NO_SUCH_OBJECT = 32
_INVALID_CREDENTIALS = 49
_RESULT_NAMES = {
    1: "operationsError",
    2: "protocolError",
    3: "timeLimitExceeded",
    4: "sizeLimitExceeded",
    8: "strongerAuthRequired",
    12: "unavailableCriticalExtension",
    13: "confidentialityRequired",
    32: "noSuchObject",
    49: "invalidCredentials",
    50: "insufficientAccessRights",
    51: "busy",
    52: "unavailable",
    53: "unwillingToPerform",
}


@dataclass(frozen=True)
class LdapOptions:
    """The connection and search settings of one live LDAP source, validated.

    Built from a source's config table and its manifest's ``[search]`` section by
    :meth:`from_settings`; the password is not part of it (it is asked for once, when the
    entries are read, and kept only by the reader).
    """

    source: str
    url: str
    host: str
    port: int
    use_ssl: bool
    start_tls: bool
    base_dn: str
    bind_dn: str | None
    ca_bundle: str | None
    page_size: int
    timeout: float
    retries: int
    backend: str
    filters: tuple[str, ...]
    attributes: tuple[str, ...]
    range_attributes: tuple[str, ...]
    range_window: int | None
    nested: Literal["client", "in-chain"]
    allow_plaintext: bool

    @property
    def encrypted(self) -> bool:
        """Whether the bind and the data travel over TLS."""
        return self.use_ssl or self.start_tls

    @classmethod
    def from_settings(cls, settings: SourceSettings, manifest: Manifest) -> LdapOptions:
        """Validate the source's options; a :class:`ConfigError` naming the bad key.

        >>> LdapOptions.from_settings(settings, manifest).page_size  # doctest: +SKIP
        1000
        """
        name = settings.name
        url = str(settings.required("url"))
        parts = urlsplit(url)
        if parts.scheme not in ("ldap", "ldaps") or not parts.hostname:
            raise ConfigError(f"source {name!r}: url {url!r} must be ldap://host or ldaps://host")
        use_ssl = parts.scheme == "ldaps"
        start_tls = _bool_option(settings, "start_tls", default=False)
        if use_ssl and start_tls:
            raise ConfigError(f"source {name!r}: start_tls is for ldap:// urls, not ldaps://")
        ca_path = settings.file_option("ca_bundle")
        if ca_path is not None and not ca_path.is_file():
            raise ConfigError(f"source {name!r}: ca_bundle {ca_path} does not exist")
        search = manifest.section("search")
        filters = _search_filters(settings, search)
        attributes = settings.option("attributes")
        if attributes is None:
            # The directory transform knows what it maps; ask for exactly that.
            from accessaudit.connectors.directory import attributes_to_request  # noqa: PLC0415

            attributes = attributes_to_request(manifest)
        range_attributes = search.get("range_attributes", ["member"])
        nested = str(settings.option("nested", "client"))
        if nested not in ("client", "in-chain"):
            raise ConfigError(f"source {name!r}: nested must be 'client' or 'in-chain'")
        backend = str(settings.option("backend", "auto"))
        if backend == "auto":
            backend = "python-ldap" if _python_ldap_available() else "ldap3"
        elif backend not in BACKENDS:
            raise ConfigError(f"source {name!r}: backend must be one of {', '.join(BACKENDS)}")
        elif backend == "python-ldap" and not _python_ldap_available():
            raise ConfigError(
                f"source {name!r}: backend 'python-ldap' is not installed "
                "(pip install 'accessaudit[fast-ldap]')"
            )
        window = settings.option("range_window")
        bind_dn = settings.option("bind_dn")
        return cls(
            source=name,
            url=url,
            host=parts.hostname,
            port=parts.port or (636 if use_ssl else 389),
            use_ssl=use_ssl,
            start_tls=start_tls,
            base_dn=unquote(str(settings.required("base_dn"))),
            bind_dn=str(bind_dn) if bind_dn else None,
            ca_bundle=str(ca_path) if ca_path is not None else None,
            page_size=_int_option(
                settings, "page_size", int(search.get("page_size", _DEFAULT_PAGE_SIZE)), minimum=1
            ),
            timeout=float(_int_option(settings, "timeout", int(_DEFAULT_TIMEOUT), minimum=1)),
            retries=_int_option(settings, "retries", _DEFAULT_RETRIES, minimum=0),
            backend=backend,
            filters=filters,
            attributes=tuple(str(a) for a in attributes),
            range_attributes=tuple(str(a).lower() for a in range_attributes),
            range_window=None if window is None else _int_option(settings, "range_window", 0, 1),
            nested="in-chain" if nested == "in-chain" else "client",
            allow_plaintext=_bool_option(settings, "allow_plaintext", default=False),
        )


def _search_filters(settings: SourceSettings, search: Mapping[str, Any]) -> tuple[str, ...]:
    """The searches to run, in order: the source's own ``filter`` (a string or a list), else
    the manifest's ``accounts_filter``, ``service_accounts_filter`` and ``groups_filter``
    (empty ones skipped), else everything under the base DN."""
    own = settings.option("filter")
    if own is not None:
        filters = [own] if isinstance(own, str) else list(own)
    else:
        keys = ("accounts_filter", "service_accounts_filter", "groups_filter")
        filters = [search[key] for key in keys if search.get(key)]
    if not filters:
        filters = ["(objectClass=*)"]
    if not all(isinstance(f, str) and f.startswith("(") and f.endswith(")") for f in filters):
        raise ConfigError(
            f"source {settings.name!r}: search filters must look like (attribute=value), "
            f"not {filters!r}"
        )
    return tuple(filters)


def _bool_option(settings: SourceSettings, key: str, *, default: bool) -> bool:
    value = settings.option(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f"source {settings.name!r}: {key} must be true or false, not {value!r}")
    return value


def _int_option(settings: SourceSettings, key: str, default: int, minimum: int) -> int:
    value = settings.option(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
        raise ConfigError(
            f"source {settings.name!r}: {key} must be a number >= {minimum}, not {value!r}"
        )
    return int(value)


def _python_ldap_available() -> bool:
    try:
        import ldap  # noqa: F401, PLC0415  (optional dependency, probed on demand)
    except ImportError:
        return False
    return True


# --------------------------------------------------------------------------------------------
# Backends: the same four operations over ldap3 or python-ldap, failures in three kinds.


class _ConnectionLost(Exception):
    """The connection could not be opened or broke; worth a reconnect."""


class _TlsFailure(Exception):
    """The TLS handshake failed: untrusted or mismatching certificate."""


class _LdapFailure(Exception):
    """The server answered with a non-success result code."""

    def __init__(self, code: int, detail: str) -> None:
        self.code = code
        self.detail = detail
        name = _RESULT_NAMES.get(code, f"result {code}")
        super().__init__(f"{name}{': ' + detail if detail else ''}")


Page = list[tuple[str, Attributes]]


class _Connection(Protocol):
    def search(
        self,
        base: str,
        *,
        subtree: bool,
        search_filter: str,
        attributes: Sequence[str],
        page_size: int | None,
        cookie: bytes,
    ) -> tuple[Page, bytes]:
        """One page (or a whole non-paged result) and the cookie for the next page.

        Attribute names are as the server spelled them (any case, with options such as
        ``;range=0-1499``); the reader normalises them.
        """
        ...

    def close(self) -> None:
        """Unbind and close; never raises."""
        ...


def _looks_like_tls(text: str) -> bool:
    lowered = text.lower()
    return any(
        word in lowered for word in ("certificate", "ssl", "tls", "handshake", "not trusted")
    )


class _Ldap3Connection:
    def __init__(self, options: LdapOptions, password: str | None) -> None:
        import ldap3  # noqa: PLC0415  (imported when a live source is read, not at import)
        from ldap3.core import exceptions as ldap3_errors  # noqa: PLC0415

        self._ldap3 = ldap3
        self._errors = ldap3_errors
        tls = ldap3.Tls(
            validate=ssl.CERT_REQUIRED,
            ca_certs_file=options.ca_bundle,
            version=None,
        )
        server = ldap3.Server(
            options.host,
            port=options.port,
            use_ssl=options.use_ssl,
            tls=tls,
            get_info=ldap3.NONE,
            connect_timeout=options.timeout,
        )
        self._conn = ldap3.Connection(
            server,
            user=options.bind_dn,
            password=password,
            client_strategy=ldap3.SYNC,
            auto_bind=ldap3.AUTO_BIND_NONE,
            auto_referrals=False,
            auto_range=False,
            return_empty_attributes=False,
            raise_exceptions=False,
            read_only=True,
            check_names=False,
            receive_timeout=max(1, round(options.timeout)),  # ldap3 packs it as whole seconds
        )
        try:
            self._conn.open()
            if options.start_tls and not self._conn.start_tls():
                self._raise_result()
            if not self._conn.bind():
                self._raise_result()
        except (_ConnectionLost, _TlsFailure, _LdapFailure):
            self.close()
            raise
        except Exception as error:
            self.close()
            raise self._translate(error) from error

    def _translate(self, error: Exception) -> Exception:
        errors = self._errors
        text = str(error)
        if isinstance(error, errors.LDAPCertificateError | errors.LDAPStartTLSError | ssl.SSLError):
            return _TlsFailure(text)
        if isinstance(error, errors.LDAPSocketOpenError) and _looks_like_tls(text):
            return _TlsFailure(text)
        if isinstance(
            error,
            errors.LDAPCommunicationError | errors.LDAPResponseTimeoutError | OSError,
        ):
            return _ConnectionLost(text or type(error).__name__)
        return _LdapFailure(-1, f"{type(error).__name__}: {text}")

    def _raise_result(self) -> None:
        result = self._conn.result or {}
        code = int(result.get("result", -1))
        detail = str(result.get("message") or result.get("description") or "")
        if code in (51, 52):  # busy, unavailable: the server is going away, reconnect
            raise _ConnectionLost(detail)
        raise _LdapFailure(code, detail)

    def search(
        self,
        base: str,
        *,
        subtree: bool,
        search_filter: str,
        attributes: Sequence[str],
        page_size: int | None,
        cookie: bytes,
    ) -> tuple[Page, bytes]:
        ldap3 = self._ldap3
        try:
            self._conn.search(
                base,
                search_filter,
                search_scope=ldap3.SUBTREE if subtree else ldap3.BASE,
                attributes=list(attributes),
                paged_size=page_size,
                paged_cookie=cookie or None,
                paged_criticality=page_size is not None,
            )
        except Exception as error:
            raise self._translate(error) from error
        result = self._conn.result or {}
        if result.get("result", 0) != 0:
            self._raise_result()
        page: Page = [
            (
                str(item["dn"]),
                {str(k).lower(): list(v) for k, v in item["raw_attributes"].items()},
            )
            for item in self._conn.response or ()
            if item.get("type") == "searchResEntry"
        ]
        control = (result.get("controls") or {}).get(_PAGED_RESULTS_OID) or {}
        next_cookie = (control.get("value") or {}).get("cookie") or b""
        return page, bytes(next_cookie)

    def close(self) -> None:
        try:
            self._conn.unbind()
        except Exception:  # closing a broken socket may fail; there is nothing to keep
            logger.debug("ldap3 unbind failed", exc_info=True)


class _PythonLdapConnection:
    def __init__(self, options: LdapOptions, password: str | None) -> None:
        import ldap  # noqa: PLC0415  (optional dependency, imported when used)
        from ldap.controls import SimplePagedResultsControl  # noqa: PLC0415

        self._ldap = ldap
        self._paged = SimplePagedResultsControl
        self._timeout = options.timeout
        scheme = "ldaps" if options.use_ssl else "ldap"
        host = f"[{options.host}]" if ":" in options.host else options.host
        self._conn: Any = None
        try:
            conn = ldap.initialize(f"{scheme}://{host}:{options.port}")
            self._conn = conn
            conn.set_option(ldap.OPT_PROTOCOL_VERSION, 3)
            conn.set_option(ldap.OPT_REFERRALS, 0)
            conn.set_option(ldap.OPT_NETWORK_TIMEOUT, options.timeout)
            conn.set_option(ldap.OPT_TIMEOUT, options.timeout)
            conn.set_option(ldap.OPT_X_TLS_REQUIRE_CERT, ldap.OPT_X_TLS_DEMAND)
            if options.ca_bundle:
                conn.set_option(ldap.OPT_X_TLS_CACERTFILE, options.ca_bundle)
            # The TLS options above only apply to a context created after them.
            conn.set_option(ldap.OPT_X_TLS_NEWCTX, 0)
            if options.start_tls:
                try:
                    conn.start_tls_s()
                except ldap.LDAPError as error:
                    raise _TlsFailure(self._text(error)) from error
            conn.simple_bind_s(options.bind_dn or "", password or "")
        except (_TlsFailure, _ConnectionLost, _LdapFailure):
            self.close()
            raise
        except ldap.LDAPError as error:
            self.close()
            translated = self._translate(error)
            if isinstance(translated, _ConnectionLost) and options.use_ssl:
                # libldap reports a failed LDAPS handshake as "Can't contact LDAP server";
                # a handshake of our own tells a distrusted certificate from a dead server.
                problem = _tls_problem(options)
                if problem is not None:
                    raise _TlsFailure(problem) from error
            raise translated from error

    @staticmethod
    def _text(error: Exception) -> str:
        info = error.args[0] if error.args and isinstance(error.args[0], dict) else {}
        parts = [str(info.get("desc", "")), str(info.get("info", ""))]
        return ": ".join(p for p in parts if p) or type(error).__name__

    def _translate(self, error: Exception) -> Exception:
        ldap = self._ldap
        text = self._text(error)
        if isinstance(
            error,
            ldap.SERVER_DOWN | ldap.CONNECT_ERROR | ldap.TIMEOUT | ldap.UNAVAILABLE | ldap.BUSY,
        ):
            return _ConnectionLost(text)
        info = error.args[0] if error.args and isinstance(error.args[0], dict) else {}
        code = int(info.get("result", getattr(error, "errnum", -1)))
        return _LdapFailure(code, str(info.get("info", "")))

    def search(
        self,
        base: str,
        *,
        subtree: bool,
        search_filter: str,
        attributes: Sequence[str],
        page_size: int | None,
        cookie: bytes,
    ) -> tuple[Page, bytes]:
        ldap = self._ldap
        controls = []
        if page_size is not None:
            controls.append(self._paged(True, size=page_size, cookie=cookie))
        try:
            msgid = self._conn.search_ext(
                base,
                ldap.SCOPE_SUBTREE if subtree else ldap.SCOPE_BASE,
                search_filter,
                list(attributes),
                serverctrls=controls,
            )
            _, data, _, response_controls = self._conn.result3(msgid, all=1, timeout=self._timeout)
        except ldap.LDAPError as error:
            raise self._translate(error) from error
        # Names stay as the server spelled them: the reader lower-cases them once per shape.
        page: Page = [
            (dn, attrs) for dn, attrs in data or () if dn is not None and isinstance(attrs, dict)
        ]
        next_cookie = b""
        for control in response_controls or ():
            if control.controlType == self._paged.controlType:
                next_cookie = control.cookie or b""
        return page, bytes(next_cookie)

    def close(self) -> None:
        if self._conn is None:
            return
        try:
            self._conn.unbind_s()
        except Exception:  # closing a broken socket may fail; there is nothing to keep
            logger.debug("python-ldap unbind failed", exc_info=True)


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


def _tls_problem(options: LdapOptions) -> str | None:
    """Why a TLS handshake with the server fails certificate checks, or None if it does not."""
    context = ssl.create_default_context(cafile=options.ca_bundle)
    try:
        with (
            socket.create_connection((options.host, options.port), options.timeout) as raw,
            context.wrap_socket(raw, server_hostname=options.host),
        ):
            return None
    except ssl.SSLCertVerificationError as error:
        return str(error.verify_message or error)
    except ssl.SSLError as error:
        return str(error)
    except OSError:
        return None


def _open(options: LdapOptions, password: str | None) -> _Connection:
    if options.backend == "python-ldap":
        return _PythonLdapConnection(options, password)
    return _Ldap3Connection(options, password)


# --------------------------------------------------------------------------------------------
# The reader.


def _escape_filter_value(value: str) -> str:
    """RFC 4515 escaping, so a DN with ``(`` or ``*`` can sit inside a filter."""
    out = []
    for char in value:
        if char in "\\*()\x00":
            out.append(f"\\{ord(char):02x}")
        else:
            out.append(char)
    return "".join(out)


def _range_of(name: str) -> tuple[str, int, str] | None:
    """``member;range=0-1499`` -> (``member``, 0, ``1499``); ``None`` for a plain name."""
    base, _, rest = name.partition(";range=")
    if not rest:
        return None
    start, _, end = rest.partition("-")
    try:
        return base, int(start), end
    except ValueError:
        return None


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
            "nested": options.nested,
        }
        from tqdm import tqdm  # noqa: PLC0415  (only needed while reading)

        bar = tqdm(
            desc=f"{options.source}: entries",
            unit=" entries",
            file=sys.stderr,
            disable=not self._progress,
            leave=False,
        )
        connection: _Connection | None = None
        # Hashes of the DNs yielded so far (~70 bytes each in a set; not the entries): after a
        # restart the server forces by rejecting our cookie, they let us skip what was yielded.
        yielded: set[int] = set()
        # Lower-case names of the attributes any entry carried: a requested attribute no entry
        # carries is reported, since a server silently omits what the bind DN may not read.
        returned: set[str] = set()
        # Attribute names as the server sent them -> lower-case names and whether entries of
        # that shape need :meth:`_complete`; a directory has a handful of shapes, so names
        # are lower-cased and checked once per shape, not once per entry.
        shapes: dict[tuple[str, ...], tuple[tuple[str, ...] | None, bool]] = {}
        position = 0
        try:
            connection = self._connect(connection, attempt=0)
            for search_filter in options.filters:
                cookie = b""
                restarted = False
                attempt = 0
                while True:
                    try:
                        with _collector_paused():
                            page, next_cookie = connection.search(
                                options.base_dn,
                                subtree=True,
                                search_filter=search_filter,
                                attributes=self._request_attributes(),
                                page_size=options.page_size,
                                cookie=cookie,
                            )
                            entries = self._normalise(connection, page, shapes, returned)
                    except _ConnectionLost as error:
                        attempt += 1
                        connection = self._reconnect(connection, attempt, error, position)
                        continue
                    except _LdapFailure as error:
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
        self._report_not_returned(returned, position)
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

    def _connect(self, previous: _Connection | None, attempt: int) -> _Connection:
        options = self.options
        if previous is not None:
            previous.close()
        try:
            return _open(options, self._password)
        except _TlsFailure as error:
            where = f"ca_bundle {options.ca_bundle}" if options.ca_bundle else "the system store"
            raise SourceError(
                f"TLS certificate verification failed for {options.url} ({error}); the server "
                f"certificate is not signed by a CA in {where}: set ca_bundle to the CA "
                "certificate (PEM) that issued it",
                source=options.source,
            ) from error
        except _LdapFailure as error:
            if error.code == _INVALID_CREDENTIALS:
                raise SourceError(
                    f"invalid credentials for {options.bind_dn or 'anonymous'} at {options.url}",
                    source=options.source,
                ) from None  # the chained error could carry server text about the bind
            raise SourceError(
                f"connecting to {options.url} failed: {error}", source=options.source
            ) from error
        except _ConnectionLost as error:
            if attempt == 0:
                # The very first connection: retry like a dropped one, then give up.
                return self._reconnect(None, 1, error, 0)
            raise

    def _reconnect(
        self, previous: _Connection | None, attempt: int, error: Exception, position: int
    ) -> _Connection:
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
            self.report["retries"] = self.report.get("retries", 0) + 1
            try:
                return self._connect(None, attempt=attempt)
            except _ConnectionLost as again:
                last = again
                attempt += 1
        raise SourceError(
            f"lost the connection to {options.url} after {position} entries and "
            f"{options.retries} reconnect attempt(s): {last}",
            source=options.source,
        ) from last

    def _source_error(self, error: _LdapFailure, search_filter: str) -> SourceError:
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

    # -- attributes ---------------------------------------------------------------------------

    def _request_attributes(self) -> list[str]:
        options = self.options
        if options.range_window is None:
            return list(options.attributes)
        wanted: list[str] = []
        for name in options.attributes:
            if name.lower() in options.range_attributes:
                wanted.append(f"{name};range=0-{options.range_window - 1}")
            else:
                wanted.append(name)
        if "*" in options.attributes:
            wanted += [f"{n};range=0-{options.range_window - 1}" for n in options.range_attributes]
        return wanted

    def _normalise(
        self,
        connection: _Connection,
        page: Page,
        shapes: dict[tuple[str, ...], tuple[tuple[str, ...] | None, bool]],
        returned: set[str],
    ) -> Page:
        """Lower-case the attribute names of one page and complete the entries that need it.

        Entries of one object class come with the same names in the same order, so the work
        is done per distinct name tuple (``shapes``, kept across pages); an entry whose names
        are already lower-case and plain is passed on as it is. ``returned`` collects the
        lower-case names seen.
        """
        in_chain = self.options.nested == "in-chain"
        out: Page = []
        for dn, raw in page:
            names = tuple(raw)
            shape = shapes.get(names)
            if shape is None:
                lowered = tuple(name.lower() for name in names)
                special = any(";" in name for name in lowered) or (in_chain and "member" in lowered)
                if not special:
                    returned.update(lowered)
                shape = shapes[names] = (None if lowered == names else lowered, special)
            lowered_names, special = shape
            attrs = (
                raw
                if lowered_names is None
                else dict(zip(lowered_names, raw.values(), strict=True))
            )
            if special:
                # Ranged or optioned names fold into their base name: count them after that.
                entry = self._complete(connection, dn, attrs)
                returned.update(entry[1])
                out.append(entry)
            else:
                out.append((dn, attrs))
        return out

    def _complete(
        self, connection: _Connection, dn: str, attrs: Attributes
    ) -> tuple[str, Attributes]:
        """Follow every ranged attribute to its end; add the in-chain members if asked."""
        ranged = [name for name in attrs if ";range=" in name]
        for name in ranged:
            parsed = _range_of(name)
            values = attrs.pop(name)
            if parsed is None:
                continue
            base, _, end = parsed
            while end != "*":
                more, end = self._next_range(connection, dn, base, int(end) + 1)
                values += more
            attrs[base] = values
            self.report["range_retrieved_groups"] += 1
        for name in [name for name in attrs if ";" in name]:
            # Like the LDIF reader: options (``;binary``) go, values stay, so both paths agree.
            attrs.setdefault(name.partition(";")[0], []).extend(attrs.pop(name))
        if self.options.nested == "in-chain" and "member" in attrs:
            attrs[IN_CHAIN_ATTRIBUTE] = self._in_chain_members(connection, dn)
        return dn, attrs

    def _next_range(
        self, connection: _Connection, dn: str, attribute: str, start: int
    ) -> tuple[list[bytes], str]:
        """The values of ``attribute`` from ``start`` on, and where they end (``*``: last)."""
        window = self.options.range_window
        wanted = f"{attribute};range={start}-{'*' if window is None else start + window - 1}"
        page, _ = connection.search(
            dn,
            subtree=False,
            search_filter="(objectClass=*)",
            attributes=[wanted],
            page_size=None,
            cookie=b"",
        )
        for _, attrs in page:
            for name, values in attrs.items():
                parsed = _range_of(name.lower())
                if parsed is not None and parsed[0] == attribute.lower():
                    return values, parsed[2]
        # The attribute shrank under us (members removed since the first page): done.
        return [], "*"

    def _in_chain_members(self, connection: _Connection, dn: str) -> list[bytes]:
        members: list[bytes] = []
        search_filter = f"(memberOf:{IN_CHAIN_RULE}:={_escape_filter_value(dn)})"
        cookie = b""
        while True:
            page, cookie = connection.search(
                self.options.base_dn,
                subtree=True,
                search_filter=search_filter,
                attributes=["1.1"],
                page_size=self.options.page_size,
                cookie=cookie,
            )
            members += [member.encode("utf-8") for member, _ in page]
            if not cookie:
                return members


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
