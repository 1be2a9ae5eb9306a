"""accessaudit: who can reach which data, who should not, and what is never used.

The public API, in the order data flows through it::

    config = accessaudit.load_config("audit.toml")          # sources + policy
    snapshot = accessaudit.collect(config)                  # connectors -> Snapshot
    snapshot.save("snapshots/2026-Q4")                      # Parquet + manifest.json
    result = accessaudit.run_audit(snapshot, config.policy) # rules -> findings
    result.findings                                         # a DataFrame

Nothing here prints, writes or connects unless you call it. The library logs to the
``accessaudit`` logger and configures no handlers.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from accessaudit._version import __version__
from accessaudit.errors import (
    AccessAuditError,
    ConfigError,
    ReviewError,
    SnapshotError,
    SourceError,
)

if TYPE_CHECKING:
    from accessaudit.analysis import ScopeResult, SnapshotDiff, breach_scope, diff_snapshots
    from accessaudit.audit import AuditResult, run_audit
    from accessaudit.collection import build_snapshot, collect
    from accessaudit.config import AuditConfig, load_config
    from accessaudit.model import TABLES
    from accessaudit.policy import Policy
    from accessaudit.review import Campaign, create_campaign
    from accessaudit.sample import write_sample_organisation
    from accessaudit.snapshot import Snapshot, verify_snapshot

# Importing accessaudit costs nothing heavy: pandas, openpyxl, ldap3 and msal load when the
# first name that needs them is used (PEP 562), so `accessaudit --help` and tools that only
# want the version or the exceptions start at once.
_LAZY = {
    "TABLES": "accessaudit.model",
    "AuditConfig": "accessaudit.config",
    "AuditResult": "accessaudit.audit",
    "Campaign": "accessaudit.review",
    "Policy": "accessaudit.policy",
    "ScopeResult": "accessaudit.analysis",
    "Snapshot": "accessaudit.snapshot",
    "SnapshotDiff": "accessaudit.analysis",
    "breach_scope": "accessaudit.analysis",
    "build_snapshot": "accessaudit.collection",
    "collect": "accessaudit.collection",
    "create_campaign": "accessaudit.review",
    "diff_snapshots": "accessaudit.analysis",
    "load_config": "accessaudit.config",
    "run_audit": "accessaudit.audit",
    "verify_snapshot": "accessaudit.snapshot",
    "write_sample_organisation": "accessaudit.sample",
}

__all__ = [
    "TABLES",
    "AccessAuditError",
    "AuditConfig",
    "AuditResult",
    "Campaign",
    "ConfigError",
    "Policy",
    "ReviewError",
    "ScopeResult",
    "Snapshot",
    "SnapshotDiff",
    "SnapshotError",
    "SourceError",
    "__version__",
    "breach_scope",
    "build_snapshot",
    "collect",
    "create_campaign",
    "diff_snapshots",
    "load_config",
    "run_audit",
    "verify_snapshot",
    "write_sample_organisation",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'accessaudit' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(__all__)
