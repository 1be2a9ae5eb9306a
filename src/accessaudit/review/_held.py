"""Resource access as a review sees it: one item per thing to decide.

A specific-people sharing link that names a person of the directory (or a group) is a grant
on that person's account which keeps the link (:func:`accessaudit.analysis._links.
named_in_link`), so effective access — and with it rules and breach scope — names the person.
A review must not ask twice about it, though. The link is its own ``link`` item (reviewed by
the site owner, revoked by one Graph ``DELETE`` of its permission); an ordinary ``resource``
item for the same access would be a second decision about the same grant whose revoke could
only go to ``manual.csv`` — two answers for one thing, and a revoke that the link keeps alive.

So ordinary resource items, and the verification of their revocation in the next snapshot,
read the access an account has *beside* its people links: the same effective access
(:func:`accessaudit.entitlements.effective_access`), computed without the grants those links
give. A person named only in a link holds the resource through the link item alone; a person
who also holds it directly or through a group keeps a resource item for that access (with its
own right and path), and revoking it removes what the link does not give.

>>> access_beside_people_links(snapshot)  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from accessaudit.analysis._links import named_in_link
from accessaudit.entitlements import effective_access

if TYPE_CHECKING:
    from accessaudit.snapshot import Snapshot

__all__ = ["access_beside_people_links"]


def access_beside_people_links(snapshot: Snapshot) -> pd.DataFrame:
    """``snapshot.access`` without what specific-people links naming accounts or groups give.

    Only the resources such a link sits on are computed again (from their other grants); every
    other row is the snapshot's own. The columns are those of ``access``; a snapshot without
    people links gives its ``access`` table unchanged.
    """
    access = snapshot.access
    grants = snapshot.grants
    named = named_in_link(grants)
    if not named.any():
        return access
    resource = grants["resource_id"].astype(str)
    linked = set(resource[named])
    others = grants[resource.isin(linked).to_numpy(dtype=bool) & ~named]
    beside = effective_access(others, snapshot.effective_memberships, snapshot.groups)
    untouched = access[~access["resource_id"].astype(str).isin(linked).to_numpy(dtype=bool)]
    # Rows of the untouched resources first, as the snapshot has them (unsorted: reviews sort
    # their items themselves). Differing categories of ``via`` / ``path`` make those columns
    # plain objects, which is all a review reads.
    return pd.concat([untouched, beside], ignore_index=True)
