"""The evidence chain: folders that are not ours are never replaced, the snapshot digest and
signature catch an edited table even when the manifest is re-hashed, and a manifest cannot
point outside its folder."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from accessaudit._evidence import canonical_manifest, load_signing_key
from accessaudit.cli import main
from accessaudit.errors import ConfigError, SnapshotError
from accessaudit.snapshot import MANIFEST_NAME, Snapshot, snapshot_digest, verify_snapshot

AS_OF = "2026-11-21"
HR = (
    "employee_id,name,email,department,title,manager_id,status,worker_type,start_date,end_date\n"
    "E1,Ann,ann@corp.example,Finance,CFO,,active,employee,2020-01-01,\n"
)


def _snapshot() -> Snapshot:
    people = pd.DataFrame(
        {
            "person_id": ["E1", "E2"],
            "name": ["Ann", "Bob"],
            "status": ["active", "terminated"],
            "worker_type": ["employee", "employee"],
            "system": ["hr", "hr"],
        }
    )
    return Snapshot.from_tables({"people": people}, as_of=AS_OF)


def _config(tmp_path: Path) -> Path:
    (tmp_path / "hr.csv").write_text(HR, encoding="utf-8")
    config = tmp_path / "audit.toml"
    config.write_text(
        '[audit]\nas_of = "2026-11-21"\n[[sources]]\nname = "hr"\nconnector = "hr-csv"\n'
        'path = "hr.csv"\n',
        encoding="utf-8",
    )
    return config


def _tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes, to prove nothing changed."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _user_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "my-documents"
    folder.mkdir()
    (folder / MANIFEST_NAME).write_text('{"my": "own manifest"}\n', encoding="utf-8")
    (folder / "thesis.docx").write_bytes(b"years of work")
    (folder / "notes").mkdir()
    (folder / "notes" / "todo.txt").write_text("finish chapter 3", encoding="utf-8")
    return folder


def _key_files(tmp_path: Path, passphrase: bytes | None = None) -> tuple[Path, Path]:
    key = Ed25519PrivateKey.generate()
    private = tmp_path / "audit-key.pem"
    public = tmp_path / "audit-key.pub"
    encryption = BestAvailableEncryption(passphrase) if passphrase else NoEncryption()
    private.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, encryption))
    public.write_bytes(
        key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    )
    return private, public


def _rehash_after_editing_a_table(folder: Path) -> None:
    """What an insider would do: change a table, then fix its hash in the manifest."""
    people = pd.read_parquet(folder / "people.parquet")
    people.loc[0, "name"] = "Mallory"
    people.to_parquet(folder / "people.parquet", index=False)
    manifest = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
    manifest["tables"]["people"]["sha256"] = hashlib.sha256(
        (folder / "people.parquet").read_bytes()
    ).hexdigest()
    (folder / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2), encoding="utf-8")


# -- nothing lost ------------------------------------------------------------------------


def test_user_folder_with_a_manifest_json_survives_snapshot_save(tmp_path: Path) -> None:
    folder = _user_folder(tmp_path)
    before = _tree(folder)
    with pytest.raises(SnapshotError, match="not an accessaudit snapshot"):
        _snapshot().save(folder)
    assert _tree(folder) == before


def test_collect_refuses_a_user_folder_before_collecting_and_leaves_it_byte_for_byte(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _user_folder(tmp_path)
    before = _tree(folder)
    status = main(["collect", "--config", str(_config(tmp_path)), "--out", str(folder)])
    assert status == 2
    assert "left untouched" in capsys.readouterr().err
    assert _tree(folder) == before


def test_a_snapshot_folder_holding_one_extra_file_is_not_replaced(tmp_path: Path) -> None:
    folder = _snapshot().save(tmp_path / "snap")
    (folder / "auditor-notes.txt").write_text("keep me", encoding="utf-8")
    before = _tree(folder)
    with pytest.raises(SnapshotError, match=r"auditor-notes\.txt"):
        _snapshot().save(folder)
    assert _tree(folder) == before


def test_a_snapshot_of_another_schema_version_is_not_replaced(tmp_path: Path) -> None:
    folder = _snapshot().save(tmp_path / "snap")
    manifest = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
    manifest["schema_version"] = 999
    (folder / MANIFEST_NAME).write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(SnapshotError, match="schema version 999"):
        _snapshot().save(folder)


def test_our_own_snapshot_is_replaced(tmp_path: Path) -> None:
    folder = _snapshot().save(tmp_path / "snap")
    again = _snapshot().save(folder)
    assert verify_snapshot(again) == []


def test_out_naming_a_file_is_refused_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "report.txt"
    target.write_text("mine", encoding="utf-8")
    status = main(["collect", "--config", str(_config(tmp_path)), "--out", str(target)])
    assert status == 2
    assert "not a folder" in capsys.readouterr().err
    assert target.read_text(encoding="utf-8") == "mine"


def test_demo_refuses_a_folder_it_did_not_write(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "home"
    folder.mkdir()
    (folder / "report.xlsx").write_bytes(b"the user's own report")
    (folder / "budget.xlsx").write_bytes(b"numbers")
    before = _tree(folder)
    assert main(["demo", "--out", str(folder), "--size", "200", "--no-progress"]) == 2
    assert "left untouched" in capsys.readouterr().err
    assert _tree(folder) == before


def test_campaign_and_remediation_refuse_an_out_that_is_a_file(tmp_path: Path) -> None:
    from accessaudit.errors import ReviewError
    from accessaudit.policy import Policy
    from accessaudit.review import create_campaign

    target = tmp_path / "campaign"
    target.write_text("mine", encoding="utf-8")
    with pytest.raises(ReviewError, match="not a folder"):
        create_campaign(_snapshot(), Policy(), None, by="manager", out=target)
    assert target.read_text(encoding="utf-8") == "mine"


# -- the digest ------------------------------------------------------------------------


def test_digest_is_sha256_of_the_sorted_compact_manifest_without_signature(
    tmp_path: Path,
) -> None:
    snapshot = _snapshot()
    folder = snapshot.save(tmp_path / "snap")
    manifest = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
    compact = json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    expected = hashlib.sha256(compact.encode("utf-8")).hexdigest()
    assert snapshot.digest == expected
    assert Snapshot.load(folder).digest == expected
    assert snapshot_digest(folder) == expected
    assert canonical_manifest({**manifest, "signature": {"value": "x"}}) == compact.encode()


def test_collect_prints_the_digest_and_verify_checks_it(tmp_path: Path) -> None:
    out = tmp_path / "snap"
    command = ["collect", "--config", str(_config(tmp_path)), "--out", str(out)]
    done = subprocess.run(
        [sys.executable, "-m", "accessaudit", *command],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    digest = snapshot_digest(out)
    assert f"Snapshot digest (SHA-256 of the manifest; keep it with the evidence): {digest}" in (
        done.stdout
    )
    assert main(["verify", str(out), "--digest", digest]) == 0
    assert main(["verify", str(out), "--digest", "0" * 64]) == 1


def test_editing_a_table_and_rehashing_the_manifest_is_caught_by_digest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snapshot = _snapshot()
    folder = snapshot.save(tmp_path / "snap")
    recorded = snapshot.digest
    assert recorded is not None
    _rehash_after_editing_a_table(folder)
    # The per-file hashes agree again: only the digest the auditor wrote down shows it.
    assert verify_snapshot(folder) == []
    assert main(["verify", str(folder), "--digest", recorded]) == 1
    assert f"is not the expected {recorded}" in capsys.readouterr().err


# -- signing ---------------------------------------------------------------------------


def test_signed_snapshot_verifies_with_the_public_key_and_tampering_fails(tmp_path: Path) -> None:
    private, public = _key_files(tmp_path)
    folder = _snapshot().save(tmp_path / "snap", sign_key=load_signing_key(private))
    assert main(["verify", str(folder), "--public-key", str(public)]) == 0
    _rehash_after_editing_a_table(folder)
    problems = verify_snapshot(folder, public_key=public)
    assert problems == [
        "manifest.json: the manifest's signature does not match this public key "
        "(the manifest was altered, or another key signed it)"
    ]
    assert main(["verify", str(folder), "--public-key", str(public)]) == 1


def test_unsigned_snapshot_fails_a_public_key_check(tmp_path: Path) -> None:
    _, public = _key_files(tmp_path)
    folder = _snapshot().save(tmp_path / "snap")
    assert verify_snapshot(folder, public_key=public) == [
        "manifest.json: the manifest is not signed"
    ]


def test_another_key_does_not_verify(tmp_path: Path) -> None:
    private, _ = _key_files(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    _, other_public = _key_files(other)
    folder = _snapshot().save(tmp_path / "snap", sign_key=load_signing_key(private))
    assert len(verify_snapshot(folder, public_key=other_public)) == 1


def test_collect_signs_with_an_encrypted_key_whose_passphrase_is_in_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    private, public = _key_files(tmp_path, passphrase=b"correct horse")
    config = str(_config(tmp_path))
    out = str(tmp_path / "snap")
    monkeypatch.delenv("ACCESSAUDIT_KEY_PASSPHRASE", raising=False)
    assert main(["collect", "--config", config, "--out", out, "--sign-key", str(private)]) == 2
    assert "ACCESSAUDIT_KEY_PASSPHRASE" in capsys.readouterr().err
    assert not Path(out).exists()
    monkeypatch.setenv("AUDIT_PASS", "correct horse")
    command = ["collect", "--config", config, "--out", out, "--sign-key", str(private)]
    assert main([*command, "--passphrase-env", "AUDIT_PASS"]) == 0
    assert main(["verify", out, "--public-key", str(public)]) == 0


def test_a_key_that_is_not_a_key_is_a_config_error(tmp_path: Path) -> None:
    junk = tmp_path / "key.pem"
    junk.write_text("-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n")
    with pytest.raises(ConfigError, match=r"key\.pem"):
        load_signing_key(junk)
    folder = _snapshot().save(tmp_path / "snap")
    with pytest.raises(ConfigError, match=r"key\.pem"):
        verify_snapshot(folder, public_key=junk)


# -- what a manifest may name ----------------------------------------------------------


@pytest.mark.parametrize("name", ["../outside.parquet", "/etc/passwd", "sub/people.parquet", ".."])
def test_a_manifest_naming_a_path_outside_its_folder_fails_verify(
    tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _snapshot().save(tmp_path / "snap")
    manifest = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
    manifest["tables"]["people"]["file"] = name
    (folder / MANIFEST_NAME).write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(SnapshotError, match="outside the snapshot folder"):
        verify_snapshot(folder)
    with pytest.raises(SnapshotError, match="outside the snapshot folder"):
        Snapshot.load(folder, verify=False)
    assert main(["verify", str(folder)]) == 2
    assert "outside the snapshot folder" in capsys.readouterr().err


def test_a_table_that_is_a_symlink_fails_verify(tmp_path: Path) -> None:
    folder = _snapshot().save(tmp_path / "snap")
    real = tmp_path / "elsewhere.parquet"
    (folder / "people.parquet").rename(real)
    (folder / "people.parquet").symlink_to(real)
    # The hash of the target still matches: the link itself is the problem.
    assert verify_snapshot(folder) == [
        "people.parquet: a symbolic link, not a file of the snapshot (table people)"
    ]
    assert main(["verify", str(folder)]) == 1


def test_a_manifest_with_a_key_twice_is_refused(tmp_path: Path) -> None:
    folder = _snapshot().save(tmp_path / "snap")
    text = (folder / MANIFEST_NAME).read_text(encoding="utf-8")
    (folder / MANIFEST_NAME).write_text(
        text.replace('"as_of":', '"as_of": "1999-01-01", "as_of":', 1), encoding="utf-8"
    )
    with pytest.raises(SnapshotError, match="appears twice"):
        verify_snapshot(folder)


def test_report_campaign_and_diff_record_the_snapshot_digest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import openpyxl

    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--size", "200", "--no-progress"]) == 0
    digest = snapshot_digest(out / "snapshot")
    assert digest in capsys.readouterr().out
    book = openpyxl.load_workbook(out / "report.xlsx", read_only=True)
    summary = {
        row[0]: row[1] for row in book["Summary"].iter_rows(values_only=True) if len(row) > 1
    }
    book.close()
    assert summary["Snapshot digest (SHA-256)"] == digest
    campaign = json.loads((out / "review" / "campaign.json").read_text(encoding="utf-8"))
    assert campaign["snapshot"]["digest"] == digest
    snapshot = str(out / "snapshot")
    assert main(["diff", snapshot, snapshot, "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["old_digest"] == document["new_digest"] == digest
    # A second run replaces what the first one wrote: the demo folder is provably its own.
    assert main(["demo", "--out", str(out), "--size", "200", "--no-progress"]) == 0


def test_keygen_makes_a_pair_that_signs_and_verifies_and_never_overwrites(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ACCESSAUDIT_KEY_PASSPHRASE", "a long passphrase")
    private = tmp_path / "keys" / "audit-key.pem"
    private.parent.mkdir()
    assert main(["keygen", str(private)]) == 0
    public = private.with_suffix(".pub")
    assert private.stat().st_mode & 0o777 == 0o600
    assert b"ENCRYPTED" in private.read_bytes()
    out = tmp_path / "snap"
    command = ["collect", "--config", str(_config(tmp_path)), "--out", str(out)]
    assert main([*command, "--sign-key", str(private)]) == 0
    assert main(["verify", str(out), "--public-key", str(public)]) == 0
    before = private.read_bytes()
    capsys.readouterr()
    assert main(["keygen", str(private)]) == 2
    assert "never overwritten" in capsys.readouterr().err
    assert private.read_bytes() == before
