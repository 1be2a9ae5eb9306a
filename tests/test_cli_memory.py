"""The program (not the library) asks glibc to keep freed memory; a user's own settings win."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

_ASK = "from accessaudit.cli._memory import keep_freed_memory; print(keep_freed_memory())"


def _glibc() -> bool:
    try:
        return sys.platform.startswith("linux") and bool(os.confstr("CS_GNU_LIBC_VERSION"))
    except (ValueError, OSError):
        return False


def _run(env: dict[str, str]) -> str:
    clean = {k: v for k, v in os.environ.items() if k != "GLIBC_TUNABLES" and "MALLOC" not in k}
    done = subprocess.run(
        [sys.executable, "-c", _ASK],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.skipif(not _glibc(), reason="mallopt is glibc's")
def test_the_program_keeps_freed_memory_on_glibc() -> None:
    assert _run({}) == "True"


@pytest.mark.parametrize(
    "setting", [{"GLIBC_TUNABLES": "glibc.malloc.trim_threshold=1"}, {"MALLOC_MMAP_MAX_": "9"}]
)
def test_a_users_own_glibc_settings_are_left_alone(setting: dict[str, str]) -> None:
    assert _run(setting) == "False"


def test_python_dash_m_runs_the_program() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "accessaudit", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0 and done.stdout.startswith("accessaudit ")
