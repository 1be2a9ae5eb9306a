"""Raw Graph pages: what was read, saved (``--save-raw``) and re-read (``path``).

A saved folder is ``index.json`` (format marker, notes, one entry per page) plus one JSON file
per page under ``pages/<dataset>/``. Live collection and re-reading both produce
:class:`RawPages`, so the tables built from them are identical.

A saved folder is input like any other file: the index may only name files inside the folder,
every page is checked against the documented shapes the connector states (a
:class:`~accessaudit.connectors._graph.shapes.PageShapes`), and anything else is a
:class:`SourceError` naming the file, never a traceback.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from accessaudit.connectors._graph.settings import redact_url
from accessaudit.connectors._graph.shapes import PageShapes
from accessaudit.errors import SourceError

__all__ = ["MAX_PAGE_BYTES", "RAW_FORMAT", "RAW_VERSION", "RawPage", "RawPages"]

#: Written into ``index.json``; a folder without it is not one of ours.
RAW_FORMAT = "accessaudit-graph-pages"
RAW_VERSION = 1
#: One saved page is at most this big (Graph's largest pages, 999 users with every property
#: selected, are a few MB); a bigger file is not one of ours and is refused before parsing.
MAX_PAGE_BYTES = 64 * 1024 * 1024
# Notes every Graph connector writes, with the JSON type each must have; a connector's
# PageShapes adds its own.
_NOTE_TYPES: Mapping[str, type | tuple[type, ...]] = {"gaps": list, "graph_url": str}


@dataclass(frozen=True)
class RawPage:
    """One Graph response page: the dataset it belongs to, the object it was asked about
    (a group id for its members, ``None`` for top-level lists), the URL and the JSON body.

    ``origin`` says where the page was read from in messages: the saved file, else the URL.
    """

    dataset: str
    parent: str | None
    url: str
    body: Mapping[str, Any]
    origin: str = ""

    @property
    def where(self) -> str:
        """The saved file or the (redacted) URL the page came from."""
        return self.origin or redact_url(self.url)


@dataclass
class RawPages:
    """Every page of one collection, plus notes on what the tenant would not tell.

    ``notes`` keys: ``gaps`` (sentences for the report), ``graph_url``, and the connector's
    own (its :class:`PageShapes` ``notes``, e.g. the entra-id connector's ``sign_in_known``).
    """

    pages: list[RawPage] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)

    def add(self, page: RawPage) -> None:
        """Keep one page."""
        self.pages.append(page)

    def records(self, dataset: str) -> tuple[list[Mapping[str, Any]], list[str | None], list[str]]:
        """Every object of ``dataset`` across its pages, with the parent and the page (file or
        URL) of each."""
        chosen = [page for page in self.pages if page.dataset == dataset]
        values = [list(page.body.get("value", [])) for page in chosen]
        records = [record for value in values for record in value]
        counts = [len(value) for value in values]
        parents = np.repeat(np.array([page.parent for page in chosen], dtype=object), counts)
        origins = np.repeat(np.array([page.where for page in chosen], dtype=object), counts)
        return records, parents.tolist(), origins.tolist()

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
        index = {
            "format": RAW_FORMAT,
            "version": RAW_VERSION,
            "notes": self.notes,
            "pages": entries,
        }
        temporary = folder / "index.json.tmp"
        temporary.write_text(json.dumps(index, indent=1, ensure_ascii=False), encoding="utf-8")
        temporary.replace(folder / "index.json")

    @classmethod
    def load(cls, folder: Path, shapes: PageShapes, *, source: str | None = None) -> RawPages:
        """Read a folder written by :meth:`save`; a :class:`SourceError` names the bad file.

        The index may name only files inside ``folder`` (no absolute paths, no ``..``, no
        symbolic link leading out); every page must be a Graph page of the shape ``shapes``
        documents for its dataset.
        """
        index_file = folder / "index.json"
        index = _read_json_file(index_file, source)
        if not isinstance(index, dict) or index.get("format") != RAW_FORMAT:
            raise SourceError(
                f"not a folder of raw Graph pages (index.json lacks format {RAW_FORMAT!r})",
                source=source,
                location=str(index_file),
            )
        if index.get("version") != RAW_VERSION:
            raise SourceError(
                f"format version {index.get('version')!r}; this accessaudit reads "
                f"version {RAW_VERSION}",
                source=source,
                location=str(index_file),
            )
        entries = index.get("pages", [])
        if not isinstance(entries, list):
            raise SourceError(
                "'pages' must be a list of page entries", source=source, location=str(index_file)
            )
        notes = _notes(index.get("notes", {}), {**_NOTE_TYPES, **shapes.notes}, index_file, source)
        root = folder.resolve()
        pages = []
        for number, entry in enumerate(entries, start=1):
            where = f"{index_file} (page entry {number})"
            dataset, parent, url, name = _entry(entry, shapes.relations, where, source)
            file = _inside(root, name, where, source)
            body = _read_json_file(file, source)
            shapes.check_page(body, dataset=dataset, location=str(file), source=source)
            pages.append(RawPage(dataset, parent, url, body, origin=str(file)))
        return cls(pages=pages, notes=notes)


def _entry(
    entry: Any, relations: frozenset[str], where: str, source: str | None
) -> tuple[str, str | None, str, str]:
    """An index entry's dataset, parent, URL and file name, each of the right type."""
    if not isinstance(entry, dict):
        raise SourceError("is not a JSON object", source=source, location=where)
    for key in ("file", "dataset"):
        if not isinstance(entry.get(key), str) or not entry[key]:
            raise SourceError(f"{key!r} must be a non-empty string", source=source, location=where)
    parent, url = entry.get("parent"), entry.get("url", "")
    if parent is not None and not isinstance(parent, str):
        raise SourceError("'parent' must be a string or null", source=source, location=where)
    if entry["dataset"] in relations and not (parent or "").strip():
        raise SourceError(
            f"a {entry['dataset']} page must name the object it lists ('parent')",
            source=source,
            location=where,
        )
    if not isinstance(url, str):
        raise SourceError("'url' must be a string", source=source, location=where)
    return str(entry["dataset"]), parent, url, str(entry["file"])


def _inside(root: Path, name: str, where: str, source: str | None) -> Path:
    """``root / name``, refused unless it stays inside ``root`` once links are followed."""
    relative = Path(name)
    try:
        inside = (
            "\0" not in name
            and not relative.is_absolute()
            and (root / relative).resolve().is_relative_to(root)
        )
    except (OSError, RuntimeError, ValueError):  # a link loop, an unusable name
        inside = False
    if not inside:
        raise SourceError(
            f"names {name!r}, outside the export folder; the index may only name files inside it",
            source=source,
            location=where,
        )
    return root / relative


def _notes(
    notes: Any,
    types: Mapping[str, type | tuple[type, ...]],
    index_file: Path,
    source: str | None,
) -> dict[str, Any]:
    if not isinstance(notes, dict):
        raise SourceError("'notes' must be a JSON object", source=source, location=str(index_file))
    for key, kind in types.items():
        if key in notes and not isinstance(notes[key], kind):
            raise SourceError(
                f"notes.{key} has the wrong type ({type(notes[key]).__name__})",
                source=source,
                location=str(index_file),
            )
    # Every list a connector notes is a list of sentences or names.
    for key in (k for k, kind in types.items() if kind is list):
        if not all(isinstance(item, str) for item in notes.get(key, [])):
            raise SourceError(
                f"notes.{key} must be a list of strings", source=source, location=str(index_file)
            )
    return dict(notes)


def _read_json_file(file: Path, source: str | None) -> Any:
    try:
        with file.open("rb") as handle:
            status = os.fstat(handle.fileno())
            if not stat.S_ISREG(status.st_mode):
                raise SourceError("is not a regular file", source=source, location=str(file))
            if status.st_size > MAX_PAGE_BYTES:
                raise SourceError(
                    f"is larger than {MAX_PAGE_BYTES // (1024 * 1024)} MiB, too big for a "
                    "Graph page",
                    source=source,
                    location=str(file),
                )
            data = handle.read()
    except FileNotFoundError as error:
        raise SourceError("file is missing", source=source, location=str(file)) from error
    except IsADirectoryError as error:
        raise SourceError("is a folder, not a file", source=source, location=str(file)) from error
    except OSError as error:
        raise SourceError(
            f"cannot be read ({error.strerror or type(error).__name__})",
            source=source,
            location=str(file),
        ) from error
    try:
        return json.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        raise SourceError(f"invalid JSON ({error})", source=source, location=str(file)) from error
    except RecursionError as error:
        raise SourceError(
            "invalid JSON (nested too deeply)", source=source, location=str(file)
        ) from error
