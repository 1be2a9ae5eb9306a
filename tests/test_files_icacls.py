"""ntfs-acl reads what ``icacls PATH /T /C`` prints, as well as the Get-Acl CSV.

The layout follows Microsoft's icacls reference
(learn.microsoft.com/windows-server/administration/windows-commands/icacls: simple rights
F, M, RX, R, W, D, N; specific rights RD, WD, AD, REA, WEA, X, DC, RA, WA, DE, RC, WDAC, WO,
S, AS, MA, GR, GW, GE, GA; inheritance (OI)(CI)(IO)(NP)(I); ``/C`` continues past errors,
which "are still displayed") and real output posted on pastebin (pastebin.com/EPgSGJuk:
``c:\\users\\Default NT AUTHORITY\\SYSTEM:(OI)(CI)(F)`` then ACEs indented to the path,
``BUILTIN\\Users:(OI)(CI)(IO)(GR,GE)``, ``Successfully processed 1 files; Failed processing 0
files``; pastebin.com/5rYaMpRX: inherited ``(I)(F)`` and ``APPLICATION PACKAGE AUTHORITY``).
``> file`` in Windows PowerShell writes UTF-16LE with a BOM (about_Character_Encoding);
``> file`` in cmd.exe writes the console's OEM code page (cp850 in Western Europe).

fixtures/files/acl_icacls.txt holds the very ACEs of fixtures/files/acl.csv as icacls prints
them; tests/test_files_connectors.py checks that both exports give the same grants.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from accessaudit.connectors import CollectContext, SourceResult, SourceSettings, find_manifests
from accessaudit.connectors.files import collect_ntfs_acl
from accessaudit.coverage import partial_sources
from accessaudit.errors import SourceError

AS_OF = pd.Timestamp("2026-11-21", tz="UTC")


def _icacls(
    tmp_path: Path, text: str, *, written_as: str = "utf-16", **options: Any
) -> SourceResult:
    path = tmp_path / "acl.txt"
    path.write_bytes(text.replace("\n", "\r\n").encode(written_as))
    settings = SourceSettings(
        name="fs",
        connector="ntfs-acl",
        path=path,
        options={"domain": "CORP", **options},
        base_dir=tmp_path,
    )
    return collect_ntfs_acl(settings, find_manifests()["ntfs-acl"], CollectContext(as_of=AS_OF))


def _refused(tmp_path: Path, text: str, **options: Any) -> SourceError:
    with pytest.raises(SourceError) as caught:
        _icacls(tmp_path, text, **options)
    return caught.value


def test_files_icacls_could_not_read_make_the_export_partial_and_are_named(
    tmp_path: Path,
) -> None:
    """``icacls D:\\Shares /T /C`` past a folder the account may not read."""
    text = (
        "D:\\Shares\\HR NT AUTHORITY\\SYSTEM:(OI)(CI)(F)\n"
        "             CORP\\DL-HR-RW:(OI)(CI)(M)\n"
        "\n"
        "D:\\Shares\\HR\\Board: Access is denied.\n"
        "D:\\Shares\\HR\\Pay CORP\\DL-HR-RW:(I)(OI)(CI)(M)\n"
        "\n"
        "Successfully processed 2 files; Failed processing 1 files\n"
    )
    result = _icacls(tmp_path, text)
    assert result.report["files_not_read"]["count"] == 1
    assert "acl.txt:4 D:\\Shares\\HR\\Board: Access is denied." in result.report["partial_export"]
    assert any("could not read 1 files" in w for w in result.report["warnings"])
    assert partial_sources([{"source": "fs", "report": result.report}]) == ["fs"]
    assert result.references["location"].tolist() == ["acl.txt:1", "acl.txt:2", "acl.txt:5"]


def test_failures_counted_only_by_the_summary_still_make_it_partial(tmp_path: Path) -> None:
    """Errors go to stderr: ``icacls ... > acl.txt`` keeps only the summary's count."""
    text = "D:\\Data CORP\\alice:(R)\n\nSuccessfully processed 1 files; Failed processing 3 files\n"
    result = _icacls(tmp_path, text)
    assert result.report["files_not_read"]["count"] == 3
    assert "3 files" in result.report["partial_export"]


def test_german_windows_output_is_read_by_its_numbers_and_names(tmp_path: Path) -> None:
    """On a German Windows identities are localised and the summary translated; the rights
    codes are not. The summary is read by its two counts, in icacls' order."""
    text = (
        "D:\\Freigaben\\Personal VORDEFINIERT\\Administratoren:(OI)(CI)(F)\n"
        "                      NT-AUTORITÄT\\SYSTEM:(OI)(CI)(F)\n"
        "                      CORP\\GL-Personal:(OI)(CI)(M)\n"
        "\n"
        "1 Dateien erfolgreich verarbeitet; Fehler beim Verarbeiten von 0 Dateien\n"
    )
    result = _icacls(tmp_path, text)
    assert result.references["principal"].astype(str).tolist() == [
        "VORDEFINIERT\\Administratoren",
        "NT-AUTORITÄT\\SYSTEM",
        "CORP\\GL-Personal",
    ]
    assert result.report["icacls_summary"] == {"processed": 1, "failed": 0}
    assert "partial_export" not in result.report


def test_cmd_redirection_in_the_oem_code_page_needs_its_encoding(tmp_path: Path) -> None:
    text = (
        "D:\\Büro CORP\\jürgen:(R)\n\nSuccessfully processed 1 files; Failed processing 0 files\n"
    )
    error = _refused(tmp_path, text, written_as="cp850")
    assert error.location == "acl.txt:1" and "encoding" in str(error)
    result = _icacls(tmp_path, text, written_as="cp850", encoding="cp850")
    assert result.references["resource"].astype(str).tolist() == ["D:\\Büro"]


def test_deny_inherit_only_specific_rights_and_integrity_labels(tmp_path: Path) -> None:
    text = (
        "D:\\Data NT AUTHORITY\\SYSTEM:(OI)(CI)(F)\n"
        "        Everyone:(OI)(CI)(DENY)(W)\n"
        "        CREATOR OWNER:(OI)(CI)(IO)(F)\n"
        "        CORP\\audit:(RD,RA,REA,RC,S)\n"
        "        CORP\\svc-backup:(WDAC)\n"
        "        CORP\\nobody:(N)\n"
        "        Mandatory Label\\High Mandatory Level:(OI)(NP)(IO)(NW)\n"
        "\n"
        "Successfully processed 1 files; Failed processing 0 files\n"
    )
    result = _icacls(tmp_path, text)
    refs = result.references.assign(principal=lambda t: t["principal"].astype(str))
    by = refs.set_index("principal")
    assert by.loc["Everyone", "deny"] and by.loc["Everyone", "right"] == "write"
    assert by.loc["CORP\\audit", "right"] == "read"
    assert by.loc["CORP\\svc-backup", "right"] == "admin"  # WRITE_DAC rewrites the ACL
    assert pd.isna(by.loc["CORP\\nobody", "right"])  # no access: counted, no grant
    assert result.report["integrity_labels_skipped"] == 1
    assert len(refs) == 6


def test_unknown_right_code_is_refused_with_its_line(tmp_path: Path) -> None:
    text = "D:\\Data CORP\\alice:(OI)(CI)(ZZ)\n"
    error = _refused(tmp_path, text)
    assert error.location == "acl.txt:1" and "ZZ" in str(error)


def test_one_ace_after_a_path_with_spaces_splits_at_a_known_identity(tmp_path: Path) -> None:
    result = _icacls(tmp_path, "D:\\HR Data\\Pay Roll CORP\\Domain Users:(RX)\n")
    assert result.references["resource"].astype(str).tolist() == ["D:\\HR Data\\Pay Roll"]
    assert result.references["principal"].astype(str).tolist() == ["CORP\\Domain Users"]
    assert any("no icacls summary line" in w for w in result.report["warnings"])
    error = _refused(tmp_path, "D:\\HR Data FS01\\local admin:(RX)\n")
    assert error.location == "acl.txt:1" and "where the path ends" in str(error)


def test_text_that_is_neither_ace_nor_error_is_refused_not_skipped(tmp_path: Path) -> None:
    text = "D:\\Data CORP\\alice:(R)\nsomething else entirely\n"
    error = _refused(tmp_path, text)
    assert error.location == "acl.txt:2"
