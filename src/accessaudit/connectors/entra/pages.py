"""Raw Graph pages: what was read, saved (``--save-raw``) and re-read (``path``).

A saved folder is ``index.json`` (format marker, notes, one entry per page) plus one JSON file
per page under ``pages/<dataset>/``. Live collection and re-reading both produce
:class:`RawPages`, so the tables built from them are identical.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from accessaudit.connectors.entra.settings import redact_url
from accessaudit.errors import SourceError

__all__ = ["RAW_FORMAT", "RawPage", "RawPages", "check_page"]

#: Written into ``index.json``; a folder without it is not one of ours.
RAW_FORMAT = "accessaudit-graph-pages"


@dataclass(frozen=True)
class RawPage:
    """One Graph response page: the dataset it belongs to, the object it was asked about
    (a group id for its members, ``None`` for top-level lists), the URL and the JSON body."""

    dataset: str
    parent: str | None
    url: str
    body: Mapping[str, Any]


@dataclass
class RawPages:
    """Every page of one collection, plus notes on what the tenant would not tell.

    ``notes`` keys: ``sign_in_known`` (bool), ``sign_in_fields`` (list), ``mfa_known``,
    ``eligibility_known``, ``gaps`` (sentences for the report), ``graph_url``.
    """

    pages: list[RawPage] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)

    def add(self, page: RawPage) -> None:
        """Keep one page."""
        self.pages.append(page)

    def records(self, dataset: str) -> tuple[list[Mapping[str, Any]], list[str | None]]:
        """Every object of ``dataset`` across its pages, with the parent of each."""
        chosen = [page for page in self.pages if page.dataset == dataset]
        values = [list(page.body.get("value", [])) for page in chosen]
        records = [record for value in values for record in value]
        parents = np.repeat(
            np.array([page.parent for page in chosen], dtype=object),
            [len(value) for value in values],
        ).tolist()
        return records, parents

    def save(self, folder: Path) -> None:
        """Write ``folder/index.json`` and one file per page under ``folder/pages/``.

        The index is written last (through a temporary name), so a folder with an index is
        complete.
        """
        folder.mkdir(parents=True, exist_ok=True)
        entries = []
        for number, page in enumerate(self.pages, start=1):
            name = f"pages/{page.dataset}/{number:06d}.json"
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(page.body, ensure_ascii=False), encoding="utf-8")
            entries.append(
                {
                    "file": name,
                    "dataset": page.dataset,
                    "parent": page.parent,
                    "url": redact_url(page.url),
                }
            )
        index = {"format": RAW_FORMAT, "version": 1, "notes": self.notes, "pages": entries}
        temporary = folder / "index.json.tmp"
        temporary.write_text(json.dumps(index, indent=1, ensure_ascii=False), encoding="utf-8")
        temporary.replace(folder / "index.json")

    @classmethod
    def load(cls, folder: Path, *, source: str | None = None) -> RawPages:
        """Read a folder written by :meth:`save`; a :class:`SourceError` names the bad file."""
        index_file = folder / "index.json"
        index = _read_json_file(index_file, source)
        if not isinstance(index, dict) or index.get("format") != RAW_FORMAT:
            raise SourceError(
                f"not a folder of raw Graph pages (index.json lacks format {RAW_FORMAT!r})",
                source=source,
                location=str(index_file),
            )
        pages = []
        for entry in index.get("pages", []):
            file = folder / str(entry["file"])
            body = _read_json_file(file, source)
            check_page(body, location=str(file), source=source)
            pages.append(
                RawPage(str(entry["dataset"]), entry.get("parent"), str(entry["url"]), body)
            )
        return cls(pages=pages, notes=dict(index.get("notes", {})))


def _read_json_file(file: Path, source: str | None) -> Any:
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise SourceError("file is missing", source=source, location=str(file)) from error
    except (ValueError, UnicodeDecodeError) as error:
        raise SourceError(f"invalid JSON ({error})", source=source, location=str(file)) from error


def check_page(body: Any, *, location: str, source: str | None) -> None:
    if not isinstance(body, dict) or not isinstance(body.get("value"), list):
        raise SourceError("malformed Graph page: no 'value' list", source=source, location=location)
