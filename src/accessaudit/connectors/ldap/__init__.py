"""The ``ldap`` protocol: Active Directory and OpenLDAP, from an LDIF export or a live server.

One source is read in two steps, each in its own module, and the imports run one way:

* *get*: :mod:`~accessaudit.connectors.ldap.ldif` streams an export (RFC 2849, as ``ldifde``
  and ``ldapsearch`` write it), or :mod:`~accessaudit.connectors.ldap.live` pages through a
  server (settings in :mod:`~accessaudit.connectors.ldap.options`, the ldap3 and python-ldap
  clients behind one interface in ``_backends``);
* *transform*: :mod:`~accessaudit.connectors.ldap.transform` turns the entries into the
  ``accounts``, ``groups`` and ``memberships`` tables, reading the manifest through
  :mod:`~accessaudit.connectors.ldap.mapping` and converting values with
  :mod:`~accessaudit.connectors.ldap.syntax`.

>>> from pathlib import Path
>>> import pandas as pd
>>> from accessaudit.connectors import CollectContext, SourceSettings, find_manifests
>>> settings = SourceSettings("corp", "active-directory", path=Path("tests/fixtures/ldif/ad.ldif"))
>>> result = collect(settings, find_manifests()["active-directory"],
...                  CollectContext(as_of=pd.Timestamp("2026-11-21", tz="UTC")))
>>> sorted(result.tables)
['accounts', 'groups', 'memberships']
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from accessaudit.connectors.base import CollectContext, Manifest, SourceResult, SourceSettings
from accessaudit.connectors.ldap.ldif import read_ldif
from accessaudit.connectors.ldap.live import read_entries
from accessaudit.connectors.ldap.mapping import DirectoryMapping
from accessaudit.connectors.ldap.transform import entries_to_result
from accessaudit.errors import ConfigError, SourceError

__all__ = ["collect"]


def collect(settings: SourceSettings, manifest: Manifest, context: CollectContext) -> SourceResult:
    """Read one directory source: the LDIF export at ``settings.path``, or the live server.

    Both roads stream entries through the same
    :func:`~accessaudit.connectors.ldap.transform.entries_to_result`, so they give identical
    tables; the live reader's report (pages, retries …) is merged into the result's report.
    """
    if settings.path is not None:
        path = settings.path
        if not path.is_file():
            raise SourceError("LDIF export not found", source=settings.name, location=str(path))
        allow_partial = settings.option("allow_partial_export", False)
        if not isinstance(allow_partial, bool):
            raise ConfigError(
                f"source {settings.name!r}: allow_partial_export must be true or false, "
                f"not {allow_partial!r}"
            )
        exported = read_ldif(path, source=settings.name, allow_partial=allow_partial)
        result = entries_to_result(
            exported, settings, manifest, context, location=lambda line: f"{path}:{line}"
        )
        _merge_reader_report(result, exported.report)
        result.report["input"] = {"kind": "ldif", "file": str(path)}
        return result
    entries = read_entries(settings, manifest, context)
    where = entries.options.url
    result = entries_to_result(
        entries, settings, manifest, context, location=lambda n: f"{where} entry {n}"
    )
    _merge_reader_report(result, entries.report)
    result.report["input"] = {"kind": "live", "url": where}
    _unverified_lock_state(result, DirectoryMapping.from_manifest(manifest), entries.report)
    return result


def _merge_reader_report(result: SourceResult, reader_report: Mapping[str, Any]) -> None:
    """Add how the entries were read to the report of the tables made from them. The tables'
    report wins on a clash, except that warnings add up, the reader's first: a partial export
    must be the first thing the auditor reads."""
    warnings = [*reader_report.get("warnings", ()), *result.report.get("warnings", ())]
    result.report = {**reader_report, **result.report}
    result.report["warnings"] = warnings


def _unverified_lock_state(
    result: SourceResult, mapping: DirectoryMapping, live_report: Mapping[str, Any]
) -> None:
    """Warn when the lock attribute came back on no entry. A bind account that may not read it
    sees every account unlocked, exactly as a directory where nobody is locked looks; LDAP
    cannot tell the two apart, so the tables keep what the server said (as an export of the
    same directory would) and the report says the lock state is unverified."""
    absent = {str(name).lower() for name in live_report.get("attributes_not_returned", ())}
    missing = sorted(set(mapping.names("locked_time")) & absent)
    if missing:
        result.report.setdefault("warnings", []).append(
            f"{', '.join(missing)} came back on no entry: either nobody is locked or the bind "
            "account may not read it; lock state is unverified (a permanently locked account "
            "would show as enabled)"
        )
