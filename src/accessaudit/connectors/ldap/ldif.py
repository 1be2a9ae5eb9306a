"""A streaming reader for LDIF exports (RFC 2849), as ``ldifde`` and ``ldapsearch`` write them.

It yields one entry at a time, so memory stays flat however large the export is, and it
refuses, with the file and line, everything an export should not contain: change records
(``changetype: modify``), values pulled from URLs (``attr:< file:///etc/shadow`` — an audit
tool must never read files an input names), lines without a colon, bad base64, plain values
that are not UTF-8, an empty file, and a file cut off in the middle of a folded value.

The whole output of a plain ``ldapsearch -x`` (without ``-LLL``) is read as it is: its
``#`` comments are skipped, its search references (``ref:`` records: a part of the tree held
by another server, not followed) are counted in the report, and its trailers (``# search
result`` / ``search: N`` / ``result: CODE text``; one per page with ``-E pr=…``) are checked.
A result other than 0 (success) means the server stopped early — above all ``4 Size limit
exceeded`` (Active Directory's MaxPageSize of 1,000 without paging) and ``10 Referral`` — so
the export is refused with the line and the fix, unless the source allows a partial export
(``allow_partial_export = true``), in which case the report says *partial* first. Output that
begins like ``ldapsearch`` output (``# extended LDIF``) but ends without a trailer, or whose
last page still carries a paging cookie, was cut short and is refused the same way.

>>> from pathlib import Path
>>> for dn, attributes, line in read_ldif(Path("tests/fixtures/ldif/openldap.ldif")):
...     break
>>> dn, line
('dc=example,dc=org', 1)
"""

from __future__ import annotations

import binascii
import codecs
import re
from base64 import b64decode
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from accessaudit.connectors.ldap._ldapsearch import SearchOutcome, SearchResult, search_result
from accessaudit.connectors.ldap._report import located_error
from accessaudit.errors import SourceError

__all__ = ["LdifEntries", "read_ldif"]

_BOM = b"\xef\xbb\xbf"
# ``ldifde -u`` exports "Unicode": UTF-16 with its byte-order mark (Microsoft, "LDIF
# Scripts": "The default mode for exporting files is ANSI … To export a file into Unicode
# format, use the -u switch"); its lines are read as the UTF-8 RFC 2849 expects.
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_CHUNK = 1 << 16
# RFC 2849 AttributeDescription: a name or OID followed by ;options.
_ATTRIBUTE_NAME = re.compile(rb"^[A-Za-z0-9][A-Za-z0-9.\-]*(?:;[A-Za-z0-9\-=.*]+)*$")
# ``changetype: add`` carries a whole entry (ldifde writes it on every exported object), so
# it reads like a content record; any other change type describes an edit, not a state.
_CONTENT_CHANGETYPES = frozenset({b"add"})
# The first line of ``ldapsearch`` output without -LLL (ldapsearch(1), "-L").
_LDAPSEARCH_HEADER = b"# extended LDIF"

Entry = tuple[str, dict[str, list[bytes]], int]
# Bounds the per-file name cache: a schema has a few hundred names, a hostile file millions.
_NAME_CACHE = 4096


def read_ldif(path: Path, *, source: str | None = None, allow_partial: bool = False) -> LdifEntries:
    """The entries of an LDIF export, ready to be iterated (nothing is read yet).

    Iterating yields ``(dn, attributes, line)``: the DN as text, the attributes by lower-cased
    name with options stripped (``member;range=0-1499`` and ``userCertificate;binary`` become
    ``member`` and ``usercertificate``; values are raw bytes anyway, so ``;binary`` changes
    nothing) and the line number where the entry starts. Values from several lines of the same
    attribute (range retrieval pages, repeated lines) are concatenated in file order.

    Raises :class:`SourceError` naming ``file:line`` for malformed or incomplete input;
    ``source`` names the configured source in that message. ``allow_partial`` accepts an
    ``ldapsearch`` export whose search ended early, and says so in the report.

    >>> entries = list(read_ldif(Path("tests/fixtures/ldif/openldap.ldif")))
    >>> entries[1][1]["objectclass"]
    [b'organizationalUnit']
    """
    return LdifEntries(path, source=source, allow_partial=allow_partial)


class LdifEntries:
    """The entries of one LDIF export, read lazily; iterate to read them (again).

    ``report`` is complete once an iteration ends: ``search_references`` (count and the first
    few URLs, user names and passwords in them redacted), ``search_results`` (the trailers of
    ldapsearch output), ``partial`` and ``warnings``.
    """

    def __init__(self, path: Path, *, source: str | None, allow_partial: bool) -> None:
        self.path = path
        self.source = source
        self.allow_partial = allow_partial
        self.report: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"LdifEntries({str(self.path)!r})"

    def __iter__(self) -> Iterator[Entry]:
        name = str(self.path)
        try:
            handle = self.path.open("rb")
        except OSError as error:
            raise SourceError(
                f"cannot open LDIF export: {error.strerror}", source=self.source, location=name
            ) from error
        outcome = SearchOutcome(name, self.source, allow_partial=self.allow_partial)
        first_record = True
        # Attribute descriptions repeat on nearly every line; parse each spelling once.
        names: dict[bytes, str] = {}
        lines = _Lines(name, self.source)
        with handle:
            for record in lines.records(_utf8_lines(handle, name, self.source, lines)):
                parsed = _record(record, first_record, name, self.source, names)
                first_record = False
                if isinstance(parsed, SearchResult):
                    outcome.result(parsed)
                elif isinstance(parsed, tuple):
                    outcome.entry()
                    yield parsed
                elif parsed is not None:
                    outcome.reference(parsed)
        self.report = outcome.finish(
            ldapsearch_output=lines.ldapsearch_output, last_line=lines.last
        )


def _utf8_lines(handle: BinaryIO, file: str, source: str | None, lines: _Lines) -> Iterator[bytes]:
    """The file's lines as bytes, UTF-16 (``ldifde -u``) re-encoded as UTF-8."""
    head = handle.read(2)
    handle.seek(0)
    if head not in _UTF16_BOMS:
        yield from handle
        return
    # Lines end at "\n" only, as in the byte-wise reading of a UTF-8 export.
    decoder = codecs.getincrementaldecoder("utf-16")()
    pending: list[str] = []  # the start of a line longer than a chunk, joined once
    try:
        while chunk := handle.read(_CHUNK):
            *complete, rest = decoder.decode(chunk).split("\n")
            if complete:
                complete[0] = "".join((*pending, complete[0]))
                pending = []
                for line in complete:
                    yield (line + "\n").encode("utf-8")
            pending.append(rest)
        pending.append(decoder.decode(b"", final=True))
    except UnicodeDecodeError as error:
        raise located_error(
            f"is not valid UTF-16 ({error.reason}); export again with ldifde -u",
            file,
            lines.last + 1,
            source,
        ) from error
    if last := "".join(pending):
        yield last.encode("utf-8")


class _Lines:
    """Physical lines → records: lists of ``(line number, logical line)``, folds joined,
    comments dropped, records separated by blank lines."""

    def __init__(self, file: str, source: str | None) -> None:
        self.file = file
        self.source = source
        self.ldapsearch_output = False
        self.last = 0

    def records(self, handle: Iterable[bytes]) -> Iterator[list[tuple[int, bytes]]]:
        """Each record of the file in order; SourceError for a file that is empty or ends
        inside a folded value."""
        record: list[tuple[int, bytes]] = []
        # The current logical line: its first physical line, plus continuation parts if
        # folded (joined once, when the line is complete, instead of copying on every fold).
        logical: bytes | None = None
        parts: list[bytes] = []
        logical_line = 0
        ends_with_newline = True
        for line_number, raw in enumerate(handle, 1):
            self.last = line_number
            ends_with_newline = raw.endswith(b"\n")
            line = raw.rstrip(b"\r\n")
            if line_number == 1 and line.startswith(_BOM):
                line = line[len(_BOM) :]
            if line.startswith(b" "):
                if logical is None:
                    raise located_error(
                        "a continuation line (starting with a space) follows a blank line",
                        self.file,
                        line_number,
                        self.source,
                    )
                parts.append(line[1:])
                continue
            if logical is not None and not logical.startswith(b"#"):
                record.append((logical_line, b"".join((logical, *parts)) if parts else logical))
            logical, parts = None, []
            if line.startswith(_LDAPSEARCH_HEADER):
                self.ldapsearch_output = True
            if line:
                logical, logical_line = line, line_number
            elif record:
                yield record
                record = []
        if self.last == 0:
            raise located_error(
                "the LDIF export is empty (0 bytes): the export failed or was cut off; "
                "export the directory again",
                self.file,
                1,
                self.source,
            )
        if parts and not ends_with_newline:
            # ldapsearch and ldifde end every line; a file that stops inside a folded value
            # was cut off, and its last value would silently be shorter than in the directory.
            raise located_error(
                "the file ends inside a folded value without a line end: the export was "
                "truncated; export the directory again",
                self.file,
                logical_line,
                self.source,
            )
        if logical is not None and not logical.startswith(b"#"):
            record.append((logical_line, b"".join((logical, *parts)) if parts else logical))
        if record:
            yield record


def _record(
    record: list[tuple[int, bytes]],
    first_record: bool,
    file: str,
    source: str | None,
    names: dict[bytes, str],
) -> Entry | SearchResult | list[str] | None:
    """Turn the logical lines of one record into an entry, an ldapsearch trailer, the URLs of
    a search reference, or None (a lone ``version: 1``).

    Lines are parsed in order, so the first problem reported is the first one in the file
    (a change record is named by its ``changetype:`` line, not by the ``-`` after it).
    """
    last = len(record) - 1

    def parse(index: int) -> tuple[str, bytes]:
        number, line = record[index]
        return _attribute(line, number, file, source, names)

    first = 0
    kind, value = parse(0)
    if first_record and kind == "version":
        if value != b"1":
            raise located_error(
                f"unsupported LDIF version {value.decode(errors='replace')!r} (only 1)",
                file,
                record[0][0],
                source,
            )
        if last == 0:
            return None
        first = 1
        kind, value = parse(1)
    start = record[first][0]
    if kind == "search":
        return search_result([parse(i) for i in range(first, last + 1)], start, file, source)
    if kind == "ref":
        # A search reference: ldapsearch writes one ``ref:`` line per URL (RFC 4511 §4.5.3).
        lines = [parse(i) for i in range(first, last + 1)]
        return [url.decode("utf-8", "replace") for name, url in lines if name == "ref"]
    if kind != "dn":
        raise located_error(f"an entry must start with 'dn:', not {kind!r}", file, start, source)
    dn = _text(value, file, start, source, "dn")
    attributes: dict[str, list[bytes]] = {}
    for index in range(first + 1, last + 1):
        name, data = parse(index)
        number = record[index][0]
        if name == "changetype":
            if data.lower() not in _CONTENT_CHANGETYPES:
                raise located_error(
                    f"change record (changetype: {data.decode(errors='replace')}) in {dn!r}: "
                    "accessaudit reads exports of the directory's state, not change files",
                    file,
                    number,
                    source,
                )
            continue
        if name == "control":
            raise located_error(
                "LDAP controls belong to change records; give an export instead",
                file,
                number,
                source,
            )
        if name == "dn":
            raise located_error(
                "a second 'dn:' inside one entry (missing blank line?)", file, number, source
            )
        attributes.setdefault(name, []).append(data)
    return dn, attributes, start


def _attribute(
    line: bytes,
    number: int,
    file: str,
    source: str | None,
    names: dict[bytes, str],
) -> tuple[str, bytes]:
    """Split one logical line into the lower-cased bare attribute name and its value."""
    colon = line.find(b":")
    if colon < 0:
        shown = line[:40].decode(errors="replace")
        raise located_error(f"line has no colon: {shown!r}", file, number, source)
    description = line[:colon]
    name = names.get(description)
    if name is None:
        if not _ATTRIBUTE_NAME.match(description):
            shown = description[:40].decode(errors="replace")
            raise located_error(f"not an attribute name: {shown!r}", file, number, source)
        name = description.split(b";", 1)[0].decode("ascii").lower()
        if len(names) < _NAME_CACHE:
            names[description] = name
    rest = line[colon + 1 :]
    if rest.startswith(b":"):
        encoded = rest[1:].strip(b" ")
        try:
            return name, b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as error:
            raise located_error(
                f"bad base64 value for {name!r}: {error}", file, number, source
            ) from error
    if rest.startswith(b"<"):
        raise located_error(
            f"{name!r} takes its value from a URL ({rest[1:].strip().decode(errors='replace')}); "
            "accessaudit never reads files or URLs named inside an export",
            file,
            number,
            source,
        )
    value = rest.lstrip(b" ")
    _text(value, file, number, source, name)
    return name, value


def _text(value: bytes, file: str, number: int, source: str | None, name: str) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError as error:
        raise located_error(
            f"value of {name!r} is not UTF-8 text (binary values must be base64, 'attr::')",
            file,
            number,
            source,
        ) from error
