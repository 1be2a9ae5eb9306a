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

from accessaudit._version import __version__
from accessaudit.analysis import ScopeResult, SnapshotDiff, breach_scope, diff_snapshots
from accessaudit.audit import AuditResult, run_audit
from accessaudit.collect import build_snapshot, collect
from accessaudit.config import AuditConfig, load_config
from accessaudit.errors import (
    AccessAuditError,
    ConfigError,
    ReviewError,
    SnapshotError,
    SourceError,
)
from accessaudit.model import TABLES
from accessaudit.policy import Policy
from accessaudit.review import Campaign, create_campaign
from accessaudit.sample import write_sample_organisation
from accessaudit.snapshot import Snapshot, verify_snapshot

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
