"""How fast, and in how much memory, the whole audit runs on a large organisation.

Generates the sample organisation at benchmark size (``accessaudit.sample.generate_organisation``:
200,000 people and their accounts, 20,000 groups nested up to 6 levels, 5,000,000 direct
memberships), turns it into snapshot tables, saves it as a snapshot, then times each stage of
an audit of the saved snapshot in one process:

* ``load``          Snapshot.load (Parquet, hashes verified)
* ``correlation``   identity.correlate_accounts (normally done once, at collection)
* ``nesting``       effective memberships (any depth, cycles tolerated)
* ``access``        effective access (account × resource)
* one line per rule, then ``audit total`` (load + nesting + access + rules)
* ``excel``         write_report of the whole result (not part of the target)

Peak memory is the process's VmHWM after the audit (before Excel). Next to it, in a fresh
subprocess of its own (so its peak memory is its own), a plain-pandas baseline on the same
saved tables: string-key merges for nesting and for two rules (excess-privilege and
peer-outlier), the way one would write them without integer codes.

Finally, tracemalloc measures the peak Python allocation of a workbook whose Findings sheet
has 100,000 rows (streamed, write-only) — memory, never timed in tests.

    python bench/audit_bench.py                 # full size (target: audit < 20 s, < 6 GB)
    python bench/audit_bench.py --scale 0.05    # a quick run

``--cli SNAPSHOT`` times the real command instead, ``accessaudit audit --config FILE
--snapshot SNAPSHOT --format json --as-of DATE``, each run in a fresh process: wall seconds,
user and system CPU seconds, peak RSS and minor page faults of the child (``os.wait4``).
With ``--previous SRC`` (the ``src`` folder of another checkout, e.g. a ``git worktree`` of
main) the previous code runs the same command in the same session, alternating with ours,
and the two JSON documents must be byte-identical:

    python bench/audit_bench.py --cli /tmp/speed/full/snapshot --config /tmp/bench-audit.toml \\
        --as-of 2026-11-21 --runs 3 --previous /tmp/e2e-base/src
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pandas as pd

FULL = {"people": 200_000, "groups": 20_000, "memberships": 5_000_000, "nesting_depth": 6}


def peak_rss_mb() -> float:
    """This process's peak resident memory in MB.

    VmHWM from /proc (Linux) belongs to this program image alone; ru_maxrss, the fallback,
    survives exec and would show a child the parent's peak.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak() -> None:
    """Start a new peak (VmHWM) for this process, so each stage reports its own (Linux)."""
    with suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


@contextmanager
def stage(
    timings: dict[str, float], name: str, peaks: dict[str, float] | None = None
) -> Iterator[None]:
    reset_peak()
    started, cpu = time.perf_counter(), time.process_time()
    yield
    timings[name] = time.perf_counter() - started
    used = time.process_time() - cpu
    peak = peak_rss_mb()
    if peaks is not None:
        peaks[name] = peak
    print(
        f"  {name:<28} {timings[name]:8.2f} s  cpu {used:6.2f} s  (stage peak RSS {peak:,.0f} MB)",
        flush=True,
    )


# --- the organisation as snapshot tables --------------------------------------------------


def _prefixed(values: pd.Series, prefix: str) -> pd.Series:
    """``prefix + value`` computed on the categories only (millions of rows, few values)."""
    cat = values.astype("category")
    categories = prefix + cat.cat.categories.astype(str)
    return pd.Series(pd.Categorical.from_codes(cat.cat.codes, categories=categories)).astype(str)


def snapshot_tables(org: Any) -> dict[str, pd.DataFrame]:
    """The generator's truth tables as stored snapshot tables (vectorised)."""
    from accessaudit.model import TABLES

    people = org.people.rename(columns={"employee_id": "person_id"}).assign(system="hr")
    users = org.users
    kind = users["kind"].replace({"builtin": "service", "gmsa": "service"})
    accounts = pd.DataFrame(
        {
            "account_id": "corp:" + users["login"],
            "system": "corp",
            "native_id": users["sid"],
            "login": users["login"],
            "display_name": users["display_name"],
            "email": users["email"],
            "employee_id": users["employee_id"],
            "department": users["department"],
            "dn": users["dn"],
            "sid": users["sid"],
            "kind": kind,
            "enabled": users["enabled"],
            "created": users["created"],
            "last_sign_in": users["last_logon"],
            "password_last_set": users["pwd_last_set"],
            "password_never_expires": users["password_never_expires"],
        }
    )
    groups = pd.DataFrame(
        {
            "group_id": "corp:" + org.groups["name"],
            "system": "corp",
            "native_id": org.groups["sid"],
            "name": org.groups["name"],
            "kind": "group",
            "privileged": org.groups["privileged"],
            "dn": org.groups["dn"],
            "sid": org.groups["sid"],
        }
    )
    edges = org.memberships
    member_type = edges["member_type"].map(
        {"user": "account", "group": "group", "foreign": "unresolved"}
    )
    memberships = pd.DataFrame(
        {
            "group_id": _prefixed(edges["group"], "corp:"),
            "member_id": _prefixed(edges["member"], "corp:"),
            "member_type": member_type.astype(str),
            "assignment": "active",
        }
    )
    inventory = org.resources
    resources = pd.DataFrame(
        {
            "resource_id": inventory["system"] + ":" + inventory["resource"],
            "system": inventory["system"],
            "name": inventory["resource"],
            "type": inventory["type"],
            "path": inventory["path"],
            "owner": inventory["owner"],
            "sensitivity": inventory["sensitivity"],
            "data_categories": inventory["data_categories"],
            "retention_days": inventory["retention_days"],
            "last_modified": inventory["last_modified"],
            "third_parties": inventory["third_parties"],
        }
    )
    by_name = pd.Series(resources["resource_id"].to_numpy(), index=resources["name"])
    grants = pd.DataFrame(
        {
            "principal_id": "corp:" + org.grants["principal"],
            "principal_type": "group",
            "resource_id": org.grants["resource"].map(by_name),
            "right": org.grants["right"],
            "system": "apps",
        }
    ).dropna(subset=["resource_id"])
    frames = {
        "people": people,
        "accounts": accounts,
        "groups": groups,
        "memberships": memberships,
        "resources": resources,
        "grants": grants,
    }
    return {name: TABLES[name].conform(frame, source=name) for name, frame in frames.items()}


# --- the plain-pandas baseline --------------------------------------------------------------


def naive_nesting(groups: pd.DataFrame, memberships: pd.DataFrame, depth: int) -> pd.DataFrame:
    """Account → group at any depth by repeated string merges, paths as Python strings."""
    names = groups.set_index("group_id")["name"].astype(object)
    direct = memberships[memberships["member_type"] == "account"][["member_id", "group_id"]]
    direct = direct.rename(columns={"member_id": "account_id"}).astype(object)
    direct["path"] = direct["group_id"].map(names)
    nested = memberships[memberships["member_type"] == "group"][["member_id", "group_id"]]
    nested = nested.rename(columns={"member_id": "child", "group_id": "parent"}).astype(object)
    levels = [direct.assign(depth=1)]
    frontier = direct
    for level in range(2, depth + 2):
        step = frontier.merge(nested, left_on="group_id", right_on="child")
        if step.empty:
            break
        step = pd.DataFrame(
            {
                "account_id": step["account_id"],
                "group_id": step["parent"],
                "path": step["path"] + " > " + step["parent"].map(names),
                "depth": level,
            }
        )
        levels.append(step)
        frontier = step
    every = pd.concat(levels, ignore_index=True)
    return every.sort_values("depth").drop_duplicates(["account_id", "group_id"])


def naive_excess_privilege(
    accounts: pd.DataFrame, groups: pd.DataFrame, effective: pd.DataFrame, approved: set[str]
) -> pd.DataFrame:
    joined = effective.merge(groups[["group_id", "name", "privileged"]], on="group_id").merge(
        accounts[["account_id", "login", "enabled"]], on="account_id"
    )
    joined = joined[joined["privileged"] & joined["enabled"]]
    key = joined["name"].astype(str) + "|" + joined["login"].astype(str)
    return joined[~key.isin(approved)]


def naive_peer_outlier(
    people: pd.DataFrame, accounts: pd.DataFrame, effective: pd.DataFrame, share: float, size: int
) -> pd.DataFrame:
    held = (
        effective.merge(accounts[["account_id", "person_id"]], on="account_id")
        .merge(people[["person_id", "department"]], on="person_id")[
            ["person_id", "department", "group_id"]
        ]
        .drop_duplicates()
    )
    department_size = people.groupby("department").size().rename("size")
    holders = held.groupby(["department", "group_id"]).size().rename("holders")
    held = held.join(holders, on=["department", "group_id"]).join(department_size, on="department")
    held["share"] = (held["holders"] - 1) / (held["size"] - 1)
    return held[(held["size"] >= size) & (held["share"] < share)]


def run_baseline(folder: Path) -> dict[str, Any]:
    """The baseline on a saved snapshot; run in its own process."""
    from accessaudit.snapshot import Snapshot

    timings: dict[str, float] = {}
    snapshot = Snapshot.load(folder, verify=False)
    tables = {n: f.astype(object) for n, f in snapshot.tables.items()}
    with stage(timings, "baseline nesting (merge)"):
        effective = naive_nesting(tables["groups"], tables["memberships"], 8)
    with stage(timings, "baseline excess-privilege"):
        naive_excess_privilege(tables["accounts"], tables["groups"], effective, set())
    with stage(timings, "baseline peer-outlier"):
        naive_peer_outlier(tables["people"], tables["accounts"], effective, 0.1, 5)
    return {"timings": timings, "rows": len(effective), "peak_rss_mb": peak_rss_mb()}


# --- the benchmark ------------------------------------------------------------------------


def measure_streaming(result: Any, snapshot: Any, rows: int, folder: Path) -> dict[str, float]:
    """Peak Python allocation (tracemalloc) writing a workbook with ``rows`` findings."""
    from dataclasses import replace

    from accessaudit.reports.excel import write_report

    findings = result.findings
    if len(findings) == 0:
        return {}
    repeat = -(-rows // len(findings))
    big = pd.concat([findings] * repeat, ignore_index=True).head(rows)
    big["finding_id"] = [f"{i:016x}" for i in range(len(big))]
    big_result = replace(result, findings=big)
    small = _small_snapshot(snapshot)
    tracemalloc.start()
    started = time.perf_counter()
    write_report(folder / "streaming.xlsx", big_result, small)
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    frame_mb = big.memory_usage(deep=True).sum() / 2**20
    return {
        "rows": rows,
        "seconds": seconds,
        "peak_mb": peak / 2**20,
        "findings_frame_mb": frame_mb,
    }


def _small_snapshot(snapshot: Any) -> Any:
    """A snapshot with the first 1,000 accounts, so the streaming test is about Findings."""
    from accessaudit.snapshot import Snapshot

    tables = dict(snapshot.tables)
    tables["accounts"] = tables["accounts"].head(1000)
    tables["memberships"] = tables["memberships"].head(0)
    tables["grants"] = tables["grants"].head(0)
    return Snapshot.from_tables(tables, as_of=snapshot.as_of)


def run_stages(folder: Path, work: Path, *, excel: bool, check: bool) -> dict[str, Any]:
    """Every audit stage on the saved snapshot, in this (fresh) process."""
    from accessaudit.audit import run_audit
    from accessaudit.policy import Policy
    from accessaudit.rules import RULES
    from accessaudit.rules._context import RuleContext
    from accessaudit.snapshot import Snapshot

    policy_mapping = json.loads((work / "policy.json").read_text())
    policy = Policy.from_mapping(policy_mapping, origin="sample policy")
    timings: dict[str, float] = {}
    peaks: dict[str, float] = {}
    print("audit of the saved snapshot:", flush=True)
    with stage(timings, "load", peaks):
        snapshot = Snapshot.load(folder)
    counts = {name: len(frame) for name, frame in snapshot.tables.items()}
    with stage(timings, "nesting", peaks):
        effective = snapshot.effective_memberships
    with stage(timings, "access", peaks):
        access = snapshot.access
    counts["effective_memberships"], counts["access"] = len(effective), len(access)
    context = RuleContext(snapshot, policy, snapshot.as_of)
    with stage(timings, "integer codes (shared)", peaks):
        _ = context.em_account, context.em_group, context.privileged_memberships
    rule_times: dict[str, float] = {}
    for rule_id, spec in RULES.items():
        with stage(rule_times, f"rule {rule_id}"):
            spec.function(context, policy, snapshot.as_of)
    with stage(timings, "run_audit (all rules, fresh)", peaks):
        result = run_audit(snapshot, policy)
    audit_total = (
        timings["load"] + timings["nesting"] + timings["access"]
        + timings["run_audit (all rules, fresh)"]
    )  # fmt: skip
    timings["nesting + access + rules"] = (
        timings["nesting"] + timings["access"] + timings["run_audit (all rules, fresh)"]
    )
    timings["audit total"] = audit_total
    audit_peak = max(peaks.values())
    print(f"  {'audit total':<28} {audit_total:8.2f} s   (peak RSS {audit_peak:,.0f} MB)")
    print(f"  findings: {len(result.findings):,}  tables: {counts}")
    report: dict[str, Any] = {
        "counts": counts,
        "audit_seconds": timings,
        "stage_peak_rss_mb": peaks,
        "rule_seconds": rule_times,
        "audit_peak_rss_mb": audit_peak,
        "findings": len(result.findings),
    }
    if check:
        from previous_nesting import previous_effective_memberships

        with stage(timings, "previous nesting (check)"):
            previous = previous_effective_memberships(snapshot.groups, snapshot.memberships)
        # Identical rows, order, depth, assignment and path text; the path categories may be
        # listed in another order.
        pd.testing.assert_frame_equal(
            effective.assign(path=effective["path"].astype(str)),
            previous.assign(path=previous["path"].astype(str)),
        )
        assert set(effective["path"].cat.categories) == set(previous["path"].cat.categories)
        print("  check: effective memberships identical to the previous implementation")
        report["check"] = "identical"
    if excel:
        with stage(timings, "excel (whole report)", peaks):
            from accessaudit.reports.excel import write_report

            write_report(work / "report.xlsx", result, snapshot)
        report["excel_seconds"] = timings["excel (whole report)"]
    return report


# --- the real command, end to end -----------------------------------------------------------


def time_command(command: list[str], src: Path, out: Path) -> dict[str, float]:
    """Run ``command`` with ``src`` first on the import path, stdout to ``out``; the child's
    wall seconds, user and system CPU seconds and peak RSS (MB)."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    started = time.perf_counter()
    with out.open("wb") as stdout:
        child = subprocess.Popen(command, stdout=stdout, stderr=subprocess.PIPE, env=env)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        assert child.stderr is not None
        errors = child.stderr.read().decode(errors="replace")
        child.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        raise SystemExit(f"{' '.join(command)} exited {code}:\n{errors}")
    return {
        "wall": wall,
        "user": usage.ru_utime,
        "sys": usage.ru_stime,
        "cpu": usage.ru_utime + usage.ru_stime,
        "peak_mb": usage.ru_maxrss / 1024,
        # Minor page faults: memory touched for the first time (system time on this VM).
        "faults": float(usage.ru_minflt),
    }


def run_cli(args: argparse.Namespace) -> dict[str, Any]:
    """``accessaudit audit --format json`` end to end, ours and (optionally) the previous code,
    alternating, ``args.runs`` fresh processes each; documents compared byte for byte."""
    ours = Path(__file__).resolve().parent.parent / "src"
    variants = {"ours": ours} | ({"previous": args.previous} if args.previous else {})
    command = [sys.executable, "-m", "accessaudit", "audit", "--config", str(args.config)]
    command += ["--snapshot", str(args.cli), "--format", "json"]
    command += ["--as-of", args.as_of] if args.as_of else []
    work = Path(tempfile.mkdtemp(prefix="audit-cli-bench-"))
    measured: dict[str, list[dict[str, float]]] = {name: [] for name in variants}
    load = [os.getloadavg()[0]]
    for number in range(args.runs):
        # Alternate who goes first, so neither always runs right after the other's exit.
        names = list(variants) if number % 2 == 0 else list(reversed(variants))
        for name in names:
            figures = time_command(command, variants[name], work / f"{name}-{number}.json")
            measured[name].append(figures)
            print(
                f"  run {number + 1} {name:<9} wall {figures['wall']:6.2f} s  user "
                f"{figures['user']:6.2f} s  sys {figures['sys']:6.2f} s  peak RSS "
                f"{figures['peak_mb']:,.0f} MB  minor faults {figures['faults']:,.0f}",
                flush=True,
            )
        load.append(os.getloadavg()[0])
    first = (work / "ours-0.json").read_bytes()
    for name in variants:
        for number in range(args.runs):
            if (work / f"{name}-{number}.json").read_bytes() != first:
                raise SystemExit(f"{name} run {number + 1}: the JSON document differs")
    print(f"  documents: byte-identical ({len(first):,} bytes, {len(variants) * args.runs} runs)")
    summary: dict[str, Any] = {"load_average_1min": [round(x, 2) for x in load]}
    for name, runs in measured.items():
        summary[name] = {
            key: f"{statistics.median(r[key] for r in runs):.2f} "
            f"({min(r[key] for r in runs):.2f}-{max(r[key] for r in runs):.2f})"
            for key in ("wall", "cpu", "user", "sys", "peak_mb", "faults")
        }
    return summary


def _median_table(runs: list[dict[str, Any]], key: str) -> dict[str, str]:
    names = runs[0][key].keys()
    out = {}
    for name in names:
        values = sorted(run[key][name] for run in runs if name in run[key])
        middle = values[len(values) // 2]
        out[name] = f"{middle:.2f} ({values[0]:.2f}-{values[-1]:.2f})"
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full size")
    parser.add_argument("--runs", type=int, default=1, help="fresh audit processes (median)")
    parser.add_argument("--excel", action="store_true", help="also time the whole Excel report")
    parser.add_argument("--streaming", action="store_true", help="100,000-row tracemalloc stage")
    parser.add_argument("--no-baseline", action="store_true", help="skip the pandas baseline")
    parser.add_argument(
        "--check", action="store_true", help="compare nesting with the previous implementation"
    )
    parser.add_argument("--keep", type=Path, help="keep (and reuse) the snapshot in this folder")
    parser.add_argument(
        "--cli", type=Path, metavar="SNAPSHOT", help="time `accessaudit audit` on this snapshot"
    )
    parser.add_argument("--config", type=Path, help="with --cli: the audit config")
    parser.add_argument("--as-of", help="with --cli: the audit date")
    parser.add_argument(
        "--previous", type=Path, metavar="SRC", help="with --cli: the previous code's src folder"
    )
    parser.add_argument("--baseline-only", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--audit-only", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.cli:
        if args.config is None:
            parser.error("--cli needs --config")
        print(json.dumps(run_cli(args), indent=2))
        return 0
    if args.baseline_only:
        print(json.dumps(run_baseline(args.baseline_only)))
        return 0
    if args.audit_only:
        work = args.audit_only
        report = run_stages(work / "snapshot", work, excel=args.excel, check=args.check)
        print(json.dumps(report, default=str))
        return 0

    from accessaudit.identity import correlate_accounts
    from accessaudit.policy import Policy
    from accessaudit.sample import generate_organisation
    from accessaudit.snapshot import Snapshot

    size = {k: max(int(v * args.scale), 1) for k, v in FULL.items()}
    size["nesting_depth"] = FULL["nesting_depth"]
    size["people"] = max(size["people"], 300)
    print(f"organisation: {size}", flush=True)
    work = args.keep or Path(tempfile.mkdtemp(prefix="audit-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    setup: dict[str, float] = {}
    made = work / "size.json"
    if not (made.is_file() and json.loads(made.read_text()) == size):
        with stage(setup, "generate (not audit)"):
            org = generate_organisation(
                size["people"],
                groups=size["groups"],
                memberships=size["memberships"],
                nesting_depth=size["nesting_depth"],
            )
        with stage(setup, "conform tables (not audit)"):
            tables = snapshot_tables(org)
            policy = Policy.from_mapping(org.policy, origin="sample policy")
        with stage(setup, "correlation"):
            tables["accounts"], _ = correlate_accounts(
                tables["accounts"], tables["people"],
                service_patterns=policy.service_account_patterns,
            )  # fmt: skip
        with stage(setup, "save snapshot (not audit)"):
            Snapshot.from_tables(tables, as_of=org.as_of).save(work / "snapshot")
        (work / "policy.json").write_text(json.dumps(org.policy, default=str))
        made.write_text(json.dumps(size))
        del tables, org

    here = str(Path(__file__).resolve())
    runs: list[dict[str, Any]] = []
    baselines: list[dict[str, Any]] = []
    for number in range(args.runs):
        print(f"run {number + 1} of {args.runs}", flush=True)
        command = [sys.executable, here, "--audit-only", str(work)]
        command += ["--excel"] * args.excel + ["--check"] * args.check
        child = subprocess.run(command, capture_output=True, text=True, check=True)
        print(child.stdout.rsplit("\n", 2)[0])
        runs.append(json.loads(child.stdout.strip().splitlines()[-1]))
        if not args.no_baseline:
            print("plain-pandas baseline (own process):", flush=True)
            child = subprocess.run(
                [sys.executable, here, "--baseline-only", str(work / "snapshot")],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            print(child.stdout.rsplit("\n", 2)[0])
            baselines.append(json.loads(child.stdout.strip().splitlines()[-1]))

    report: dict[str, Any] = {
        "size": size,
        "setup_seconds": setup,
        "counts": runs[0]["counts"],
        "findings": runs[0]["findings"],
        "runs": len(runs),
        "median (min-max) seconds": _median_table(runs, "audit_seconds"),
        "median (min-max) rule seconds": _median_table(runs, "rule_seconds"),
        "median (min-max) stage peak MB": _median_table(runs, "stage_peak_rss_mb"),
    }
    if baselines:
        report["baseline median (min-max) seconds"] = _median_table(baselines, "timings")
        report["baseline peak MB"] = [b["peak_rss_mb"] for b in baselines]
        ours = [r["audit_seconds"]["nesting"] for r in runs]
        theirs = [b["timings"]["baseline nesting (merge)"] for b in baselines]
        report["nesting speed-up vs baseline, per run"] = [
            round(t / o, 1) for o, t in zip(ours, theirs, strict=True)
        ]
    if args.streaming:
        from accessaudit.audit import run_audit

        snapshot = Snapshot.load(work / "snapshot")
        policy = Policy.from_mapping(json.loads((work / "policy.json").read_text()), origin="p")
        report["excel_streaming"] = measure_streaming(
            run_audit(snapshot, policy), snapshot, 100_000, work
        )
    print(json.dumps(report, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
