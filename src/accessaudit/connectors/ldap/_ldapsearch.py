"""What ``ldapsearch`` without ``-LLL`` writes around the LDIF entries, and what it means.

ldapsearch(1) prints, besides the entries, a ``# search reference`` / ``ref:`` record for each
part of the tree held by another server (RFC 4511 §4.5.3; not followed), and after each page a
trailer ``search: N`` / ``result: CODE text`` (RFC 4511 §4.1.9 result codes) with, for a paged
search (``-E pr=N``, RFC 2696), ``pagedresults: cookie=…``, empty on the last page.
:class:`SearchOutcome` follows them through one file and decides whether the export is whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from accessaudit.connectors.ldap._report import SearchReferences, located_error
from accessaudit.connectors.ldap.syntax import redact_url

__all__ = ["SearchOutcome", "SearchResult", "search_result"]

# RFC 4511 §4.1.9 result codes that mean "the server stopped before the end of the results".
_LIMIT_RESULTS = {3: "timeLimitExceeded", 4: "sizeLimitExceeded", 11: "adminLimitExceeded"}
_REFERRAL = 10


@dataclass(frozen=True)
class SearchResult:
    """One ``search:`` / ``result:`` trailer of ldapsearch output."""

    line: int
    code: int
    text: str
    cookie: bytes | None  # the ``pagedresults: cookie=`` of a paged search; None if unpaged
    referrals: tuple[str, ...]


class SearchOutcome:
    """The references and trailers of one file, and the report they make.

    A result other than 0, ldapsearch output (``# extended LDIF``) that does not end with a
    trailer, or a last trailer that still carries a paging cookie makes the export incomplete:
    a :class:`SourceError` naming the line and the fix, or, with ``allow_partial``, a report
    that says *partial* and a warning that comes first.
    """

    def __init__(self, file: str, source: str | None, *, allow_partial: bool) -> None:
        self.file = file
        self.source = source
        self.allow_partial = allow_partial
        self.report: dict[str, Any] = {"search_results": 0, "partial": False}
        self.references = SearchReferences()
        self.warnings: list[str] = []
        self.results: list[SearchResult] = []
        # Whether an entry came after the last trailer (ldapsearch output cut short).
        self.entry_after_result = False

    def entry(self) -> None:
        """An entry was read."""
        self.entry_after_result = True

    def result(self, result: SearchResult) -> None:
        """A trailer was read: an error now unless its result is success."""
        self.results.append(result)
        self.entry_after_result = False
        self._check(result)

    def finish(self, *, ldapsearch_output: bool, last_line: int) -> dict[str, Any]:
        """The report, once the file is read; an error if ldapsearch output ends early."""
        if ldapsearch_output:
            self._check_complete(last_line)
        self.report["search_results"] = len(self.results)
        self.report["search_references"] = self.references.report()
        warning = self.references.warning()
        if warning:
            self.warnings.append(warning)
        self.report["warnings"] = self.warnings
        return self.report

    def reference(self, urls: list[str]) -> None:
        """A search reference was read: counted, its first URLs shown (userinfo redacted)."""
        self.references.add(urls)

    def _check(self, result: SearchResult) -> None:
        if result.code == 0:
            return
        name = _LIMIT_RESULTS.get(result.code, "referral" if result.code == _REFERRAL else "")
        what = f"result {result.code} ({result.text or name or 'an error'})"
        if result.code in _LIMIT_RESULTS:
            fix = (
                "the server stopped at its limit; export again with paging: "
                "ldapsearch -E pr=1000/noprompt ..."
            )
        elif result.code == _REFERRAL:
            where = ", ".join(redact_url(r) for r in result.referrals) or "another server"
            fix = f"the base DN is held by {where}; export from that server"
        else:
            fix = "the search failed; fix its cause and export again"
        self._incomplete(f"ldapsearch ended with {what}: {fix}", result.line)

    def _check_complete(self, last_line: int) -> None:
        """ldapsearch output ends with a trailer, and a paged search's last one has no cookie."""
        results = self.results
        if not results or self.entry_after_result:
            self._incomplete(
                "ldapsearch output without its closing '# search result' trailer: the export "
                "was cut off; export the directory again",
                last_line,
            )
        elif results[-1].cookie:
            self._incomplete(
                "the last page of a paged ldapsearch still has a paging cookie: the export "
                "stopped before the last page; export again with -E pr=1000/noprompt",
                results[-1].line,
            )

    def _incomplete(self, problem: str, line: int) -> None:
        if not self.allow_partial:
            raise located_error(
                f"{problem} (or set allow_partial_export = true to audit what was read)",
                self.file,
                line,
                self.source,
            )
        self.report["partial"] = True
        self.warnings.append(
            f"PARTIAL EXPORT ({self.file}:{line}): {problem}; findings miss whatever was not "
            "exported (allow_partial_export = true)"
        )


def search_result(
    lines: list[tuple[str, bytes]], start: int, file: str, source: str | None
) -> SearchResult:
    """The trailer ``search: N`` / ``result: CODE text`` [``text:``, ``matchedDN:``, ``ref:``,
    ``control:``, ``pagedresults: cookie=``] that ldapsearch writes after each page."""
    code: int | None = None
    text = ""
    cookie: bytes | None = None
    referrals: list[str] = []
    for name, value in lines:
        if name == "result":
            number, _, words = value.decode("utf-8", "replace").strip().partition(" ")
            # RFC 4511 result codes are small ASCII numbers; anything else is not a trailer.
            if not (number.isascii() and number.isdigit() and len(number) <= 9):
                raise located_error(f"unreadable ldapsearch result {number!r}", file, start, source)
            code, text = int(number), words.strip()
        elif name == "text" and value.strip():
            detail = value.decode("utf-8", "replace").strip()
            text = f"{text}: {detail}" if text else detail
        elif name == "ref":
            referrals.append(value.decode("utf-8", "replace").strip())
        elif name == "pagedresults":
            cookie = value.partition(b"cookie=")[2].strip()
    if code is None:
        raise located_error("ldapsearch trailer without a 'result:' line", file, start, source)
    return SearchResult(start, code, text, cookie, tuple(referrals))
