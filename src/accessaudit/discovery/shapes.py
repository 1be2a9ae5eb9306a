"""Loose value shapes and placeholders: what lets a column's name speak for values that carry
no pattern of their own.

The checks of :mod:`accessaudit.discovery.checks` are strict on purpose: a value passes only
when it could not plausibly be anything else, so they can classify a column whose name says
nothing. Many personal columns hold values no strict check can recognise — a single given
name, ``Rua Dr. Falcão Filho, 155``, the mailbox name ``SKING``, a birth date shifted by a
de-identification step, ICD-9 code ``4019``. For those the column's name is the evidence and
the values can only confirm it is not contradicted: each shape here says "this value could be
one of those" and is used only together with a specific name hint
(:data:`SPECIFIC_HINTS`). Placeholders (``n/a``, ``unknown``, ``-``) are no values at all:
they are counted apart and never matched.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pandas as pd

from accessaudit.discovery.checks import as_text, email, health_term, postal_address

__all__ = ["PLACEHOLDER", "SHAPES", "SPECIFIC_HINTS", "is_placeholder"]

#: A value that stands for "no value": common fillers of legacy and form-entered data.
PLACEHOLDER = (
    r"(?i)n/?a|none|null|nil|unknown|not known|not applicable|tbd|tba|missing|empty|"
    r"-+|\?+|\.+|_+|x+|0+|#n/a"
)

_DATE_SHAPE = (
    r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?|"
    r"\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}"
)
_NAME_SHAPE = r"(?:[^\W\d_]|['’.-])+(?:\s(?:[^\W\d_]|['’.-])+){0,4}"
_MAILBOX = r"[A-Za-z][A-Za-z0-9._%+'-]{1,63}"
_CODE = r"[EVev]?\d{3,5}|[A-TV-Za-tv-z]\d[0-9AB](?:\.?\d{1,4})?"


def is_placeholder(values: pd.Series) -> pd.Series:
    """Whether each (stripped) value is a placeholder rather than data."""
    text = as_text(values)
    return text.str.fullmatch(PLACEHOLDER).fillna(False).astype(bool)


def _fits(pattern: str) -> Callable[[pd.Series], pd.Series]:
    def check(values: pd.Series) -> pd.Series:
        text = as_text(values)
        return text.str.fullmatch(pattern).fillna(False).astype(bool)

    return check


def _person(values: pd.Series) -> pd.Series:
    """Letters (any script), apostrophes, hyphens, one to five words: a name or part of one."""
    text = as_text(values)
    shaped = text.str.fullmatch(_NAME_SHAPE).fillna(False).astype(bool)
    return shaped & (text.str.count(r"[^\W\d_]") >= 2).fillna(False).astype(bool)


def _postal(values: pd.Series) -> pd.Series:
    """A house/plot/box number and a word of three letters or more, in several words."""
    text = as_text(values)
    has = {
        "digit": r"\d",
        "word": r"[^\W\d_]{3,}",
        "space": r"\s",
    }
    fits = pd.Series(True, index=values.index)
    for pattern in has.values():
        fits &= text.str.contains(pattern, regex=True).fillna(False).astype(bool)
    return fits | postal_address(values)


def _email(values: pd.Series) -> pd.Series:
    """An address, or only its mailbox part (``SKING``: Oracle HR's ``EMAIL`` column)."""
    return email(values) | _fits(_MAILBOX)(values)


def _health(values: pd.Series) -> pd.Series:
    """Clinical text (words, not numbers) or an ICD-9/ICD-10 code."""
    text = as_text(values)
    words = text.str.contains(r"[^\W\d_]{3,}", regex=True).fillna(False).astype(bool)
    not_contact = ~text.str.contains(r"@|https?://", regex=True).fillna(False).astype(bool)
    codes = text.str.fullmatch(_CODE).fillna(False).astype(bool)
    return (words & not_contact) | codes | health_term(values)


def _phone(values: pd.Series) -> pd.Series:
    """Digits with the separators telephone numbers are written with, six digits or more."""
    text = as_text(values)
    shaped = text.str.fullmatch(r"\+?[\d\s().\-/]{6,25}").fillna(False).astype(bool)
    return shaped & (text.str.count(r"\d") >= 6).fillna(False).astype(bool)


#: Category -> the loose shape its values must have for a specific name to carry the column.
#: Categories whose strict check is already the only plausible shape (checksummed numbers,
#: IP addresses) are absent: for them the name carries nothing the values do not show.
SHAPES: Mapping[str, Callable[[pd.Series], pd.Series]] = {
    "email": _email,
    "phone": _phone,
    "date-of-birth": _fits(_DATE_SHAPE),
    "postal-address": _postal,
    "health": _health,
    "person-name": _person,
}

#: Category -> the column names specific enough to carry a column whose values fit the
#: category's shape (lower case, separators as ``_``). A bare ``name`` is not (``title``,
#: ``language.name``, ``department.name``), nor is ``condition`` (``product.condition``).
SPECIFIC_HINTS: Mapping[str, str] = {
    # The column is the address, not something about it (email_status, email_template).
    "email": r"e_?mail(_?addr(ess)?)?($|_?\d$)",
    "phone": r"phone|mobile|(^|_)(tel|telephone|fax|cell)($|_)",
    "date-of-birth": r"(^|_)(dob|birth_?date|date_?of_?birth|birthday|born)($|_)|birth",
    "postal-address": r"address|street|(^|_)(addr|line1|line2)($|_)",
    "health": r"diagnos|medical|health|icd|allerg|medication|prescri|symptom|drug|dosage|"
    r"disease|clinical|treatment",
    "person-name": r"((first|last|given|family|middle|maiden|full|sur)_?name|surname|"
    r"(contact|patient|customer|employee|person|member)_?name)($|_?\d$)",
}
