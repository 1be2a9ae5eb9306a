"""Classify sampled columns into data categories, with a confidence and the evidence.

A column's values are run through every value check of :mod:`accessaudit.discovery.checks`;
its name is matched against the name hints below. The category is the one whose values match
best; the confidence is the match rate, raised when the name agrees and lowered when the
sample is small. A name alone (``ssn`` full of ``N/A``) gives a low-confidence guess, which is
what the column-name-only baseline (:func:`classify_by_name`) does for every column.

Evidence is counts and rates only: sampled values never leave this module.

>>> import pandas as pd
>>> samples = pd.DataFrame({"table": "t", "column": "contact",
...     "value": ["ann@example.org", "bob@example.net", None]})
>>> classify_columns(samples)[["column", "category", "match_rate"]]
    column category  match_rate
0  contact    email         1.0
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from accessaudit.discovery.checks import CHECKS, as_text, email_in_text
from accessaudit.discovery.shapes import SHAPES, SPECIFIC_HINTS, is_placeholder

__all__ = [
    "DATA_CATEGORY",
    "NAME_HINTS",
    "classify_by_name",
    "classify_columns",
    "data_categories_by_table",
]

#: Category -> the inventory's data category (pii / pci / phi).
DATA_CATEGORY: Mapping[str, str] = {
    "payment-card": "pci",
    "iban": "pii",
    "us-ssn": "pii",
    "uk-nino": "pii",
    "email": "pii",
    "ip-address": "pii",
    "phone": "pii",
    "date-of-birth": "pii",
    "postal-address": "pii",
    "health": "phi",
    "person-name": "pii",
}

#: Category -> a regular expression on the column name (lower case, separators as ``_``).
NAME_HINTS: Mapping[str, str] = {
    "payment-card": r"(^|_)(card|cc|pan|credit_?card)(_?(no|num|number))?($|_)|card_?number",
    "iban": r"(^|_)iban($|_)|bank_?account",
    "us-ssn": r"(^|_)(ssn|social_?security(_?number)?|tax_?id|tin)($|_)",
    "uk-nino": r"(^|_)(nino|ni_?number|national_?insurance(_?number)?)($|_)",
    "email": r"e_?mail",
    "ip-address": r"(^|_)(ip|ip_?addr(ess)?|client_?ip|remote_?addr|last_?ip)($|_)",
    "phone": r"phone|mobile|(^|_)(tel|telephone|fax|cell)($|_)",
    "date-of-birth": r"(^|_)(dob|birth_?date|date_?of_?birth|birthday|born)($|_)",
    "postal-address": r"address|street|(^|_)(addr|address_?line_?\d?|line1|line2)($|_)",
    "health": r"diagnos|condition|medical|health|icd|allerg|medication|prescri|symptom|drug|"
    r"dosage|disease|clinical|treatment",
    "person-name": r"(^|_)(full_?name|first_?name|last_?name|given_?name|surname|family_?name|"
    r"middle_?name|contact_?name|name|patient_?name|customer_?name|employee_?name)($|_)",
}

#: Share of a column's non-empty values that must match for a value-based classification.
MIN_MATCH_RATE = 0.6
#: Below this many non-empty values, the value evidence counts for less.
FULL_SAMPLE = 20
#: Fewer distinct values than this in a sample of twice as many: a code list, not names.
CODE_LIST = 10
#: A column with this many distinct values or fewer is a flag (yes/no, M/F), never carried
#: by its name alone.
FLAG_VALUES = 2
#: Share of free-text values holding an e-mail address that makes the column an e-mail column.
TEXT_SHARE = 0.1
_NAME_ONLY_CONFIDENCE = 0.35
_NAME_BONUS = 0.2
#: A column carried by its name and the shape of its values is never fully certain.
_CARRIED_CEILING = 0.8


def _normalise(names: pd.Series) -> pd.Series:
    spaced = names.astype(str).str.replace(r"([a-z])([A-Z])", r"\1_\2", regex=True)
    return spaced.str.lower().str.replace(r"[^a-z0-9]+", "_", regex=True).str.strip("_")


def _name_hint(columns: pd.Series) -> pd.Series:
    """The category each column's name suggests (first match in NAME_HINTS order), or NaN."""
    normal = _normalise(columns)
    hint: pd.Series = pd.Series(None, index=columns.index, dtype=object)
    for category, pattern in NAME_HINTS.items():
        plain = re.sub(r"\((?!\?)", "(?:", pattern)  # non-capturing: no pandas warning
        found = normal.str.contains(plain, regex=True).fillna(False).astype(bool)
        hint = hint.where(hint.notna() | ~found, category)
    return hint


def classify_by_name(columns: pd.DataFrame) -> pd.DataFrame:
    """The column-name-only baseline: ``table``, ``column`` -> ``category`` (or NaN)."""
    out = columns[["table", "column"]].drop_duplicates().reset_index(drop=True)
    out["category"] = _name_hint(out["column"])
    return out


def classify_columns(
    samples: pd.DataFrame, *, min_match_rate: float = MIN_MATCH_RATE
) -> pd.DataFrame:
    """Classify every column of ``samples`` (long format: ``table``, ``column``, ``value``).

    Returns one row per column with a category (NaN when nothing fits): ``table``,
    ``column``, ``category``, ``data_category`` (pii / pci / phi), ``confidence`` (0-1),
    ``match_rate`` (share of sampled values, placeholders aside, that passed the category's
    check), ``sampled`` (non-empty values looked at), ``placeholders`` (how many of those were
    fillers such as ``n/a``, never matched), ``name_hint`` (what the name alone suggests) and
    ``method`` (values, values+name, name+shape, name).

    Decided in this order: the strict value checks (a birth date only under a birth-date name,
    since any date column would pass; a person's name not in a column of a handful of repeated
    values); else e-mail addresses inside free text; else a specific column name whose values
    fit the category's loose shape (:mod:`accessaudit.discovery.shapes`); else the name alone,
    at a confidence below the usual 0.5 cut.
    """
    keys = ["table", "column"]
    frame = samples[[*keys, "value"]].copy()
    frame["value"] = as_text(frame["value"])
    frame = frame[frame["value"].notna() & (frame["value"] != "")]
    frame = frame.assign(placeholder=is_placeholder(frame["value"]).to_numpy(dtype=bool))
    columns = samples[keys].drop_duplicates().reset_index(drop=True)
    real = frame[~frame["placeholder"]]
    distinct = real.drop_duplicates([*keys, "value"])
    per_column = distinct.groupby(keys, sort=False)

    def share(check: Callable[[pd.Series], pd.Series]) -> pd.Series:
        hits = distinct.assign(hit=check(distinct["value"]).to_numpy(dtype=bool))
        return hits.groupby(keys, sort=False)["hit"].mean()

    categories = list(CHECKS)
    table = columns
    for label, found in (
        *((name, share(check)) for name, check in CHECKS.items()),
        *((f"shape:{name}", share(check)) for name, check in SHAPES.items()),
        ("email_in_text", share(email_in_text)),
        ("distinct", per_column.size()),
        ("sampled", frame.groupby(keys, sort=False).size()),
        ("placeholders", frame.groupby(keys, sort=False)["placeholder"].sum()),
    ):
        table = table.merge(found.rename(label), left_on=keys, right_index=True, how="left")
    for count in ("distinct", "sampled", "placeholders"):
        table[count] = table[count].fillna(0).astype(int)
    hint = _name_hint(table["column"])
    hint_values = hint.to_numpy(dtype=object)
    specific = _specific(table["column"], hint)
    real_count = (table["sampled"] - table["placeholders"]).to_numpy()
    distinct_count = table["distinct"].to_numpy()

    scores = table[categories].fillna(0.0).to_numpy(dtype=float)
    # Any date column passes as a birth date on values alone (hire dates, order dates):
    # the values may only confirm a name that says birth date.
    scores[:, categories.index("date-of-birth")] *= hint_values == "date-of-birth"
    # Names of people vary; a handful of values repeated down a sampled column is a code list
    # (titles, departments, languages) shaped like names.
    code_list = (distinct_count < CODE_LIST) & (real_count >= 2 * CODE_LIST)
    scores[:, categories.index("person-name")] *= ~code_list
    rows = np.arange(len(table))
    best_at = scores.argmax(axis=1) if len(table) else np.zeros(0, dtype=int)
    best = np.asarray(categories, dtype=object)[best_at]
    best_rate = scores[rows, best_at] if len(table) else np.zeros(0)
    hint_at = _positions(hint, categories).clip(min=0)
    hint_rate = (
        np.where(pd.notna(hint_values), scores[rows, hint_at], 0.0) if len(table) else best_rate
    )
    # A name that agrees with the runner-up beats a marginally better unrelated match
    # (a "phone" column whose numbers also pass as something looser).
    prefer_hint = (hint_rate >= min_match_rate) & (hint_rate >= best_rate - 0.15)
    by_value = prefer_hint | (best_rate >= min_match_rate)
    category: np.ndarray = np.where(prefer_hint, hint_values, np.where(by_value, best, None))
    rate = np.where(prefer_hint, hint_rate, np.where(by_value, best_rate, 0.0))
    method = np.where(by_value, "values", "")
    size_factor = np.minimum(1.0, 0.5 + real_count / (2 * FULL_SAMPLE))
    name_agrees = by_value & (category == hint_values)
    confidence = np.where(
        by_value, np.minimum(1.0, rate * size_factor + _NAME_BONUS * name_agrees), 0.0
    )
    method = np.where(name_agrees, "values+name", method)

    # E-mail addresses inside notes and comments: personal data even when most rows hold none.
    in_text = table["email_in_text"].fillna(0.0).to_numpy(dtype=float)
    texted = ~by_value & (in_text >= TEXT_SHARE)
    category = np.where(texted, "email", category)
    rate = np.where(texted, in_text, rate)
    confidence = np.where(texted, np.minimum(1.0, (0.5 + in_text / 2) * size_factor), confidence)
    method = np.where(texted, np.where(hint_values == "email", "values+name", "values"), method)

    # A specific name, values of the right shape (and more than a yes/no flag's two values).
    shaped = list(SHAPES)
    shape_scores = table[[f"shape:{name}" for name in shaped]].fillna(0.0).to_numpy(dtype=float)
    shape_at = _positions(hint, shaped)
    shape_rate = np.where(
        shape_at >= 0, shape_scores[rows, shape_at.clip(min=0)] if len(table) else 0.0, 0.0
    )
    carried = (
        pd.isna(category)
        & specific
        & (shape_rate >= min_match_rate)
        & (distinct_count > FLAG_VALUES)
    )
    category = np.where(carried, hint_values, category)
    rate = np.where(carried, shape_rate, rate)
    confidence = np.where(
        carried, np.minimum(_CARRIED_CEILING, (0.4 + 0.4 * shape_rate) * size_factor), confidence
    )
    method = np.where(carried, "name+shape", method)

    # Nothing in the values (or nothing sampled) but a telling name: a low-confidence guess.
    name_only = pd.isna(category) & pd.notna(hint_values)
    category = np.where(name_only, hint_values, category)
    confidence = np.where(name_only, _NAME_ONLY_CONFIDENCE, confidence)
    method = np.where(name_only, "name", method)
    out = pd.DataFrame(
        {
            "table": table["table"],
            "column": table["column"],
            "category": pd.Series(category, dtype=object),
            "confidence": np.round(confidence.astype(float), 2),
            "match_rate": np.round(rate.astype(float), 3),
            "sampled": table["sampled"],
            "placeholders": table["placeholders"],
            "name_hint": hint,
            "method": pd.Series(method, dtype=object).replace("", None),
        }
    )
    out.insert(3, "data_category", out["category"].map(DATA_CATEGORY))
    return out


def _positions(hint: pd.Series, names: list[str]) -> np.ndarray:
    """Each hint's position in ``names`` (-1 for no hint or one not listed)."""
    where = {name: i for i, name in enumerate(names)}
    return hint.map(where).fillna(-1).to_numpy(dtype=int)


def _specific(columns: pd.Series, hint: pd.Series) -> np.ndarray:
    """Whether each column's name is specific enough (:data:`SPECIFIC_HINTS`) to carry it."""
    normal = _normalise(columns)
    specific = np.zeros(len(columns), dtype=bool)
    for category, pattern in SPECIFIC_HINTS.items():
        plain = re.sub(r"\((?!\?)", "(?:", pattern)
        found = normal.str.contains(plain, regex=True).fillna(False).to_numpy(dtype=bool)
        specific |= found & (hint.to_numpy(dtype=object) == category)
    return specific


def data_categories_by_table(classified: pd.DataFrame, *, min_confidence: float = 0.5) -> pd.Series:
    """``table`` -> the ';'-joined, sorted data categories found at ``min_confidence``."""
    sure = classified[
        classified["data_category"].notna() & (classified["confidence"] >= min_confidence)
    ]
    return sure.groupby("table")["data_category"].agg(lambda s: ";".join(sorted(set(s))))
