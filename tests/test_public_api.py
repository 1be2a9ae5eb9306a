"""The public surface is explicit: it changes only on purpose."""

from __future__ import annotations

import subprocess
import sys

import accessaudit


def test_every_name_in_all_is_importable_and_nothing_private_is_exported() -> None:
    for name in accessaudit.__all__:
        assert hasattr(accessaudit, name), name
        assert not name.startswith("_") or name == "__version__"


def test_public_surface_is_what_the_readme_documents() -> None:
    expected = {
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
    }
    assert set(accessaudit.__all__) == expected


def test_errors_form_one_tree() -> None:
    for name in ("ConfigError", "SourceError", "SnapshotError", "ReviewError"):
        assert issubclass(getattr(accessaudit, name), accessaudit.AccessAuditError)


def test_importing_the_library_configures_no_logging_and_connects_nowhere() -> None:
    code = (
        "import logging, socket\n"
        "def refuse(*a, **k): raise AssertionError('network at import time')\n"
        "socket.socket.connect = refuse\n"
        "import accessaudit, accessaudit.cli\n"
        "assert logging.getLogger('accessaudit').handlers == []\n"
        "assert logging.getLogger().handlers == []\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
