"""Sharing links and invitations (Microsoft 365): who can open a file without being named.

A sharing link is a grant to a class of people: ``anyone`` (anonymous, no sign-in) or
``organization`` (every signed-in member of the tenant); an invitation of an e-mail address
from outside the directory is a grant to ``external`` principal. SharePoint's "Everyone except
external users" claim on a site is an organisation-wide grant too (principal ``organization``
without a link scope). These rules read the grants table only; sensitivity is the resource's
own (a sensitivity label mapped by the connector, or the data inventory), decided by
:mod:`accessaudit.classify`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from accessaudit.classify import sensitive_resources
from accessaudit.model import SENSITIVITIES
from accessaudit.policy import Policy
from accessaudit.rules._arrays import positions
from accessaudit.rules._context import RuleContext, choose, text
from accessaudit.rules._spec import RuleSpec, SnapshotView

__all__ = [
    "EXTERNAL_SHARING",
    "LINK_NO_EXPIRY",
    "ORG_WIDE_LINK",
    "PUBLIC_LINK",
    "external_sharing",
    "link_no_expiry",
    "org_wide_link",
    "public_link",
]

ISO_ACCESS = "ISO 27001:2022 A.5.15"
ISO_TRANSFER = "ISO 27001:2022 A.5.14"
GDPR = "GDPR Art. 32"


def _level_at_least(resources: pd.DataFrame, level: str) -> pd.Series:
    levels = pd.Categorical(
        resources["sensitivity"].astype(object), categories=list(SENSITIVITIES), ordered=True
    )
    return pd.Series(np.asarray(levels >= level, dtype=bool), index=resources.index)


def _link_grants(ctx: RuleContext) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Grants that are not deny entries, with the resource row of each (aligned, reset)."""
    g = ctx.grants
    g = g[~g["deny"].to_numpy(dtype=bool)].reset_index(drop=True)
    at = positions(g["resource_id"], ctx.resource_index)
    known = at >= 0
    g = g[known].reset_index(drop=True)
    r = ctx.resources.iloc[at[known]].reset_index(drop=True)
    return g, r


def _of_account(ctx: RuleContext, column: str, at: np.ndarray) -> pd.Series:
    """``column`` of the accounts at positions ``at`` (-1: no account → missing)."""
    # Only the rows asked for are converted to objects, not the whole column.
    found = at >= 0
    values = np.full(len(at), None, dtype=object)
    values[found] = ctx.account_rows(at[found], [column])[column].astype(object).to_numpy()
    return pd.Series(values, dtype="object")


def _findings(
    spec: RuleSpec, g: pd.DataFrame, r: pd.DataFrame, what: pd.Series, message: pd.Series
) -> pd.DataFrame:
    key = g["permission_id"].astype(object).fillna(g["principal_id"].astype(object))
    evidence = pd.DataFrame(
        {
            "principal": g["principal_id"].astype(object),
            "right": g["right"].astype(object),
            "link_type": g["link_type"],
            "link_scope": g["link_scope"].astype(object),
            "link_expires": g["link_expires"],
            "link_created": g["link_created"],
            "link_created_by": g["link_created_by"],
            "link_has_password": g["link_has_password"].astype(object),
            "link_prevents_download": g["link_prevents_download"].astype(object),
            "permission_id": g["permission_id"],
            "path": g["path"],
            "resource_type": r["type"].astype(object),
            "sensitivity": r["sensitivity"].astype(object),
            "data_categories": r["data_categories"],
            "parent_id": r["parent_id"],
        }
    )
    return spec.grant_findings(
        g, r, message=message, evidence=evidence, entitlement=what, entitlement_key=key
    )


def _describe(g: pd.DataFrame) -> pd.Series:
    """'anyone link (edit)', 'organization link (view)', 'Everyone except external users'."""
    kind = g["link_type"].astype(object).fillna(text(g["right"]))
    scope_known = g["link_scope"].notna().to_numpy()
    out: pd.Series = choose(
        scope_known,
        text(g["principal_id"]) + " link (" + kind.astype(str) + ")",
        "Everyone except external users (" + text(g["right"]) + ")",
        g.index,
    )
    return out


def public_link(snapshot: SnapshotView, policy: Policy, as_of: pd.Timestamp) -> pd.DataFrame:
    """An anonymous ("anyone with the link") sharing link on confidential or restricted data.

    One finding per link. Links on resources below confidential, and links of scope
    organization, users or existingAccess, are not judged here.
    """
    ctx = RuleContext.of(snapshot, policy, as_of)
    g, r = _link_grants(ctx)
    mask = (
        (g["principal_type"].astype(object) == "link").to_numpy(dtype=bool)
        & (g["principal_id"].astype(object) == "anyone").to_numpy(dtype=bool)
        & _level_at_least(r, "confidential").to_numpy()
    )
    g, r = g[mask].reset_index(drop=True), r[mask].reset_index(drop=True)
    what = _describe(g)
    message = (
        "anyone with the link can open "
        + text(r["name"])
        + " ("
        + text(r["sensitivity"])
        + ") without signing in: "
        + what
    )
    return _findings(PUBLIC_LINK, g, r, what, message)


def org_wide_link(snapshot: SnapshotView, policy: Policy, as_of: pd.Timestamp) -> pd.DataFrame:
    """Organisation-wide reach on sensitive data.

    A sharing link of scope ``organization`` on restricted data; or SharePoint's "Everyone
    except external users" granted on a confidential-or-above resource (a standing grant
    to the whole tenant reaches further than a link someone must be sent).
    """
    ctx = RuleContext.of(snapshot, policy, as_of)
    g, r = _link_grants(ctx)
    org = (g["principal_type"].astype(object) == "link").to_numpy(dtype=bool) & (
        g["principal_id"].astype(object) == "organization"
    ).to_numpy(dtype=bool)
    is_link = g["link_scope"].notna().to_numpy()
    mask = org & np.where(
        is_link,
        _level_at_least(r, "restricted").to_numpy(),
        _level_at_least(r, "confidential").to_numpy(),
    )
    g, r = g[mask].reset_index(drop=True), r[mask].reset_index(drop=True)
    what = _describe(g)
    message = (
        "everyone in the organisation can open "
        + text(r["name"])
        + " ("
        + text(r["sensitivity"])
        + "): "
        + what
    )
    return _findings(ORG_WIDE_LINK, g, r, what, message)


def link_no_expiry(snapshot: SnapshotView, policy: Policy, as_of: pd.Timestamp) -> pd.DataFrame:
    """An anonymous link, or an invitation of an external address, with no expiry date and
    older than ``link_max_age_days``.

    A link whose creation date the source does not report is judged old enough (its age is
    unknown, and an unknown age must not hide it); the evidence says ``age_days`` is empty.
    """
    ctx = RuleContext.of(snapshot, policy, as_of)
    g, r = _link_grants(ctx)
    kind = g["principal_type"].astype(object)
    reach = ((kind == "link") & (g["principal_id"].astype(object) == "anyone")) | (
        kind == "external"
    )
    age = ctx.days_since(g["link_created"])
    old = (age >= policy.link_max_age_days).fillna(True).to_numpy(dtype=bool)
    mask = reach.to_numpy(dtype=bool) & g["link_expires"].isna().to_numpy() & old
    g, r, age = (
        g[mask].reset_index(drop=True),
        r[mask].reset_index(drop=True),
        age[mask].reset_index(drop=True),
    )
    what = choose(
        (g["principal_type"].astype(object) == "external").to_numpy(dtype=bool),
        "invitation of " + text(g["principal_id"]),
        _describe(g),
        g.index,
    )
    shown_age = choose(
        age.isna().to_numpy(), "of unknown age", "created " + age.astype(str) + " days ago", g.index
    )
    message = what + " on " + text(r["name"]) + " never expires (" + shown_age + ")"
    found = _findings(LINK_NO_EXPIRY, g, r, what, message)
    found["evidence"] = [  # type: ignore[assignment]
        {**e, "age_days": None if pd.isna(a) else int(a)}
        for e, a in zip(found["evidence"], age, strict=True)
    ]
    return found


def external_sharing(snapshot: SnapshotView, policy: Policy, as_of: pd.Timestamp) -> pd.DataFrame:
    """A guest account or an outside e-mail address given a permission directly on sensitive
    data (confidential or above, or pii / phi / pci) by a sharing source.

    Guests reached through a group are third-party-sensitive's; this rule names the direct
    invitations, which no group owner reviews.
    """
    ctx = RuleContext.of(snapshot, policy, as_of)
    g, r = _link_grants(ctx)
    kind = g["principal_type"].astype(object)
    a_at = positions(g["principal_id"], ctx.account_index)
    account_kind = _of_account(ctx, "kind", a_at)
    from_sharing = g["link_scope"].notna() | g["permission_id"].notna()
    guest = (kind == "account") & (account_kind == "guest") & from_sharing
    outside = (kind == "external") | guest
    mask = outside.to_numpy(dtype=bool) & sensitive_resources(r).to_numpy(dtype=bool)
    g, r = g[mask].reset_index(drop=True), r[mask].reset_index(drop=True)
    at = positions(g["principal_id"], ctx.account_index)
    login = _of_account(ctx, "login", at).fillna(g["principal_id"].astype(object))
    what = "invitation of " + login.astype(str) + " (" + text(g["right"]) + ")"
    message = (
        login.astype(str)
        + " from outside the organisation was given "
        + text(g["right"])
        + " directly on "
        + text(r["name"])
        + " ("
        + text(r["sensitivity"]).str.replace("nan", "unclassified")
        + ")"
    )
    found = _findings(EXTERNAL_SHARING, g, r, what, message)
    found["person_id"] = _of_account(ctx, "person_id", at).to_numpy()
    return found


_LINK_CONTROLS = (ISO_ACCESS, ISO_TRANSFER, "SOC 2 CC6.1", "NIST SP 800-53 AC-3", GDPR)

PUBLIC_LINK = RuleSpec(
    id="public-link",
    title="Anonymous sharing link on confidential data",
    severity="critical",
    rationale="Anyone who gets the URL (forwarded mail, a chat, a search engine) opens the file "
    "without signing in; no log names them and no review sees them.",
    remediation="Delete the link (DELETE /drives/{drive-id}/items/{item-id}/permissions/"
    "{perm-id}) and share with named people; turn off anonymous links for sensitive sites.",
    controls=(*_LINK_CONTROLS, "HIPAA §164.312(a)(1)"),
    function=public_link,
    needs=("resources", "grants"),
    false_positives=(
        "Content published on purpose (a press kit) on a site the inventory classifies too high; "
        "the fix is then the classification, not the link."
    ),
)
ORG_WIDE_LINK = RuleSpec(
    id="org-wide-link",
    title="Organisation-wide access to restricted data",
    severity="high",
    rationale="A 'people in your organisation' link or an 'Everyone except external users' grant "
    "opens the data to every employee and contractor, far beyond need to know.",
    remediation="Replace the link or the Everyone grant with a group of the people who need it; "
    "DELETE /drives/{drive-id}/items/{item-id}/permissions/{perm-id}.",
    controls=_LINK_CONTROLS,
    function=org_wide_link,
    needs=("resources", "grants"),
    false_positives=(
        "Content meant for the whole company on a site the inventory classifies as restricted or "
        "confidential."
    ),
)
LINK_NO_EXPIRY = RuleSpec(
    id="link-no-expiry",
    title="Anonymous or external link without expiry",
    severity="medium",
    rationale="Links to outsiders outlive the project they were made for; an expiry date ends "
    "them without anyone remembering.",
    remediation="Set an expiration date on the link (PATCH the permission) or delete it; set a "
    "default link expiry for the tenant.",
    controls=(ISO_ACCESS, ISO_TRANSFER, "ISO 27001:2022 A.5.18", "SOC 2 CC6.2"),
    function=link_no_expiry,
    needs=("grants",),
    thresholds=("link_max_age_days",),
    false_positives=(
        "Links whose creation date Graph does not report are counted as old enough, so they may "
        "be newer than the policy age; a long-running partner collaboration covered by a "
        "contract."
    ),
)
EXTERNAL_SHARING = RuleSpec(
    id="external-sharing",
    title="Outsider invited directly on sensitive data",
    severity="high",
    rationale="A guest or outside address invited on a file or folder holds sensitive data "
    "outside any group a manager reviews; it is a third-party access with no contract trail.",
    remediation="Confirm the business need and contract with the owner; remove the invitation "
    "or move it to a reviewed guest group with an expiry.",
    controls=("ISO 27001:2022 A.5.19", ISO_ACCESS, "SOC 2 CC6.1", GDPR, "GDPR Art. 28"),
    function=external_sharing,
    needs=("resources", "grants"),
    false_positives=(
        "External auditors or contractors under contract but without an HR record; addresses in "
        "the organisation's own other domains not listed in internal_domains."
    ),
)
