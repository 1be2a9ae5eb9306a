"""Writes that leave either the old result or the complete new one, never half of either.

Every output accessaudit writes — a snapshot folder, a review campaign, a remediation plan, a
workbook — is built beside its target under a temporary name and renamed into place: a rename
within one folder is atomic, so a crash, a full disk or Ctrl-C mid-write leaves no torn file
for a cron job or an auditor to pick up.

>>> import tempfile, pathlib
>>> target = pathlib.Path(tempfile.mkdtemp()) / "report.txt"
>>> with atomic_file(target) as temporary:
...     _ = temporary.write_text("done")
>>> target.read_text()
'done'
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from accessaudit.errors import AccessAuditError

__all__ = ["atomic_file", "atomic_folder"]


@contextmanager
def atomic_file(target: Path) -> Iterator[Path]:
    """A temporary path beside ``target``; renamed onto ``target`` when the block succeeds,
    removed when it fails. A file-system error names ``target``."""
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as error:
        raise AccessAuditError(f"cannot write {target}: {error.strerror or error}") from error
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, target)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise AccessAuditError(f"cannot write {target}: {error.strerror or error}") from error
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


@contextmanager
def atomic_folder(target: Path) -> Iterator[Path]:
    """A temporary folder beside ``target``, filled by the block, then moved onto ``target``.

    An existing ``target`` is replaced only after the new folder is complete, and only after
    the caller has decided it may be (this helper does not judge what a folder holds). The
    new folder gets the permissions of a normal ``mkdir``; a failure removes it and leaves
    the old ``target`` as it was.
    """
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    except OSError as error:
        raise AccessAuditError(f"cannot write {target}: {error.strerror or error}") from error
    try:
        yield staging
        staging.chmod(0o777 & ~_umask())
        _replace_folder(staging, target)
    except OSError as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise AccessAuditError(f"cannot write {target}: {error.strerror or error}") from error
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _replace_folder(staging: Path, target: Path) -> None:
    """Move ``staging`` to ``target``; an old ``target`` goes only after the move succeeded."""
    if not target.exists():
        os.replace(staging, target)
        return
    if target.is_dir() and not any(target.iterdir()):
        target.rmdir()
        os.replace(staging, target)
        return
    retired = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
    os.replace(target, retired / target.name)
    try:
        os.replace(staging, target)
    except OSError:
        os.replace(retired / target.name, target)
        raise
    shutil.rmtree(retired, ignore_errors=True)


def _umask() -> int:
    # The process umask can only be read by setting it; set it straight back.
    current = os.umask(0)
    os.umask(current)
    return current
