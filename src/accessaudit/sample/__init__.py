"""The built-in sample organisation: a realistic mid-size company in the real export formats.

:func:`write_sample_organisation` writes what an auditor would be handed — the HR roster, an
Active Directory LDIF export, the data inventory, a PowerShell ``Get-Acl`` export of the file
server, a permissions CSV for the databases and SharePoint, and (through
:mod:`accessaudit.sample._entra`) the Entra tenant as raw Graph pages — plus an ``audit.toml``
that points at them. The organisation carries planted problems for every rule, and near misses
that must not fire; :func:`planted_problems` lists both (it is never written next to the
exports, where it would give the answers away).

:func:`generate_organisation` builds the same organisation as plain DataFrames; with
``groups``, ``memberships`` and ``nesting_depth`` it grows to benchmark size (200,000 people,
20,000 groups nested 6 deep, 5,000,000 memberships in well under a minute).

Everything is deterministic: the same arguments give byte-identical files.

>>> import tempfile
>>> from pathlib import Path
>>> config = write_sample_organisation(Path(tempfile.mkdtemp()), size=300, include_entra=False)
>>> config.name, sorted(p.name for p in (config.parent / "exports").iterdir())[:2]
('audit.toml', ['corp.ldif', 'fs01-acl.csv'])
"""

from __future__ import annotations

import csv
import datetime as dt
import importlib.util
import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from accessaudit.connectors.files import HR_COLUMNS
from accessaudit.sample._cast import (
    ENTRA_CLINICAL_GROUP,
    ENTRA_GUEST_SITE_GROUP,
    PLANTED_WITH_PREVIOUS,
    PREVIOUS_QUARTER_DAYS,
)
from accessaudit.sample._generate import (
    DEFAULT_AS_OF,
    Organisation,
    generate_organisation,
)
from accessaudit.sample._ldif import write_ldif

__all__ = [
    "DEFAULT_AS_OF",
    "ENTRA_CLINICAL_GROUP",
    "ENTRA_GUEST_SITE_GROUP",
    "EXPORTS",
    "PREVIOUS_CONFIG",
    "Organisation",
    "audit_config",
    "generate_organisation",
    "planted_problems",
    "planted_with_previous_quarter",
    "previous_config",
    "write_exports",
    "write_sample_organisation",
]

logger = logging.getLogger("accessaudit.sample")

#: The previous quarter's HR roster (in ``exports/``) and the config that collects it.
PREVIOUS_HR = "hr-previous-quarter.csv"
PREVIOUS_CONFIG = "previous/audit.toml"

#: Source name → (connector, path relative to the config, extra options) in the sample config.
EXPORTS: Mapping[str, tuple[str, str, Mapping[str, str]]] = {
    "corp": ("active-directory", "exports/corp.ldif", {}),
    "hr": ("hr-csv", "exports/hr.csv", {}),
    "inventory": ("data-inventory", "exports/inventory.csv", {}),
    "files": ("ntfs-acl", "exports/fs01-acl.csv", {"domain": "CORP", "directory": "corp"}),
    "apps": ("grants-csv", "exports/grants.csv", {}),
    "cloud": ("entra-id", "exports/entra", {}),
    "sharepoint": ("m365", "exports/m365", {}),
}
_GLOBAL_ADMINISTRATOR = "62e90394-69f5-4237-9190-012177145e10"  # Entra role template id
_PS_TYPE_LINE = "#TYPE System.Management.Automation.PSCustomObject"


def planted_problems(org: Organisation) -> pd.DataFrame:
    """What was planted in ``org`` on purpose: one row per (rule, subject).

    Columns: ``rule`` (a rule id), ``subject_type`` (account / resource), ``subject`` (the
    login or resource name as the report shows it), ``expect`` — ``finding`` (the rule must
    report it), ``excepted`` (the rule fires but a current policy exception hides it) or
    ``none`` (a near miss the rule must not report) — ``why``, and ``person``: the HR name of
    the subject's owner, if any (per-person rules such as sod-conflict may name the person
    rather than the login). The Entra tenant's own
    plants (a Global Administrator without MFA, a partner guest on the confidential board-pack
    site) are read from :func:`accessaudit.sample._entra.build_tenant` when that module is
    installed; their subjects are user principal names.

    >>> table = planted_problems(generate_organisation(300))
    >>> table.loc[table["rule"] == "direct-grant", "subject"].tolist()
    ['jdoe', 'srossi', 'ksullivan']
    """
    from accessaudit.sample._m365 import planted_sharing  # noqa: PLC0415

    return pd.concat([org.planted, _entra_planted(org), planted_sharing()], ignore_index=True)


def _entra_planted(org: Organisation) -> pd.DataFrame:
    """The Entra tenant's plants, found in the tenant it would write for ``org``."""
    columns = ["rule", "subject_type", "subject", "expect", "why", "person"]
    if importlib.util.find_spec("accessaudit.sample._entra") is None:
        return pd.DataFrame(columns=columns)
    from accessaudit.sample._entra import GUEST_SITE_GROUP, build_tenant  # noqa: PLC0415

    tenant = build_tenant(org.people, as_of=org.as_of, seed=org.seed)
    users = {u["id"]: u for u in tenant["users"]}
    global_admin = {
        a["principalId"]
        for a in tenant["role_assignments"]
        if a.get("roleDefinitionId") == _GLOBAL_ADMINISTRATOR
    }
    rows = [
        ("mfa-missing", "account", users[r["id"]]["userPrincipalName"], "finding",
         "Global Administrator without MFA registered (Entra)", users[r["id"]]["displayName"])
        for r in tenant["mfa_registration"]
        if r["id"] in global_admin and not r["isMfaRegistered"]
    ]  # fmt: skip
    site = next(g["id"] for g in tenant["groups"] if g["displayName"] == GUEST_SITE_GROUP)
    rows += [
        ("third-party-sensitive", "account", users[m["id"]]["userPrincipalName"], "finding",
         f"partner guest in {GUEST_SITE_GROUP}, which reads the confidential board-pack site",
         None)
        for m in tenant["group_members"].get(site, [])
        if users.get(m["id"], {}).get("userType") == "Guest"
    ]  # fmt: skip
    rows += [
        ("guest-without-sponsor", "account", u["userPrincipalName"], *_sponsorship(org, tenant, u),
         None)
        for u in tenant["users"]
        if u.get("userType") == "Guest" and u.get("accountEnabled", True)
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def _sponsorship(
    org: Organisation, tenant: Mapping[str, Any], guest: Mapping[str, Any]
) -> tuple[str, str]:
    """Whether a partner guest (no HR record) should be flagged, and why, from its Entra
    sponsors: a group, or an enabled user whose HR person has not left, is a current sponsor."""
    users = {u["id"]: u for u in tenant["users"]}
    left = set(org.people.loc[org.people["status"] == "terminated", "employee_id"])
    for ref in tenant.get("user_sponsors", {}).get(guest["id"], []):
        if ref["@odata.type"].endswith(".group"):
            return "none", "partner guest sponsored in Entra by a group"
        sponsor = users.get(ref["id"], {})
        if sponsor.get("accountEnabled") and sponsor.get("employeeId") not in left:
            return "none", "partner guest sponsored in Entra by a current employee"
        return "finding", "partner guest whose Entra sponsor has left"
    return "finding", "partner guest: no HR record and no Entra sponsor"


def write_exports(folder: Path, org: Organisation) -> dict[str, Path]:
    """Write ``org`` in the source systems' export formats under ``folder``; returns the
    files by source name (``corp``, ``hr``, ``inventory``, ``files``, ``apps``)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {name: folder / Path(spec[1]).name for name, spec in EXPORTS.items() if name != "cloud"}
    _write_hr(paths["hr"], org.people)
    _write_hr(folder / PREVIOUS_HR, org.previous_people)
    write_ldif(paths["corp"], org)
    _write_csv(paths["inventory"], _inventory_text(org.resources))
    _write_acl(paths["files"], org.acl)
    _write_csv(paths["apps"], org.grants)
    return paths


def write_sample_organisation(
    folder: Path,
    *,
    size: int = 1500,
    seed: int = 42,
    as_of: pd.Timestamp | None = None,
    include_entra: bool = True,
) -> Path:
    """Write the sample organisation's exports and its ``audit.toml`` into ``folder``.

    ``folder/exports/`` receives ``hr.csv``, ``corp.ldif``, ``inventory.csv``,
    ``fs01-acl.csv``, ``grants.csv`` and (unless ``include_entra`` is false) the Entra tenant
    in ``entra/``; ``folder/audit.toml`` names them with relative paths, sets ``as_of`` and the
    policy. Returns the config's path. ``as_of`` defaults to 2026-11-21, the demo's today.

    >>> import tempfile
    >>> config = write_sample_organisation(Path(tempfile.mkdtemp()), size=300, include_entra=False)
    >>> "[[policy.sod]]" in config.read_text(encoding="utf-8")
    True
    """
    from accessaudit.sample._m365 import write_sharepoint  # noqa: PLC0415

    folder = Path(folder)
    org = generate_organisation(size, seed, as_of)
    exports = folder / "exports"
    write_exports(exports, org)
    owner = str(org.people.loc[org.people["status"] == "active", "email"].iloc[0])
    if include_entra:
        # The Entra tenant is another module's work; it shares this organisation's people.
        if importlib.util.find_spec("accessaudit.sample._entra") is None:
            raise ModuleNotFoundError(
                "accessaudit.sample._entra is not installed; pass include_entra=False"
            )
        from accessaudit.sample._entra import (  # noqa: PLC0415
            GUEST_SITE_GROUP,
            build_tenant,
            tenant_pages,
        )

        tenant = build_tenant(org.people, as_of=org.as_of, seed=seed)
        tenant_pages(tenant).save(exports / "entra")
        # The SharePoint Board Pack site is the board-pack group's: its members reach it.
        board = next(g["id"] for g in tenant["groups"] if g["displayName"] == GUEST_SITE_GROUP)
        write_sharepoint(
            exports / "m365", owner_email=owner, team_group_id=board, team_name=GUEST_SITE_GROUP
        )
    else:
        write_sharepoint(exports / "m365", owner_email=owner)
    config = folder / "audit.toml"
    config.write_text(
        audit_config(org, include_entra=include_entra), encoding="utf-8", newline="\n"
    )
    (folder / "previous").mkdir(exist_ok=True)
    (folder / PREVIOUS_CONFIG).write_text(previous_config(org), encoding="utf-8", newline="\n")
    logger.debug("wrote the sample organisation (%d people) to %s", len(org.people), folder)
    return config


# --- writers -------------------------------------------------------------------------------


def _dates(values: pd.Series) -> pd.Series:
    text: pd.Series = values.dt.strftime("%Y-%m-%d")
    return text


def _write_csv(path: Path, table: pd.DataFrame) -> None:
    table.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")


def _write_hr(path: Path, people: pd.DataFrame) -> None:
    roster = people[list(HR_COLUMNS)].copy()
    for column in ("start_date", "end_date", "moved_on", "contract_end", "rehired_on"):
        roster[column] = _dates(roster[column])
    _write_csv(path, roster)


def _inventory_text(resources: pd.DataFrame) -> pd.DataFrame:
    table = resources.copy()
    table["owner"] = table["owner"].fillna("")
    return table


def _write_acl(path: Path, acl: pd.DataFrame) -> None:
    """Export-Csv: a #TYPE line, every field quoted, CRLF line ends (Windows PowerShell)."""
    body = acl.to_csv(index=False, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    path.write_bytes(f"{_PS_TYPE_LINE}\r\n{body}".encode())


def _toml_value(value: Any) -> str:
    """A TOML value for the config's simple types (JSON string escapes are TOML's too)."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        inner = ", ".join(f"{_toml_value(str(k))} = {_toml_value(v)}" for k, v in value.items())
        return "{ " + inner + " }"
    raise TypeError(f"no TOML form for {type(value).__name__}")


def audit_config(org: Organisation, *, include_entra: bool = True) -> str:
    """The sample's ``audit.toml`` text: the sources with relative paths, ``as_of``, policy."""
    lines = [
        "# accessaudit sample organisation (generated; deterministic for its size and seed)",
        "",
        "[audit]",
        f"as_of = {_toml_value(org.as_of.date().isoformat())}",
    ]
    for name, (connector, path, written) in EXPORTS.items():
        if name == "cloud" and not include_entra:
            continue
        # SharePoint's users and groups are the Entra tenant's, when there is one.
        directory = {"directory": "cloud"} if name == "sharepoint" and include_entra else {}
        options = {**written, **directory}
        lines += ["", "[[sources]]", f"name = {_toml_value(name)}"]
        lines.append(f"connector = {_toml_value(connector)}")
        lines.append(f"path = {_toml_value(path)}")
        lines += [f"{key} = {_toml_value(value)}" for key, value in options.items()]
    policy = dict(org.policy)
    privileged = policy.pop("privileged")
    service = policy.pop("service_accounts")
    sod = policy.pop("sod")
    exceptions = policy.pop("exceptions")
    holds = policy.pop("holds", [])
    lines += ["", "[policy]"]
    lines += [f"{key} = {_toml_value(value)}" for key, value in policy.items()]
    lines += ["", "[policy.privileged]", f"groups = {_toml_value(privileged['groups'])}"]
    lines += ["", "[policy.privileged.approved]"]
    lines += [f"{_toml_value(g)} = {_toml_value(v)}" for g, v in privileged["approved"].items()]
    lines += ["", "[policy.service_accounts]", f"patterns = {_toml_value(service['patterns'])}"]
    for table_name, items in (
        ("policy.sod", sod),
        ("policy.exceptions", exceptions),
        ("policy.holds", holds),
    ):
        for item in items:
            lines += ["", f"[[{table_name}]]"]
            lines += [f"{key} = {_toml_value(value)}" for key, value in item.items()]
    return "\n".join(lines) + "\n"


def previous_config(org: Organisation) -> str:
    """The ``previous/audit.toml`` text: the previous quarter's HR roster alone, dated then.
    Collected, it is the previous snapshot that shows moves HR keeps no history for."""
    then = org.as_of.normalize() - PREVIOUS_QUARTER_DAYS * pd.Timedelta(days=1)
    return "\n".join(
        [
            "# accessaudit sample organisation: the HR roster of the previous quarter",
            "",
            "[audit]",
            f"as_of = {_toml_value(then.date().isoformat())}",
            "",
            "[[sources]]",
            'name = "hr"',
            'connector = "hr-csv"',
            f"path = {_toml_value('../exports/' + PREVIOUS_HR)}",
            "",
        ]
    )


def planted_with_previous_quarter(org: Organisation) -> pd.DataFrame:
    """Plants judged with the previous quarter's snapshot (``run_audit(previous=...)``): the
    mover HR keeps no history for, and near misses. Columns as :func:`planted_problems`."""
    table = pd.DataFrame(
        list(PLANTED_WITH_PREVIOUS), columns=["rule", "subject_type", "subject", "expect", "why"]
    )
    names = dict(zip(org.planted["subject"], org.planted["person"], strict=False))
    table["person"] = table["subject"].map(names)
    return table
