"""How fast, and in how much memory, the live LDAP connector reads a large directory.

Starts a slapd of its own (tests/servers/slapd.py), loads ``--users`` users and
``--users / 20`` groups (a few with 10,000+ members) offline with slapadd, then measures, each
in a fresh subprocess so peak memory (ru_maxrss) belongs to that reader alone:

* ``ldapsearch``          ``ldapsearch -E pr=1000/noprompt`` to /dev/null (the C baseline)
* ``ldap3 bare``          a hand-written ldap3 paged-search loop, nothing kept
* ``python-ldap bare``    the same with python-ldap
* ``read_entries ...``    accessaudit.connectors.ldap.live.read_entries on each backend
* ``collect ...``         accessaudit.connectors.ldap.collect: entries to tables

Every reader fetches the same attributes (the openldap manifest's) with the same filters
(accounts, groups, then password policies) over LDAPS.

    python bench/ldap_bench.py --users 5000      # a quick run (~20 s)
    python bench/ldap_bench.py                    # 100,000 users, 5,000 groups
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

# Kept in step with tests/servers/slapd.py, which the measuring subprocesses do not import
# (it pulls in pytest and cryptography, and a forked ldapsearch would inherit their memory).
BASE_DN = "dc=example,dc=org"
MANAGER_DN = f"cn=admin,{BASE_DN}"
PASSWORD_ENV = "ACCESSAUDIT_BENCH_PASSWORD"
MEASUREMENTS = (
    "ldapsearch",
    "ldap3 bare",
    "python-ldap bare",
    "read_entries ldap3",
    "read_entries python-ldap",
    "collect ldap3",
    "collect python-ldap",
)


def _search_plan() -> tuple[list[str], list[str]]:
    from accessaudit.connectors import find_manifests
    from accessaudit.connectors.base import SourceSettings
    from accessaudit.connectors.ldap.mapping import attributes_to_request
    from accessaudit.connectors.ldap.options import LdapOptions

    manifest = find_manifests()["openldap"]
    settings = SourceSettings(
        "bench", "openldap", options={"url": "ldap://x", "base_dn": BASE_DN, "backend": "ldap3"}
    )
    options = LdapOptions.from_settings(settings, manifest)
    return list(options.filters), attributes_to_request(manifest)


def _peak_kb() -> int:
    """This process's peak resident memory (VmHWM): unlike ru_maxrss it starts afresh at
    exec, so it does not inherit the size of the benchmark process that spawned us."""
    status = Path("/proc/self/status").read_text(encoding="ascii")
    return int(status.split("VmHWM:")[1].split()[0])


def _measure(
    name: str, url: str, ca: str, page_size: int, plan: tuple[list[str], list[str]]
) -> dict[str, Any]:
    """Run one reader in this (fresh) process; entries read, seconds, peak RSS.

    The plan (filters, attributes) comes from the parent, so the ``ldapsearch`` measurement
    imports nothing heavy: a forked child's ru_maxrss starts at its parent's size.
    """
    filters, attributes = plan
    password = os.environ[PASSWORD_ENV]
    baseline_kb = _peak_kb()
    started = time.perf_counter()
    entries = 0
    if name == "ldapsearch":
        # GNU time reports the child's peak (wait4 rusage); time itself is tiny, so the
        # figure is ldapsearch's own.
        peak_kb = 0
        for search_filter in filters:
            with subprocess.Popen(
                [
                    *("/usr/bin/time", "-f", "%M", "ldapsearch", "-LLL", "-x", "-H", url),
                    *("-D", MANAGER_DN, "-w", password, "-b", BASE_DN),
                    *("-E", f"pr={page_size}/noprompt", search_filter, *attributes),
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env={**os.environ, "LDAPTLS_CACERT": ca},
            ) as process:
                assert process.stdout is not None
                assert process.stderr is not None
                entries += sum(1 for line in process.stdout if line.startswith(b"dn: "))
                peak_kb = max(peak_kb, int(process.stderr.read().split()[-1]))
        baseline_kb = 0
    elif name == "ldap3 bare":
        import ssl

        import ldap3

        tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=ca)
        host, port = url.rsplit("/", 1)[-1].rsplit(":", 1)
        server = ldap3.Server(host, int(port), use_ssl=True, tls=tls, get_info=ldap3.NONE)
        conn = ldap3.Connection(server, MANAGER_DN, password, auto_bind=True)
        for search_filter in filters:
            cookie: bytes | None = None
            while True:
                conn.search(
                    BASE_DN,
                    search_filter,
                    attributes=attributes,
                    paged_size=page_size,
                    paged_cookie=cookie,
                )
                entries += sum(1 for item in conn.response if item["type"] == "searchResEntry")
                control = conn.result["controls"]["1.2.840.113556.1.4.319"]["value"]
                cookie = control["cookie"]
                if not cookie:
                    break
        peak_kb = _peak_kb()
    elif name == "python-ldap bare":
        import ldap
        from ldap.controls import SimplePagedResultsControl

        conn = ldap.initialize(url)
        conn.set_option(ldap.OPT_X_TLS_CACERTFILE, ca)
        conn.set_option(ldap.OPT_X_TLS_NEWCTX, 0)
        conn.simple_bind_s(MANAGER_DN, password)
        for search_filter in filters:
            control = SimplePagedResultsControl(True, size=page_size, cookie=b"")
            while True:
                msgid = conn.search_ext(
                    BASE_DN, ldap.SCOPE_SUBTREE, search_filter, attributes, serverctrls=[control]
                )
                _, data, _, controls = conn.result3(msgid)
                entries += sum(1 for dn, _ in data if dn)
                cookie = next(c.cookie for c in controls if c.controlType == control.controlType)
                if not cookie:
                    break
                control.cookie = cookie
        peak_kb = _peak_kb()
    else:
        import pandas as pd

        from accessaudit.connectors import CollectContext, SourceSettings, find_manifests
        from accessaudit.connectors.ldap import collect
        from accessaudit.connectors.ldap.live import read_entries

        kind, backend = name.split(" ", 1)
        settings = SourceSettings(
            "bench",
            "openldap",
            options={
                "url": url,
                "base_dn": BASE_DN,
                "bind_dn": MANAGER_DN,
                "password_env": PASSWORD_ENV,
                "ca_bundle": ca,
                "backend": backend,
                "page_size": page_size,
            },
        )
        manifest = find_manifests()["openldap"]
        context = CollectContext(as_of=pd.Timestamp.now(tz="UTC"))
        baseline_kb = _peak_kb()
        started = time.perf_counter()
        if kind == "read_entries":
            entries = sum(1 for _ in read_entries(settings, manifest, context))
        else:
            result = collect(settings, manifest, context)
            entries = len(result.tables["accounts"]) + len(result.tables["groups"])
        peak_kb = _peak_kb()
    seconds = time.perf_counter() - started
    return {
        "name": name,
        "entries": entries,
        "seconds": seconds,
        "peak_mb": peak_kb / 1024,
        "growth_mb": (peak_kb - baseline_kb) / 1024,
    }


def _run(name: str, server: Any, page_size: int, plan: str) -> dict[str, Any]:
    from servers.slapd import MANAGER_PASSWORD

    done = subprocess.run(
        [
            sys.executable,
            __file__,
            "--plan",
            plan,
            "--measure",
            name,
            "--url",
            server.ldaps_url,
            "--ca",
            str(server.ca_cert),
            "--page-size",
            str(page_size),
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, PASSWORD_ENV: MANAGER_PASSWORD},
    )
    if done.returncode != 0:
        return {"name": name, "error": done.stderr.strip().splitlines()[-1:]}
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> int:
    """Load the directory, run every measurement, print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--groups", type=int, help="default: users / 20")
    parser.add_argument("--big-groups", type=int, default=3, help="groups of --big-size members")
    parser.add_argument("--big-size", type=int, default=12_000)
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--only", action="append", choices=MEASUREMENTS)
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--ca", help=argparse.SUPPRESS)
    parser.add_argument("--plan", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        filters, attributes = json.loads(args.plan)
        result = _measure(args.measure, args.url, args.ca, args.page_size, (filters, attributes))
        print(json.dumps(result))
        return 0
    plan = json.dumps(_search_plan())

    from tabulate import tabulate

    from servers.slapd import Slapd, org_ldif

    groups = args.groups if args.groups is not None else max(1, args.users // 20)
    with tempfile.TemporaryDirectory(prefix="ldap-bench-") as tmp:
        folder = Path(tmp)
        server = Slapd(folder / "slapd")
        server.configure()
        started = time.perf_counter()
        ldif = org_ldif(
            folder / "org.ldif",
            users=args.users,
            groups=groups,
            big_groups=args.big_groups,
            big_group_size=args.big_size,
        )
        server.slapadd(ldif)
        loaded = time.perf_counter() - started
        print(
            f"loaded {args.users:,} users, {groups + 2 + args.big_groups:,} groups "
            f"(+{(args.users + 49) // 50:,} posixGroups; {args.big_groups} with "
            f"{min(args.big_size, args.users):,} members) with slapadd in {loaded:.1f} s",
            file=sys.stderr,
        )
        server.start()
        rows = []
        try:
            for name in args.only or MEASUREMENTS:
                print(f"measuring {name} ...", file=sys.stderr)
                result = _run(name, server, args.page_size, plan)
                if "error" in result:
                    rows.append([name, "failed", "", "", "", " ".join(result["error"])])
                    continue
                rows.append(
                    [
                        name,
                        f"{result['entries']:,}",
                        f"{result['seconds']:.2f}",
                        f"{result['entries'] / result['seconds']:,.0f}",
                        f"{result['peak_mb']:.0f}",
                        f"{result['growth_mb']:.0f}",
                    ]
                )
        finally:
            server.stop()
    print(
        tabulate(
            rows,
            headers=["reader", "entries", "seconds", "entries/s", "peak RSS MB", "growth MB"],
            colalign=("left", "right", "right", "right", "right", "right"),
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
