"""ntfs-acl: the CSV of PowerShell ``Get-Acl`` … ``Export-Csv``, one row per ACE.

The connector reads ACEs as written: the identity (``CORP\\alice``, a SID, ``BUILTIN\\...``),
the path (with PowerShell's provider prefix, which the snapshot stage ignores), the right,
Allow/Deny and inheritance. Which account or group an identity is, and which
inventory resource a path belongs to (the longest matching inventory ``path``), is decided when
the snapshot is built (:mod:`accessaudit.resolve`), so the directory and the inventory may be
read before or after it.

NTFS rights
-----------
Named rights and numeric masks are both turned into an access mask, then into our ordered
right: any of WRITE_DAC (ChangePermissions), WRITE_OWNER (TakeOwnership) or GENERIC_ALL →
``admin`` (each lets the holder rewrite the ACL, so FullControl is admin too); any write, append,
delete or GENERIC_WRITE bit → ``write``; any read, list, execute/traverse, read-attribute or
GENERIC_READ / GENERIC_EXECUTE bit → ``read``. An NTFS ACE never yields ``owner``: ownership is
the folder's ``Owner`` field, not an ACE. An ACE with only SYNCHRONIZE (or no known bit) gives
no data right: it is kept with an empty right (its identity is still counted) and yields no
grant.

>>> right_from_ntfs_rights("ReadAndExecute, Synchronize")
'read'
>>> # [[sources]] name = "files"  connector = "ntfs-acl"  path = "fs01-acl.csv"
>>> # domain = "CORP"  directory = "corp"
"""

from __future__ import annotations

import logging
import re
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from accessaudit.connectors.base import CollectContext, Manifest, SourceResult, SourceSettings
from accessaudit.connectors.files._icacls import looks_like_icacls, read_icacls
from accessaudit.connectors.files._read import constant, read_rows, source_path
from accessaudit.connectors.files._values import lost_letters
from accessaudit.model import REFERENCES

__all__ = ["collect_ntfs_acl", "right_from_ntfs_rights"]

logger = logging.getLogger("accessaudit.connectors.files.ntfs_acl")

#: Our names for the columns of a PowerShell Get-Acl export, and their headers there.
_ACL_COLUMNS = MappingProxyType(
    {
        "path": "Path",
        "identity": "IdentityReference",
        "rights": "FileSystemRights",
        "access_type": "AccessControlType",
        "inherited": "IsInherited",
    }
)

#: .NET FileSystemRights names (and the Win32 generic rights) as access-mask bits.
_NTFS_RIGHT_BITS = MappingProxyType(
    {
        "listdirectory": 0x1,
        "readdata": 0x1,
        "createfiles": 0x2,
        "writedata": 0x2,
        "appenddata": 0x4,
        "createdirectories": 0x4,
        "readextendedattributes": 0x8,
        "writeextendedattributes": 0x10,
        "executefile": 0x20,
        "traverse": 0x20,
        "deletesubdirectoriesandfiles": 0x40,
        "readattributes": 0x80,
        "writeattributes": 0x100,
        "write": 0x116,
        "delete": 0x10000,
        "readpermissions": 0x20000,
        "read": 0x20089,
        "readandexecute": 0x200A9,
        "modify": 0x301BF,
        "changepermissions": 0x40000,
        "takeownership": 0x80000,
        "synchronize": 0x100000,
        "fullcontrol": 0x1F01FF,
        "generic_all": 0x10000000,
        "genericall": 0x10000000,
        "generic_execute": 0x20000000,
        "genericexecute": 0x20000000,
        "generic_write": 0x40000000,
        "genericwrite": 0x40000000,
        "generic_read": 0x80000000,
        "genericread": 0x80000000,
    }
)
_ADMIN_BITS = 0x40000 | 0x80000 | 0x10000000
_WRITE_BITS = 0x2 | 0x4 | 0x10 | 0x40 | 0x100 | 0x10000 | 0x40000000
_READ_BITS = 0x1 | 0x8 | 0x20 | 0x80 | 0x20000 | 0x20000000 | 0x80000000

_NO_DATA_RIGHT = ""


def right_from_ntfs_rights(rights: str) -> str | None:
    """Our right for a FileSystemRights value (names or a numeric mask); None for no data
    right (Synchronize alone). Raises ValueError on a word that is not a right.

    >>> right_from_ntfs_rights("Modify, Synchronize"), right_from_ntfs_rights("268435456")
    ('write', 'admin')
    """
    mask = 0
    for part in rights.split(","):
        word = part.strip()
        if not word:
            continue
        if re.fullmatch(r"-?\d+", word):
            mask |= int(word) & 0xFFFFFFFF
        elif re.fullmatch(r"0x[0-9a-fA-F]+", word):
            mask |= int(word, 16)
        else:
            bits = _NTFS_RIGHT_BITS.get(word.lower().replace(" ", ""))
            if bits is None:
                raise ValueError(word)
            mask |= bits
    if mask & _ADMIN_BITS:
        return "admin"
    if mask & _WRITE_BITS:
        return "write"
    if mask & _READ_BITS:
        return "read"
    return None


def _rights(words: pd.Series) -> pd.Series:
    """FileSystemRights values as our rights: ``""`` for no data right, the value as written
    when it is not a right at all (so the schema names its line)."""
    codes, uniques = pd.factorize(words)
    ours = []
    for word in uniques:
        try:
            right = right_from_ntfs_rights(str(word))
        except ValueError:
            ours.append(str(word))
            continue
        ours.append(_NO_DATA_RIGHT if right is None else right)
    # code -1 (an empty cell) picks the None appended last
    return pd.Series(np.asarray([*ours, None], dtype=object)[codes], index=words.index)


def collect_ntfs_acl(
    settings: SourceSettings, manifest: Manifest, context: CollectContext
) -> SourceResult:
    """Read a PowerShell ``Get-Acl`` CSV export, or the text ``icacls PATH /T /C`` prints
    (:mod:`._icacls`, recognised by its first line), into permission references (one per ACE).

    Options: ``domain`` (the NetBIOS domain whose ``DOMAIN\\name`` identities resolve),
    ``directory`` (the source whose accounts and groups they resolve to; default every
    directory source), ``columns``, ``encoding``.
    """
    domain = str(settings.required("domain"))
    directory = settings.option("directory")
    icacls: dict[str, Any] = {}
    path = source_path(settings)
    if (
        path.is_file()
        and path.suffix.lower() not in (".xlsx", ".xlsm")
        and looks_like_icacls(path, settings)
    ):
        rows, icacls = read_icacls(path, settings, domain)
    else:
        rows = read_rows(settings, manifest, _ACL_COLUMNS, ("path", "identity", "rights"))
    frame = rows.frame
    right = _rights(frame["rights"])
    no_data_right = right == _NO_DATA_RIGHT
    access = frame["access_type"].str.lower()
    deny = access.map({"allow": "false", "deny": "true"}).fillna(frame["access_type"])
    references = pd.DataFrame(
        {
            "principal": pd.Categorical(frame["identity"]),
            "principal_form": "windows",
            "domain": constant(domain, len(frame)),
            "directory": constant(
                str(directory) if directory not in (None, "") else None, len(frame)
            ),
            "resource": pd.Categorical(frame["path"]),
            "resource_form": "path",
            "right": right.mask(no_data_right),
            "inherited": frame["inherited"],
            "deny": deny,
            "system": constant(settings.name, len(frame)),
            "location": rows.origin(),
        }
    )
    references = REFERENCES.conform(
        references,
        source=settings.name,
        origin=rows.origin(),
        headers={
            "principal": rows.headers["identity"],
            "resource": rows.headers["path"],
            "right": rows.headers["rights"],
            "deny": rows.headers["access_type"],
            "inherited": rows.headers["inherited"],
        },
        hints={
            "right": "not a FileSystemRights name or numeric mask (e.g. Modify)",
            "deny": "AccessControlType must be Allow or Deny",
        },
    )
    report: dict[str, Any] = {
        "file": rows.label,
        "aces": len(frame),
        "aces_without_data_right": int(no_data_right.sum()),
        "deny_aces": int(references["deny"].sum()),
        **icacls,
        "warnings": [
            *rows.warnings,
            *icacls.get("warnings", []),
            *lost_letters(rows, ("path", "identity"), "ACEs"),
        ],
    }
    logger.info("%s: %d ACEs from %s", settings.name, len(frame), rows.label)
    return SourceResult(settings.name, manifest.connector, {}, report, references=references)
