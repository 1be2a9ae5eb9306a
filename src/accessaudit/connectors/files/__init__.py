"""File connectors: the HR roster, the data inventory, NTFS ACL exports and generic grants.

Each reads one file (CSV, or XLSX by extension) into tables and knows no other source:

* ``hr-csv`` (:mod:`.hr`) → ``people``;
* ``data-inventory`` (:mod:`.inventory`) → ``resources`` (owners kept as written);
* ``ntfs-acl`` (:mod:`.ntfs_acl`; a Get-Acl CSV or ``icacls`` output, :mod:`._icacls`) and
  ``grants-csv`` (:mod:`.grants`) → permission
  references (:data:`accessaudit.model.REFERENCES`): identities, paths and resource names as
  written, resolved into ``grants`` when the snapshot is built (:mod:`accessaudit.resolve`).

Reading, decoding and column maps are shared (:mod:`._read`); every bad row is reported by
:meth:`accessaudit.model.TableSchema.conform` with its file and line.
"""

from __future__ import annotations

from accessaudit.connectors.files.grants import RIGHT_SYNONYMS, collect_grants
from accessaudit.connectors.files.hr import HR_COLUMNS, collect_hr
from accessaudit.connectors.files.inventory import INVENTORY_COLUMNS, collect_inventory
from accessaudit.connectors.files.ntfs_acl import collect_ntfs_acl, right_from_ntfs_rights

__all__ = [
    "HR_COLUMNS",
    "INVENTORY_COLUMNS",
    "RIGHT_SYNONYMS",
    "collect_grants",
    "collect_hr",
    "collect_inventory",
    "collect_ntfs_acl",
    "right_from_ntfs_rights",
]
