"""How fast, and in how much memory, the postgresql connector reads a large cluster.

Starts a PostgreSQL of its own (tests/servers/postgres.py, TLS), creates ``--roles`` roles
(every fifth can log in; each login role is a member of two group roles, groups nest in a
chain of ten), ``--tables`` tables spread over schemas of 100 tables in one database, and
grants each table to ``--grants-per-table`` roles in one GRANT (so the cluster holds
tables x grants-per-table ACL entries), all server-side in DO blocks that commit every few
hundred objects. Then it runs ``collect_postgresql`` in a fresh subprocess, so the peak memory
(ru_maxrss) belongs to the reader alone, and prints the time, the rows of each table and the
peak memory.

    python bench/db_bench.py --roles 1000 --tables 10000 --grants-per-table 10   # ~1-2 min
    python bench/db_bench.py            # issue 15's scale: 10,000 roles, 100,000 tables, 1M grants
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

PASSWORD_ENV = "ACCESSAUDIT_BENCH_PG_PASSWORD"
AUDITOR_PASSWORD = "bench-auditor-42"

_LOAD_ROLES = """
DO $$
BEGIN
  FOR i IN 0..{roles} - 1 LOOP
    IF i % 5 = 0 THEN
      EXECUTE format('CREATE ROLE %I LOGIN', 'user_' || lpad(i::text, 6, '0'));
    ELSE
      EXECUTE format('CREATE ROLE %I NOLOGIN', 'role_' || lpad(i::text, 6, '0'));
    END IF;
    IF i % 500 = 499 THEN COMMIT; END IF;
  END LOOP;
END $$
"""

_LOAD_MEMBERS = """
DO $$
DECLARE groups int := {roles} - ({roles} + 4) / 5;
BEGIN
  FOR i IN 0..{roles} - 1 LOOP
    IF i % 5 = 0 THEN
      EXECUTE format('GRANT %I, %I TO %I', {group}(i * 7), {group}(i * 13 + 1),
                     'user_' || lpad(i::text, 6, '0'));
    ELSIF i % 10 <> 9 AND i + 1 < {roles} AND (i + 1) % 5 <> 0 THEN
      EXECUTE format('GRANT %I TO %I', 'role_' || lpad((i + 1)::text, 6, '0'),
                     'role_' || lpad(i::text, 6, '0'));
    END IF;
    IF i % 500 = 499 THEN COMMIT; END IF;
  END LOOP;
END $$
"""

# The name of the n-th group role (every index not divisible by 5), wrapped around.
_GROUP_FUNCTION = """
CREATE FUNCTION bench_group(n int) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT 'role_' || lpad((((n % ({roles} - ({roles} + 4) / 5)) / 4) * 5
                          + (n % ({roles} - ({roles} + 4) / 5)) % 4 + 1)::text, 6, '0')
$$
"""

_LOAD_TABLES = """
DO $$
DECLARE grantees text;
BEGIN
  FOR i IN 0..{tables} - 1 LOOP
    IF i % 100 = 0 THEN
      EXECUTE format('CREATE SCHEMA %I', 's' || lpad((i / 100)::text, 5, '0'));
    END IF;
    EXECUTE format('CREATE TABLE %I.%I (id int, v text)',
                   's' || lpad((i / 100)::text, 5, '0'), 't' || lpad(i::text, 6, '0'));
    SELECT string_agg(quote_ident(bench_group(i * 31 + k * 17)), ', ')
      INTO grantees FROM generate_series(0, {per_table} - 1) AS k;
    IF grantees IS NOT NULL THEN
      EXECUTE format('GRANT SELECT ON %I.%I TO %s',
                     's' || lpad((i / 100)::text, 5, '0'), 't' || lpad(i::text, 6, '0'), grantees);
    END IF;
    IF i % 200 = 199 THEN COMMIT; END IF;
  END LOOP;
END $$
"""

_MEASURE = """
import json, os, resource, sys, time
import pandas as pd
from accessaudit.connectors import CollectContext, SourceSettings, find_manifests
from accessaudit.connectors.databases import collect_postgresql
options = json.loads(sys.argv[1])
profile = len(sys.argv) > 2
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
if profile:
    import cProfile, pstats
    profiler = cProfile.Profile()
    profiler.enable()
result = collect_postgresql(
    SourceSettings("bench", "postgresql", options=options),
    find_manifests()["postgresql"],
    CollectContext(as_of=pd.Timestamp.now(tz="UTC")),
)
elapsed = time.perf_counter() - started
if profile:
    profiler.disable()
    pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(30)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": elapsed, "peak_mb": peak / 1024, "growth_mb": (peak - before) / 1024,
                  "rows": {k: len(v) for k, v in result.tables.items()}}))
"""


def main() -> None:
    """Load the cluster, measure one collection, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--roles", type=int, default=10_000)
    parser.add_argument("--tables", type=int, default=100_000)
    parser.add_argument("--grants-per-table", type=int, default=10)
    parser.add_argument("--profile", action="store_true", help="cProfile the collection")
    args = parser.parse_args()

    from servers.postgres import PostgresServer

    with PostgresServer() as server:
        started = time.perf_counter()
        server.sql(
            f"CREATE ROLE auditor LOGIN PASSWORD '{AUDITOR_PASSWORD}';\nCREATE DATABASE bench;\n"
        )
        with server.connect("bench") as connection:
            # Whole blocks, not split at semicolons: DO bodies hold many statements.
            connection.execute(_GROUP_FUNCTION.format(roles=args.roles))
            connection.execute(_LOAD_ROLES.format(roles=args.roles))
            connection.execute(_LOAD_MEMBERS.format(roles=args.roles, group="bench_group"))
            connection.execute(
                _LOAD_TABLES.format(tables=args.tables, per_table=args.grants_per_table)
            )
        loaded = time.perf_counter() - started
        print(
            f"loaded {args.roles} roles, {args.tables} tables, "
            f"{args.tables * args.grants_per_table} table grants in {loaded:.0f} s",
            file=sys.stderr,
        )
        options = {
            "host": "127.0.0.1",
            "port": server.port,
            "user": "auditor",
            "password_env": PASSWORD_ENV,
            "sslrootcert": str(server.ca_cert),
            "statement_timeout": 600,
        }
        measured = subprocess.run(
            [sys.executable, "-c", _MEASURE, json.dumps(options)]
            + (["--profile"] if args.profile else []),
            check=True,
            capture_output=True,
            text=True,
            env={**os.environ, PASSWORD_ENV: AUDITOR_PASSWORD},
        )
        if args.profile:
            print(measured.stderr, file=sys.stderr)
        figures = json.loads(measured.stdout)
        figures.update(
            roles=args.roles,
            tables=args.tables,
            table_grants=args.tables * args.grants_per_table,
            load_seconds=round(loaded, 1),
        )
        print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
