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
from collections.abc import Mapping

import numpy as np
import pandas as pd

from accessaudit.discovery.checks import CHECKS

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
    "health": r"diagnos|condition|medical|health|icd|allerg|medication|prescription|symptom",
    "person-name": r"(^|_)(full_?name|first_?name|last_?name|given_?name|surname|family_?name|"
    r"middle_?name|contact_?name|name|patient_?name|customer_?name|employee_?name)($|_)",
}

#: Share of a column's non-empty values that must match for a value-based classification.
MIN_MATCH_RATE = 0.6
#: Below this many non-empty values, the value evidence counts for less.
FULL_SAMPLE = 20
_NAME_ONLY_CONFIDENCE = 0.35
_NAME_BONUS = 0.2


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
    ``match_rate`` (share of sampled non-empty values that passed the category's check),
    ``sampled`` (non-empty values looked at), ``name_hint`` (what the name alone suggests) and
    ``method`` (values, values+name, name).
    """
    keys = ["table", "column"]
    frame = samples[[*keys, "value"]].copy()
    frame["value"] = frame["value"].astype("string").str.strip()
    frame = frame[frame["value"].notna() & (frame["value"] != "")]
    columns = samples[keys].drop_duplicates().reset_index(drop=True)
    distinct = frame.drop_duplicates([*keys, "value"])
    rates = {}
    for name, check in CHECKS.items():
        hits = distinct.assign(hit=check(distinct["value"]).to_numpy(dtype=bool))
        rates[name] = hits.groupby(keys, sort=False)["hit"].mean()
    table = pd.DataFrame(rates)
    sampled = frame.groupby(keys, sort=False).size().rename("sampled")
    table = columns.merge(table, left_on=keys, right_index=True, how="left")
    table = table.merge(sampled, left_on=keys, right_index=True, how="left")
    table["sampled"] = table["sampled"].fillna(0).astype(int)
    categories = list(CHECKS)
    scores = table[categories].fillna(0.0).to_numpy(dtype=float)
    best_at = scores.argmax(axis=1)
    best = np.asarray(categories, dtype=object)[best_at]
    best_rate = scores[np.arange(len(table)), best_at] if len(table) else np.array([])
    hint = _name_hint(table["column"])
    by_value = best_rate >= min_match_rate
    # A name that agrees with the runner-up beats a marginally better unrelated match
    # (a "phone" column whose numbers also pass as something looser).
    hint_rate = np.array(
        [
            scores[i, categories.index(h)] if isinstance(h, str) else 0.0
            for i, h in enumerate(hint.to_numpy())
        ]
    )
    prefer_hint = (hint_rate >= min_match_rate) & (hint_rate >= best_rate - 0.15)
    category: np.ndarray = np.where(prefer_hint, hint.to_numpy(), np.where(by_value, best, None))
    rate = np.where(prefer_hint, hint_rate, np.where(by_value, best_rate, 0.0))
    name_agrees = category == hint.to_numpy()
    size_factor = np.minimum(1.0, 0.5 + table["sampled"].to_numpy() / (2 * FULL_SAMPLE))
    confidence = np.where(
        pd.notna(category), np.minimum(1.0, rate * size_factor + _NAME_BONUS * name_agrees), 0.0
    )
    # Nothing in the values (or nothing sampled) but a telling name: a low-confidence guess.
    name_only = pd.isna(category) & hint.notna().to_numpy()
    category = np.where(name_only, hint.to_numpy(), category)
    confidence = np.where(name_only, _NAME_ONLY_CONFIDENCE, confidence)
    found = pd.notna(category)
    method = np.select(
        [np.asarray(name_only, dtype=bool), found & name_agrees, found],
        ["name", "values+name", "values"],
        "",
    )
    out = pd.DataFrame(
        {
            "table": table["table"],
            "column": table["column"],
            "category": pd.Series(category, dtype=object),
            "confidence": np.round(confidence.astype(float), 2),
            "match_rate": np.round(rate.astype(float), 3),
            "sampled": table["sampled"],
            "name_hint": hint,
            "method": pd.Series(method, dtype=object).replace("", None),
        }
    )
    out.insert(3, "data_category", out["category"].map(DATA_CATEGORY))
    return out


def data_categories_by_table(classified: pd.DataFrame, *, min_confidence: float = 0.5) -> pd.Series:
    """``table`` -> the ';'-joined, sorted data categories found at ``min_confidence``."""
    sure = classified[
        classified["data_category"].notna() & (classified["confidence"] >= min_confidence)
    ]
    return sure.groupby("table")["data_category"].agg(lambda s: ";".join(sorted(set(s))))
