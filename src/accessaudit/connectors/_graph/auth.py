"""Signing in to Microsoft Graph with msal: client secret, certificate, device code or
interactive browser sign-in, with an optional token cache file (mode 0600)."""

from __future__ import annotations

import os
import sys
from typing import Any

import msal
import requests
from msal.oauth2cli.oauth2 import BrowserInteractionTimeoutError

from accessaudit.connectors._graph.settings import DEFAULT_AUTHORITY, GraphSettings, endpoint_url
from accessaudit.connectors.base import SourceSettings
from accessaudit.errors import ConfigError, SourceError

__all__ = ["AccessTokens", "tls_error"]


class AccessTokens:
    """Access tokens from msal; a fresh one on demand (after a 401)."""

    def __init__(
        self,
        settings: SourceSettings,
        graph: GraphSettings,
        session: requests.Session,
        graph_url: str,
    ) -> None:
        self._source = settings.name
        authority_url = endpoint_url(settings, "authority_url", DEFAULT_AUTHORITY)
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
            raise tls_error(self._authority, settings.name, error) from error
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
            raise tls_error(self._authority, self._source, error) from error
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


def tls_error(location: str, source: str, error: Exception) -> SourceError:
    """The error for a server certificate that does not verify, saying what to set."""
    return SourceError(
        "TLS certificate could not be verified; set ca_bundle to the CA that signed it "
        f"({type(error).__name__})",
        source=source,
        location=location,
    )
