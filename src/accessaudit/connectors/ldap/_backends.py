"""The two interchangeable LDAP client libraries behind one small interface.

``python-ldap`` (libldap, faster; an optional dependency) and ``ldap3`` (pure Python, always
installed) each open a verified TLS connection, bind, and run one search page at a time.
Failures come out in three kinds the reader reacts to: :class:`ConnectionLost` (reconnect),
:class:`TlsFailure` (certificate problem: stop and say how to fix it) and :class:`LdapFailure`
(the server answered with a non-success result code, RFC 4511 §4.1.9).
"""

from __future__ import annotations

import logging
import socket
import ssl
from collections.abc import Sequence
from typing import Any, Protocol

from accessaudit.connectors.ldap.options import LdapOptions

__all__ = [
    "Attributes",
    "Connection",
    "ConnectionLost",
    "LdapFailure",
    "Page",
    "TlsFailure",
    "open_connection",
]

logger = logging.getLogger("accessaudit.connectors.ldap")

#: The values of one entry: lower-case attribute name -> raw values.
Attributes = dict[str, list[bytes]]
#: One page of a search: (DN, attributes as the server spelled them).
Page = list[tuple[str, Attributes]]

_PAGED_RESULTS_OID = "1.2.840.113556.1.4.319"
# LDAP result codes named in messages (RFC 4511 §4.1.9).
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


class ConnectionLost(Exception):
    """The connection could not be opened or broke; worth a reconnect."""


class TlsFailure(Exception):
    """The TLS handshake failed: untrusted or mismatching certificate."""


class LdapFailure(Exception):
    """The server answered with a non-success result code."""

    def __init__(self, code: int, detail: str) -> None:
        self.code = code
        self.detail = detail
        name = _RESULT_NAMES.get(code, f"result {code}")
        super().__init__(f"{name}{': ' + detail if detail else ''}")


class Connection(Protocol):
    def search(
        self,
        base: str,
        *,
        subtree: bool,
        search_filter: str,
        attributes: Sequence[str],
        page_size: int | None,
        cookie: bytes,
    ) -> tuple[Page, bytes, list[str]]:
        """One page (or a whole non-paged result), the cookie for the next page, and the URLs
        of the search references (continuation references, RFC 4511 §4.5.3) in it.

        Attribute names are as the server spelled them (any case, with options such as
        ``;range=0-1499``); the reader normalises them. References are not followed.
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
        except (ConnectionLost, TlsFailure, LdapFailure):
            self.close()
            raise
        except Exception as error:
            self.close()
            raise self._translate(error) from error

    def _translate(self, error: Exception) -> Exception:
        errors = self._errors
        text = str(error)
        if isinstance(error, errors.LDAPCertificateError | errors.LDAPStartTLSError | ssl.SSLError):
            return TlsFailure(text)
        if isinstance(error, errors.LDAPSocketOpenError) and _looks_like_tls(text):
            return TlsFailure(text)
        if isinstance(
            error,
            errors.LDAPCommunicationError | errors.LDAPResponseTimeoutError | OSError,
        ):
            return ConnectionLost(text or type(error).__name__)
        return LdapFailure(-1, f"{type(error).__name__}: {text}")

    def _raise_result(self) -> None:
        result = self._conn.result or {}
        code = int(result.get("result", -1))
        detail = str(result.get("message") or result.get("description") or "")
        if code in (51, 52):  # busy, unavailable: the server is going away, reconnect
            raise ConnectionLost(detail)
        raise LdapFailure(code, detail)

    def search(
        self,
        base: str,
        *,
        subtree: bool,
        search_filter: str,
        attributes: Sequence[str],
        page_size: int | None,
        cookie: bytes,
    ) -> tuple[Page, bytes, list[str]]:
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
        references = [
            str(uri)
            for item in self._conn.response or ()
            if item.get("type") == "searchResRef"
            for uri in item.get("uri") or ()
        ]
        control = (result.get("controls") or {}).get(_PAGED_RESULTS_OID) or {}
        next_cookie = (control.get("value") or {}).get("cookie") or b""
        return page, bytes(next_cookie), references

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
                    raise TlsFailure(self._text(error)) from error
            conn.simple_bind_s(options.bind_dn or "", password or "")
        except (TlsFailure, ConnectionLost, LdapFailure):
            self.close()
            raise
        except ldap.LDAPError as error:
            self.close()
            translated = self._translate(error)
            if isinstance(translated, ConnectionLost) and options.use_ssl:
                # libldap reports a failed LDAPS handshake as "Can't contact LDAP server";
                # a handshake of our own tells a distrusted certificate from a dead server.
                problem = _tls_problem(options)
                if problem is not None:
                    raise TlsFailure(problem) from error
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
            return ConnectionLost(text)
        info = error.args[0] if error.args and isinstance(error.args[0], dict) else {}
        code = int(info.get("result", getattr(error, "errnum", -1)))
        return LdapFailure(code, str(info.get("info", "")))

    def search(
        self,
        base: str,
        *,
        subtree: bool,
        search_filter: str,
        attributes: Sequence[str],
        page_size: int | None,
        cookie: bytes,
    ) -> tuple[Page, bytes, list[str]]:
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
        page: Page = []
        references: list[str] = []
        for dn, attrs in data or ():
            if dn is not None and isinstance(attrs, dict):
                page.append((dn, attrs))
            elif dn is None and isinstance(attrs, list):
                # python-ldap hands a search reference over as (None, [URL, ...]).
                references += [u.decode() if isinstance(u, bytes) else str(u) for u in attrs]
        next_cookie = b""
        for control in response_controls or ():
            if control.controlType == self._paged.controlType:
                next_cookie = control.cookie or b""
        return page, bytes(next_cookie), references

    def close(self) -> None:
        if self._conn is None:
            return
        try:
            self._conn.unbind_s()
        except Exception:  # closing a broken socket may fail; there is nothing to keep
            logger.debug("python-ldap unbind failed", exc_info=True)


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


def open_connection(options: LdapOptions, password: str | None) -> Connection:
    if options.backend == "python-ldap":
        return _PythonLdapConnection(options, password)
    return _Ldap3Connection(options, password)
