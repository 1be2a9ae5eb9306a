"""Whether a directory account can sign in: enabled, locked, password never expires.

Active Directory states it in the bits of ``userAccountControl`` and its computed sibling.
OpenLDAP states it through the password policy overlay (slapo-ppolicy(5), after
draft-behera-ldap-password-policy): ``pwdAccountLockedTime`` on the account, which *only locks
where the governing policy has* ``pwdLockout: TRUE``. The governing policy is the one the
account's ``pwdPolicySubentry`` names, else the overlay's ``ppolicy_default``. A lock time of
``000001010000Z`` is a permanent lock set by an administrator; any other lock ends
``pwdLockoutDuration`` seconds after it was set (0 or absent: until an administrator resets it).

Every decision is per account and vectorised; where the governing policy cannot be read, the
lock state is *unverified* (unknown, not "locked" and not "disabled") and the report says so.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from accessaudit.connectors.ldap._report import sample
from accessaudit.connectors.ldap.syntax import PERMANENT_LOCK, convert_times, normalise_dn

__all__ = ["apply_account_control", "apply_password_policy"]

_UAC_ACCOUNTDISABLE = 0x2
_UAC_LOCKOUT = 0x10
_UAC_DONT_EXPIRE_PASSWORD = 0x10000
_UAC_PASSWORD_EXPIRED = 0x800000


def apply_account_control(
    frame: pd.DataFrame,
    *,
    uac: pd.Series,
    computed: pd.Series | None,
    report: dict[str, Any],
    unreadable: dict[str, int],
    label: str,
) -> None:
    """Set ``enabled``, ``locked`` and ``password_never_expires`` of ``frame`` from
    ``userAccountControl`` (``uac``) and ``msDS-User-Account-Control-Computed`` (``computed``,
    when mapped), both as nullable integers aligned with ``frame``.

    Absent or 0 means the bind account may not read ``uac`` (no real account has 0): the
    account stays enabled, the conservative default, and ``unreadable[label]`` counts it.
    """
    readable = uac.notna() & (uac != 0)
    bits = uac.fillna(0).astype("int64")
    unreadable_count = int((~readable).sum())
    if unreadable_count:
        unreadable[label] = unreadable_count
    frame["enabled"] = ~readable | ((bits & _UAC_ACCOUNTDISABLE) == 0)
    frame["password_never_expires"] = readable & ((bits & _UAC_DONT_EXPIRE_PASSWORD) != 0)
    locked = frame["locked"].copy()
    if computed is not None:
        computed_bits = computed.fillna(0).astype("int64")
        locked[computed.notna()] = False
        locked[(computed_bits & _UAC_LOCKOUT) != 0] = True
        report["password_expired"] = int(((computed_bits & _UAC_PASSWORD_EXPIRED) != 0).sum())
    # AD hardly ever sets the LOCKOUT bit in the stored UAC, so its absence proves nothing;
    # only a computed value (or the bit itself) makes "locked" known.
    locked[(bits & _UAC_LOCKOUT) != 0] = True
    frame["locked"] = locked


def apply_password_policy(
    frame: pd.DataFrame,
    *,
    locked_time: pd.Series,
    policy_dn: pd.Series,
    policies: pd.DataFrame,
    default_policy: str | None,
    as_of: pd.Timestamp,
    report: dict[str, Any],
) -> None:
    """Set ``locked`` (and ``enabled`` for a permanent lock) of ``frame`` from ppolicy.

    ``locked_time`` holds each account's raw ``pwdAccountLockedTime`` (or NA), ``policy_dn``
    its ``pwdPolicySubentry`` (or NA); ``policies`` is indexed by normalised policy DN with
    the columns ``lockout`` (bool) and ``duration`` (seconds, nullable). ``as_of`` decides
    whether a lock with a duration has ended. Absence of a lock time means "not locked" only
    where the entry carries operational attributes at all (``frame["created"]``): an export
    made without ``+`` has no ppolicy attributes either.
    """
    text = locked_time.astype(pd.StringDtype(na_value=np.nan)).str.strip()
    present = text.notna()
    permanent = (text == PERMANENT_LOCK).fillna(False).astype(bool)
    governing = normalise_dn(policy_dn)
    if default_policy is not None:
        governing = governing.fillna(default_policy)
    known = governing.isin(policies.index).fillna(False).astype(bool)
    lockout = governing.isin(policies.index[policies["lockout"]]).fillna(False).astype(bool)
    duration = pd.to_numeric(governing.map(policies["duration"]), errors="coerce").fillna(0)
    # Seconds from the lock to the as-of date, compared as numbers: a duration of decades
    # must not overflow a timestamp.
    since = (as_of - convert_times(text, "generalized")).dt.total_seconds()
    lasting = permanent | (duration <= 0) | (since < duration).fillna(False).astype(bool)
    in_force = present & known & lockout & lasting

    operational = (
        frame["created"].notna() if "created" in frame else pd.Series(False, index=frame.index)
    )
    locked = frame["locked"].copy()
    locked[operational] = False
    locked[present & known] = False
    locked[in_force] = True
    unverified = present & ~known
    locked[unverified] = pd.NA
    frame["locked"] = locked
    frame["enabled"] = frame["enabled"] & ~(in_force & permanent)

    report["password_policies"] = len(policies)
    report["locked_permanently"] = int((in_force & permanent).sum())
    report["locks_not_enforced"] = int((present & known & ~lockout).sum())
    report["locks_expired"] = int((present & known & lockout & ~lasting).sum())
    report["lock_unverified"] = sample(frame.loc[unverified, "login"])
    if unverified.any():
        report.setdefault("warnings", []).append(
            f"{int(unverified.sum())} account(s) carry pwdAccountLockedTime but their password "
            "policy could not be read (no pwdPolicySubentry and no ppolicy_default, or the "
            "policy entry is not in what was read): lock state unverified, kept as enabled"
        )
