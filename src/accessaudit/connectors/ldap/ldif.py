"""A streaming reader for LDIF exports (RFC 2849), as ``ldifde`` and ``ldapsearch -LLL`` write them.

It yields one entry at a time, so memory stays flat however large the export is, and it
refuses, with the file and line, everything an export should not contain: change records
(``changetype: modify``), values pulled from URLs (``attr:< file:///etc/shadow`` — an audit
tool must never read files an input names), lines without a colon, bad base64, plain values
that are not UTF-8, and a file cut off in the middle of a folded value.

>>> from pathlib import Path
>>> for dn, attributes, line in read_ldif(Path("tests/fixtures/ldif/openldap.ldif")):
...     break
>>> dn, line
('dc=example,dc=org', 1)
"""

from __future__ import annotations

import binascii
import re
from base64 import b64decode
from collections.abc import Iterator
from pathlib import Path

from accessaudit.errors import SourceError

__all__ = ["read_ldif"]

_BOM = b"\xef\xbb\xbf"
# RFC 2849 AttributeDescription: a name or OID followed by ;options.
_ATTRIBUTE_NAME = re.compile(rb"^[A-Za-z0-9][A-Za-z0-9.\-]*(?:;[A-Za-z0-9\-=.*]+)*$")
# ``changetype: add`` carries a whole entry (ldifde writes it on every exported object), so
# it reads like a content record; any other change type describes an edit, not a state.
_CONTENT_CHANGETYPES = frozenset({b"add"})

Entry = tuple[str, dict[str, list[bytes]], int]
# Bounds the per-file name cache: a schema has a few hundred names, a hostile file millions.
_NAME_CACHE = 4096


def read_ldif(path: Path, *, source: str | None = None) -> Iterator[Entry]:
    """Stream the entries of an LDIF export.

    Yields ``(dn, attributes, line)``: the DN as text, the attributes by lower-cased name with
    options stripped (``member;range=0-1499`` and ``userCertificate;binary`` become ``member``
    and ``usercertificate``; values are raw bytes anyway, so ``;binary`` changes nothing) and
    the line number where the entry starts. Values from several lines of the same attribute
    (range retrieval pages, repeated lines) are concatenated in file order.

    Raises :class:`SourceError` naming ``file:line`` for malformed input; ``source`` names the
    configured source in that message.

    >>> entries = list(read_ldif(Path("tests/fixtures/ldif/openldap.ldif")))
    >>> entries[1][1]["objectclass"]
    [b'organizationalUnit']
    """
    name = str(path)
    try:
        handle = path.open("rb")
    except OSError as error:
        raise SourceError(
            f"cannot open LDIF export: {error.strerror}", source=source, location=name
        ) from error
    with handle:
        record: list[tuple[int, bytes]] = []
        first_record = True
        # The current logical line: its first physical line, plus continuation parts if folded
        # (joined once, when the line is complete, instead of copying on every fold).
        logical: bytes | None = None
        parts: list[bytes] = []
        logical_line = 0
        # Attribute descriptions repeat on nearly every line; parse each spelling once.
        names: dict[bytes, str] = {}
        ends_with_newline = True
        for line_number, raw in enumerate(handle, 1):
            ends_with_newline = raw.endswith(b"\n")
            line = raw.rstrip(b"\r\n")
            if line_number == 1 and line.startswith(_BOM):
                line = line[len(_BOM) :]
            if line.startswith(b" "):
                if logical is None:
                    raise _error(
                        "a continuation line (starting with a space) follows a blank line",
                        name,
                        line_number,
                        source,
                    )
                parts.append(line[1:])
                continue
            if logical is not None and not logical.startswith(b"#"):
                record.append((logical_line, b"".join((logical, *parts)) if parts else logical))
            logical, parts = None, []
            if line:
                logical, logical_line = line, line_number
            elif record:
                entry = _entry(record, first_record, name, source, names, truncated=False)
                first_record = False
                record = []
                if entry is not None:
                    yield entry
        if logical is not None and not logical.startswith(b"#"):
            record.append((logical_line, b"".join((logical, *parts)) if parts else logical))
        if record:
            # A file that stops mid-line, inside a folded value, was most likely cut off.
            truncated = bool(parts) and not ends_with_newline
            entry = _entry(record, first_record, name, source, names, truncated=truncated)
            if entry is not None:
                yield entry


def _error(message: str, file: str, line: int, source: str | None) -> SourceError:
    return SourceError(message, source=source, location=f"{file}:{line}")


def _entry(
    record: list[tuple[int, bytes]],
    first_record: bool,
    file: str,
    source: str | None,
    names: dict[bytes, str],
    *,
    truncated: bool,
) -> Entry | None:
    """Turn the logical lines of one record into an entry (None for records to skip).

    Lines are parsed in order, so the first problem reported is the first one in the file
    (a change record is named by its ``changetype:`` line, not by the ``-`` after it).
    """
    last = len(record) - 1

    def parse(index: int) -> tuple[str, bytes]:
        number, line = record[index]
        return _attribute(line, number, file, source, names, truncated=truncated and index == last)

    first = 0
    kind, value = parse(0)
    if first_record and kind == "version":
        if value != b"1":
            raise _error(
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
        # The trailer ``ldapsearch -L`` writes after the entries (search: 2 / result: 0).
        return None
    if kind != "dn":
        raise _error(f"an entry must start with 'dn:', not {kind!r}", file, start, source)
    dn = _text(value, file, start, source, "dn")
    attributes: dict[str, list[bytes]] = {}
    for index in range(first + 1, last + 1):
        name, data = parse(index)
        number = record[index][0]
        if name == "changetype":
            if data.lower() not in _CONTENT_CHANGETYPES:
                raise _error(
                    f"change record (changetype: {data.decode(errors='replace')}) in {dn!r}: "
                    "accessaudit reads exports of the directory's state, not change files",
                    file,
                    number,
                    source,
                )
            continue
        if name == "control":
            raise _error(
                "LDAP controls belong to change records; give an export instead",
                file,
                number,
                source,
            )
        if name == "dn":
            raise _error(
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
    *,
    truncated: bool,
) -> tuple[str, bytes]:
    """Split one logical line into the lower-cased bare attribute name and its value."""
    colon = line.find(b":")
    if colon < 0:
        shown = line[:40].decode(errors="replace")
        raise _error(f"line has no colon: {shown!r}", file, number, source)
    description = line[:colon]
    name = names.get(description)
    if name is None:
        if not _ATTRIBUTE_NAME.match(description):
            shown = description[:40].decode(errors="replace")
            raise _error(f"not an attribute name: {shown!r}", file, number, source)
        name = description.split(b";", 1)[0].decode("ascii").lower()
        if len(names) < _NAME_CACHE:
            names[description] = name
    rest = line[colon + 1 :]
    if rest.startswith(b":"):
        encoded = rest[1:].strip(b" ")
        try:
            return name, b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as error:
            hint = " (the file ends inside this folded value: truncated?)" if truncated else ""
            raise _error(
                f"bad base64 value for {name!r}: {error}{hint}", file, number, source
            ) from error
    if rest.startswith(b"<"):
        raise _error(
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
        raise _error(
            f"value of {name!r} is not UTF-8 text (binary values must be base64, 'attr::')",
            file,
            number,
            source,
        ) from error
