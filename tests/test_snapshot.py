"""Snapshot save / load / verify: atomic, hashed, schema-checked."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from accessaudit import Snapshot, SnapshotError, SourceError, verify_snapshot
from accessaudit.model import SCHEMA_VERSION, TABLES


def _snapshot() -> Snapshot:
    accounts = pd.DataFrame(
        {
            "account_id": ["corp:1", "corp:2"],
            "system": "corp",
            "native_id": ["1", "2"],
            "login": ["alice", '=HYPERLINK("http://x")'],
            "kind": "user",
            "enabled": [True, False],
            "last_sign_in": ["2026-10-01T08:00:00Z", None],
            "mfa": [True, None],
        }
    )
    people = pd.DataFrame(
        {
            "person_id": ["E1"],
            "name": ["Zoë Ångström"],
            "status": "active",
            "worker_type": "employee",
            "system": "hr",
        }
    )
    return Snapshot.from_tables({"accounts": accounts, "people": people}, as_of="2026-11-21")


def test_saved_snapshot_loads_back_identical(tmp_path: Path) -> None:
    original = _snapshot()
    original.save(tmp_path / "snap")
    loaded = Snapshot.load(tmp_path / "snap")
    for name in TABLES:
        if name in original.tables:
            pd.testing.assert_frame_equal(loaded.tables[name], original.tables[name])
    assert loaded.as_of == original.as_of
    assert loaded.snapshot_id is not None and len(loaded.snapshot_id) == 64


def test_optional_columns_an_older_snapshot_lacks_read_as_their_defaults(
    tmp_path: Path,
) -> None:
    # A snapshot written before optional columns existed: its tables hold the required
    # columns only, and loading adds the rest, empty or with their default.
    from accessaudit.model import STORED_TABLES

    original = _snapshot()
    folder = original.save(tmp_path / "snap")
    for name, schema in STORED_TABLES.items():
        required = [c.name for c in schema.columns if c.required]
        frame = original.tables[name][required]
        frame.to_parquet(folder / f"{name}.parquet", index=False)
    loaded = Snapshot.load(folder, verify=False)
    for name, schema in STORED_TABLES.items():
        table = loaded.tables[name]
        assert tuple(table.columns) == schema.column_names
        for column in schema.columns:
            if column.required:
                continue
            expected = pd.Series(column.default, index=table.index, dtype=object)
            pd.testing.assert_series_equal(
                table[column.name], expected.astype(column.dtype()), check_names=False
            )


def test_manifest_records_as_of_versions_rows_and_hashes(tmp_path: Path) -> None:
    _snapshot().save(tmp_path / "snap")
    manifest = json.loads((tmp_path / "snap" / "manifest.json").read_text())
    assert manifest["as_of"].startswith("2026-11-21")
    assert manifest["schema_version"] == SCHEMA_VERSION
    assert manifest["library_version"]
    assert manifest["tables"]["accounts"]["rows"] == 2
    assert len(manifest["tables"]["accounts"]["sha256"]) == 64


@pytest.mark.parametrize("table", sorted(TABLES.keys() - {"effective_memberships", "access"}))
def test_appending_a_byte_to_any_table_makes_verify_name_it(tmp_path: Path, table: str) -> None:
    folder = _snapshot().save(tmp_path / "snap")
    assert verify_snapshot(folder) == []
    with (folder / f"{table}.parquet").open("ab") as stream:
        stream.write(b"\0")
    problems = verify_snapshot(folder)
    assert len(problems) == 1 and problems[0].startswith(f"{table}.parquet:")
    with pytest.raises(SnapshotError, match=f"{table}.parquet"):
        Snapshot.load(folder)


def test_a_stray_or_missing_file_is_reported(tmp_path: Path) -> None:
    folder = _snapshot().save(tmp_path / "snap")
    (folder / "notes.txt").write_text("hello")
    (folder / "grants.parquet").unlink()
    problems = verify_snapshot(folder)
    assert any(p.startswith("grants.parquet: missing") for p in problems)
    assert any(p.startswith("notes.txt: not listed") for p in problems)


def test_save_replaces_an_old_snapshot_and_leaves_no_temporary_folders(tmp_path: Path) -> None:
    _snapshot().save(tmp_path / "snap")
    _snapshot().save(tmp_path / "snap")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["snap"]
    assert verify_snapshot(tmp_path / "snap") == []


def test_save_refuses_to_overwrite_a_folder_that_is_not_a_snapshot(tmp_path: Path) -> None:
    (tmp_path / "report").mkdir()
    (tmp_path / "report" / "important.xlsx").write_text("keep me")
    with pytest.raises(SnapshotError, match="not a snapshot"):
        _snapshot().save(tmp_path / "report")
    assert (tmp_path / "report" / "important.xlsx").read_text() == "keep me"


def test_a_failed_save_leaves_nothing_behind(tmp_path: Path) -> None:
    snapshot = _snapshot()
    snapshot._tables["accounts"] = snapshot.accounts.assign(bad=[object(), object()])
    with pytest.raises(Exception, match=r".+"):
        snapshot.save(tmp_path / "snap")
    assert list(tmp_path.iterdir()) == []


def test_from_tables_reports_every_bad_row_with_its_position() -> None:
    bad = pd.DataFrame(
        {
            "person_id": ["E1", "E1", "E3"],
            "name": ["a", "b", None],
            "status": ["active", "gone", "leave"],
            "worker_type": "employee",
            "system": "hr",
        }
    )
    with pytest.raises(SourceError) as caught:
        Snapshot.from_tables({"people": bad}, as_of="2026-11-21")
    failures = caught.value.failures
    assert failures is not None
    assert set(failures["problem"]) >= {"duplicate key", "empty but required"}
    assert "row 2" in str(caught.value)


def test_load_of_a_folder_without_manifest_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SnapshotError, match="manifest.json is missing"):
        Snapshot.load(tmp_path)


def test_a_table_that_is_not_parquet_any_more_is_reported_as_altered(tmp_path: Path) -> None:
    # The files are hashed while they are read: a file that no longer parses must still be
    # reported as not matching the manifest, not as whatever the Parquet reader says.
    folder = _snapshot().save(tmp_path / "snap")
    (folder / "memberships.parquet").write_bytes(b"not a parquet file")
    with pytest.raises(SnapshotError, match="memberships.parquet: SHA-256 differs"):
        Snapshot.load(folder)
    (folder / "memberships.parquet").unlink()
    with pytest.raises(SnapshotError, match="memberships.parquet: missing"):
        Snapshot.load(folder)


def _memberships(member_type: pd.Categorical) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "group_id": pd.array(["corp:g1", "corp:g1", "corp:g2", "corp:g2"], dtype="str"),
            "member_id": pd.array(["corp:1", "corp:g2", "corp:Zoë", "x"], dtype="str"),
            "member_type": member_type,
            "assignment": pd.Categorical(["active", "eligible", "active", "active"]),
        }
    )


@pytest.mark.parametrize(
    "categories",
    [
        ["account", "group"],  # a shorter, older list: codes kept as they are
        ["account", "group", "unresolved", "link", "external"],  # the whole list
        ["group", "account", "unresolved"],  # another order: recoded
        ["account", "group", "retired-word"],  # a word no longer allowed: missing
    ],
)
def test_categories_as_stored_read_back_as_through_strings(
    tmp_path: Path, categories: list[str]
) -> None:
    folder = _snapshot().save(tmp_path / "snap")
    words = ["account", "group", categories[-1], "account"]
    written = _memberships(pd.Categorical(words, categories=categories))
    written.to_parquet(folder / "memberships.parquet", index=False)
    loaded = Snapshot.load(folder, verify=False).memberships
    dtype = TABLES["memberships"].column_index["member_type"].dtype()
    words_read = written["member_type"].astype("string")
    expected = pd.Series(
        pd.Categorical(words_read.where(words_read.isin(dtype.categories)), dtype=dtype),
        name="member_type",
    )
    pd.testing.assert_series_equal(loaded["member_type"], expected)
    assert loaded["member_type"].cat.codes.dtype == expected.cat.codes.dtype


def test_empty_tables_empty_columns_and_non_ascii_ids_load_back_identical(tmp_path: Path) -> None:
    groups = pd.DataFrame(
        {
            "group_id": ["ad:Ünïcødé", "ad:組"],
            "system": "ad",
            "native_id": ["Ü", "組"],
            "name": ["Zoë's team", "組織"],
            "kind": "group",
            "description": [None, None],
        }
    )
    memberships = pd.DataFrame(
        {
            "group_id": ["ad:Ünïcødé", "ad:組"],
            "member_id": ["ad:組", "ad:😀"],
            "member_type": ["group", "unresolved"],
            "assignment": "active",
        }
    )
    original = Snapshot.from_tables(
        {"groups": groups, "memberships": memberships}, as_of="2026-11-21"
    )
    original.save(tmp_path / "snap")
    loaded = Snapshot.load(tmp_path / "snap")
    for name, table in original.tables.items():
        pd.testing.assert_frame_equal(loaded.tables[name], table)
    assert loaded.accounts.empty and loaded.groups["description"].isna().all()
