"""The gathered column lists of one directory → the accounts and groups frames.

Everything here is vectorised and runs once, after the last entry was read: times and numbers
are parsed (the first bad value is refused with its entry's location), account state is
decided (:mod:`~accessaudit.connectors.ldap.account_state`), kinds and privileged groups are
recognised from the manifest.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from accessaudit.connectors.ldap._report import sample
from accessaudit.connectors.ldap.account_state import (
    apply_account_control,
    apply_password_policy,
)
from accessaudit.connectors.ldap.mapping import TIME_FIELDS, DirectoryMapping
from accessaudit.connectors.ldap.memberships import dn_index
from accessaudit.connectors.ldap.syntax import (
    DOMAIN_SID,
    convert_times,
    never_times,
    normalise_dn,
    outside_range,
    whole_numbers,
)
from accessaudit.errors import SourceError

__all__ = ["Tables"]


class Tables:
    """The frames of one source, built from the column lists the transform gathered.

    ``accounts``, ``groups`` and ``policies`` map a column (``dn``, ``position``, a field or
    ``field:attribute`` for times) to one value per entry; ``account_class`` says, per
    account, ``"service"`` when its object class makes it a service account.
    """

    def __init__(
        self,
        mapping: DirectoryMapping,
        source: str,
        *,
        accounts: dict[str, list[Any]],
        account_class: list[str],
        groups: dict[str, list[Any]],
        policies: dict[str, list[Any]],
    ) -> None:
        self.mapping = mapping
        self.source = source
        self.by_sid = mapping.id_attribute != "dn"
        self.columns = accounts
        self.account_class = account_class
        self.group_columns = groups
        self.policy_columns = policies

    def _identity(self, raw: pd.DataFrame, id_column: str) -> pd.DataFrame:
        """The columns every directory object has: where it was read, its DN, the DN key
        members are resolved by, its native id (objectSid or the DN) and ``system:native``."""
        frame = pd.DataFrame(index=raw.index)
        frame["position"] = raw["position"]
        frame["dn"] = raw["dn"].astype(pd.StringDtype(na_value=np.nan))
        frame["key"] = normalise_dn(frame["dn"])
        native = frame["key"] if not self.by_sid else raw["native_id"].astype("string")
        frame["native_id"] = native
        frame[id_column] = self.source + ":" + native
        frame["system"] = self.source
        if self.by_sid:
            frame["sid"] = native
        return frame

    def _policies_frame(self, location: Callable[[int], str]) -> pd.DataFrame:
        """Password policies by normalised DN: ``lockout`` (pwdLockout is TRUE) and
        ``duration`` (pwdLockoutDuration in seconds; NA when absent, which means 0)."""
        raw = pd.DataFrame(self.policy_columns, dtype=object)
        frame = pd.DataFrame(index=normalise_dn(raw["dn"].astype(pd.StringDtype(na_value=np.nan))))
        lockout = raw.get("policy_lockout", pd.Series(pd.NA, index=raw.index, dtype=object))
        text = lockout.astype(pd.StringDtype(na_value=np.nan)).str.strip()
        # LDAP Boolean syntax is exactly TRUE or FALSE (RFC 4517 §3.3.3).
        not_boolean = text.notna() & ~text.isin(["TRUE", "FALSE"]).fillna(False).astype(bool)
        self._refuse(not_boolean, raw, lockout, "pwdLockout {!r} is not TRUE or FALSE", location)
        frame["lockout"] = (text == "TRUE").fillna(False).astype(bool).to_numpy()
        duration = raw.get(
            "policy_lockout_duration", pd.Series(pd.NA, index=raw.index, dtype=object)
        )
        seconds = whole_numbers(duration)
        what = "pwdLockoutDuration {!r} is not a whole number of seconds"
        self._refuse(duration.notna() & seconds.isna(), raw, duration, what, location)
        frame["duration"] = seconds.astype("float64").to_numpy()
        return frame[~frame.index.duplicated()]

    def accounts(
        self, report: dict[str, Any], as_of: pd.Timestamp, location: Callable[[int], str]
    ) -> pd.DataFrame:
        """The accounts frame: identity, mapped fields, times, account state and kind."""
        mapping = self.mapping
        raw = pd.DataFrame(self.columns, dtype=object)
        frame = self._identity(raw, "account_id")
        for field in ("login", "upn", "email", "display_name", "employee_id", "department"):
            if field in raw:
                frame[field] = raw[field]
        outside: dict[str, int] = {}
        for field in TIME_FIELDS:
            if mapping.names(field):
                frame[field] = self._times(raw, field, location, outside)
        report["times_outside_range"] = outside
        if outside:
            counts = ", ".join(f"{name}: {count}" for name, count in outside.items())
            report.setdefault("warnings", []).append(
                f"time values before 1678 or after 2261 are stored as no date ({counts}): "
                "such values mean 'never' or 'no end' (lastLogonTimestamp 1, 9999-12-31)"
            )
        sign_in_values = sum(
            int(raw[f"last_sign_in:{n}"].notna().sum()) for n in mapping.names("last_sign_in")
        )
        # A whole export without one sign-in value means the attributes were not exported or
        # not kept (no lastbind overlay), not that nobody ever signed in: say "unknown" rather
        # than let every account look unused.
        known = sign_in_values > 0 or len(frame) == 0
        frame["last_sign_in_known"] = known
        report["last_sign_in_known"] = known
        if not known:
            names = "/".join(mapping.label(n) for n in mapping.names("last_sign_in"))
            report.setdefault("warnings", []).append(
                f"no account carries {names}: sign-ins are unknown, not 'never'"
            )
        frame["enabled"] = True
        frame["locked"] = pd.Series(pd.NA, index=frame.index, dtype="boolean")
        frame["password_never_expires"] = False
        unreadable: dict[str, int] = {}
        if "user_account_control" in raw:
            computed = None
            if "account_control_computed" in raw:
                computed = self._integers(raw, "account_control_computed", location)
            apply_account_control(
                frame,
                uac=self._integers(raw, "user_account_control", location),
                computed=computed,
                report=report,
                unreadable=unreadable,
                label=mapping.label(mapping.names("user_account_control")[0]),
            )
        if "locked_time" in raw:
            locked_time = raw["locked_time"]
            form = mapping.formats["locked_time"]
            bad = (
                locked_time.notna()
                & convert_times(locked_time, form).isna()
                & ~never_times(locked_time, form)
                & ~outside_range(locked_time, form)
            )
            what = f"{mapping.label(mapping.names('locked_time')[0])} {{!r}} is not a {form} time"
            self._refuse(bad, raw, locked_time, what, location)
            apply_password_policy(
                frame,
                locked_time=raw["locked_time"],
                policy_dn=raw.get(
                    "password_policy", pd.Series(pd.NA, index=raw.index, dtype=object)
                ),
                policies=self._policies_frame(location),
                default_policy=mapping.default_policy,
                as_of=as_of,
                report=report,
            )
        report["unreadable_attributes"] = unreadable
        frame["kind"] = self._kinds(frame, raw)
        frame["origin"] = [location(p) for p in frame["position"]]
        report["accounts"] = len(frame)
        report["accounts_by_kind"] = {
            str(k): int(v) for k, v in frame["kind"].value_counts().sort_index().items()
        }
        report["accounts_disabled"] = int((~frame["enabled"].astype(bool)).sum())
        report["accounts_locked"] = int(frame["locked"].fillna(False).astype(bool).sum())
        if "primary_group" in raw:
            frame["primary_group"] = self._integers(raw, "primary_group", location)
        if "gid_number" in raw:
            frame["gid_number"] = raw["gid_number"]
        return frame

    def _times(
        self,
        raw: pd.DataFrame,
        field: str,
        location: Callable[[int], str],
        outside: dict[str, int],
    ) -> pd.Series:
        """The latest of the attributes mapped to a time field, as UTC timestamps; counts of
        values outside what pandas holds go into ``outside`` by attribute."""
        parsed = []
        form = self.mapping.formats[field]
        for name in self.mapping.names(field):
            values = raw[f"{field}:{name}"]
            times = convert_times(values, form)
            beyond = outside_range(values, form)
            if beyond.any():
                outside[self.mapping.label(name)] = int(beyond.sum())
            bad = values.notna() & times.isna() & ~never_times(values, form) & ~beyond
            what = f"is not a {form} time"
            self._refuse(bad, raw, values, f"{self.mapping.label(name)} {{!r}} {what}", location)
            parsed.append(times)
        return pd.concat(parsed, axis=1).max(axis=1).astype(pd.DatetimeTZDtype("ns", "UTC"))

    def _integers(self, raw: pd.DataFrame, field: str, location: Callable[[int], str]) -> pd.Series:
        values = raw[field]
        numbers = whole_numbers(values)
        label = self.mapping.label(self.mapping.attributes[field][0])
        what = f"{label} {{!r}} is not a whole number"
        self._refuse(values.notna() & numbers.isna(), raw, values, what, location)
        return numbers

    def _refuse(
        self,
        bad: pd.Series,
        raw: pd.DataFrame,
        values: pd.Series,
        message: str,
        location: Callable[[int], str],
    ) -> None:
        """Raise for the first bad value (``message`` formats it), naming its entry."""
        flags = bad.to_numpy(dtype=bool)
        if flags.any():
            first = int(np.flatnonzero(flags)[0])
            raise SourceError(
                message.format(values.iloc[first]),
                source=self.source,
                location=location(int(raw["position"].iloc[first])),
            )

    def _kinds(self, frame: pd.DataFrame, raw: pd.DataFrame) -> pd.Series:
        login = frame["login"].astype(pd.StringDtype(na_value=np.nan))
        kind = pd.Series("user", index=frame.index, dtype=object)
        admin = _glob_mask(login, self.mapping.admin_patterns)
        if self.by_sid and self.mapping.admin_rids:
            rid = frame["native_id"].str.upper().str.extract(DOMAIN_SID)["rid"]
            admin |= pd.to_numeric(rid, errors="coerce").isin(self.mapping.admin_rids)
        service = _glob_mask(login, self.mapping.service_patterns)
        service |= pd.Series(self.account_class, index=frame.index, dtype=object) == "service"
        kind[admin] = "admin"
        kind[service] = "service"
        return kind

    def groups(
        self, accounts: pd.DataFrame, report: dict[str, Any], location: Callable[[int], str]
    ) -> pd.DataFrame:
        mapping = self.mapping
        raw = pd.DataFrame(self.group_columns, dtype=object)
        frame = self._identity(raw, "group_id")
        frame["kind"] = "group"
        name = raw["group_name"] if "group_name" in raw else pd.Series(pd.NA, index=raw.index)
        # A group without a readable name still needs one a person can read: its first RDN.
        rdn = frame["dn"].str.extract(r"^[^=]+=((?:\\.|[^,\\])*)", expand=False)
        frame["name"] = name.fillna(rdn)
        for field in ("description", "gid_number"):
            if field in raw:
                frame[field] = raw[field]
        privileged = frame["name"].str.lower().isin(mapping.privileged_names).fillna(False)
        if self.by_sid:
            parts = frame["native_id"].str.upper().str.extract(DOMAIN_SID)
            rid = pd.to_numeric(parts["rid"], errors="coerce")
            privileged |= rid.isin(mapping.privileged_rids) & parts["domain"].notna()
            privileged |= frame["native_id"].str.upper().isin(mapping.privileged_sids)
        if mapping.use_admin_count and "admin_count" in raw:
            admin_count = pd.to_numeric(raw["admin_count"], errors="coerce")
            privileged |= admin_count == 1
        frame["privileged"] = privileged.fillna(False).astype(bool)
        frame["owner_id"] = pd.Series(pd.NA, index=frame.index, dtype=object)
        if "owner" in raw and len(frame):
            owners = normalise_dn(raw["owner"])
            index = dn_index(accounts, frame)
            resolved = owners.map(index["id"])
            frame["owner_id"] = resolved
            missing = owners.notna() & resolved.isna()
            report["owners_unresolved"] = sample(raw["owner"][missing])
        frame["origin"] = [location(p) for p in frame["position"]]
        report["groups"] = len(frame)
        report["groups_privileged"] = int(frame["privileged"].sum())
        return frame


def _glob_mask(values: pd.Series, patterns: tuple[str, ...]) -> pd.Series:
    if not patterns:
        return pd.Series(False, index=values.index)
    regex = "|".join(f"(?:{fnmatch.translate(p)})" for p in patterns)
    return values.str.match(regex, flags=re.IGNORECASE).fillna(False).astype(bool)
