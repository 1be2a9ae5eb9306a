"""What is privileged and what is sensitive, decided once for every reader.

The rules, the diff of two snapshots, the breach scope and the review campaigns all ask the
same two questions, and an auditor must get one answer from all of them:

* a **privileged group** is one the connector flagged (AD's well-known RIDs/SIDs, Entra's
  privileged directory roles) or one the policy names in ``[policy.privileged] groups``
  (by name or group_id, case-insensitive);
* a **sensitive resource** is classified ``confidential`` or above, or holds personal,
  health or payment data (``pii``, ``phi``, ``pci``);
* a **privileged right** on a resource is ``admin`` or ``owner``;
* a privileged membership is **approved** when the login is on the policy's approved list
  for that group (``[policy.privileged] approved``, by group name or group_id, both
  case-insensitive); a group with no list approves nobody.

>>> import pandas as pd
>>> groups = pd.DataFrame({"group_id": ["corp:1"], "name": ["Tier0"], "privileged": [False]})
>>> privileged_groups(groups, Policy(privileged_groups=("tier0",))).tolist()
[True]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from accessaudit.model import RIGHTS, SENSITIVITIES
from accessaudit.policy import Policy

__all__ = [
    "PRIVILEGED_RIGHT",
    "SENSITIVE_CATEGORIES",
    "SENSITIVE_LEVEL",
    "approved_memberships",
    "privileged_groups",
    "privileged_rights",
    "sensitive_resources",
    "with_classification",
]

#: The lowest sensitivity that makes a resource sensitive.
SENSITIVE_LEVEL = "confidential"
#: Data categories that make a resource sensitive whatever its level.
SENSITIVE_CATEGORIES = ("pii", "phi", "pci")
#: The lowest right on a resource that counts as privileged access to it.
PRIVILEGED_RIGHT = "admin"


def privileged_groups(groups: pd.DataFrame, policy: Policy | None = None) -> pd.Series:
    """For each row of ``groups``: privileged by the connector's flag or by the policy.

    Takes the ``groups`` table (``group_id``, ``name``, ``privileged``) and returns a boolean
    Series on its index.
    """
    flagged = groups["privileged"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    named = {g.casefold() for g in (policy.privileged_groups if policy else ())}
    if not named:
        return pd.Series(flagged, index=groups.index, dtype=bool)
    by_policy = (
        groups["name"].astype("string").str.casefold().isin(named)
        | groups["group_id"].astype("string").str.casefold().isin(named)
    ).to_numpy(dtype=bool, na_value=False)
    return pd.Series(flagged | by_policy, index=groups.index, dtype=bool)


def sensitive_resources(resources: pd.DataFrame) -> pd.Series:
    """For each row of ``resources``: confidential or above, or holding pii / phi / pci.

    Takes the ``resources`` table (``sensitivity``, ``data_categories``) and returns a boolean
    Series on its index. A resource without a sensitivity is judged by its categories alone.
    """
    level = pd.Categorical(
        resources["sensitivity"].astype(object), categories=list(SENSITIVITIES), ordered=True
    )
    high = (pd.Series(level, index=resources.index) >= SENSITIVE_LEVEL).to_numpy(dtype=bool)
    pattern = "|".join(rf"(?:^|;)\s*{c}\s*(?:;|$)" for c in SENSITIVE_CATEGORIES)
    special = (
        resources["data_categories"]
        .astype("string")
        .fillna("")
        .str.lower()
        .str.contains(pattern)
        .to_numpy(dtype=bool, na_value=False)
    )
    return pd.Series(high | special, index=resources.index, dtype=bool)


def privileged_rights(rights: pd.Series) -> pd.Series:
    """For each right (``read`` < ``write`` < ``admin`` < ``owner``): admin or above."""
    ordered = pd.Categorical(rights.astype(object), categories=list(RIGHTS), ordered=True)
    above: np.ndarray = np.asarray(ordered >= PRIVILEGED_RIGHT, dtype=bool)
    return pd.Series(above, index=rights.index, dtype=bool)


def approved_memberships(
    group: pd.Series, group_id: pd.Series, login: pd.Series, policy: Policy | None
) -> tuple[pd.Series, pd.Series]:
    """For aligned ``group`` names, ``group_id``s and ``login``s: ``(approved, listed)``.

    ``approved``: the login is on the policy's approved list for that group. ``listed``: the
    policy has an approved list for the group at all (a group without one approves nobody).
    Both boolean Series on ``login``'s index.

    >>> policy = Policy(approved={"Domain Admins": ("adm.alice",)})
    >>> ok, listed = approved_memberships(
    ...     pd.Series(["domain admins", "Domain Admins"]), pd.Series(["c:1", "c:1"]),
    ...     pd.Series(["ADM.alice", "bob"]), policy)
    >>> ok.tolist(), listed.tolist()
    ([True, False], [True, True])
    """
    approved_lists = policy.approved if policy is not None else {}
    pairs = {
        f"{name.casefold()}\x1f{who.casefold()}"
        for name, logins in approved_lists.items()
        for who in logins
    }
    names = {name.casefold() for name in approved_lists}
    by_name = group.astype("string").str.casefold()
    by_id = group_id.astype("string").str.casefold()
    who = login.astype("string").str.casefold()
    approved = ((by_name + "\x1f" + who).isin(pairs) | (by_id + "\x1f" + who).isin(pairs)).fillna(
        False
    )
    listed = (by_name.isin(names) | by_id.isin(names)).fillna(False)
    return (
        pd.Series(approved.to_numpy(dtype=bool), index=login.index, dtype=bool),
        pd.Series(listed.to_numpy(dtype=bool), index=login.index, dtype=bool),
    )


def with_classification(
    groups: pd.DataFrame, resources: pd.DataFrame, policy: Policy | None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Copies of ``groups`` with ``privileged`` decided by connector and policy, and of
    ``resources`` with a boolean ``sensitive`` column, for readers that join on them."""
    groups = groups.assign(privileged=privileged_groups(groups, policy))
    resources = resources.assign(sensitive=sensitive_resources(resources))
    return groups, resources
