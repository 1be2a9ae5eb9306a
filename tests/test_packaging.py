"""The distribution: connector manifests ship in the wheel and are found from it."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("accessaudit-*.whl")
    return built


def test_wheel_carries_every_manifest_of_the_checkout_and_the_type_marker(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {Path(n).name for n in names if n.startswith("accessaudit/manifests/")}
    assert shipped == {p.name for p in (ROOT / "connectors").glob("*.toml")}
    assert "accessaudit/py.typed" in names
    # The JSON Schemas of every printed document ship with the package (README promise).
    assert {Path(n).name for n in names if n.startswith("accessaudit/schemas/")} >= {
        "audit.json", "collect.json", "diff.json", "scope.json", "status.json"
    }  # fmt: skip


def test_installed_wheel_finds_its_manifests_without_the_checkout(
    wheel: Path, tmp_path: Path
) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    probe = (
        "import accessaudit, accessaudit.connectors as c;"
        "print(accessaudit.__file__);"
        "print(c.builtin_manifest_dir());"
        "print(','.join(sorted(c.find_manifests())))"
    )
    # Run from an empty folder with only the installed copy on the path.
    done = subprocess.run(
        [sys.executable, "-c", probe],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
    )
    module_file, manifest_dir, connectors = done.stdout.strip().splitlines()
    assert module_file.startswith(str(target))
    assert manifest_dir.startswith(str(target))
    assert set(connectors.split(",")) == {p.stem for p in (ROOT / "connectors").glob("*.toml")}


def test_checkout_finds_the_top_level_connectors_folder() -> None:
    from accessaudit.connectors import builtin_manifest_dir

    assert builtin_manifest_dir() == ROOT / "connectors"
