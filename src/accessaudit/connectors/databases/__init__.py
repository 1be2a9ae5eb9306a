"""Database servers as data stores: PostgreSQL and MySQL/MariaDB roles, grants and samples.

Each flavour reads its own catalog (``postgresql``, ``mysql``) into the plain frames of
:mod:`~accessaudit.connectors.databases.catalog`, which turns them into snapshot tables the
same way for both. The drivers (psycopg, PyMySQL) are optional extras, imported only when a
source uses them.
"""

from __future__ import annotations

from accessaudit.connectors.databases.mysql import collect as collect_mysql
from accessaudit.connectors.databases.postgresql import collect as collect_postgresql

__all__ = ["collect_mysql", "collect_postgresql"]
