"""One meaning of "privileged" and "sensitive": rules, diff, scope and review agree.

The regression this guards: with ``[policy.privileged] groups = ["Tier0"]`` excess-privilege
fired for a new Tier0 member while the diff, the breach scope and a privileged review
campaign saw no privilege at all, because only the rules read the policy.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from accessaudit.analysis import breach_scope, diff_snapshots
from accessaudit.classify import privileged_groups, privileged_rights, sensitive_resources
from accessaudit.review import create_campaign
from test_rules_support import account, grant, group, member, org, person, policy, resource, run

POLICY = policy(privileged={"groups": ["Tier0"]})


def _quarter(*, tier0_members: list[str], as_of: str) -> object:
    return org(
        people=[person("p-boss"), person("p-ann", manager_id="p-boss")],
        accounts=[
            account("ann", person_id="p-ann"),
            account("boss", person_id="p-boss"),
        ],
        groups=[group("Tier0"), group("Staff")],
        memberships=[member("Staff", "ann"), *(member("Tier0", m) for m in tier0_members)],
        resources=[resource("Wiki", sensitivity="internal", data_categories="pii")],
        grants=[grant("Staff", "Wiki")],
        as_of=pd.Timestamp(as_of, tz="UTC"),
    )


def test_privilege_from_policy_only_is_seen_by_rules_diff_scope_and_review(
    tmp_path: Path,
) -> None:
    before = _quarter(tier0_members=[], as_of="2026-09-30")
    after = _quarter(tier0_members=["ann"], as_of="2026-12-31")
    assert not after.groups["privileged"].any()  # no connector flag: policy alone decides

    findings = run("excess-privilege", after, POLICY)
    assert findings["subject_name"].astype(str).tolist() == ["ann"]

    added = diff_snapshots(before, after, policy=POLICY).memberships_added
    assert added.loc[added["name"] == "Tier0", "privileged"].tolist() == [True]

    groups = breach_scope(after, account="ann", policy=POLICY).groups
    assert groups.set_index("name").loc["Tier0", "privileged"]

    campaign = create_campaign(
        after, POLICY, None, by="manager", scope="privileged", out=tmp_path / "c"
    )
    assert campaign.items["entitlement"].tolist() == ["Tier0"]


def test_without_the_policy_the_same_group_is_not_privileged_anywhere() -> None:
    after = _quarter(tier0_members=["ann"], as_of="2026-12-31")
    assert run("excess-privilege", after).empty
    added = diff_snapshots(_quarter(tier0_members=[], as_of="2026-09-30"), after)
    assert not added.memberships_added["privileged"].any()


def test_pii_makes_an_internal_store_sensitive_for_every_reader(tmp_path: Path) -> None:
    snapshot = _quarter(tier0_members=[], as_of="2026-12-31")
    assert sensitive_resources(snapshot.resources).tolist() == [True]
    assert breach_scope(snapshot, resource="Wiki").resources["sensitive"].all()
    campaign = create_campaign(
        snapshot, POLICY, None, by="manager", scope="sensitive", out=tmp_path / "c"
    )
    assert set(campaign.items["entitlement"]) == {"Staff", "Wiki"}


def test_classification_words() -> None:
    groups = pd.DataFrame(
        {
            "group_id": ["corp:a", "corp:b", "corp:c"],
            "name": ["A", "B", "TIER0"],
            "privileged": [True, False, False],
        }
    )
    assert privileged_groups(groups, POLICY).tolist() == [True, False, True]
    rights = pd.Series(["read", "write", "admin", "owner"])
    assert privileged_rights(rights).tolist() == [False, False, True, True]
    resources = pd.DataFrame(
        {
            "sensitivity": ["public", "confidential", None, "internal"],
            "data_categories": [None, None, "phi", "marketing"],
        }
    )
    assert sensitive_resources(resources).tolist() == [False, True, True, False]
