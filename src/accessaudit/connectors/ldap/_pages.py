"""One page of live search results made to look like an LDIF entry: lower-case attribute
names, options folded into base names, and ranged attributes followed to their end.

Active Directory returns at most 1,500 values of ``member`` per entry
(``member;range=0-1499``); :class:`PageNormaliser` fetches the rest with base searches until
the range ends in ``*`` ([MS-ADTS] 3.1.1.3.1.3.3, range retrieval), so every group has its
complete member list.
"""

from __future__ import annotations

from accessaudit.connectors.ldap._backends import Attributes, Connection, LdapFailure, Page
from accessaudit.connectors.ldap.options import LdapOptions

__all__ = ["PageNormaliser"]


class PageNormaliser:
    """Normalises the pages of one read; keeps what it learnt across pages.

    ``returned`` holds the lower-case names of the attributes any entry carried (a requested
    attribute no entry carries is reported, since a server silently omits what the bind DN may
    not read); ``range_retrieved`` counts the entries whose attributes were fetched in ranges.
    """

    def __init__(self, options: LdapOptions) -> None:
        self.options = options
        self.returned: set[str] = set()
        self.range_retrieved = 0
        # Attribute names as the server sent them -> lower-case names and whether entries of
        # that shape need completing; a directory has a handful of shapes, so names are
        # lower-cased and checked once per shape, not once per entry.
        self.shapes: dict[tuple[str, ...], tuple[tuple[str, ...] | None, bool]] = {}

    def request_attributes(self) -> list[str]:
        """The attributes to ask for: ranged from 0 when ``range_window`` forces windows."""
        options = self.options
        if options.range_window is None:
            return list(options.attributes)
        wanted: list[str] = []
        for name in options.attributes:
            if name.lower() in options.range_attributes:
                wanted.append(f"{name};range=0-{options.range_window - 1}")
            else:
                wanted.append(name)
        if "*" in options.attributes:
            wanted += [f"{n};range=0-{options.range_window - 1}" for n in options.range_attributes]
        return wanted

    def normalise(self, connection: Connection, page: Page) -> Page:
        """Lower-case the attribute names of one page and complete the entries that need it.

        Entries of one object class come with the same names in the same order, so the work
        is done per distinct name tuple (kept across pages); an entry whose names are already
        lower-case and plain is passed on as it is. ``returned`` collects the lower-case
        names seen.
        """
        shapes, returned = self.shapes, self.returned
        out: Page = []
        for dn, raw in page:
            names = tuple(raw)
            shape = shapes.get(names)
            if shape is None:
                lowered = tuple(name.lower() for name in names)
                special = any(";" in name for name in lowered)
                if not special:
                    returned.update(lowered)
                shape = shapes[names] = (None if lowered == names else lowered, special)
            lowered_names, special = shape
            attrs = (
                raw
                if lowered_names is None
                else dict(zip(lowered_names, raw.values(), strict=True))
            )
            if special:
                # Ranged or optioned names fold into their base name: count them after that.
                entry = self._complete(connection, dn, attrs)
                returned.update(entry[1])
                out.append(entry)
            else:
                out.append((dn, attrs))
        return out

    def _complete(
        self, connection: Connection, dn: str, attrs: Attributes
    ) -> tuple[str, Attributes]:
        """Follow every ranged attribute to its end and fold options into base names."""
        ranged = [name for name in attrs if ";range=" in name]
        for name in ranged:
            parsed = _range_of(name)
            values = attrs.pop(name)
            if parsed is None:
                raise LdapFailure(-1, f"the server sent a malformed range {name!r} for {dn!r}")
            base, _, end = parsed
            last = -1
            while end != "*":
                # Each window must end further on, or a faulty server would keep us here.
                if not (end.isascii() and end.isdigit()) or int(end) <= last:
                    raise LdapFailure(
                        -1, f"the server's range of {base!r} for {dn!r} does not advance ({end!r})"
                    )
                last = int(end)
                more, end = self._next_range(connection, dn, base, last + 1)
                values += more
            attrs[base] = values
            self.range_retrieved += 1
        for name in [name for name in attrs if ";" in name]:
            # Like the LDIF reader: options (``;binary``) go, values stay, so both paths agree.
            attrs.setdefault(name.partition(";")[0], []).extend(attrs.pop(name))
        return dn, attrs

    def _next_range(
        self, connection: Connection, dn: str, attribute: str, start: int
    ) -> tuple[list[bytes], str]:
        """The values of ``attribute`` from ``start`` on, and where they end (``*``: last)."""
        window = self.options.range_window
        wanted = f"{attribute};range={start}-{'*' if window is None else start + window - 1}"
        page, _, _ = connection.search(
            dn,
            subtree=False,
            search_filter="(objectClass=*)",
            attributes=[wanted],
            page_size=None,
            cookie=b"",
        )
        for _, attrs in page:
            for name, values in attrs.items():
                parsed = _range_of(name.lower())
                if parsed is not None and parsed[0] == attribute.lower():
                    return values, parsed[2]
        # The attribute shrank under us (members removed since the first page): done.
        return [], "*"


def _range_of(name: str) -> tuple[str, int, str] | None:
    """``member;range=0-1499`` -> (``member``, 0, ``1499``); ``None`` for a plain name."""
    base, _, rest = name.partition(";range=")
    if not rest:
        return None
    start, _, end = rest.partition("-")
    try:
        return base, int(start), end
    except ValueError:
        return None
