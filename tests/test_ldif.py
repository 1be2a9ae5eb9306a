"""The LDIF reader: what RFC 2849 exports contain, and every malformed input it must refuse."""

from __future__ import annotations

import base64
import tempfile
import time
import tracemalloc
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accessaudit.connectors import CollectContext, SourceResult, SourceSettings, find_manifests
from accessaudit.connectors.ldap.ldif import read_ldif
from accessaudit.errors import SourceError
from accessaudit.model import TABLES

FIXTURES = Path(__file__).parent / "fixtures" / "ldif"
MANIFESTS = find_manifests()
FUZZ_CONTEXT = CollectContext(as_of=pd.Timestamp("2026-11-21", tz="UTC"))


def _write(tmp_path: Path, text: str | bytes, name: str = "export.ldif") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def test_ad_export_base64_dn_with_non_ascii_characters_is_decoded() -> None:
    entries = {dn: (attributes, line) for dn, attributes, line in read_ldif(FIXTURES / "ad.ldif")}
    dn = "CN=Jürgen Müller,OU=Staff,DC=corp,DC=example,DC=com"
    assert dn in entries
    attributes, _ = entries[dn]
    assert attributes["displayname"] == ["Jürgen Müller".encode()]


def test_folded_lines_are_joined_before_decoding() -> None:
    entries = {dn: attributes for dn, attributes, _ in read_ldif(FIXTURES / "ad.ldif")}
    jurgen = entries["CN=Jürgen Müller,OU=Staff,DC=corp,DC=example,DC=com"]
    # objectSid is folded over two lines in the fixture; 28 bytes = a 5-subauthority SID.
    assert len(jurgen["objectsid"][0]) == 28
    helpdesk = entries["CN=Helpdesk,OU=Groups,DC=corp,DC=example,DC=com"]
    assert (
        b"CN=S-1-5-21-999-888-777-1105,CN=ForeignSecurityPrincipals,DC=corp,DC=example,DC=com"
        in helpdesk["member"]
    )


def test_entries_report_the_line_they_start_on() -> None:
    lines = {dn: line for dn, _, line in read_ldif(FIXTURES / "openldap.ldif")}
    assert lines["dc=example,dc=org"] == 1
    assert lines["uid=alice,ou=people,dc=example,dc=org"] == 12


def test_attribute_names_are_lower_cased_and_options_stripped(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "dn: cn=big,dc=x\n"
        "objectClass: group\n"
        "member;range=0-1: cn=a,dc=x\n"
        "member;range=0-1: cn=b,dc=x\n"
        "member;range=2-*: cn=c,dc=x\n"
        "userCertificate;binary:: AAEC\n",
    )
    [(_, attributes, _)] = list(read_ldif(path))
    assert attributes["member"] == [b"cn=a,dc=x", b"cn=b,dc=x", b"cn=c,dc=x"]
    assert attributes["usercertificate"] == [b"\x00\x01\x02"]
    assert attributes["objectclass"] == [b"group"]


def test_crlf_line_ends_and_utf8_bom_are_accepted(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        b"\xef\xbb\xbfversion: 1\r\n\r\ndn: cn=a,dc=x\r\ncn: a\r\n folded\r\n\r\n",
    )
    assert list(read_ldif(path)) == [("cn=a,dc=x", {"cn": [b"afolded"]}, 3)]


def test_version_line_comments_and_folded_comments_are_skipped(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "version: 1\n"
        "# a comment that is\n"
        "  folded onto a second line: with a colon\n"
        "dn: cn=a,dc=x\n"
        "# inside an entry\n"
        "cn: a\n",
    )
    assert list(read_ldif(path)) == [("cn=a,dc=x", {"cn": [b"a"]}, 4)]


def test_ldifde_changetype_add_reads_as_an_entry(tmp_path: Path) -> None:
    path = _write(tmp_path, "dn: cn=a,dc=x\nchangetype: add\nobjectClass: top\n")
    assert list(read_ldif(path)) == [("cn=a,dc=x", {"objectclass": [b"top"]}, 1)]


def test_ldapsearch_result_trailer_is_ignored(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "# extended LDIF\n#\n\ndn: cn=a,dc=x\ncn: a\n\n# search result\nsearch: 2\n"
        "result: 0 Success\n\n# numResponses: 2\n",
    )
    assert [dn for dn, _, _ in read_ldif(path)] == ["cn=a,dc=x"]


def test_plain_values_keep_inner_spaces_and_drop_the_separator_space(tmp_path: Path) -> None:
    path = _write(tmp_path, "dn: cn=a,dc=x\ndescription:   two  words \ncn:a\n")
    [(_, attributes, _)] = list(read_ldif(path))
    assert attributes == {"description": [b"two  words "], "cn": [b"a"]}


def test_reader_is_lazy_and_yields_entries_before_reading_the_rest(tmp_path: Path) -> None:
    path = _write(tmp_path, "dn: cn=a,dc=x\ncn: a\n\nthis line is broken\n")
    entries = iter(read_ldif(path))
    assert next(entries)[0] == "cn=a,dc=x"
    with pytest.raises(SourceError, match=r"export\.ldif:4"):
        next(entries)


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        pytest.param("dn: cn=a,dc=x\ncn a\n", 2, "no colon", id="line-without-colon"),
        pytest.param("dn: cn=a,dc=x\ncn:: not*base64\n", 2, "bad base64", id="bad-base64"),
        pytest.param(
            "dn: cn=a,dc=x\nobjectSid:: AQUAAAAAAAUVAAAA3PTcO4M9\n K0aCi6Yo9A",
            2,
            "truncated",
            id="truncated-inside-folded-base64",
        ),
        pytest.param(
            "dn: cn=a,dc=x\nchangetype: modify\nreplace: cn\ncn: b\n-\n",
            2,
            "change record",
            id="changetype-modify",
        ),
        pytest.param("dn: cn=a,dc=x\nchangetype: delete\n", 2, "change record", id="delete"),
        pytest.param("dn: cn=a,dc=x\njpegPhoto:< file:///etc/passwd\n", 2, "URL", id="url-value"),
        pytest.param(b"dn: cn=a,dc=x\ncn: caf\xe9\n", 2, "not UTF-8", id="non-utf8-plain-value"),
        pytest.param(b"dn: cn=caf\xe9,dc=x\ncn: a\n", 1, "not UTF-8", id="non-utf8-dn"),
        pytest.param("cn: a\ndn: cn=a,dc=x\n", 1, "must start with 'dn:'", id="no-dn"),
        pytest.param("\n folded after blank\n", 2, "continuation", id="orphan-continuation"),
        pytest.param("version: 2\n\ndn: cn=a\n", 1, "version", id="unsupported-version"),
        pytest.param("dn: cn=a,dc=x\ncn: a\ndn: cn=b,dc=x\n", 3, "second 'dn:'", id="two-dns"),
        pytest.param("dn: cn=a,dc=x\nc n: a\n", 2, "not an attribute name", id="bad-name"),
    ],
)
def test_malformed_input_is_a_source_error_naming_file_and_line(
    tmp_path: Path, text: str | bytes, line: int, problem: str
) -> None:
    path = _write(tmp_path, text, name="bad.ldif")
    with pytest.raises(SourceError) as caught:
        list(read_ldif(path, source="corp"))
    message = str(caught.value)
    assert f"bad.ldif:{line}" in message
    assert problem in message
    assert message.startswith("corp: ")
    assert caught.value.location == f"{path}:{line}"


def test_binary_base64_value_round_trips_exactly(tmp_path: Path) -> None:
    raw = bytes(range(256))
    encoded = base64.b64encode(raw).decode()
    folded = "\n ".join(encoded[i : i + 60] for i in range(0, len(encoded), 60))
    path = _write(tmp_path, f"dn: cn=a,dc=x\nblob:: {folded}\n")
    [(_, attributes, _)] = list(read_ldif(path))
    assert attributes["blob"] == [raw]


def test_missing_file_is_a_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="cannot open"):
        list(read_ldif(tmp_path / "absent.ldif"))


def test_empty_file_is_a_source_error_not_an_empty_directory(tmp_path: Path) -> None:
    # Issue 11: a 0-byte export (a failed or interrupted ldapsearch -LLL) must not read as a
    # directory without accounts.
    with pytest.raises(SourceError, match=r"export\.ldif:1: .*empty \(0 bytes\)"):
        list(read_ldif(_write(tmp_path, "")))


# -- whole ldapsearch output ---------------------------------------------------------------
# The fixtures are real `ldapsearch -x` output (tests/fixtures/ldif/README.md). ldapsearch(1):
# without -LLL it writes '# extended LDIF' comments, 'ref:' search references and after each
# page a '# search result' trailer 'search: N' / 'result: CODE text'; RFC 4511 §4.1.9 names the
# codes (0 success, 4 sizeLimitExceeded, 10 referral); RFC 2696 paging leaves an empty cookie
# on the last page ('pagedresults: cookie=').

LDAPSEARCH = Path(__file__).parent / "fixtures" / "ldif"


def test_paged_ldapsearch_output_counts_references_and_trailers() -> None:
    entries = read_ldif(LDAPSEARCH / "ldapsearch-paged.ldif")
    dns = [dn for dn, _, _ in entries]
    assert len(dns) == 8 and "uid=user000003,ou=people,dc=example,dc=org" in dns
    assert entries.report["search_references"] == {
        "count": 1,
        "first": ["ldap://other.example.org/ou=elsewhere,dc=example,dc=org??sub"],
    }
    assert entries.report["search_results"] == 3
    assert entries.report["partial"] is False
    assert "1 search reference(s) (ref:) not followed" in entries.report["warnings"][0]


def test_size_limit_result_is_refused_naming_the_trailer_line_and_the_fix() -> None:
    path = LDAPSEARCH / "ldapsearch-size-limit.ldif"
    line = path.read_text(encoding="utf-8").splitlines().index("search: 2") + 1
    with pytest.raises(SourceError) as caught:
        list(read_ldif(path, source="corp"))
    message = str(caught.value)
    assert caught.value.location == f"{path}:{line}"
    assert "result 4 (Size limit exceeded)" in message
    assert "-E pr=1000/noprompt" in message
    assert "allow_partial_export = true" in message


def test_size_limited_export_allowed_as_partial_says_so_first() -> None:
    entries = read_ldif(LDAPSEARCH / "ldapsearch-size-limit.ldif", allow_partial=True)
    assert len(list(entries)) == 3
    assert entries.report["partial"] is True
    assert entries.report["warnings"][0].startswith("PARTIAL EXPORT")


def test_referral_result_names_the_server_holding_the_base() -> None:
    with pytest.raises(SourceError, match=r"result 10 \(Referral\).*ldap://other\.example\.org"):
        list(read_ldif(LDAPSEARCH / "ldapsearch-referral.ldif"))


def test_ldapsearch_output_cut_before_its_trailer_is_refused(tmp_path: Path) -> None:
    text = (LDAPSEARCH / "ldapsearch-paged.ldif").read_text(encoding="utf-8")
    cut = text[: text.rindex("# search reference")]  # ends after a complete entry
    with pytest.raises(SourceError, match="without its closing '# search result' trailer"):
        list(read_ldif(_write(tmp_path, cut)))


def test_paged_output_stopping_with_a_cookie_is_refused(tmp_path: Path) -> None:
    text = (LDAPSEARCH / "ldapsearch-paged.ldif").read_text(encoding="utf-8")
    first_page = text[: text.index("# extended LDIF", 1)]
    assert "pagedresults: cookie=" in first_page and "cookie=\n" not in first_page
    with pytest.raises(SourceError, match="still has a paging cookie"):
        list(read_ldif(_write(tmp_path, first_page)))


def test_file_cut_inside_a_folded_text_value_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "dn: cn=a,dc=x\ndescription: a long value folded by\n  the expor")
    with pytest.raises(SourceError, match=r"export\.ldif:2: .*folded value.*truncated"):
        list(read_ldif(path))


def test_credentials_in_a_quoted_url_never_reach_the_message(tmp_path: Path) -> None:
    path = _write(tmp_path, "dn: cn=a,dc=x\nphoto:< ldap://admin:s3cret@dc1.example.com/x\n")
    with pytest.raises(SourceError) as caught:
        list(read_ldif(path))
    assert "s3cret" not in str(caught.value) and "admin" not in str(caught.value)
    assert "ldap://***@dc1.example.com/x" in str(caught.value)


# -- property: any input is tables or our SourceError with a line --------------------------
# Issue 11: whatever bytes an LDIF export holds, reading it (and turning it into tables with
# either shipped manifest) either works or raises SourceError naming file:line (or the
# source), never another exception, within a time and memory bound.

_LINE_PIECES = [
    b"dn: uid=a,dc=x",
    b"dn: CN=b,DC=x",
    b"dn:: Q049YyxEQz14",
    b"objectClass: inetOrgPerson",
    b"objectClass: posixAccount",
    b"objectClass: posixGroup",
    b"objectClass: pwdPolicy",
    b"objectClass: user",
    b"objectClass: group",
    b"objectClass: OpenLDAPperson",
    b"objectSid:: AQUAAAAAAAUVAAAA3PTcO4M9K0aCi6Yo9AMAAA==",
    b"objectSid: S-1-5-21-1-2-3-500",
    b"uid: a",
    b"sAMAccountName: b",
    b"gidNumber: 10",
    b"memberUid: a",
    b"member: uid=a,dc=x",
    b"memberOf: CN=b,DC=x",
    b"pwdAccountLockedTime: 000001010000Z",
    b"pwdAccountLockedTime: 99991231235959Z",
    b"pwdPolicySubentry: uid=a,dc=x",
    b"pwdLockout: TRUE",
    b"pwdLockoutDuration: 99999999999999999999",
    b"userAccountControl: 514",
    b"userAccountControl: 1e400",
    b"lastLogonTimestamp: 1",
    b"lastLogonTimestamp: 9223372036854775807",
    b"whenCreated: 99991231235959.0Z",
    b"createTimestamp: 20240131120000+0100",
    b"authTimestamp: 2024",
    b"# extended LDIF",
    b"# search result",
    b"search: 2",
    b"result: 0 Success",
    b"result: 4 Size limit exceeded",
    b"result: \xd9\xa3 x",
    b"pagedresults: cookie=abc",
    b"ref: ldap://u:p@h/x",
    b"version: 1",
    b"changetype: add",
    b" folded",
    b"",
]


def _ldif_documents() -> st.SearchStrategy[bytes]:
    lines = st.lists(st.one_of(st.sampled_from(_LINE_PIECES), st.binary(max_size=40)), max_size=40)
    structured = lines.map(lambda parts: b"\n".join(parts) + b"\n")
    # ldifde -u: the same documents as UTF-16 with a BOM, and a BOM before any bytes at all.
    unicode_export = structured.map(
        lambda d: b"\xff\xfe" + d.decode("utf-8", "replace").encode("utf-16-le")
    )
    return st.one_of(
        structured,
        unicode_export,
        st.binary(max_size=2000),
        st.binary(max_size=200).map(lambda d: b"\xff\xfe" + d),
    )


def _outcome(path: Path, connector: str) -> SourceResult | SourceError:
    from accessaudit.connectors.ldap import collect

    settings = SourceSettings(name="fuzz", connector=connector, path=path)
    try:
        return collect(settings, MANIFESTS[connector], FUZZ_CONTEXT)
    except SourceError as error:
        return error


# Bounds are generous: the machine running CI may be shared; a blow-up is orders larger.
@settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(document=_ldif_documents())
def test_any_bytes_give_tables_or_a_source_error_with_a_location(document: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.ldif"
        path.write_bytes(document)
        tracemalloc.start()
        started = time.monotonic()
        try:
            outcomes = [_outcome(path, c) for c in ("openldap", "active-directory")]
        finally:
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
        assert time.monotonic() - started < 20
        assert peak < 64 * 1024 * 1024
        for outcome in outcomes:
            if isinstance(outcome, SourceError):
                assert outcome.source == "fuzz"
                assert outcome.location is None or outcome.location.startswith(f"{path}:")
                assert ":p@" not in str(outcome)  # URL credentials never shown
            else:
                for name in ("accounts", "groups", "memberships"):
                    TABLES[name].check(outcome.tables[name])


def test_ldifde_unicode_export_utf16_with_bom_reads_as_the_ansi_one(tmp_path: Path) -> None:
    """``ldifde -u`` writes "Unicode format" (Microsoft, "LDIF Scripts": UTF-16 with the
    Unicode identifier first); the same export must give the same entries and lines."""
    text = (FIXTURES / "ad.ldif").read_text(encoding="utf-8")
    unicode_export = _write(tmp_path, b"\xff\xfe" + text.replace("\n", "\r\n").encode("utf-16-le"))
    assert list(read_ldif(unicode_export)) == list(read_ldif(FIXTURES / "ad.ldif"))


def test_ldifde_unicode_export_cut_mid_character_names_the_file(tmp_path: Path) -> None:
    broken = _write(tmp_path, b"\xff\xfe" + "dn: CN=A\r\n".encode("utf-16-le") + b"\x00\xd8")
    with pytest.raises(SourceError) as caught:
        list(read_ldif(broken, source="corp"))
    assert caught.value.location is not None and "export.ldif" in caught.value.location
