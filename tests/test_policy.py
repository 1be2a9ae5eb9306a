"""Policy parsing: defaults, every key, and errors that name the file and key."""

from __future__ import annotations

import datetime as dt
import tomllib

import pandas as pd
import pytest

from accessaudit.errors import ConfigError
from accessaudit.policy import Policy, RiskException

TOML = """
stale_days = 60
privileged_stale_days = 20
new_account_grace_days = 7
peer_min_size = 8
peer_max_share = 0.2
[privileged]
groups = ["Tier0-Admins"]
approved = { "Domain Admins" = ["adm.alice"] }
[service_accounts]
patterns = ["svc-*", "OU=Service Accounts"]
[[sod]]
name = "Invoice entry and payment release"
entitlements = ["AP-Invoice-Entry", "AP-Payment-Release"]
[[exceptions]]
rule = "excess-privilege"
subject = "adm.bob"
owner = "CISO"
reason = "break-glass account"
expires = 2027-03-31
"""


def test_defaults_match_design() -> None:
    policy = Policy.from_mapping({}, origin="a.toml")
    assert (policy.stale_days, policy.privileged_stale_days, policy.new_account_grace_days) == (
        90,
        30,
        14,
    )
    assert (policy.peer_min_size, policy.peer_max_share) == (5, 0.10)
    assert policy.sod == () and policy.exceptions == () and dict(policy.approved) == {}


def test_every_key_of_the_policy_table_is_read() -> None:
    policy = Policy.from_mapping(tomllib.loads(TOML), origin="a.toml")
    assert policy.stale_days == 60 and policy.peer_max_share == 0.2
    assert policy.privileged_groups == ("Tier0-Admins",)
    assert policy.approved["Domain Admins"] == ("adm.alice",)
    assert policy.service_account_patterns == ("svc-*", "OU=Service Accounts")
    assert policy.sod[0].entitlements == ("AP-Invoice-Entry", "AP-Payment-Release")
    assert policy.exceptions[0] == RiskException(
        "excess-privilege", "adm.bob", "CISO", "break-glass account", dt.date(2027, 3, 31)
    )


def test_policy_is_frozen() -> None:
    policy = Policy.from_mapping({}, origin="a.toml")
    with pytest.raises(AttributeError):
        policy.stale_days = 1  # type: ignore[misc]
    with pytest.raises(TypeError):
        policy.approved["x"] = ("y",)  # type: ignore[index]


@pytest.mark.parametrize(
    ("mapping", "named"),
    [
        ({"stale_dayz": 3}, "policy.stale_dayz"),
        ({"stale_days": "90"}, "policy.stale_days"),
        ({"stale_days": True}, "policy.stale_days"),
        ({"stale_days": -1}, "policy.stale_days"),
        ({"peer_max_share": 10}, "policy.peer_max_share"),
        ({"privileged": {"groups": "Domain Admins"}}, "policy.privileged.groups"),
        ({"privileged": {"admins": []}}, "policy.privileged.admins"),
        ({"sod": [{"name": "x", "entitlements": ["a"]}]}, "policy.sod[0].entitlements"),
        (
            {
                "exceptions": [
                    {
                        "rule": "stale-account",
                        "subject": "x",
                        "reason": "r",
                        "expires": "2027-01-01",
                    }
                ]
            },
            "policy.exceptions[0].owner",
        ),
        (
            {
                "exceptions": [
                    {"rule": "stale-account", "subject": "x", "owner": "o", "reason": "r"}
                ]
            },
            "policy.exceptions[0].expires",
        ),
        (
            {
                "exceptions": [
                    {
                        "rule": "stale-account",
                        "subject": "x",
                        "owner": "o",
                        "reason": "r",
                        "expires": "next year",
                    }
                ]
            },
            "policy.exceptions[0].expires",
        ),
        (
            {
                "exceptions": [
                    {
                        "rule": "no-such-rule",
                        "subject": "x",
                        "owner": "o",
                        "reason": "r",
                        "expires": "2027-01-01",
                    }
                ]
            },
            "policy.exceptions[0].rule",
        ),
    ],
)
def test_bad_policy_raises_config_error_naming_file_and_key(
    mapping: dict[str, object], named: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        Policy.from_mapping(mapping, origin="audit.toml")
    assert str(caught.value).startswith("audit.toml: ")
    assert named in str(caught.value)


def test_exception_holds_through_its_expiry_day_and_not_after() -> None:
    exception = RiskException("stale-account", "x", "o", "r", dt.date(2026, 11, 21))
    assert exception.is_current(pd.Timestamp("2026-11-21 23:00", tz="UTC"))
    assert not exception.is_current(pd.Timestamp("2026-11-22", tz="UTC"))
