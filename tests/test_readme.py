"""The README's promises hold: its tour runs as written, its commands exist."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from accessaudit.cli import build_parser

README = Path(__file__).resolve().parents[1] / "README.md"


def _section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"## {title}")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else None]


def test_the_five_minute_tour_runs_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (code,) = re.findall(r"```python\n(.*?)```", _section("A five-minute tour"), flags=re.S)
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    exec(compile(code, "README.md", "exec"), namespace)
    assert (tmp_path / "snapshots" / "2026-Q4" / "manifest.json").is_file()
    result = namespace["result"]
    assert len(result.findings) > 0  # type: ignore[attr-defined]


def test_every_command_in_the_command_line_section_exists() -> None:
    block = _section("Command line")
    commands = set(re.findall(r"^accessaudit (\w+)", block, flags=re.M))
    parser = build_parser()
    known = set(parser._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
    assert commands <= known, commands - known
    assert commands >= {
        "demo",
        "collect",
        "audit",
        "review",
        "diff",
        "scope",
        "verify",
        "rules",
        "connectors",
    }


def test_ci_runs_the_readme_test_command() -> None:
    ci = (README.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in _section("The two commands")
    assert "make test" in ci
    assert os.access(README.parent / ".ci" / "run", os.R_OK)
