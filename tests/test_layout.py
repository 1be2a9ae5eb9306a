"""The package's shape, kept honest: one-way data flow and an explicit public surface.

In the style of httpx's ``tests/test_exported_members.py``: the top-level names equal
``__all__``, every public module declares its own ``__all__``, and imports only run down the
flow of DESIGN.md (connectors → snapshot → rules → findings → reports).
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import pkgutil
from pathlib import Path

import pytest

import accessaudit

PACKAGE = Path(accessaudit.__file__).parent


def _modules() -> list[str]:
    names = [
        info.name
        for info in pkgutil.walk_packages([str(PACKAGE)], prefix="accessaudit.")
        if info.name != "accessaudit.__main__"
    ]
    return sorted(names)


def _imports(module: str) -> set[str]:
    """Every ``accessaudit…`` module and third-party top-level name ``module`` imports,
    anywhere in the file (lazy imports inside functions count too)."""
    path = Path(importlib.util.find_spec(module).origin)  # type: ignore[union-attr,arg-type]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


def _imports_any(module: str, prefixes: tuple[str, ...]) -> list[str]:
    return sorted(
        name
        for name in _imports(module)
        if any(name == p or name.startswith(p + ".") for p in prefixes)
    )


def _is_private(module: str) -> bool:
    return any(part.startswith("_") for part in module.split(".")[1:])


def test_top_level_public_names_equal_all() -> None:
    public = {
        name
        for name in dir(accessaudit)
        if not name.startswith("_") and not inspect.ismodule(getattr(accessaudit, name))
    }
    assert public == set(accessaudit.__all__) - {"__version__"}


def test_importing_the_package_loads_nothing_heavy() -> None:
    """``import accessaudit`` (and the names it hands on lazily) must not pull in pandas,
    the Excel libraries or the directory / cloud clients until a name needs them."""
    import subprocess
    import sys

    code = (
        "import sys, accessaudit\n"
        "heavy = {'pandas', 'numpy', 'pyarrow', 'openpyxl', 'xlsxwriter', 'ldap3', 'ldap', "
        "'msal', 'requests', 'matplotlib'}\n"
        "loaded = sorted(heavy & {m.split('.')[0] for m in sys.modules})\n"
        "assert not loaded, loaded\n"
        "accessaudit.Policy\n"
        "loaded = sorted({'openpyxl', 'ldap3', 'msal'} & {m.split('.')[0] for m in sys.modules})\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("module", [m for m in _modules() if not _is_private(m)])
def test_every_public_module_declares_its_public_names(module: str) -> None:
    imported = importlib.import_module(module)
    assert hasattr(imported, "__all__"), f"{module} has no __all__"
    for name in imported.__all__:
        assert hasattr(imported, name), f"{module}.__all__ names missing {name}"
    defined_here = {
        name
        for name, value in vars(imported).items()
        if not name.startswith("_")
        and (inspect.isfunction(value) or inspect.isclass(value))
        and value.__module__ == module
    }
    assert defined_here <= set(imported.__all__), (
        f"{module} defines public {sorted(defined_here - set(imported.__all__))} outside "
        "__all__: export them or make them private"
    )


LAYERS_ABOVE_CONNECTORS = (
    "accessaudit.rules",
    "accessaudit.reports",
    "accessaudit.review",
    "accessaudit.analysis",
    "accessaudit.audit",
    "accessaudit.findings",
    "accessaudit.cli",
    "accessaudit.collection",
    "accessaudit.identity",
    "accessaudit.classify",
    "accessaudit.snapshot",
)


@pytest.mark.parametrize("module", [m for m in _modules() if ".connectors" in m])
def test_connectors_import_nothing_above_them(module: str) -> None:
    assert _imports_any(module, LAYERS_ABOVE_CONNECTORS) == []


def _connector_families() -> set[str]:
    """The connector packages (``ldap``, ``entra``, ``m365`` …); ``_graph`` and other private
    packages under connectors/ are shared infrastructure, not connectors."""
    packages = {
        m.split(".")[2]
        for m in _modules()
        if m.startswith("accessaudit.connectors.") and m.count(".") >= 3
    }
    return {name for name in packages if not name.startswith("_")}


def test_connectors_know_nothing_of_each_other() -> None:
    """No exception: what two connectors share (the Graph plumbing of ``entra`` and ``m365``)
    lives in a private package under connectors/ that both import."""
    families = _connector_families()
    assert {"entra", "m365", "ldap", "files", "databases"} <= families
    for module in _modules():
        parts = module.split(".")
        if len(parts) < 4 or parts[1] != "connectors" or parts[2] not in families:
            continue
        others = tuple(f"accessaudit.connectors.{f}" for f in families - {parts[2]})
        assert _imports_any(module, others) == [], module


@pytest.mark.parametrize(
    "module", [m for m in _modules() if m.startswith("accessaudit.connectors._graph")]
)
def test_shared_graph_package_imports_no_connector(module: str) -> None:
    """``connectors/_graph`` is infrastructure under the connectors, never one of them: it may
    import ``connectors.base`` but no connector package."""
    connectors = tuple(f"accessaudit.connectors.{f}" for f in _connector_families())
    assert _imports_any(module, connectors) == []


def test_both_graph_connectors_use_the_shared_package() -> None:
    for module in ("accessaudit.connectors.entra.gather", "accessaudit.connectors.m365.gather"):
        assert _imports_any(module, ("accessaudit.connectors._graph.client",)), module


@pytest.mark.parametrize(
    "module",
    [m for m in _modules() if m.startswith(("accessaudit.rules", "accessaudit.analysis"))],
)
def test_rules_and_analysis_write_no_reports(module: str) -> None:
    assert _imports_any(module, ("accessaudit.reports", "openpyxl", "xlsxwriter", "json")) == []


@pytest.mark.parametrize("module", ["accessaudit.model", "accessaudit.errors"])
def test_model_imports_only_errors(module: str) -> None:
    ours = {n for n in _imports(module) if n.startswith("accessaudit")}
    assert ours <= {
        "accessaudit.errors",
        "accessaudit.errors.ConfigError",
        "accessaudit.errors.SnapshotError",
        "accessaudit.errors.SourceError",
    } | ({"accessaudit"} & ours)


def test_snapshot_imports_nothing_above_it() -> None:
    above = (
        "accessaudit.rules",
        "accessaudit.reports",
        "accessaudit.review",
        "accessaudit.analysis",
        "accessaudit.audit",
        "accessaudit.collection",
        "accessaudit.connectors",
        "accessaudit.cli",
        "accessaudit.classify",
        "accessaudit.config",
    )
    assert _imports_any("accessaudit.snapshot", above) == []


def test_analysis_and_rules_share_one_classification() -> None:
    for module in (
        "accessaudit.analysis.diff",
        "accessaudit.analysis.scope",
        "accessaudit.rules._context",
        "accessaudit.review._items",
    ):
        assert _imports_any(module, ("accessaudit.classify",)), module


def test_building_the_command_line_loads_no_pandas() -> None:
    """``accessaudit --help`` must start at once: the parser is built from plain words, and
    each command imports what it needs when it runs."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from accessaudit.cli import build_parser\n"
        "build_parser().format_help()\n"
        "loaded = sorted({'pandas', 'numpy', 'openpyxl', 'ldap3', 'msal'} & "
        "{m.split('.')[0] for m in sys.modules})\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_auditing_a_saved_snapshot_as_json_loads_no_signing_or_table_library(
    tmp_path: Path,
) -> None:
    """``accessaudit audit --snapshot DIR --format json`` (the cron job's command) neither
    signs, checks a signature nor prints a table: cryptography and tabulate stay unloaded
    (about 80 ms of every run's start, bench/README.md)."""
    import subprocess
    import sys

    import pandas as pd

    accounts = pd.DataFrame(
        {
            "account_id": ["corp:1"],
            "system": "corp",
            "native_id": ["1"],
            "login": ["alice"],
            "kind": "user",
            "enabled": [True],
        }
    )
    accessaudit.Snapshot.from_tables({"accounts": accounts}, as_of="2026-11-21").save(
        tmp_path / "snapshot"
    )
    (tmp_path / "audit.toml").write_text('[audit]\nas_of = "2026-11-21"\n', encoding="utf-8")
    code = (
        "import sys\n"
        "from accessaudit.cli import main\n"
        f"status = main(['audit', '--config', 'audit.toml', '--snapshot', "
        f"{str(tmp_path / 'snapshot')!r}, '--format', 'json'])\n"
        "loaded = sorted({'cryptography', 'tabulate'} & {m.split('.')[0] for m in sys.modules})\n"
        "assert status in (0, 1) and not loaded, (status, loaded)\n"
    )
    with (tmp_path / "audit.json").open("wb") as document:
        subprocess.run([sys.executable, "-c", code], check=True, cwd=tmp_path, stdout=document)
    # The document is whole: the one account never signed in.
    findings = json.loads((tmp_path / "audit.json").read_text(encoding="utf-8"))["findings"]
    assert [(f["rule"], f["subject_id"]) for f in findings] == [("stale-account", "corp:1")]
