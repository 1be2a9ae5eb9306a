"""The rule catalogue: every rule id (a public contract) with its metadata and function.

>>> from accessaudit.rules import RULES
>>> RULES["leaver-active"].severity
'critical'

A rule is a vectorised function ``(snapshot, policy, as_of) -> findings DataFrame``; see
:mod:`accessaudit.findings` for the columns.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import pandas as pd

from accessaudit.model import RULE_IDS
from accessaudit.rules._spec import RULE_INPUTS, RuleFunction, RuleSpec, SnapshotView
from accessaudit.rules.accounts import (
    LEAVER_ACTIVE,
    ORPHAN_ACCOUNT,
    PASSWORD_NEVER_EXPIRES,
    STALE_ACCOUNT,
)
from accessaudit.rules.data import (
    DIRECT_GRANT,
    RETENTION_OVERDUE,
    THIRD_PARTY_SENSITIVE,
    UNCLASSIFIED_RESOURCE,
    UNOWNED_RESOURCE,
)
from accessaudit.rules.databases import PUBLIC_DATABASE_GRANT
from accessaudit.rules.discovery import UNCLASSIFIED_SENSITIVE_DATA
from accessaudit.rules.joiners import JOINER_EARLY_ACCESS, JOINER_EXCESS
from accessaudit.rules.movers import MOVER_RETAINED_ACCESS
from accessaudit.rules.peers import PEER_OUTLIER
from accessaudit.rules.privilege import (
    DISABLED_PRIVILEGED,
    EXCESS_PRIVILEGE,
    MFA_MISSING,
    SOD_CONFLICT,
    STALE_PRIVILEGE,
)
from accessaudit.rules.sharing import (
    EXTERNAL_SHARING,
    LINK_NO_EXPIRY,
    ORG_WIDE_LINK,
    PUBLIC_LINK,
)
from accessaudit.rules.third_parties import GUEST_WITHOUT_SPONSOR, THIRD_PARTY_EXPIRING

__all__ = ["RULES", "RULE_INPUTS", "RuleFunction", "RuleSpec", "SnapshotView", "catalogue"]

_SPECS = {
    spec.id: spec
    for spec in (
        STALE_ACCOUNT,
        LEAVER_ACTIVE,
        ORPHAN_ACCOUNT,
        EXCESS_PRIVILEGE,
        STALE_PRIVILEGE,
        PEER_OUTLIER,
        SOD_CONFLICT,
        THIRD_PARTY_SENSITIVE,
        MFA_MISSING,
        PASSWORD_NEVER_EXPIRES,
        DIRECT_GRANT,
        UNOWNED_RESOURCE,
        UNCLASSIFIED_RESOURCE,
        RETENTION_OVERDUE,
        DISABLED_PRIVILEGED,
        PUBLIC_LINK,
        ORG_WIDE_LINK,
        LINK_NO_EXPIRY,
        EXTERNAL_SHARING,
        UNCLASSIFIED_SENSITIVE_DATA,
        MOVER_RETAINED_ACCESS,
        JOINER_EARLY_ACCESS,
        JOINER_EXCESS,
        THIRD_PARTY_EXPIRING,
        GUEST_WITHOUT_SPONSOR,
        PUBLIC_DATABASE_GRANT,
    )
}

#: Rule id → spec, in the order of :data:`accessaudit.model.RULE_IDS`. Read-only. Every id
#: of that list has exactly one spec (RuleSpec checks each id when it is defined).
RULES: Mapping[str, RuleSpec] = MappingProxyType({rule: _SPECS[rule] for rule in RULE_IDS})


def catalogue() -> pd.DataFrame:
    """The rules as a table: id, severity, title, rationale, remediation, controls, needs
    (the snapshot tables each rule judges).

    >>> catalogue().loc[0, "id"]
    'stale-account'
    """
    return pd.DataFrame(
        [
            {
                "id": s.id,
                "severity": s.severity,
                "title": s.title,
                "rationale": s.rationale,
                "remediation": s.remediation,
                "controls": s.controls,
                "needs": s.needs,
            }
            for s in RULES.values()
        ]
    )
