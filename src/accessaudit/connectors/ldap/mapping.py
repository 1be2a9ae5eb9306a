"""What a directory manifest says: which attribute feeds which snapshot field, which object
classes are accounts, groups or neither, which groups are privileged, and what a live search
asks for.

Read once per collection by :meth:`DirectoryMapping.from_manifest` (a :class:`ConfigError`
naming the manifest file when it is wrong) and shared by the live reader, which requests what
is mapped, and the transform, which reads what is mapped.

>>> from accessaudit.connectors import find_manifests
>>> DirectoryMapping.from_manifest(find_manifests()["openldap"]).attributes["login"]
('uid',)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from accessaudit.connectors.base import Manifest, SourceSettings
from accessaudit.connectors.ldap.syntax import normalise_dn
from accessaudit.errors import ConfigError

__all__ = [
    "ACCOUNT_FIELDS",
    "GROUP_FIELDS",
    "POLICY_FIELDS",
    "TIME_FIELDS",
    "DirectoryMapping",
    "attributes_to_request",
]

_TIME_FORMATS = ("filetime", "generalized")
_FLAVOURS = ("active-directory", "openldap")
ACCOUNT_FIELDS = (
    "login",
    "upn",
    "email",
    "display_name",
    "employee_id",
    "department",
    "user_account_control",
    "account_control_computed",
    "primary_group",
    "gid_number",
    "locked_time",
    "password_policy",
)
TIME_FIELDS = ("last_sign_in", "password_last_set", "expires", "created")
GROUP_FIELDS = ("group_name", "owner", "description", "admin_count", "gid_number")
#: Fields of a password policy entry (draft-behera-ldap-password-policy §5.2).
POLICY_FIELDS = ("policy_lockout", "policy_lockout_duration")
_KNOWN_FIELDS = frozenset(
    (
        *ACCOUNT_FIELDS,
        *TIME_FIELDS,
        *GROUP_FIELDS,
        *POLICY_FIELDS,
        "member",
        "member_of",
        "member_uid",
    )
)


@dataclass(frozen=True)
class DirectoryMapping:
    """What a directory manifest says, checked and lower-cased once.

    ``attributes`` maps a snapshot field (``login``, ``employee_id`` …) to the directory
    attributes that feed it, lower-cased, in preference order.
    """

    file: Path
    flavour: str
    id_attribute: str
    attributes: Mapping[str, tuple[str, ...]]
    labels: Mapping[str, str]
    formats: Mapping[str, str]
    account_classes: frozenset[str]
    service_classes: frozenset[str]
    exclude_classes: frozenset[str]
    group_classes: frozenset[str]
    policy_classes: frozenset[str]
    person_like_classes: frozenset[str]
    privileged_rids: frozenset[int]
    privileged_sids: frozenset[str]
    privileged_names: frozenset[str]
    use_admin_count: bool
    admin_patterns: tuple[str, ...]
    admin_rids: frozenset[int]
    service_patterns: tuple[str, ...]
    #: The normalised DN of the password policy that governs accounts naming none (the
    #: source's ``ppolicy_default``, as slapd's overlay setting of that name), or None.
    default_policy: str | None = None

    @classmethod
    def from_manifest(cls, manifest: Manifest) -> DirectoryMapping:
        """Read and check a manifest of protocol ``ldap``; ConfigError naming the file if bad.

        >>> from accessaudit.connectors import find_manifests
        >>> DirectoryMapping.from_manifest(find_manifests()["openldap"]).attributes["login"]
        ('uid',)
        """
        where = f"connector manifest {manifest.file}"
        flavour = str(manifest.settings.get("flavour", ""))
        if flavour not in _FLAVOURS:
            raise ConfigError(f"{where}: flavour must be one of {', '.join(_FLAVOURS)}")
        id_spelled = str(manifest.settings.get("id_attribute", ""))
        id_attribute = id_spelled.lower()
        if not id_attribute:
            raise ConfigError(f"{where}: id_attribute is required (an SID attribute or 'dn')")
        attributes: dict[str, tuple[str, ...]] = {}
        labels: dict[str, str] = {}
        for field, value in manifest.section("attributes").items():
            if field not in _KNOWN_FIELDS:
                known = ", ".join(sorted(_KNOWN_FIELDS))
                raise ConfigError(f"{where}: [attributes] {field} is not one of {known}")
            spelled = _names(value, f"{where}: [attributes] {field}", lower=False)
            attributes[field] = tuple(name.lower() for name in spelled)
            # Reports and messages name attributes as the manifest spells them.
            labels.update({name.lower(): name for name in spelled})
        if "login" not in attributes:
            raise ConfigError(f"{where}: [attributes] login is required")
        labels[id_attribute] = id_spelled
        formats = {str(k): str(v) for k, v in manifest.section("formats").items()}
        for field in (*TIME_FIELDS, "locked_time"):
            if field in attributes and formats.get(field) not in _TIME_FORMATS:
                raise ConfigError(
                    f"{where}: [formats] {field} must be one of {', '.join(_TIME_FORMATS)}"
                )
        objects = manifest.section("objects")
        privileged = manifest.section("privileged")
        kinds = manifest.section("kinds")
        rids = _numbers(privileged.get("domain_rids", []), f"{where}: [privileged] domain_rids")
        admin_rids = _numbers(kinds.get("admin_rids", []), f"{where}: [kinds] admin_rids")
        return cls(
            file=manifest.file,
            flavour=flavour,
            id_attribute=id_attribute,
            attributes=attributes,
            labels=labels,
            formats=formats,
            account_classes=_classes(objects, "accounts", where),
            service_classes=_classes(objects, "service_accounts", where),
            exclude_classes=_classes(objects, "exclude", where),
            group_classes=_classes(objects, "groups", where),
            policy_classes=_classes(objects, "password_policies", where),
            person_like_classes=_classes(objects, "person_like", where),
            privileged_rids=rids,
            privileged_sids=frozenset(
                s.upper() for s in _names(privileged.get("sids", []), f"{where}: sids", False)
            ),
            privileged_names=frozenset(_names(privileged.get("names", []), f"{where}: names")),
            use_admin_count=bool(privileged.get("use_admin_count", False)),
            admin_patterns=_names(kinds.get("admin_patterns", []), f"{where}: admin_patterns"),
            admin_rids=admin_rids,
            service_patterns=_names(
                kinds.get("service_patterns", []), f"{where}: service_patterns"
            ),
        )

    @classmethod
    def for_source(cls, settings: SourceSettings, manifest: Manifest) -> DirectoryMapping:
        """The manifest's mapping with the source's own additions: ``person_classes`` (more
        object classes read as accounts) and ``ppolicy_default`` (the DN of the password
        policy that governs accounts without ``pwdPolicySubentry``).

        >>> from accessaudit.connectors import SourceSettings, find_manifests
        >>> settings = SourceSettings("ol", "openldap", options={"person_classes": ["account"]})
        >>> mapping = DirectoryMapping.for_source(settings, find_manifests()["openldap"])
        >>> "account" in mapping.account_classes
        True
        """
        mapping = cls.from_manifest(manifest)
        where = f"source {settings.name!r}"
        extra = _names(settings.option("person_classes", []), f"{where}: person_classes")
        default = settings.option("ppolicy_default")
        if default is not None and not (isinstance(default, str) and "=" in default):
            raise ConfigError(f"{where}: ppolicy_default must be the DN of a pwdPolicy entry")
        return replace(
            mapping,
            account_classes=mapping.account_classes | frozenset(extra),
            default_policy=str(normalise_dn(pd.Series([default])).iloc[0]) if default else None,
        )

    def names(self, field: str) -> tuple[str, ...]:
        """The attributes feeding ``field``, empty when the manifest does not map it."""
        return self.attributes.get(field, ())

    def label(self, name: str) -> str:
        """An attribute as the manifest spells it (``userAccountControl``)."""
        return self.labels.get(name, name)


def _names(value: object, where: str, lower: bool = True) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise ConfigError(f"{where} must be a name or a list of names")
    return tuple(i.lower() if lower else i for i in items if i)


def _numbers(value: object, where: str) -> frozenset[int]:
    if not isinstance(value, list) or not all(isinstance(i, int) for i in value):
        raise ConfigError(f"{where} must be a list of whole numbers")
    return frozenset(value)


def _classes(objects: Mapping[str, Any], key: str, where: str) -> frozenset[str]:
    return frozenset(_names(objects.get(key, []), f"{where}: [objects] {key}"))


def attributes_to_request(manifest: Manifest) -> list[str]:
    """The attributes a live search should ask for: ``[search] attributes`` when the manifest
    lists them, otherwise every attribute it maps (plus ``objectClass`` and the id).

    >>> from accessaudit.connectors import find_manifests
    >>> "objectSid" in attributes_to_request(find_manifests()["active-directory"])
    True
    """
    listed = manifest.section("search").get("attributes")
    if listed:
        return [str(a) for a in listed]
    mapping = DirectoryMapping.from_manifest(manifest)
    wanted = ["objectClass"]
    if mapping.id_attribute != "dn":
        wanted.append(mapping.id_attribute)
    for names in mapping.attributes.values():
        wanted.extend(names)
    return list(dict.fromkeys(wanted))
