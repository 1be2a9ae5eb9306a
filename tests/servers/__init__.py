"""Real directory servers for the integration tests and the benchmark.

``slapd`` starts OpenLDAP on free 127.0.0.1 ports, ``samba`` provisions and starts a Samba AD
domain controller, ``tls`` makes the test CA both of them present. Each server runs in its own
process group, is stopped by its PID and leaves nothing behind but its temporary folder.

``require_binaries`` is the one place that decides between *skip* (a developer machine without
the Debian packages) and *fail* (CI, where ``CI=true`` and a missing binary is a broken build).
"""

from __future__ import annotations

import importlib
import os
import shutil

import pytest

__all__ = ["missing_binaries", "require_binaries", "require_module", "which"]

_SEARCH_PATH = os.pathsep.join(
    [os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin", "/sbin"]
)


def missing_binaries(*names: str) -> list[str]:
    """The programs among ``names`` that are not on PATH (nor in the sbin folders)."""
    return [name for name in names if shutil.which(name, path=_SEARCH_PATH) is None]


def which(name: str) -> str:
    """The full path of ``name``; a clear error when it is missing."""
    found = shutil.which(name, path=_SEARCH_PATH)
    if found is None:
        raise FileNotFoundError(f"{name} is not installed")
    return found


def _skip_or_fail(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


def require_module(module: str, what: str) -> None:
    """Skip (or, with ``CI=true``, fail) when the Python module ``module`` cannot be imported."""
    try:
        importlib.import_module(module)
    except ImportError:
        _skip_or_fail(f"{what} is not installed")


def require_binaries(packages: str, *names: str) -> None:
    """Skip the calling test when a binary is missing, or fail when running in CI.

    ``packages`` names the Debian packages that provide them, for the message.
    """
    missing = missing_binaries(*names)
    if not missing:
        return
    _skip_or_fail(f"{', '.join(missing)} not installed (apt-get install {packages})")
