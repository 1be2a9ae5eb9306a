"""The audit config: sources, policy, secrets by reference, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from accessaudit import ConfigError, load_config


def _write(tmp_path: Path, text: str) -> Path:
    file = tmp_path / "audit.toml"
    file.write_text(text, encoding="utf-8")
    return file


def test_sources_keep_their_options_and_paths_resolve_against_the_config(tmp_path: Path) -> None:
    config = load_config(
        _write(
            tmp_path,
            """
[[sources]]
name = "hr"
connector = "hr-csv"
path = "exports/hr.csv"
status_map = { "Withdrawn" = "terminated" }
""",
        )
    )
    (source,) = config.sources
    assert source.path == tmp_path / "exports" / "hr.csv"
    assert source.option("status_map") == {"Withdrawn": "terminated"}
    assert config.as_of is None


def test_a_password_in_plain_text_is_refused(tmp_path: Path) -> None:
    file = _write(
        tmp_path,
        '[[sources]]\nname = "corp"\nconnector = "hr-csv"\npassword = "hunter2"\n',
    )
    with pytest.raises(ConfigError, match="looks like a secret") as caught:
        load_config(file)
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[sources]]\nname = "x"\nconnector = "nope"\n', "unknown connector 'nope'"),
        ('[[sources]]\nconnector = "hr-csv"\n', "'name' must be"),
        ("[audit]\nfoo = 1\n", r"unknown key\(s\) in \[audit\]: foo"),
        ('[audit]\nas_of = "yesterday-ish"\n', "is not a date"),
        (
            '[[sources]]\nname = "a"\nconnector = "hr-csv"\n[[sources]]\nname = "a"\n'
            'connector = "hr-csv"\n',
            "used twice: a",
        ),
        ("[[sources]\n", "audit.toml"),
    ],
)
def test_bad_configs_name_the_file_and_the_problem(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        load_config(_write(tmp_path, text))
    assert "audit.toml" in str(caught.value)


def test_a_missing_config_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "absent.toml")


def test_user_connector_folder_adds_a_flavour_without_python(tmp_path: Path) -> None:
    extra = tmp_path / "my-connectors"
    extra.mkdir()
    (extra / "workday-hr.toml").write_text(
        'connector = "workday-hr"\nprotocol = "hr-csv"\ndescription = "Workday export"\n'
        '[columns]\nemployee_id = "Employee_ID"\n',
        encoding="utf-8",
    )
    config = load_config(
        _write(
            tmp_path,
            '[audit]\nconnector_paths = ["my-connectors"]\n'
            '[[sources]]\nname = "hr"\nconnector = "workday-hr"\npath = "hr.csv"\n',
        )
    )
    manifest = config.manifests["workday-hr"]
    assert manifest.protocol == "hr-csv"
    assert manifest.section("columns") == {"employee_id": "Employee_ID"}
