"""Command-line and API habits: help everywhere with an example, bare `accessaudit` helps,
`collect` takes a path, wrong types are named, compact Jupyter cards."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

import accessaudit
from accessaudit.cli import EXAMPLES, build_parser, main


def _parsers() -> list[tuple[str, argparse.ArgumentParser]]:
    found: list[tuple[str, argparse.ArgumentParser]] = []

    def walk(parser: argparse.ArgumentParser, name: str) -> None:
        found.append((name, parser))
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub, child in action.choices.items():
                    walk(child, f"{name} {sub}".strip())

    walk(build_parser(), "")
    return found


def test_every_option_has_help_and_every_command_an_example_without_markup() -> None:
    missing = [
        f"{name}: {action.option_strings or action.dest}"
        for name, parser in _parsers()
        for action in parser._actions
        if not action.help and not isinstance(action, argparse._SubParsersAction)
    ]
    assert missing == []
    for name, parser in _parsers():
        text = parser.format_help()
        assert "example:" in text, name
        assert "``" not in text and ":func:" not in text, name
    assert set(EXAMPLES) == {name for name, _ in _parsers() if name}


def test_bare_accessaudit_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: accessaudit") and "audit" in out and "example:" in out


def test_collect_accepts_a_config_path_and_names_a_wrong_type(tmp_path: Path) -> None:
    config = accessaudit.write_sample_organisation(tmp_path / "org", size=200, include_entra=False)
    snapshot = accessaudit.collect(str(config))
    assert len(snapshot.accounts) and str(snapshot.as_of.date()) == "2026-11-21"
    assert len(accessaudit.collect(config).accounts) == len(snapshot.accounts)
    with pytest.raises(TypeError, match=r"AuditConfig .* not dict"):
        accessaudit.collect({"sources": []})  # type: ignore[arg-type]
    loaded = accessaudit.load_config(config)
    with pytest.raises(TypeError, match=r"Policy .*\(pass config.policy\)"):
        accessaudit.run_audit(snapshot, loaded)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="takes a Snapshot"):
        accessaudit.run_audit(str(config), loaded.policy)  # type: ignore[arg-type]


def test_policy_config_and_campaign_show_compact_cards_in_jupyter(tmp_path: Path) -> None:
    config = accessaudit.load_config(
        accessaudit.write_sample_organisation(tmp_path / "org", size=200, include_entra=False)
    )
    policy_card = config.policy._repr_html_()
    assert "stale after 90 days" in policy_card and "Domain Admins (3)" in policy_card
    config_card = config._repr_html_()
    assert "corp: active-directory" in config_card and "<table" not in config_card
    snapshot = accessaudit.collect(config)
    campaign = accessaudit.create_campaign(
        snapshot, config.policy, accessaudit.run_audit(snapshot, config.policy),
        by="manager", scope="privileged", out=tmp_path / "campaign", deadline="2026-12-15",
        fallback_reviewer=str(snapshot.people["person_id"].iloc[0]),
    )  # fmt: skip
    card = campaign._repr_html_()
    assert "deadline 2026-12-15" in card and "<table" not in card and len(card) < 600


def test_console_output_of_every_command_fits_80_columns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(accessaudit.write_sample_organisation(tmp_path / "org", size=200))
    q3, q4 = str(tmp_path / "q3"), str(tmp_path / "q4")
    campaign = str(tmp_path / "campaign")
    commands = [
        ["collect", "--config", config, "--out", q3],
        ["collect", "--config", config, "--out", q4],
        ["audit", "--config", config, "--snapshot", q4],
        ["diff", q3, q4, "--config", config],
        ["scope", "--config", config, "--snapshot", q4, "--resource", "finance-share"],
        ["connectors"],
        ["rules"],
        ["review", "create", "--config", config, "--snapshot", q4, "--by", "manager",
         "--scope", "privileged", "--out", campaign, "--fallback-reviewer", "E10007"],
        ["review", "collect", campaign],
        ["review", "status", campaign],
    ]  # fmt: skip
    for command in commands:
        main(command)
        out = capsys.readouterr().out
        assert out.strip(), command
        # A line carrying a SHA-256 digest stays whole (scripts copy it), as do long paths.
        too_long = [
            line
            for line in out.splitlines()
            if len(line) > 80 and not re.search(r"[0-9a-f]{64}", line) and str(tmp_path) not in line
        ]
        assert too_long == [], (command, too_long[:3])
    main(["connectors", "--wide"])
    assert max(len(line) for line in capsys.readouterr().out.splitlines()) > 80
