"""Precision and recall of data discovery on the labelled set, against the name-only baseline.

The labelled set is tests/discovery_labels/ (how it is made is written there): column names
from public sample schemas, synthetic values with valid and invalid checksums, and columns
whose names hide or misstate their content. Both classifiers run in the same process on the
same columns; a column counts as found when its predicted category equals the label (for our
classifier: at confidence 0.5 or more), and precision/recall are micro-averaged over the
columns that hold personal data, for each block of the set (development, the first held-out
block, which became development data in the second round of tuning, and the public-schemas
block, never tuned against). Also prints the per-category table and the classifier's
throughput.

    python bench/discovery_bench.py [--rows 100] [--seed 15]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))


def scores(predicted: pd.Series, truth: pd.Series) -> tuple[float, float, int, int, int]:
    """Micro precision, recall, and the true positive / false positive / false negative counts."""
    positive = predicted != "none"
    correct = positive & (predicted == truth)
    tp = int(correct.sum())
    fp = int((positive & ~correct).sum())
    fn = int(((truth != "none") & ~correct).sum())
    return tp / max(tp + fp, 1), tp / max(tp + fn, 1), tp, fp, fn


def main() -> None:
    """Run both classifiers on the labelled set and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100, help="sampled values per column")
    parser.add_argument("--seed", type=int, default=15, help="seed of the synthetic values")
    args = parser.parse_args()

    from discovery_labels import BLOCKS, labelled_columns

    for block in BLOCKS:
        print(f"== {block} block ==")
        _compare(*labelled_columns(rows=args.rows, seed=args.seed, block=block), rows=args.rows)
        print()


def _compare(samples: pd.DataFrame, labels: pd.DataFrame, *, rows: int) -> None:
    from accessaudit.discovery import classify_by_name, classify_columns

    started, cpu = time.perf_counter(), time.process_time()
    ours = classify_columns(samples)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    ours = ours.merge(labels, on=["table", "column"], suffixes=("", "_true"))
    ours["predicted"] = ours["category"].where(ours["confidence"] >= 0.5).fillna("none")
    base = classify_by_name(samples).merge(labels, on=["table", "column"], suffixes=("", "_true"))
    base["predicted"] = base["category"].fillna("none")

    table = []
    for name, frame in (("values + names (ours)", ours), ("column names only", base)):
        precision, recall, tp, fp, fn = scores(frame["predicted"], frame["category_true"])
        table.append(
            {
                "classifier": name,
                "precision": round(precision, 3),
                "recall": round(recall, 3),
                "tp": tp,
                "fp": fp,
                "fn": fn,
            }
        )
    print(f"{len(labels)} labelled columns, {rows} values each\n")
    print(pd.DataFrame(table).to_string(index=False))
    print(
        f"\nclassifier: {len(samples) / elapsed:,.0f} values/s "
        f"({elapsed:.2f} s wall, {cpu:.2f} s CPU)\n"
    )
    wrong = pd.concat(
        [
            ours.loc[ours["predicted"] != ours["category_true"]].assign(classifier="ours"),
            base.loc[base["predicted"] != base["category_true"]].assign(classifier="baseline"),
        ]
    )
    print("misclassified columns:")
    print(
        wrong[["classifier", "table", "column", "category_true", "predicted"]].to_string(
            index=False
        )
    )


if __name__ == "__main__":
    main()
