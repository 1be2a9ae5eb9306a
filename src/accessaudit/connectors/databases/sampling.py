"""Row samples of every readable table, for data discovery (read-only, time-limited).

Each flavour's connection is already read-only with a statement timeout (see
:func:`~accessaudit.connectors.databases.postgresql.connect`), so a sample can neither change
data nor run for long. Values are cast to text by the server and returned in long format
(``table, column, value``); tables the account may not read, or whose sample fails, are
counted and named in the report — never silently left out. The samples stay in memory: only
the classification (rates, never values) leaves :mod:`accessaudit.discovery`.
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from accessaudit.connectors.base import SourceSettings
from accessaudit.connectors.databases import mysql, postgresql

__all__ = ["DEFAULT_SAMPLE_ROWS", "sample_mysql", "sample_postgresql"]

logger = logging.getLogger("accessaudit.connectors.databases.sampling")

#: Rows read from each table unless the source sets ``sample_rows``.
DEFAULT_SAMPLE_ROWS = 100
_MAX_COLUMNS = 200
_EXAMPLES = 20

_PG_COLUMNS_SQL = """
SELECT n.nspname, c.relname, a.attname, has_table_privilege(c.oid, 'SELECT') AS readable
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
WHERE c.relkind IN ('r', 'p', 'm') AND a.attnum > 0 AND NOT a.attisdropped
  AND t.typname NOT IN ('bytea', 'oid', 'tsvector', 'geometry', 'box', 'polygon', 'path')
  AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
ORDER BY n.nspname, c.relname, a.attnum
"""


def _rows(settings: SourceSettings) -> int:
    return int(settings.option("sample_rows", DEFAULT_SAMPLE_ROWS))


def _long(table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> pd.DataFrame:
    wide = pd.DataFrame(rows, columns=columns, dtype=object)
    long = wide.melt(var_name="column", value_name="value")
    long.insert(0, "table", table)
    if not len(long):
        return pd.DataFrame({"table": table, "column": columns, "value": None})
    return long


def _report(sampled: int, skipped: dict[str, str]) -> dict[str, Any]:
    return {
        "tables_sampled": sampled,
        "tables_not_sampled": len(skipped),
        "not_sampled_examples": dict(list(skipped.items())[:_EXAMPLES]),
    }


def sample_postgresql(settings: SourceSettings) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Sample every table of every database the account may connect to.

    Returns the samples (``table`` is ``db.schema.table``) and a report of what was sampled.
    """
    from psycopg import Error, sql  # noqa: PLC0415  (the connect() above needs it already)

    limit = _rows(settings)
    frames: list[pd.DataFrame] = []
    skipped: dict[str, str] = {}
    with postgresql.connect(settings) as connection:
        databases, names = postgresql.list_databases(settings, connection)
    allowed = databases.drop_duplicates("datname").set_index("datname")["can_connect"]
    for db in names:
        if not bool(allowed.get(db, False)):
            skipped[db] = "no CONNECT privilege"
            continue
        with postgresql.connect(settings, db) as connection:
            cursor = connection.execute(_PG_COLUMNS_SQL)
            columns = pd.DataFrame(cursor.fetchall(), columns=[d.name for d in cursor.description])
            for (schema, table), group in columns.groupby(["nspname", "relname"], sort=False):
                name = f"{db}.{schema}.{table}"
                if not bool(group["readable"].iloc[0]):
                    skipped[name] = "no SELECT privilege"
                    continue
                names_ = list(group["attname"].head(_MAX_COLUMNS))
                query = sql.SQL("SELECT {} FROM {}.{} LIMIT {}").format(
                    sql.SQL(", ").join(
                        sql.SQL("{}::text").format(sql.Identifier(c)) for c in names_
                    ),
                    sql.Identifier(str(schema)),
                    sql.Identifier(str(table)),
                    sql.Literal(limit),
                )
                try:
                    rows = connection.execute(query).fetchall()
                except Error as error:
                    skipped[name] = str(error).strip().splitlines()[0]
                    continue
                frames.append(_long(name, names_, rows))
    samples = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=["table", "column", "value"])
    )
    return samples, _report(len(frames), skipped)


def sample_mysql(settings: SourceSettings) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Sample every table the account can see (``table`` is ``db.table``)."""
    import pymysql  # noqa: PLC0415  (the connect() above needs it already)

    limit = _rows(settings)
    frames: list[pd.DataFrame] = []
    skipped: dict[str, str] = {}
    system = "'mysql', 'information_schema', 'performance_schema', 'sys'"
    with mysql.connect(settings) as connection:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT c.TABLE_SCHEMA, c.TABLE_NAME, c.COLUMN_NAME "
                "FROM information_schema.COLUMNS c JOIN information_schema.TABLES t "
                "ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME "
                f"WHERE t.TABLE_TYPE = 'BASE TABLE' AND c.TABLE_SCHEMA NOT IN ({system}) "
                "AND c.DATA_TYPE NOT IN ('blob', 'longblob', 'mediumblob', 'tinyblob', "
                "'binary', 'varbinary', 'geometry') ORDER BY 1, 2, c.ORDINAL_POSITION"
            )
            columns = pd.DataFrame(list(cursor.fetchall()), columns=["schema", "table", "column"])
        for (schema, table), group in columns.groupby(["schema", "table"], sort=False):
            name = f"{schema}.{table}"
            names_ = [str(c) for c in group["column"].head(_MAX_COLUMNS)]
            quoted = ", ".join("`" + c.replace("`", "``") + "`" for c in names_)
            target = (
                "`" + str(schema).replace("`", "``") + "`.`" + str(table).replace("`", "``") + "`"
            )
            try:
                with connection.cursor() as cursor:
                    cursor.execute(f"SELECT {quoted} FROM {target} LIMIT {int(limit)}")
                    rows = [
                        tuple(None if v is None else str(v) for v in r) for r in cursor.fetchall()
                    ]
            except pymysql.Error as error:
                skipped[name] = str(error)
                continue
            frames.append(_long(name, names_, rows))
    samples = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=["table", "column", "value"])
    )
    return samples, _report(len(frames), skipped)
