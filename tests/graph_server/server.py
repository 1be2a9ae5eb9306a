"""A local Microsoft identity platform + Microsoft Graph over HTTPS, for the entra-id tests.

Login: ``/{tenant}/v2.0/.well-known/openid-configuration`` and the v2.0 token endpoint for the
client-credentials grant, with a client secret or a client assertion (a JWT signed with the app's
certificate, verified here against that certificate's public key and SHA-256 thumbprint); the
device-code grant; and the authorization-code grant with PKCE behind ``/authorize`` (a public
client, loopback ``http://localhost:<port>`` redirect, S256 challenge checked against the
verifier, ``form_post`` or ``query`` response mode, codes single-use).

Graph v1.0: the collections the connector reads, in Microsoft's documented shapes, with ``$top``
paging and absolute ``@odata.nextLink`` URLs carrying an opaque ``$skiptoken``, ``$select``
honoured, ``/users/$count`` (needs ``ConsistencyLevel: eventual``), ``$batch`` (at most 20
requests) and Graph's error bodies. :class:`Faults` switches on the awkward parts: throttling
(429 with a fractional ``Retry-After``, also inside a batch), a token that stops working, the
licence 403 for ``signInActivity``, a 403 on the MFA report, a malformed page.

Documented behaviour modelled here (microsoftgraph/microsoft-graph-docs-contrib,
api-reference/v1.0): without ``$select``, ``/users`` returns only the default property set of
resources/user.md (api/user-list.md, example 1) — no ``accountEnabled``, no ``userType``;
PIM for Groups schedules (api/privilegedaccessgroup-list-eligibilityschedules.md and
-assignmentschedules.md) are listed per group and *require* ``$filter=groupId eq '…'``
(400 without it); a 403 where the app lacks PrivilegedEligibilitySchedule.Read.AzureADGroup.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import secrets
import socket
import ssl
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, parse_qsl, quote, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives import hashes

from .certs import PkiFiles

#: The app registration the tests sign in as: the server accepts it unless told otherwise.
CLIENT_ID = "6731de76-14a6-49ae-97bc-6eba6914391e"
CLIENT_SECRET = "s3cr3t~Graph.Client-Value_9f8e7d"

LICENCE_CODE = "Authentication_RequestFromNonPremiumTenantOrB2CTenant"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
USER_CODE = "GRPH-7Q4X"
DEVICE_MESSAGE = (
    "To sign in, use a web browser to open the page https://microsoft.com/devicelogin "
    f"and enter the code {USER_CODE} to authenticate."
)

#: Further Graph routes (tests/graph_server/sharepoint.py): (relative URL, lower-case headers,
#: base URL) → (status, body, headers), or None when the route does not serve that path.
Route = Callable[[str, Mapping[str, str], str], "tuple[int, Any, dict[str, str]] | None"]

_LOOPBACK = re.compile(r"http://localhost:[1-9][0-9]{0,4}")
_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")  # base64url SHA-256, no padding (RFC 7636)
_VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")

_COLLECTIONS = {
    "/users": "users",
    "/groups": "groups",
    "/roleManagement/directory/roleDefinitions": "role_definitions",
    "/roleManagement/directory/roleAssignments": "role_assignments",
    "/roleManagement/directory/roleEligibilitySchedules": "role_eligibility",
    "/servicePrincipals": "service_principals",
    "/oauth2PermissionGrants": "oauth2_permission_grants",
    "/applications": "applications",
    "/reports/authenticationMethods/userRegistrationDetails": "mfa_registration",
}
# api/user-list.md, example 1: the properties /users returns when no $select is given.
USER_DEFAULT_PROPERTIES = frozenset(
    {
        "businessPhones", "displayName", "givenName", "id", "jobTitle", "mail", "mobilePhone",
        "officeLocation", "preferredLanguage", "surname", "userPrincipalName",
    }
)  # fmt: skip
_PIM_GROUPS = {
    "/identityGovernance/privilegedAccess/group/eligibilitySchedules": "group_eligibility",
    "/identityGovernance/privilegedAccess/group/assignmentSchedules": "group_assignments",
}
_GROUP_FILTER = re.compile(r"groupId eq '([^']+)'")
_RELATIONS = {
    ("groups", "members"): "group_members",
    ("groups", "owners"): "group_owners",
    ("users", "sponsors"): "user_sponsors",
    ("servicePrincipals", "appRoleAssignedTo"): "app_role_assigned_to",
}
_CONTEXT = {
    "users": "users",
    "groups": "groups",
    "role_definitions": "roleManagement/directory/roleDefinitions",
    "role_assignments": "roleManagement/directory/roleAssignments",
    "role_eligibility": "roleManagement/directory/roleEligibilitySchedules",
    "service_principals": "servicePrincipals",
    "oauth2_permission_grants": "oauth2PermissionGrants",
    "applications": "applications",
    "mfa_registration": "reports/authenticationMethods/userRegistrationDetails",
    "group_members": "directoryObjects",
    "group_owners": "directoryObjects",
    "user_sponsors": "directoryObjects",
    "app_role_assigned_to": "servicePrincipals('{id}')/appRoleAssignedTo",
    "group_eligibility": "identityGovernance/privilegedAccess/group/eligibilitySchedules",
    "group_assignments": "identityGovernance/privilegedAccess/group/assignmentSchedules",
}


@dataclass
class Faults:
    """What the server does wrong on purpose (all off by default)."""

    throttle_every: int = 0  # every n-th Graph GET is answered 429 (Retry-After below)
    throttle_batch_every: int = 0  # every n-th $batch: its first sub-request gets 429
    throttle_status: int = 429
    retry_after: str = "0.05"  # fractional seconds, as Graph sometimes sends
    expire_token_after: int = 0  # after n Graph requests every issued token stops working
    licence_403: bool = False  # $select=signInActivity → 403 (no Entra ID P1/P2)
    mfa_403: bool = False  # the MFA registration report → 403
    malformed: str | None = None  # "json", "value" or "id": the second page of /users is broken
    leave_date_403: bool = False  # $select=employeeLeaveDateTime → 403 (permission missing)
    pim_groups_403: bool = False  # PIM for Groups schedules → 403 (permission missing)
    sponsors_403: bool = False  # /users/{id}/sponsors → 403 (permission missing)
    foreign_next_link: str | None = None  # the first /users page links to this host instead


@dataclass
class Counters:
    """What happened, for the tests to check."""

    graph_requests: int = 0
    throttled: int = 0
    unauthorized: int = 0
    tokens_issued: int = 0
    batches: int = 0
    token_requests: list[dict[str, str]] = field(default_factory=list)
    authorize_requests: list[dict[str, str]] = field(default_factory=list)
    users_pages: list[dict[str, Any]] = field(default_factory=list)
    batch_sizes: list[int] = field(default_factory=list)
    pim_requests: list[str] = field(default_factory=list)
    sponsor_requests: list[str] = field(default_factory=list)  # user ids asked for sponsors


def _error(code: str, message: str) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": "2026-11-21T10:00:00",
                "request-id": "0f6b3e2a-9a15-4c5b-8e5e-1f6a2b3c4d5e",
                "client-request-id": "0f6b3e2a-9a15-4c5b-8e5e-1f6a2b3c4d5e",
            },
        }
    }


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class GraphServer:
    """Serves ``tenant`` (as :func:`accessaudit.sample._entra.build_tenant` makes it) over HTTPS.

    Use as a context manager; ``base_url`` is ``https://127.0.0.1:<port>`` and serves both the
    login authority and Graph.
    """

    def __init__(
        self,
        tenant: Mapping[str, Any],
        pki: PkiFiles,
        *,
        client_id: str = CLIENT_ID,
        client_secret: str = CLIENT_SECRET,
        faults: Faults | None = None,
        routes: Sequence[Route] = (),
    ) -> None:
        self.routes = tuple(routes)
        self.tenant = tenant
        self.pki = pki
        self.client_id = client_id
        self.client_secret = client_secret
        self.faults = faults or Faults()
        self.counters = Counters()
        self.tenant_id = str(tenant["tenant_id"])
        self._lock = threading.Lock()
        self._valid_tokens: set[str] = set()
        self._expired_once = False
        self._device_code = secrets.token_urlsafe(24)
        self._device_polls = 0
        self._refresh_tokens: set[str] = set()
        self._auth_codes: dict[str, dict[str, str]] = {}
        cert = pki.client_cert
        self._client_key = cert.public_key()
        self._client_thumbprint = _b64url(cert.fingerprint(hashes.SHA256()))
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    # ---- lifecycle
    def __enter__(self) -> GraphServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                # Headers and body go out in separate writes; without this, Nagle + delayed
                # ACK add ~40 ms to every response.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                server._dispatch(self, "GET")

            def do_POST(self) -> None:
                server._dispatch(self, "POST")

            def do_DELETE(self) -> None:
                server._dispatch(self, "DELETE")

        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        httpd.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.pki.server_cert, self.pki.server_key)
        httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
        self._httpd = httpd
        self.base_url = f"https://127.0.0.1:{httpd.server_address[1]}"
        self._thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._httpd is not None and self._thread is not None
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    # ---- plumbing
    def _send(
        self,
        handler: BaseHTTPRequestHandler,
        status: int,
        body: Any,
        headers: Mapping[str, str] | None = None,
        *,
        raw: bytes | None = None,
        content_type: str = "application/json",
    ) -> None:
        data = raw if raw is not None else json.dumps(body).encode("utf-8")
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        handler.end_headers()
        handler.wfile.write(data)

    def _dispatch(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        payload = handler.rfile.read(length) if length else b""
        path = urlsplit(handler.path).path
        tenant_prefix = f"/{self.tenant_id}"
        if method == "GET" and path == f"{tenant_prefix}/v2.0/.well-known/openid-configuration":
            self._send(handler, 200, self._openid_configuration())
            return
        if method == "GET" and path == f"{tenant_prefix}/oauth2/v2.0/authorize":
            self._authorize(handler)
            return
        if method == "POST" and path == f"{tenant_prefix}/oauth2/v2.0/devicecode":
            self._send(handler, 200, self._device_code_flow())
            return
        if method == "POST" and path == f"{tenant_prefix}/oauth2/v2.0/token":
            status, body = self._token(payload)
            self._send(handler, status, body)
            return
        if path.startswith("/v1.0/"):
            self._graph(handler, method, payload)
            return
        self._send(handler, 404, {"error": "not_found", "error_description": path})

    # ---- login
    def _openid_configuration(self) -> dict[str, Any]:
        base = f"{self.base_url}/{self.tenant_id}"
        return {
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": [
                "client_secret_post",
                "private_key_jwt",
                "client_secret_basic",
            ],
            "jwks_uri": f"{base}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": f"{base}/v2.0",
            "request_uri_parameter_supported": False,
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
            "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
            "tenant_region_scope": "EU",
            "cloud_instance_name": "microsoftonline.com",
            "msgraph_host": "graph.microsoft.com",
        }

    def _device_code_flow(self) -> dict[str, Any]:
        return {
            "user_code": USER_CODE,
            "device_code": self._device_code,
            "verification_uri": "https://microsoft.com/devicelogin",
            "expires_in": 900,
            "interval": 0,  # msal waits `interval` seconds between polls; tests need none
            "message": DEVICE_MESSAGE,
        }

    def _authorize(self, handler: BaseHTTPRequestHandler) -> None:
        """The user "signs in" at once; the answer goes back to the loopback redirect URI."""
        query = {k: v[0] for k, v in parse_qs(urlsplit(handler.path).query).items()}
        with self._lock:
            self.counters.authorize_requests.append(dict(query))
        redirect_uri = query.get("redirect_uri", "")
        problem = ""
        if query.get("client_id") != self.client_id:
            problem = "AADSTS700016: Application not found in the directory."
        elif not _LOOPBACK.fullmatch(redirect_uri):
            problem = "AADSTS50011: The redirect URI does not match the loopback URI registered."
        elif query.get("response_type") != "code":
            problem = "AADSTS700054: response_type must be 'code' for this application."
        elif query.get("code_challenge_method") != "S256" or not _CHALLENGE.fullmatch(
            query.get("code_challenge", "")
        ):
            problem = "AADSTS9002325: Proof Key for Code Exchange (S256) is required."
        elif not query.get("state"):
            problem = "AADSTS90014: The request must contain a state."
        elif query.get("response_mode", "query") not in ("query", "form_post"):
            problem = "AADSTS900144: response_mode must be query or form_post."
        if problem:
            # Like Entra: an untrusted client or redirect URI gets an error page, no redirect.
            page = f"<html><body>Sign-in error: {html.escape(problem)}</body></html>"
            self._send(handler, 400, None, raw=page.encode(), content_type="text/html")
            return
        code = secrets.token_urlsafe(32)
        with self._lock:
            self._auth_codes[code] = {
                "client_id": self.client_id,
                "redirect_uri": redirect_uri,
                "code_challenge": query["code_challenge"],
            }
        answer = {"code": code, "state": query["state"], "session_state": secrets.token_hex(8)}
        if query.get("response_mode") == "form_post":
            fields = "".join(
                f'<input type="hidden" name="{name}" value="{html.escape(value)}"/>'
                for name, value in answer.items()
            )
            page = (
                '<html><body onload="document.forms[0].submit()">'
                f'<form method="POST" action="{html.escape(redirect_uri)}">{fields}</form>'
                "</body></html>"
            )
            self._send(handler, 200, None, raw=page.encode(), content_type="text/html")
            return
        location = f"{redirect_uri}?{urlencode(answer)}"
        self._send(handler, 302, None, {"Location": location}, raw=b"")

    def _redeem_code(self, form: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            # A code is good for one redemption, whatever the outcome.
            grant = self._auth_codes.pop(form.get("code", ""), None)
        if grant is None:
            return 400, {
                "error": "invalid_grant",
                "error_description": "AADSTS70008: The provided authorization code or refresh "
                "token has expired or was already redeemed.",
            }
        if form.get("client_id") != grant["client_id"]:
            return 400, {"error": "invalid_grant", "error_description": "AADSTS70000: client"}
        if form.get("redirect_uri") != grant["redirect_uri"]:
            return 400, {
                "error": "invalid_grant",
                "error_description": "AADSTS500117: The reply uri specified in the request "
                "does not match the reply uri used in the authorization request.",
            }
        verifier = form.get("code_verifier", "")
        challenge = _b64url(hashlib.sha256(verifier.encode("ascii", "replace")).digest())
        if not _VERIFIER.fullmatch(verifier) or not secrets.compare_digest(
            challenge, grant["code_challenge"]
        ):
            return 400, {
                "error": "invalid_grant",
                "error_description": "AADSTS501481: The Code_Verifier does not match the "
                "code_challenge supplied in the authorization request.",
            }
        return 200, self._issue(user=True, scope=form.get("scope"))

    def _token(self, payload: bytes) -> tuple[int, dict[str, Any]]:
        form = {k: v[0] for k, v in parse_qs(payload.decode("utf-8")).items()}
        grant = form.get("grant_type", "")
        if "client_assertion" in form:
            auth = "assertion"
        elif "client_secret" in form:
            auth = "secret"
        else:
            auth = "public"
        with self._lock:
            self.counters.token_requests.append(
                {k: v for k, v in form.items() if k in ("grant_type", "scope", "client_id")}
                | {"auth": auth}
            )
        if grant == DEVICE_GRANT:
            if form.get("device_code") != self._device_code:
                return 400, {"error": "invalid_grant", "error_description": "AADSTS70019"}
            with self._lock:
                self._device_polls += 1
                first_poll = self._device_polls == 1
            if first_poll:  # the user has not typed the code yet
                return 400, {
                    "error": "authorization_pending",
                    "error_description": "AADSTS70016: OAuth 2.0 device flow error. "
                    "Authorization is pending. Continue polling.",
                }
            return 200, self._issue(user=True, scope=form.get("scope"))
        if grant == "authorization_code":
            return self._redeem_code(form)
        if grant == "refresh_token":
            with self._lock:
                known = form.get("refresh_token") in self._refresh_tokens
            if not known:
                return 400, {"error": "invalid_grant", "error_description": "AADSTS9002313"}
            return 200, self._issue(user=True, scope=form.get("scope"))
        if grant != "client_credentials":
            return 400, {"error": "unsupported_grant_type", "error_description": "AADSTS70003"}
        if form.get("client_id") != self.client_id:
            return 400, {
                "error": "unauthorized_client",
                "error_description": "AADSTS700016: Application not found in the directory.",
            }
        if "client_assertion" in form:
            try:
                header = jwt.get_unverified_header(form["client_assertion"])
                # msal keeps base64 padding on the thumbprint; compare without it.
                if str(header.get("x5t#S256", "")).rstrip("=") != self._client_thumbprint:
                    raise jwt.InvalidTokenError("certificate thumbprint is not registered")
                jwt.decode(
                    form["client_assertion"],
                    self._client_key,  # type: ignore[arg-type]
                    algorithms=["PS256", "RS256"],
                    audience=f"{self.base_url}/{self.tenant_id}/oauth2/v2.0/token",
                    issuer=self.client_id,
                )
            except jwt.InvalidTokenError as error:
                return 401, {
                    "error": "invalid_client",
                    "error_description": f"AADSTS700027: Client assertion failed: {error}",
                }
        elif form.get("client_secret") != self.client_secret:
            return 401, {
                "error": "invalid_client",
                "error_description": "AADSTS7000215: Invalid client secret provided.",
            }
        return 200, self._issue(user=False)

    def _issue(self, *, user: bool, scope: str | None = None) -> dict[str, Any]:
        token = secrets.token_urlsafe(32)
        answer: dict[str, Any] = {
            "token_type": "Bearer",
            "expires_in": 3599,
            "ext_expires_in": 3599,
            "access_token": token,
        }
        with self._lock:
            self._valid_tokens.add(token)
            self.counters.tokens_issued += 1
            if user:
                refresh = secrets.token_urlsafe(32)
                self._refresh_tokens.add(refresh)
                answer["refresh_token"] = refresh
                # The scopes granted, as requested: msal files the token under them, and
                # answers later requests for them from its cache.
                answer["scope"] = scope or "User.Read.All Group.Read.All Directory.Read.All"
                # client_info lets msal keep an account for silent refresh.
                info = {"uid": "a9f7b3c1-auditor", "utid": self.tenant_id}
                answer["client_info"] = _b64url(json.dumps(info).encode())
        return answer

    # ---- Graph
    def _delete_member(self, handler: BaseHTTPRequestHandler, relative: str) -> bool:
        """``DELETE /groups/{id}/members/{id}/$ref`` (group-delete-members.md): 204 and the
        member leaves the group; 404 for a member it does not have. False for other paths."""
        segments = urlsplit(relative).path.strip("/").split("/")
        if not (
            len(segments) == 5
            and segments[0] == "groups"
            and segments[2:5:2] == ["members", "$ref"]
        ):
            return False
        with self._lock:
            members = self.tenant["group_members"].get(segments[1], [])
            kept = [m for m in members if m.get("id") != segments[3]]
            found = len(kept) < len(members)
            members[:] = kept
        if found:
            self._send(handler, 204, None, raw=b"")
        else:
            self._send(handler, 404, _error("Request_ResourceNotFound", "No such member."))
        return True

    def _graph(self, handler: BaseHTTPRequestHandler, method: str, payload: bytes) -> None:
        auth = handler.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ")
        with self._lock:
            self.counters.graph_requests += 1
            number = self.counters.graph_requests
            faults = self.faults
            if (
                faults.expire_token_after
                and not self._expired_once
                and number > faults.expire_token_after
            ):
                self._expired_once = True
                self._valid_tokens.clear()
            valid = token in self._valid_tokens
            if not valid:
                self.counters.unauthorized += 1
        if not valid:
            self._send(
                handler,
                401,
                _error(
                    "InvalidAuthenticationToken", "Access token has expired or is not yet valid."
                ),
                {"WWW-Authenticate": 'Bearer realm="", error="invalid_token"'},
            )
            return
        relative = handler.path.removeprefix("/v1.0")
        headers = {k.lower(): v for k, v in handler.headers.items()}
        if method == "POST" and urlsplit(relative).path == "/$batch":
            status, body = self._batch(payload)
            self._send(handler, status, body)
            return
        if method == "DELETE" and self._delete_member(handler, relative):
            return
        if method == "DELETE":
            # A route that removes (SharePoint permissions) has a ``delete`` of the same shape.
            for route in self.routes:
                remove = getattr(route, "delete", None)
                answer = remove(relative, headers, self.base_url) if remove else None
                if answer is not None:
                    status, body, extra = answer
                    # 204 No Content carries no body (RFC 9110 §15.3.5).
                    raw = b"" if status == 204 else None
                    self._send(handler, status, body, extra, raw=raw)
                    return
        if method != "GET":
            self._send(handler, 405, _error("Request_BadRequest", "Method not allowed."))
            return
        with self._lock:
            throttle = bool(faults.throttle_every) and number % faults.throttle_every == 0
            if throttle:
                self.counters.throttled += 1
        if throttle:
            self._send(
                handler,
                faults.throttle_status,
                _error("TooManyRequests", "Too many requests."),
                {"Retry-After": faults.retry_after},
            )
            return
        status, body, extra = self._get(relative, headers)
        if isinstance(body, bytes):
            self._send(handler, status, None, extra, raw=body, content_type="text/plain")
        else:
            self._send(handler, status, body, extra)

    def _batch(self, payload: bytes) -> tuple[int, dict[str, Any]]:
        try:
            requests_ = json.loads(payload)["requests"]
        except (ValueError, KeyError, TypeError):
            return 400, _error("BadRequest", "Invalid batch payload.")
        if len(requests_) > 20:
            return 400, _error(
                "BadRequest", "Number of requests in a batch exceeds the limit of 20."
            )
        with self._lock:
            self.counters.batches += 1
            self.counters.batch_sizes.append(len(requests_))
            every = self.faults.throttle_batch_every
            throttle_first = bool(every) and self.counters.batches % every == 0
        responses = []
        for position, item in enumerate(requests_):
            if throttle_first and position == 0:
                with self._lock:
                    self.counters.throttled += 1
                responses.append(
                    {
                        "id": item["id"],
                        "status": 429,
                        "headers": {"Retry-After": self.faults.retry_after},
                        "body": _error("TooManyRequests", "Too many requests."),
                    }
                )
                continue
            url = item["url"] if item["url"].startswith("/") else "/" + item["url"]
            headers = {k.lower(): v for k, v in (item.get("headers") or {}).items()}
            status, body, extra = self._get(url, headers)
            responses.append(
                {
                    "id": item["id"],
                    "status": status,
                    "headers": {"Content-Type": "application/json", **extra},
                    "body": body,
                }
            )
        # Graph answers a batch in any order.
        responses.reverse()
        return 200, {"responses": responses}

    def _get(self, relative: str, headers: Mapping[str, str]) -> tuple[int, Any, dict[str, str]]:
        parts = urlsplit(relative)
        path = parts.path
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        if path == "/users/$count":
            if headers.get("consistencylevel", "").lower() != "eventual":
                return (
                    400,
                    _error(
                        "Request_BadRequest",
                        "$count is not currently supported. ConsistencyLevel must be eventual.",
                    ),
                    {},
                )
            return 200, str(len(self.tenant["users"])).encode("ascii"), {}
        segments = path.strip("/").split("/")
        parent: str | None = None
        if path in _PIM_GROUPS:
            dataset = _PIM_GROUPS[path]
            with self._lock:
                self.counters.pim_requests.append(query.get("$filter", ""))
            if self.faults.pim_groups_403:
                return (
                    403,
                    _error(
                        "Authorization_RequestDenied",
                        "Insufficient privileges to complete the operation.",
                    ),
                    {},
                )
            match = _GROUP_FILTER.fullmatch(query.get("$filter", ""))
            if match is None:
                return (
                    400,
                    _error(
                        "BadRequest",
                        "The request requires a $filter on groupId or principalId.",
                    ),
                    {},
                )
            parent = match.group(1)
            items = list(self.tenant.get(dataset, {}).get(parent, []))
        elif path in _COLLECTIONS:
            dataset = _COLLECTIONS[path]
            items = list(self.tenant[dataset])
        elif len(segments) == 3 and (segments[0], segments[2]) in _RELATIONS:
            dataset = _RELATIONS[(segments[0], segments[2])]
            parent = segments[1]
            mapping = dict(self.tenant.get(dataset, {}))
            if dataset == "user_sponsors":
                with self._lock:
                    self.counters.sponsor_requests.append(parent)
                if self.faults.sponsors_403:
                    return (
                        403,
                        _error(
                            "Authorization_RequestDenied",
                            "Insufficient privileges to complete the operation.",
                        ),
                        {},
                    )
                # Every user has a (possibly empty) list of sponsors.
                mapping = {u["id"]: [] for u in self.tenant["users"]} | mapping
            if parent not in mapping:
                return (
                    404,
                    _error(
                        "Request_ResourceNotFound",
                        f"Resource '{parent}' does not exist or one of its queried reference-"
                        "property objects are not present.",
                    ),
                    {},
                )
            items = list(mapping[parent])
        else:
            for route in self.routes:
                answer = route(relative, headers, self.base_url)
                if answer is not None:
                    return answer
            return 400, _error("BadRequest", f"Resource not found for the segment '{path}'."), {}
        select = [s for s in query.get("$select", "").split(",") if s]
        if dataset == "users":
            with self._lock:
                self.counters.users_pages.append(
                    {
                        "consistency": headers.get("consistencylevel"),
                        "select": select,
                        "skiptoken": "$skiptoken" in query,
                    }
                )
            if self.faults.leave_date_403 and "employeeLeaveDateTime" in select:
                return (
                    403,
                    _error(
                        "Authorization_RequestDenied",
                        "Insufficient privileges to complete the operation.",
                    ),
                    {},
                )
            if self.faults.licence_403 and "signInActivity" in select:
                return (
                    403,
                    _error(
                        LICENCE_CODE, "Neither tenant is B2C or tenant doesn't have premium license"
                    ),
                    {},
                )
        if dataset == "mfa_registration" and self.faults.mfa_403:
            return (
                403,
                _error(
                    "Authentication_RequestFromUnsupportedUserRole",
                    "User is not in the allowed roles",
                ),
                {},
            )
        top = min(int(query.get("$top", "100")), 999)
        offset = 0
        if "$skiptoken" in query:
            token = query["$skiptoken"]
            offset = int(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()[2:])
        if dataset == "users" and offset > 0 and self.faults.malformed:
            if self.faults.malformed == "json":
                return 200, b'{"@odata.context": "users", "value": [{"id": ', {}
            if self.faults.malformed == "id":  # an object without its id
                return 200, {"value": [{"displayName": "Nobody", "accountEnabled": True}]}, {}
            return 200, {"@odata.context": f"{self.base_url}/v1.0/$metadata#users"}, {}
        chunk = items[offset : offset + top]
        if select:
            keep = set(select) | {"id", "@odata.type"}
            chunk = [{k: v for k, v in obj.items() if k in keep} for obj in chunk]
        elif dataset == "users":
            default = USER_DEFAULT_PROPERTIES
            chunk = [{k: v for k, v in obj.items() if k in default} for obj in chunk]
        context = _CONTEXT[dataset].format(id=parent)
        body: dict[str, Any] = {"@odata.context": f"{self.base_url}/v1.0/$metadata#{context}"}
        if offset + top < len(items):
            token = _b64url(f"X'{offset + top}".encode())
            next_query = {k: v for k, v in query.items() if k != "$skiptoken"}
            next_query["$skiptoken"] = token
            base = self.base_url
            if dataset == "users" and offset == 0 and self.faults.foreign_next_link:
                base = self.faults.foreign_next_link
            body["@odata.nextLink"] = (
                f"{base}/v1.0{path}?{urlencode(next_query, quote_via=quote, safe='$,')}"
            )
        body["value"] = chunk
        return 200, body, {}
