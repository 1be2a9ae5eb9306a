"""The syntaxes of directory values: binary SIDs, distinguished names, Windows FILETIME and
LDAP GeneralizedTime (RFC 4517 §3.3.13), converted vectorised, a column at a time.

>>> sid_to_string(bytes.fromhex("01020000000000052000000020020000"))
'S-1-5-32-544'
"""

from __future__ import annotations

import re
import struct

import numpy as np
import pandas as pd

__all__ = [
    "DOMAIN_SID",
    "PERMANENT_LOCK",
    "convert_times",
    "never_times",
    "normalise_dn",
    "outside_range",
    "redact_url",
    "sid_to_string",
    "whole_numbers",
]

# Windows FILETIME: 100 ns ticks since 1601-01-01; 1970-01-01 is this many ticks later.
_FILETIME_UNIX_EPOCH = 116_444_736_000_000_000
# AD's documented "never" for accountExpires (and 0 for "never" / "not set").
_FILETIME_NEVER = 2**63 - 1
_INT64_MAX_TEXT = str(2**63 - 1)
# The rule for times pandas cannot hold (it stores int64 nanoseconds: 1677-09-21 to
# 2262-04-11): a directory time before 1678 or after 2261 is stored as no time (NaT) and
# counted by the caller. Such values are real and mean "never" or "no end" in practice: AD
# writes lastLogonTimestamp 1 (1601-01-01) and whenCreated 9999-12-31 on odd objects, tools
# write 30828-09-14 expiry dates, HR-fed attributes 9999-12-31 and 0001-01-01.
_FIRST_YEAR = 1678
_LAST_YEAR = 2261
_FILETIME_FIRST = (int(pd.Timestamp(f"{_FIRST_YEAR}-01-01").value) // 100) + _FILETIME_UNIX_EPOCH
_FILETIME_LAST = (int(pd.Timestamp(f"{_LAST_YEAR + 1}-01-01").value) // 100) + _FILETIME_UNIX_EPOCH
#: ppolicy writes this impossible date when an administrator locks an account for good.
PERMANENT_LOCK = "000001010000Z"
_GENERALIZED_TIME = (
    r"^(?P<y>\d{4})(?P<mo>\d{2})(?P<d>\d{2})(?P<h>\d{2})"
    r"(?:(?P<mi>\d{2})(?:(?P<s>\d{2})(?:[.,](?P<f>\d{1,9}))?)?)?"
    r"(?P<tz>Z|[+-]\d{2}(?:\d{2})?)?$"
)
#: A SID of a domain account or group: the domain part and the relative id.
DOMAIN_SID = r"^(?P<domain>S-1-5-21-\d+-\d+-\d+)-(?P<rid>\d+)$"
# scheme://userinfo@ — the userinfo part of any URL, whatever follows it.
_URL_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/?#\s]*@")
# Spaces around an unescaped comma are not part of any RDN value (RFC 4514 writers drop them).
_DN_SEPARATOR = r"\s*(?<!\\),\s*"


def sid_to_string(raw: bytes) -> str:
    """A binary security identifier as its ``S-1-5-21-…`` text form.

    Values that already are text (some tools export them so) pass through.

    >>> sid_to_string(bytes.fromhex("01020000000000052000000020020000"))
    'S-1-5-32-544'
    """
    if raw[:4] in (b"S-1-", b"s-1-"):
        return raw.decode("ascii").upper()
    if len(raw) < 8 or len(raw) != 8 + 4 * raw[1]:
        raise ValueError(f"not a binary SID ({len(raw)} bytes)")
    authority = int.from_bytes(raw[2:8], "big")
    subauthorities = struct.unpack_from(f"<{raw[1]}I", raw, 8)
    return "-".join(["S", str(raw[0]), str(authority), *map(str, subauthorities)])


def normalise_dn(dns: pd.Series) -> pd.Series:
    """DNs in the form used for matching and as OpenLDAP native ids: lower-case, no spaces
    around the commas that separate RDNs (escaped commas inside a value are kept).

    >>> normalise_dn(pd.Series(["CN=Alice, OU=Staff,DC=Example,DC=org"])).tolist()
    ['cn=alice,ou=staff,dc=example,dc=org']
    """
    text = dns.astype(pd.StringDtype(na_value=np.nan)).str.strip().str.lower()
    # The look-behind needs Python's re (slow, per value); most directories write no such
    # spaces, so only the few DNs that have a space next to a comma pay for it.
    spaced = (
        (text.str.contains(", ", regex=False) | text.str.contains(" ,", regex=False))
        .fillna(False)
        .astype(bool)
    )
    if spaced.any():
        text = text.copy()
        text[spaced] = text[spaced].str.replace(_DN_SEPARATOR, ",", regex=True)
    return text


def whole_numbers(values: pd.Series) -> pd.Series:
    """Decimal integers (LDAP INTEGER syntax, RFC 4517 §3.3.16) that fit 64 bits, as Int64;
    anything else (``1.5``, ``1e30``, ``inf``, 20 digits) is NA.

    >>> whole_numbers(pd.Series(["512", "-1", "1e30", None])).tolist()
    [512, -1, <NA>, <NA>]
    """
    text = values.astype(pd.StringDtype(na_value=np.nan)).str.strip()
    magnitude = text.str.removeprefix("-")
    digits = magnitude.str.fullmatch(r"[0-9]{1,19}").fillna(False).astype(bool)
    # Equal-length digit strings compare like their numbers: drop what int64 cannot hold.
    too_big = (magnitude.str.len() == 19) & (magnitude > _INT64_MAX_TEXT)
    usable = digits & ~too_big.fillna(False).astype(bool)
    numbers = pd.to_numeric(text.where(usable), errors="coerce", dtype_backend="numpy_nullable")
    return numbers.astype("Int64")


def never_times(values: pd.Series, form: str) -> pd.Series:
    """Values that mean "never" rather than a time: FILETIME 0 and 2**63-1, ppolicy's
    permanent lock ``000001010000Z``."""
    if form == "filetime":
        numbers = whole_numbers(values)
        return ((numbers == 0) | (numbers == _FILETIME_NEVER)).fillna(False).astype(bool)
    return (values.astype("string").str.strip() == PERMANENT_LOCK).fillna(False).astype(bool)


def outside_range(values: pd.Series, form: str) -> pd.Series:
    """Well-formed times before 1678 or after 2261, which :func:`convert_times` stores as NaT.

    >>> outside_range(pd.Series(["99991231235959.0Z", "20240131120000Z"]), "generalized").tolist()
    [True, False]
    """
    text = values.astype(pd.StringDtype(na_value=np.nan)).str.strip()
    if form == "filetime":
        ticks = whole_numbers(text)
        outside = ((ticks > 0) & (ticks < _FILETIME_FIRST)) | (
            (ticks >= _FILETIME_LAST) & (ticks != _FILETIME_NEVER)
        )
        return outside.fillna(False).astype(bool)
    year = pd.to_numeric(text.str.extract(r"^(\d{4})\d{6}", expand=False), errors="coerce")
    outside = ((year < _FIRST_YEAR) | (year > _LAST_YEAR)) & (text != PERMANENT_LOCK)
    return outside.fillna(False).astype(bool)


def convert_times(values: pd.Series, form: str) -> pd.Series:
    """Raw directory times → UTC timestamps; never-values, times outside 1678–2261 (see
    :func:`outside_range`) and bad values become NaT."""
    text = values.astype(pd.StringDtype(na_value=np.nan)).str.strip()
    text = text.where(~outside_range(text, form))
    if form == "filetime":
        ticks = whole_numbers(text)
        usable = ((ticks >= _FILETIME_FIRST) & (ticks < _FILETIME_LAST)).fillna(False).astype(bool)
        micros = ((ticks - _FILETIME_UNIX_EPOCH) // 10).where(usable)
        return pd.to_datetime(micros, unit="us", utc=True)
    # Nearly every directory writes 20240131120000Z or 20240131120000.0Z: slice those with
    # fast string kernels and leave only the rarer shapes to the general (slower) pattern.
    common = text.str.fullmatch(r"\d{14}(?:\.\d{1,9})?Z").fillna(False).astype(bool)
    iso = (
        text.str.slice(0, 4)
        + "-"
        + text.str.slice(4, 6)
        + "-"
        + text.str.slice(6, 8)
        + "T"
        + text.str.slice(8, 10)
        + ":"
        + text.str.slice(10, 12)
        + ":"
        + text.str.slice(12, 14)
        + text.str.slice(14, -1)
        + "+00:00"
    ).where(common)
    rare = text.notna() & ~common
    if rare.any():
        iso[rare] = _generalized_iso(text[rare])
    return pd.to_datetime(iso, utc=True, errors="coerce", format="ISO8601")


def _generalized_iso(text: pd.Series) -> pd.Series:
    """Any GeneralizedTime (optional minutes, seconds, fraction, offset) as ISO 8601 text."""
    parts = text.str.extract(_GENERALIZED_TIME)
    zone = parts["tz"].fillna("Z")
    offset = zone.where(zone != "Z", "+00:00")
    offset = offset.where(offset.str.len() != 3, offset + ":00")
    offset = offset.where(offset.str.len() != 5, offset.str[:3] + ":" + offset.str[3:])
    return (
        parts["y"]
        + "-"
        + parts["mo"]
        + "-"
        + parts["d"]
        + "T"
        + parts["h"]
        + ":"
        + parts["mi"].fillna("00")
        + ":"
        + parts["s"].fillna("00")
        + ("." + parts["f"]).fillna("")
        + offset
    )


def redact_url(text: str) -> str:
    """``text`` with the userinfo of every URL in it replaced, so no message or report shows a
    user name or password given inside a URL.

    >>> redact_url("ldaps://admin:s3cret@dc1.example.com/dc=example")
    'ldaps://***@dc1.example.com/dc=example'
    """
    return _URL_USERINFO.sub(r"\g<scheme>***@", text)
