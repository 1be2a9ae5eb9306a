"""What was not read: the warnings in every source's collection report, in words.

A connector records what it skipped, could not resolve or could not read in its collection
report (``SourceResult.report``, kept in ``Snapshot.sources`` and the manifest). This module
turns those reports into sentences that the console, the JSON envelope and the Excel Summary
all print, so nothing that was not read stays hidden in ``manifest.json``.

Connectors add a free sentence to ``report["warnings"]``; the structured keys below are read
too, at the top level of a source's report, unless the connector already said the same thing
in a sentence (a warning naming the same subject):

=============================  ==========================================================
key                            read as
=============================  ==========================================================
``partial`` (true)             a truncated export the user allowed: always said first
``partial_export``             the same, with the detail as text
``skipped``                    {reason: count} of entries not read
``unreadable_attributes``      {attribute: count} the bind account could not read
``attributes_not_returned``    [attribute] no entry carried
``search_references``          {count, first} of search references (``ref:``) not followed
``unlisted_person_classes``    {class: count} of person-like entries of unlisted classes
``owners_unresolved`` …        {count, first/examples}: identities that did not resolve
``unresolved``                 {aces/principals/identities, by_identity}
``gaps``                       [text] parts of a tenant the connector could not read
=============================  ==========================================================

>>> source_warnings({"source": "corp", "report": {"skipped": {"no objectClass": 2}}})
['corp: 2 entries skipped (no objectClass: 2)']
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = ["collection_warnings", "partial_sources", "source_warnings"]

#: {count, first|examples} keys: what did not resolve, in words.
_UNRESOLVED = {
    "owners_unresolved": "group owner(s) could not be resolved",
    "unresolved_members": "member(s) could not be resolved to an account or group",
    "groups_outside_export": "membership(s) name groups outside the export",
    "primary_groups_outside_export": "primary group(s) are outside the export",
    "unknown_owners": "resource owner(s) are not a known person or group",
    "unknown_managers": "manager id(s) are not people in the HR file",
    "unresolved_identities": "identities could not be resolved",
    "unresolved_principals": "grant principal(s) could not be resolved",
}
_EXAMPLES = 3


def source_warnings(source: Mapping[str, Any]) -> list[str]:
    """The warnings of one entry of ``Snapshot.sources`` (``source``, ``report``) as sentences,
    each starting with the source name; a partial export comes first."""
    name = str(source.get("source", "?"))
    report = source.get("report") or {}
    if not isinstance(report, Mapping):
        return []
    said: list[str] = []
    warnings = report.get("warnings")
    if not isinstance(warnings, Sequence) or isinstance(warnings, str):
        warnings = []
    sentences = " ".join(str(w) for w in warnings).lower()

    def unsaid(*words: str) -> bool:
        return not any(word in sentences for word in words)

    partial = report.get("partial_export") or report.get("partial")
    if partial and unsaid("partial export"):
        detail = partial if isinstance(partial, str) else "the export was cut short"
        said.append(f"PARTIAL EXPORT: {detail}")
    skipped = _counts(report.get("skipped"))
    if skipped:
        total = sum(skipped.values())
        said.append(f"{total} entries skipped ({_listing(skipped)})")
    unlisted = _counts(report.get("unlisted_person_classes"))
    if unlisted and unsaid("person-like"):
        said.append(
            f"{sum(unlisted.values())} person-like entries of classes the manifest does not list "
            f"were not read as accounts ({_listing(unlisted)})"
        )
    unreadable = _counts(report.get("unreadable_attributes"))
    if unreadable:
        said.append(
            "attributes the bind account could not read on some entries: " + _listing(unreadable)
        )
    missing = report.get("attributes_not_returned")
    if isinstance(missing, Sequence) and not isinstance(missing, str) and missing:
        said.append(
            "attributes no entry carried (not readable by the bind account, or not set): "
            + ", ".join(str(m) for m in missing)
        )
    references, _first = _sample(report.get("search_references") or report.get("references"))
    if references and unsaid("search reference"):
        said.append(f"{references} search reference(s) (ref:) were not followed")
    for key, words in _UNRESOLVED.items():
        count, examples = _sample(report.get(key))
        if count:
            said.append(f"{count} {words}{_examples(examples)}")
    unresolved = report.get("unresolved")
    if isinstance(unresolved, Mapping) and unsaid("resolv"):
        count = _number(unresolved.get("aces")) or _number(unresolved.get("principals"))
        by_identity = _counts(unresolved.get("by_identity"))
        if count:
            said.append(
                f"{count} permission entr(ies) name identities that could not be resolved"
                + (f" ({_listing(by_identity, limit=_EXAMPLES)})" if by_identity else "")
            )
    gaps = report.get("gaps")
    if isinstance(gaps, Sequence) and not isinstance(gaps, str):
        said.extend(f"not read: {_describe(g)}" for g in gaps if g and str(g) not in warnings)
    said.extend(str(w) for w in warnings if w)
    return [f"{name}: {text}" for text in dict.fromkeys(said)]


def collection_warnings(
    sources: Iterable[Mapping[str, Any]], correlation: Mapping[str, Any] | None = None
) -> list[str]:
    """Every source's warnings (see :func:`source_warnings`), partial exports first, then the
    accounts that matched no HR person."""
    entries = list(sources)
    said = [w for s in entries for w in source_warnings(s)]
    said.sort(key=lambda w: "PARTIAL EXPORT" not in w)
    unmatched = _number((correlation or {}).get("unmatched_human_accounts"))
    if unmatched and any(_has_people(s) for s in entries):
        by_system = (correlation or {}).get("unmatched_by_system") or {}
        where = f" ({_listing(_counts(by_system))})" if by_system else ""
        said.append(f"correlation: {unmatched} human account(s) match no HR person{where}")
    zeros = (correlation or {}).get("leading_zero_mismatches")
    if isinstance(zeros, Mapping) and _number(zeros.get("count")):
        examples = zeros.get("examples")
        example = examples[0] if isinstance(examples, list) and examples else {}
        example = example if isinstance(example, Mapping) else {}
        said.append(
            f"correlation: {_number(zeros.get('count'))} of them would match an HR person but for "
            f"leading zeros (e.g. {example.get('account_id')} with employee id "
            f"{example.get('employee_id')} and HR person {example.get('person_id')}): a "
            "spreadsheet may have read the ids as numbers; export them as text, or map them "
            "in the identity map"
        )
    return said


def partial_sources(sources: Iterable[Mapping[str, Any]]) -> list[str]:
    """Names of the sources whose export was truncated and allowed as partial."""
    return [
        str(s.get("source", "?"))
        for s in sources
        if isinstance(s.get("report"), Mapping)
        and (s["report"].get("partial_export") or s["report"].get("partial") is True)
    ]


def _has_people(source: Mapping[str, Any]) -> bool:
    rows = source.get("rows") or {}
    return bool(isinstance(rows, Mapping) and _number(rows.get("people")))


def _number(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    return int(value)


def _counts(value: object) -> dict[str, int]:
    if not isinstance(value, Mapping):
        return {}
    return {str(k): _number(v) for k, v in value.items() if _number(v)}


def _sample(value: object) -> tuple[int, list[str]]:
    """(count, examples) of a ``{"count": n, "first": [...]}`` / ``examples`` entry, or of a
    bare count."""
    if isinstance(value, Mapping):
        examples = value.get("first") or value.get("examples") or []
        return _number(value.get("count")), [str(e) for e in examples][:_EXAMPLES]
    return _number(value), []


def _examples(examples: list[str]) -> str:
    return f" (e.g. {'; '.join(examples)})" if examples else ""


def _listing(counts: Mapping[str, int], *, limit: int | None = None) -> str:
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    shown = ordered if limit is None else ordered[:limit]
    text = ", ".join(f"{key}: {count}" for key, count in shown)
    if limit is not None and len(ordered) > limit:
        text += f", and {len(ordered) - limit} more"
    return text


def _describe(value: object) -> str:
    if isinstance(value, Mapping):
        return "; ".join(f"{k}: {v}" for k, v in value.items())
    return str(value)
