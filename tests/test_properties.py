"""Property-based tests (Hypothesis) for the readers of our own evidence and configuration:
manifest.json, decisions.jsonl and the audit config. Whatever bytes they are given, they
either read them or raise our own error naming where the problem is — never another
exception — within a time and memory bound."""

from __future__ import annotations

import json
import shutil
import string
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accessaudit.config import load_config
from accessaudit.errors import AccessAuditError, ConfigError, ReviewError, SnapshotError
from accessaudit.policy import Policy
from accessaudit.review import Campaign, create_campaign, read_decision_log
from accessaudit.review.decision_log import append_decisions
from accessaudit.snapshot import MANIFEST_NAME, Snapshot, check_replaceable, verify_snapshot

# Each example must finish within this many seconds and allocate at most this much.
DEADLINE_MS = 2000
PEAK_BYTES = 64 << 20
PROPERTY = settings(
    max_examples=150,
    deadline=DEADLINE_MS,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@contextmanager
def bounded() -> Iterator[None]:
    """Fail the example when the code under test allocates more than PEAK_BYTES."""
    tracemalloc.start()
    try:
        yield
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < PEAK_BYTES, f"peak allocation {peak >> 20} MiB"


def _ours_or_result(read: Callable[[], Any], error: type[AccessAuditError], where: str) -> None:
    """``read()`` returns, or raises ``error`` whose message names ``where``."""
    message = None
    with bounded():
        try:
            read()
        except error as raised:
            message = str(raised)
    assert message is None or where in message, message


# -- manifest.json ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def saved_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    people = pd.DataFrame(
        {
            "person_id": ["E1"],
            "name": ["Ann"],
            "status": ["active"],
            "worker_type": ["employee"],
            "system": ["hr"],
        }
    )
    snapshot = Snapshot.from_tables({"people": people}, as_of="2026-11-21")
    return snapshot.save(tmp_path_factory.mktemp("property") / "snapshot")


def _manifest_variants(original: dict[str, Any]) -> st.SearchStrategy[bytes]:
    """Random bytes, random JSON, and our manifest with one member replaced by anything."""
    keys = sorted(original)
    table_keys = sorted(original["tables"])
    replaced = st.builds(
        lambda key, value: {**original, key: value}, st.sampled_from(keys), json_values
    )
    entry_replaced = st.builds(
        lambda table, field, value: {
            **original,
            "tables": {
                **original["tables"],
                table: {**original["tables"][table], field: value},
            },
        },
        st.sampled_from(table_keys),
        st.sampled_from(["file", "sha256", "rows"]),
        json_values | st.sampled_from(["../x", "/etc/passwd", "", ".", "a\\b", "manifest.json"]),
    )
    as_json = (replaced | entry_replaced | json_values).map(
        lambda value: json.dumps(value).encode("utf-8")
    )
    return as_json | st.binary(max_size=300)


@PROPERTY
@given(data=st.data())
def test_any_manifest_is_read_or_refused_with_its_path(
    saved_snapshot: Path, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    original = json.loads((saved_snapshot / MANIFEST_NAME).read_text(encoding="utf-8"))
    manifest = data.draw(_manifest_variants(original))
    folder = tmp_path_factory.mktemp("manifest") / "snapshot"
    shutil.copytree(saved_snapshot, folder)
    (folder / MANIFEST_NAME).write_bytes(manifest)
    where = str(folder)
    _ours_or_result(lambda: verify_snapshot(folder, digest="0" * 64), SnapshotError, where)
    _ours_or_result(lambda: check_replaceable(folder), SnapshotError, where)
    _ours_or_result(lambda: Snapshot.load(folder), SnapshotError, where)
    shutil.rmtree(folder.parent)


def test_a_deeply_nested_manifest_is_refused(tmp_path: Path) -> None:
    (tmp_path / MANIFEST_NAME).write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    with pytest.raises(SnapshotError, match=MANIFEST_NAME):
        verify_snapshot(tmp_path)


# -- decisions.jsonl -------------------------------------------------------------------


@pytest.fixture(scope="module")
def campaign_with_log(tmp_path_factory: pytest.TempPathFactory) -> Campaign:
    from test_review import POLICY, build_org

    folder = tmp_path_factory.mktemp("property-campaign")
    snapshot = Snapshot.load(build_org().save(folder / "snapshot"))
    campaign = create_campaign(
        snapshot, POLICY, None, by="manager", out=folder / "campaign", fallback_reviewer="E1"
    )
    items = campaign.items.head(4)
    decisions = pd.DataFrame(
        {
            "campaign_id": campaign.id,
            "item_id": items["item_id"].to_numpy(),
            "reviewer_id": items["reviewer_id"].to_numpy(),
            "decision": "keep",
            "comment": "fine",
            "decided_at": "2026-11-22T10:00:00+00:00",
            "source_file": "x.xlsx",
            "file_sha256": "0" * 64,
            "row": range(2, 2 + len(items)),
            "collected_at": "2026-11-22T11:00:00+00:00",
        }
    )
    assert append_decisions(campaign, decisions) == len(items)
    return campaign


def _log_variants(lines: list[bytes]) -> st.SearchStrategy[bytes]:
    """Random bytes, random JSON lines, and the valid log with lines cut, swapped, edited,
    duplicated or truncated."""
    body = b"".join(lines)
    cut = st.integers(0, len(body)).map(lambda n: body[:n])
    dropped = st.integers(0, len(lines) - 1).map(lambda n: b"".join(lines[:n] + lines[n + 1 :]))
    swapped = st.permutations(lines).map(b"".join)
    doubled = st.integers(0, len(lines) - 1).map(lambda n: b"".join([*lines, lines[n]]))
    flipped = st.tuples(st.integers(0, max(0, len(body) - 1)), st.integers(1, 255)).map(
        lambda at: body[: at[0]] + bytes([body[at[0]] ^ at[1]]) + body[at[0] + 1 :]
    )
    json_lines = st.lists(json_values, max_size=4).map(
        lambda values: b"".join(json.dumps(v).encode() + b"\n" for v in values)
    )
    return cut | dropped | swapped | doubled | flipped | json_lines | st.binary(max_size=300)


@PROPERTY
@given(data=st.data())
def test_any_decisions_log_is_read_or_refused_with_its_line(
    campaign_with_log: Campaign, data: st.DataObject
) -> None:
    log = campaign_with_log.decisions_log
    original = log.read_bytes()
    lines = original.splitlines(keepends=True)
    text = data.draw(_log_variants(lines))
    try:
        log.write_bytes(text)
        message, frame = None, None
        with bounded():
            try:
                frame = read_decision_log(campaign_with_log)
            except ReviewError as error:
                message = str(error)
        assert message is None or f"{log}:" in message, message
        # A reader never accepts more lines than were sealed.
        assert frame is None or len(frame) <= len(lines)
    finally:
        log.write_bytes(original)


# -- the audit config ------------------------------------------------------------------

toml_scalars = (
    st.integers(-(2**63), 2**63 - 1).map(str)
    | st.text(string.printable, max_size=12).map(json.dumps)
    | st.sampled_from(["true", "false", "2026-11-21", "1979-05-27T07:32:00Z", "[]", "{}"])
    | st.sampled_from(['"01/02/2026"', '"9999-12-31"', "0001-01-01", "nan", "inf", "1e999"])
)
config_keys = st.sampled_from(
    [
        "as_of",
        "identity_map",
        "connector_paths",
        "name",
        "connector",
        "path",
        "url",
        "password",
        "stale_days",
        "peer_max_share",
        "groups",
        "approved",
        "rule",
        "expires",
        "entitlements",
    ]
) | st.text(string.ascii_letters + "_", min_size=1, max_size=10)
tables = st.sampled_from(
    [
        "[audit]",
        "[[sources]]",
        "[policy]",
        "[policy.privileged]",
        "[[policy.sod]]",
        "[[policy.exceptions]]",
        "[policy.service_accounts]",
        "[other]",
    ]
)


def _config_text() -> st.SearchStrategy[str]:
    line = st.one_of(
        tables,
        st.builds(lambda k, v: f"{k} = {v}", config_keys, toml_scalars),
        st.builds(
            lambda k, v: f"{k} = [{', '.join(v)}]", config_keys, st.lists(toml_scalars, max_size=3)
        ),
    )
    structured = st.lists(line, max_size=15).map("\n".join)
    return structured | st.text(max_size=200)


@PROPERTY
@given(text=_config_text())
def test_any_config_is_read_or_refused_with_its_file(
    tmp_path_factory: pytest.TempPathFactory, text: str
) -> None:
    folder = tmp_path_factory.mktemp("config")
    file = folder / "audit.toml"
    file.write_text(text, encoding="utf-8", errors="surrogatepass")
    _ours_or_result(lambda: load_config(file), ConfigError, str(file))
    shutil.rmtree(folder)


@PROPERTY
@given(raw=st.binary(max_size=200))
def test_any_config_bytes_are_read_or_refused(
    tmp_path_factory: pytest.TempPathFactory, raw: bytes
) -> None:
    folder = tmp_path_factory.mktemp("config-bytes")
    file = folder / "audit.toml"
    file.write_bytes(raw)
    _ours_or_result(lambda: load_config(file), ConfigError, str(file))
    shutil.rmtree(folder)


@PROPERTY
@given(policy=st.dictionaries(config_keys, json_values, max_size=5))
def test_any_policy_table_is_read_or_refused(policy: dict[str, Any]) -> None:
    _ours_or_result(
        lambda: Policy.from_mapping(policy, origin="audit.toml"), ConfigError, "audit.toml"
    )


def test_a_deeply_nested_config_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "audit.toml"
    file.write_text("x = " + "[" * 50_000 + "]" * 50_000 + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="audit.toml"):
        load_config(file)
