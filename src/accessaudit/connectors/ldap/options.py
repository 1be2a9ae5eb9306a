"""The connection and search settings of one live LDAP source, validated once.

:meth:`LdapOptions.from_settings` reads a ``[[sources]]`` table and its manifest's ``[search]``
section and raises a :class:`ConfigError` naming the source and the key for anything wrong or
unsafe, before a connection is opened.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from accessaudit.connectors.base import Manifest, SourceSettings
from accessaudit.connectors.ldap.mapping import attributes_to_request
from accessaudit.connectors.ldap.syntax import redact_url
from accessaudit.errors import ConfigError

__all__ = ["BACKENDS", "LdapOptions"]

BACKENDS = ("python-ldap", "ldap3")
_DEFAULT_PAGE_SIZE = 1000
_DEFAULT_TIMEOUT = 30.0
_DEFAULT_RETRIES = 3
# An object class name (RFC 4512 §1.4 descr) or OID, safe to place in a filter as it is.
_OBJECT_CLASS = re.compile(r"[A-Za-z][A-Za-z0-9-]*|[0-9]+(?:\.[0-9]+)+")


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
        if settings.option("nested") is not None:
            raise ConfigError(
                f"source {name!r}: 'nested' is no longer an option: nesting is always resolved "
                "from the direct member edges read, with the path that gives each membership"
            )
        url = str(settings.required("url"))
        shown = redact_url(url)
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as error:
            raise ConfigError(f"source {name!r}: url {shown!r} is not a URL ({error})") from None
        if parts.username is not None or parts.password is not None:
            # A password in the config file would sit in plain text and surface in messages.
            raise ConfigError(
                f"source {name!r}: url {shown!r} carries credentials (user:password@); give "
                "the account as bind_dn and its password through password_env"
            )
        if parts.scheme not in ("ldap", "ldaps") or not parts.hostname:
            raise ConfigError(f"source {name!r}: url {shown!r} must be ldap://host or ldaps://host")
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
            # The manifest says what the transform maps; ask for exactly that.
            attributes = attributes_to_request(manifest)
        elif not isinstance(attributes, list) or not all(isinstance(a, str) for a in attributes):
            raise ConfigError(
                f"source {name!r}: attributes must be a list of attribute names, not {attributes!r}"
            )
        range_attributes = search.get("range_attributes", ["member"])
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
            port=port or (636 if use_ssl else 389),
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
            allow_plaintext=_bool_option(settings, "allow_plaintext", default=False),
        )


def _search_filters(settings: SourceSettings, search: Mapping[str, Any]) -> tuple[str, ...]:
    """The searches to run, in order: the source's own ``filter`` (a string or a list), else
    the manifest's ``accounts_filter``, ``service_accounts_filter``, ``groups_filter`` and
    ``policies_filter`` (empty ones skipped) and one for the source's ``person_classes``,
    else everything under the base DN."""
    own = settings.option("filter")
    if own is not None:
        filters = list(own) if isinstance(own, list) else [own]
    else:
        keys = ("accounts_filter", "service_accounts_filter", "groups_filter", "policies_filter")
        filters = [search[key] for key in keys if search.get(key)]
        classes = settings.option("person_classes", [])
        if classes:
            if not isinstance(classes, list) or not all(
                isinstance(c, str) and _OBJECT_CLASS.fullmatch(c) for c in classes
            ):
                raise ConfigError(
                    f"source {settings.name!r}: person_classes must be a list of object class "
                    f"names, not {classes!r}"
                )
            filters.append("(|" + "".join(f"(objectClass={c})" for c in classes) + ")")
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
