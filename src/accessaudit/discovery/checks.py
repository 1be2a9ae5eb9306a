"""Value checks for data discovery: patterns plus the checksums that make them trustworthy.

Each check takes a Series of sampled values (strings) and returns a boolean Series: does the
value look like that kind of data. Checksums cut false positives where a pattern alone would
match anything of the right length: payment cards by Luhn (ISO/IEC 7812-1), IBANs by ISO 7064
mod 97-10 (ISO 13616), US social security numbers by the SSA's rules (no area 000, 666 or
900-999, no group 00, no serial 0000), UK National Insurance numbers by HMRC's prefix rules
(no D, F, I, Q, U, V in either letter, no O second, no BG/GB/KN/NK/NT/TN/ZZ prefix).

>>> import pandas as pd
>>> luhn_valid(pd.Series(["4111 1111 1111 1111", "4111 1111 1111 1112"])).tolist()
[True, False]
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

__all__ = [
    "CHECKS",
    "as_text",
    "birth_date",
    "email",
    "email_in_text",
    "health_term",
    "iban_valid",
    "ip_address",
    "luhn_valid",
    "person_name",
    "phone",
    "postal_address",
    "uk_nino",
    "us_ssn",
]

Check = Callable[[pd.Series], pd.Series]

_EMAIL = r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$"
_SSN = r"^(?!000|666|9\d\d)(\d{3})-?(?!00)(\d{2})-?(?!0000)(\d{4})$"
_NINO = r"^(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]\d{6}[A-D]$"
_STREET = (
    r"^\d{1,5}[A-Za-z]?\s+(\w+\s){0,4}(street|st|avenue|ave|road|rd|lane|ln|drive|dr|"
    r"boulevard|blvd|way|court|ct|place|pl|square|sq|terrace|close|crescent|highway|hwy|"
    r"strasse|straße|rue|via|calle)\b"
)
_HEALTH = (
    r"\b(diabet\w*|asthma|hypertension|hypotension|cancer|carcinoma|tumou?r|lymphoma|leuka?emia|"
    r"hiv|aids|hepatitis|cirrhosis|pregnan\w*|depressi\w*|anxiety|allerg\w*|penicillin|"
    r"fracture|diagnos\w*|prescri\w*|insulin|chemotherapy|dialysis|dementia|alzheimer\w*|"
    r"parkinson\w*|epilep\w*|seizure|influenza|covid|arthritis|migraine|obesity|schizophreni\w*|"
    r"bipolar|tuberculosis|malaria|stroke|myocardial|infarction|angina|copd|pneumonia|sepsis|"
    r"infection|renal|kidney|cardiac|heart|hemorrhage|haemorrhage|anemia|anaemia|"
    r"thrombosis|embolism|syndrome|disorder|disease|\d+ ?(?:mg|mcg|ml)\b|mg daily|mg twice)\b"
)
# WHO International Nonproprietary Name stems of common drug classes (beta blockers, ACE
# inhibitors, statins, antibiotics, proton pump inhibitors...): a drug name is health data.
_DRUG_STEM = (
    r"\b\w{2,}(olol|pril|sartan|statin|prazole|cillin|mycin|oxacin|cycline|azole|dipine|"
    r"parin|formin|gliptin|tidine|pam|semide|profen|vir|mab|nib)\b"
)
# Non-capturing groups: str.contains warns about capturing ones.
_STREET = _STREET.replace("(", "(?:")
_HEALTH = _HEALTH.replace("(", "(?:").replace("(?:?:", "(?:")
_DRUG_STEM = _DRUG_STEM.replace("(", "(?:")
_ICD10 = r"^[A-TV-Z]\d[0-9AB](\.\d{1,4})?$"
# Upper-case letters of Latin-1 and Latin Extended-A/B (Ł, Ś, Ž, Ő...): names of many origins.
_UPPER = "A-ZÀ-ÖØ-Þ" + "".join(ch for ch in map(chr, range(0x100, 0x250)) if ch.isupper())
_PARTICLE = r"(?:van|von|der|den|de|del|della|di|da|do|dos|das|du|la|le|bin|ibn|al|el|ter|ten)"
_WORD = rf"[{_UPPER}](?:[^\W\d_]|['’])*(?:-[^\W\d_]['’]?(?:[^\W\d_]|['’])*)*"
_INITIAL = rf"[{_UPPER}]\."
_PART = rf"(?:{_PARTICLE}[ -])*(?:{_WORD}|{_INITIAL})"
_NAME = rf"{_PART}(?:[ ]{_PART}){{1,3}}"
# A date, or a timestamp at midnight (how date columns often come out): a birth date has no
# time of day, so "2006-02-15 05:09:17" is an event, not a birthday.
_DATE = r"^\d{4}-\d{2}-\d{2}(?:[ T]00:00(?::00)?)?$|^\d{1,2}[/.]\d{1,2}[/.]\d{4}$"


def as_text(values: pd.Series) -> pd.Series:
    """Sampled values as stripped strings. Text a driver decoded with ``surrogateescape``
    (bytes that were not UTF-8) holds lone surrogates no string array can store: those become
    U+FFFD, so odd bytes cost a match, never the whole classification."""
    try:
        return values.astype("string").str.strip()
    except UnicodeEncodeError:
        cleaned = [
            v
            if v is None or (not isinstance(v, str) and pd.isna(v))
            else str(v).encode("utf-8", "surrogatepass").decode("utf-8", "replace")
            for v in values.astype(object)
        ]
        return pd.Series(cleaned, index=values.index, dtype=object).astype("string").str.strip()


_text = as_text


def _each(text: pd.Series, shaped: pd.Series, check: Callable[[str], bool]) -> pd.Series:
    """``check`` on the values whose shape already fits (checksums and parsers are per value;
    the regex shape filter in front keeps them off most of a column)."""
    results = [check(str(v)) for v in text[shaped]]
    hits = pd.Series(results, index=text.index[shaped.to_numpy(dtype=bool)], dtype=bool)
    return hits.reindex(text.index, fill_value=False)


def email(values: pd.Series) -> pd.Series:
    """An e-mail address (RFC 5322's common form)."""
    return _text(values).str.fullmatch(_EMAIL).fillna(False).astype(bool)


def email_in_text(values: pd.Series) -> pd.Series:
    """Free text holding an e-mail address somewhere (notes, comments)."""
    inner = _EMAIL.strip("^$").replace("(", "(?:")
    return (
        _text(values).str.contains(rf"(?<![\w.+-]){inner}", regex=True).fillna(False).astype(bool)
    )


def luhn_valid(values: pd.Series) -> pd.Series:
    """A payment card number: 13-19 digits (spaces or dashes allowed) passing Luhn."""
    digits = _text(values).str.replace(r"[ -]", "", regex=True)
    shaped = digits.str.fullmatch(r"\d{13,19}").fillna(False).astype(bool)
    out = pd.Series(False, index=values.index)
    for length in range(13, 20):
        rows = shaped & (digits.str.len() == length).fillna(False).astype(bool)
        if not rows.any():
            continue
        matrix = np.array([list(s) for s in digits[rows]], dtype=np.int64)[:, ::-1]
        doubled = matrix[:, 1::2] * 2
        total = matrix[:, ::2].sum(axis=1) + (doubled - 9 * (doubled > 9)).sum(axis=1)
        out[rows] = total % 10 == 0
    return out


def iban_valid(values: pd.Series) -> pd.Series:
    """An IBAN: country code, check digits, BBAN, passing ISO 7064 mod 97-10."""
    compact = _text(values).str.replace(" ", "", regex=False).str.upper()
    shaped = compact.str.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}").fillna(False).astype(bool)

    def mod97(value: str) -> bool:
        moved = value[4:] + value[:4]
        return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1

    return _each(compact, shaped, mod97)


def us_ssn(values: pd.Series) -> pd.Series:
    """A US social security number the SSA could have issued (area/group/serial rules)."""
    return _text(values).str.fullmatch(_SSN).fillna(False).astype(bool)


def uk_nino(values: pd.Series) -> pd.Series:
    """A UK National Insurance number in HMRC's allocated format."""
    compact = _text(values).str.replace(" ", "", regex=False).str.upper()
    return compact.str.fullmatch(_NINO).fillna(False).astype(bool)


def phone(values: pd.Series) -> pd.Series:
    """A telephone number: ``phonenumbers`` validation when installed, else its shape."""
    text = _text(values)
    shaped = (
        text.str.fullmatch(r"\+?[\d\s().-]{7,20}").fillna(False).astype(bool)
        & (text.str.count(r"\d") >= 7).fillna(False).astype(bool)
        & ~text.str.fullmatch(r"\d{4}-\d{2}-\d{2}").fillna(False).astype(bool)
    )
    try:
        import phonenumbers  # noqa: PLC0415  (optional: the discovery extra)
    except ImportError:
        return shaped

    def possible(value: str) -> bool:
        try:
            parsed = phonenumbers.parse(value, None if value.startswith("+") else "US")
        except phonenumbers.NumberParseException:
            return False
        # "Possible" (right length for the region), not "valid": test and drama ranges
        # (555, 07700 900xxx) are phone numbers in every sense that matters here.
        return bool(phonenumbers.is_possible_number(parsed))

    return _each(text, shaped, possible)


def ip_address(values: pd.Series) -> pd.Series:
    """An IPv4 or IPv6 address (optionally with a prefix length)."""
    text = _text(values)
    shaped = text.str.fullmatch(r"[0-9A-Fa-f:.]{2,45}(/\d{1,3})?").fillna(False).astype(bool)
    shaped &= text.str.contains(r"[.:]", regex=True).fillna(False).astype(bool)

    def parses(value: str) -> bool:
        try:
            ipaddress.ip_interface(value)
        except ValueError:
            return False
        return True

    return _each(text, shaped, parses)


def birth_date(values: pd.Series) -> pd.Series:
    """A calendar date a living person could be born on (1900 up to 16 years ago)."""
    text = _text(values)
    shaped = text.str.fullmatch(_DATE).fillna(False).astype(bool)
    when = pd.to_datetime(text.where(shaped), errors="coerce", format="mixed", dayfirst=False)
    latest = pd.Timestamp.now() - pd.DateOffset(years=16)
    earliest = pd.Timestamp("1900-01-01")
    plausible = when.notna() & (when >= earliest) & (when <= latest)
    return pd.Series(plausible.to_numpy(dtype=bool), index=values.index)


def person_name(values: pd.Series) -> pd.Series:
    """Two to four capitalised words, the shape of a person's full name; particles (``van
    der``, ``de la``, ``al-``), hyphens, apostrophes and initials allowed, in any Latin script."""
    text = _text(values)
    return (text.str.fullmatch(_NAME) & text.str.contains(r"[a-zß-ÿ]")).fillna(False).astype(bool)


def postal_address(values: pd.Series) -> pd.Series:
    """A street address: a house number followed by a street-type word."""
    return _text(values).str.contains(_STREET, case=False, regex=True).fillna(False).astype(bool)


def health_term(values: pd.Series) -> pd.Series:
    """A clinical term or an ICD-10 code."""
    text = _text(values)
    terms = text.str.contains(_HEALTH, case=False, regex=True).fillna(False).astype(bool)
    terms |= text.str.contains(_DRUG_STEM, case=False, regex=True).fillna(False).astype(bool)
    codes = text.str.fullmatch(_ICD10).fillna(False).astype(bool)
    return terms | codes


#: Category -> its value check. The order breaks ties: stricter checks come first.
CHECKS: Mapping[str, Check] = {
    "payment-card": luhn_valid,
    "iban": iban_valid,
    "us-ssn": us_ssn,
    "uk-nino": uk_nino,
    "email": email,
    "ip-address": ip_address,
    "phone": phone,
    "date-of-birth": birth_date,
    "postal-address": postal_address,
    "health": health_term,
    "person-name": person_name,
}
