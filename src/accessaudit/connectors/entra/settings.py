"""What the ``entra-id`` manifest says about reading a tenant: endpoint paths, ``$select``
lists, sign-in fields and privileged roles, on top of the transport settings every Graph
connector shares (:class:`~accessaudit.connectors._graph.settings.GraphSettings`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from accessaudit.connectors._graph.settings import GraphSettings
from accessaudit.connectors.base import Manifest, SourceSettings
from accessaudit.connectors.entra.shapes import SHAPES
from accessaudit.errors import ConfigError

__all__ = ["EntraSettings"]


@dataclass(frozen=True)
class EntraSettings(GraphSettings):
    """What the manifest says about reading a tenant: paths, ``$select`` lists, roles; the
    transport settings (page size, retries …) are :class:`GraphSettings`'."""

    long_lived_secret_days: int = 730
    endpoints: Mapping[str, str] = field(default_factory=dict)
    select: Mapping[str, Any] = field(default_factory=dict)
    sign_in_fields: tuple[str, ...] = (
        "lastSuccessfulSignInDateTime",
        "lastSignInDateTime",
        "lastNonInteractiveSignInDateTime",
    )
    #: The signInActivity field that measures use (successful sign-ins); the others count
    #: attempts, and decide only where the tenant does not report this one.
    sign_in_successful: str = "lastSuccessfulSignInDateTime"
    #: Built-in role names by template id, for roles whose roleDefinition was not collected.
    role_names: Mapping[str, str] = field(default_factory=dict)
    privileged_role_ids: frozenset[str] = frozenset()
    privileged_role_names: frozenset[str] = frozenset()
    privileged_app_roles: frozenset[str] = frozenset()

    @classmethod
    def from_manifest(cls, manifest: Manifest, settings: SourceSettings | None = None) -> Self:
        """Read the manifest's ``[graph]``, ``[endpoints]``, ``[select]``, ``[sign_in]``,
        ``[privileged_roles]``, ``[role_names]`` and ``[privileged_app_roles]``; a source may
        override ``page_size`` and the retry limits."""
        graph = manifest.section("graph")
        roles = manifest.section("privileged_roles")
        transport = GraphSettings.options(manifest, settings)
        try:
            result = cls(
                **transport,
                long_lived_secret_days=int(graph.get("long_lived_secret_days", 730)),
                endpoints=dict(manifest.section("endpoints")),
                select=dict(manifest.section("select")),
                sign_in_fields=tuple(manifest.section("sign_in").get("fields", cls.sign_in_fields)),
                sign_in_successful=str(
                    manifest.section("sign_in").get("successful", cls.sign_in_successful)
                ),
                role_names={
                    str(k).lower(): str(v) for k, v in manifest.section("role_names").items()
                },
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
        """The ``$select`` list for endpoint ``name``: the manifest's, plus every property the
        transforms depend on (Graph's default property set leaves out most of them, e.g. a
        user's ``accountEnabled``). Users' ``signInActivity`` and leave date are asked for
        separately, since a licence or permission may refuse them."""
        value = self.select.get(name, [])
        listed = [value] if isinstance(value, str) else [str(v) for v in value]
        optional = {"signInActivity", "employeeLeaveDateTime"} if name == "users" else set()
        needed = ["id", *SHAPES.get(name, {})]
        extra = [p for p in needed if p not in listed and p not in optional and "@" not in p]
        return [*listed, *extra]
