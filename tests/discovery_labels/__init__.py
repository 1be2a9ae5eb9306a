"""The labelled set for data discovery: columns with synthetic values and the true category.

How it is made (deterministic, seed 15): column names come from public sample schemas, values
are synthetic. Card numbers are generated with a valid Luhn digit, IBANs with valid mod-97
check digits, SSNs within the SSA's issued ranges, NINOs with allowed prefixes; invalid
look-alikes (16-digit order ids failing Luhn, 000-area SSNs, EAN-13 barcodes) are labelled
``none``. No value belongs to a real person. Three blocks, each described in its module:

- ``development`` (40 columns, :func:`first_blocks.development`): Sakila/Pagila, Northwind
  and AdventureWorks names plus columns whose names hide their content (``notes``, ``ref``,
  ``value``) or promise content they do not hold (``phone`` full of ``n/a``, ``card_type``,
  ``ssn_verified``). The classifier was written and tuned on it.
- ``held-out`` (12 columns, :func:`first_blocks.first_held_out`): written after the first
  tuning. Its errors picked the second round of fixes, so it is development data since then.
- ``public-schemas`` (58 columns, :func:`public_schemas.public_schemas`): Chinook, MySQL
  Employees, Oracle HR, Dell DVD Store, OpenMRS, MIMIC-III, Magento, WooCommerce and Odoo
  names with untidy values; committed before the second round and never tuned against.
"""

from __future__ import annotations

import random

import pandas as pd

from .first_blocks import Maker, development, first_held_out
from .public_schemas import public_schemas
from .values import valid_card, valid_iban

__all__ = ["BLOCKS", "labelled_columns", "valid_card", "valid_iban"]

#: Block name -> its makers, in the order the bench reports them.
BLOCKS = {
    "development": development,
    "held-out": first_held_out,
    "public-schemas": public_schemas,
}


def labelled_columns(
    rows: int = 40, seed: int = 15, *, held_out: bool = False, block: str | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(samples, labels)``: samples in long format (``table, column, value``) and the true
    category of each column (``table, column, category``; ``none`` for non-personal data).
    ``block`` names one of :data:`BLOCKS`; without it ``held_out`` picks ``held-out`` over
    ``development``."""
    chosen = block or ("held-out" if held_out else "development")
    rng = random.Random(seed)
    makers: list[Maker] = BLOCKS[chosen](rng)
    samples = []
    labels = []
    for table, column, category, make in makers:
        values = [make() for _ in range(rows)]
        samples.append(pd.DataFrame({"table": table, "column": column, "value": values}))
        labels.append({"table": table, "column": column, "category": category})
    return pd.concat(samples, ignore_index=True), pd.DataFrame(labels)
