"""Checking Graph pages against the documented shapes a connector's transforms rely on.

A property may be absent or ``null`` (that is "unknown", decided later); present with another
type, the page is not Graph's and the collection stops with a :class:`SourceError` naming the
page, the object and the property, instead of a traceback or a ``nan`` somewhere downstream.
Each connector states its own shapes (a :class:`PageShapes`); the checking is the same for all.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from accessaudit.errors import SourceError

__all__ = ["PageShapes", "Shape"]

# ISO 8601 as Graph writes DateTimeOffset values (always UTC, "Z"; offsets accepted).
_TIMESTAMP = re.compile(
    r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?", re.ASCII
)
_REPR_LIMIT = 60

#: A shape is a kind word, a nested mapping (an object with those properties) or a one-item
#: list holding the shape of every element.
Shape = str | Mapping[str, Any] | list[Any]


@dataclass(frozen=True)
class PageShapes:
    """What one connector's pages must hold, checked where a page enters (live or saved).

    ``shapes``: per dataset, the properties its transform reads and their documented JSON
    types (a kind word ``"str"``, ``"bool"`` or ``"time"``, a nested mapping, or a one-item
    list holding the shape of every element). ``required``: properties without which an
    object means nothing. ``relations``: datasets read per object, whose saved pages must name
    that object (``parent``). ``notes``: the connector's own notes in a saved index, with the
    JSON type each must have.
    """

    shapes: Mapping[str, Mapping[str, Shape]] = field(default_factory=dict)
    required: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    relations: frozenset[str] = frozenset()
    notes: Mapping[str, type | tuple[type, ...]] = field(default_factory=dict)

    def check_objects(
        self, dataset: str, values: list[Any], *, location: str, source: str | None
    ) -> None:
        """Raise a :class:`SourceError` unless every object of a page's ``value`` has a
        non-empty string ``id`` and the documented type for each property the transforms
        read.

        >>> shapes = PageShapes({"users": {"accountEnabled": "bool"}})
        >>> shapes.check_objects("users", [{"id": "1", "accountEnabled": None}], location="p",
        ...                      source=None)
        >>> shapes.check_objects("users", [{"accountEnabled": True}], location="p1.json",
        ...                      source="entra")
        Traceback (most recent call last):
        ...
        accessaudit.errors.SourceError: entra: p1.json: object 1 of the page has no 'id'
        """
        shape = self.shapes.get(dataset, {})
        for position, item in enumerate(values, start=1):
            if not isinstance(item, dict):
                raise SourceError(
                    f"object {position} of the page is {_describe(item)}, not a JSON object",
                    source=source,
                    location=location,
                )
            identifier = item.get("id")
            if not isinstance(identifier, str) or not identifier.strip():
                what = "has no 'id'" if identifier is None else f"has id {_describe(identifier)}"
                raise SourceError(
                    f"object {position} of the page {what}", source=source, location=location
                )
            # A dotted name would collide with the flattened nested properties (``a.b``).
            dotted = next((k for k in item if "." in k and "@" not in k), None)
            problem = f"property name {_shorten(dotted)} is not Graph's" if dotted else ""
            missing = next(
                (k for k in self.required.get(dataset, ()) if item.get(k) in (None, "")), None
            )
            problem = problem or (f"{missing} is missing" if missing else "")
            problem = problem or _problem(item, shape, "")
            if problem:
                raise SourceError(
                    f"object {position} (id {_shorten(identifier)}): {problem}",
                    source=source,
                    location=location,
                )

    def check_page(self, body: Any, *, dataset: str, location: str, source: str | None) -> None:
        """Raise a :class:`SourceError` naming ``location`` unless ``body`` is a Graph
        collection page (a ``value`` list, a string ``@odata.nextLink`` if any) whose objects
        have the documented shape for ``dataset``."""
        if not isinstance(body, dict) or not isinstance(body.get("value"), list):
            raise SourceError(
                "malformed Graph page: no 'value' list", source=source, location=location
            )
        link = body.get("@odata.nextLink")
        if link is not None and not isinstance(link, str):
            raise SourceError(
                "malformed Graph page: '@odata.nextLink' is not a URL",
                source=source,
                location=location,
            )
        self.check_objects(dataset, body["value"], location=location, source=source)


_EXPECTED = {
    "str": "a string",
    "bool": "true or false",
    "time": "an ISO 8601 timestamp",
}


def _problem(value: Mapping[str, Any], shape: Mapping[str, Shape], path: str) -> str:
    """The first property of ``value`` whose type breaks ``shape``, as a sentence ('' if none)."""
    for name, expected in shape.items():
        if name not in value or value[name] is None:
            continue
        found = value[name]
        where = f"{path}{name}"
        if isinstance(expected, Mapping):
            if not isinstance(found, dict):
                return f"{where} is {_describe(found)}, expected an object"
            inner = _problem(found, expected, where + ".")
        elif isinstance(expected, list):
            if not isinstance(found, list):
                return f"{where} is {_describe(found)}, expected a list"
            inner = _list_problem(found, expected[0], where)
        else:
            inner = _scalar_problem(found, expected, where)
        if inner:
            return inner
    return ""


def _list_problem(items: list[Any], shape: Shape, where: str) -> str:
    for number, element in enumerate(items, start=1):
        place = f"{where}[{number}]"
        if isinstance(shape, Mapping):
            if not isinstance(element, dict):
                return f"{place} is {_describe(element)}, expected an object"
            inner = _problem(element, shape, place + ".")
        else:
            inner = "" if element is None else _scalar_problem(element, str(shape), place)
        if inner:
            return inner
    return ""


def _scalar_problem(found: Any, kind: str, where: str) -> str:
    if kind == "bool":
        fits = isinstance(found, bool)
    elif kind == "time":
        fits = isinstance(found, str) and _TIMESTAMP.fullmatch(found.strip()) is not None
    else:
        fits = isinstance(found, str)
    return "" if fits else f"{where} is {_describe(found)}, expected {_EXPECTED[kind]}"


def _describe(value: Any) -> str:
    kind = {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "the string",
        list: "a list",
        dict: "an object",
    }.get(type(value), type(value).__name__)
    return f"{kind} {_shorten(value)}" if isinstance(value, str | int | float) else kind


def _shorten(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _REPR_LIMIT else text[: _REPR_LIMIT - 1] + "…"
