"""Periodic access reviews: workbooks out to reviewers, decisions in, remediation, verification.

>>> from accessaudit.review import create_campaign, collect_decisions, campaign_status
>>> campaign = create_campaign(snapshot, policy, audit_result, by="manager",  # doctest: +SKIP
...                            out="reviews/2026-Q4", fallback_reviewer="E001")
>>> collect_decisions(campaign).problems                                     # doctest: +SKIP
>>> campaign_status(campaign).reviewers                                      # doctest: +SKIP
>>> write_remediation(campaign, "remediation/2026-Q4")                       # doctest: +SKIP
"""

from __future__ import annotations

from accessaudit.review._cells import DECISIONS, HEADER, REVIEW_SHEET
from accessaudit.review._items import ITEM_COLUMNS
from accessaudit.review.campaign import Campaign, create_campaign, load_campaign
from accessaudit.review.collect import CollectResult, collect_decisions
from accessaudit.review.decision_log import current_decisions, read_decision_log
from accessaudit.review.remediate import RemediationPlan, write_remediation
from accessaudit.review.status import CampaignStatus, campaign_status, verify_revocations

__all__ = [
    "DECISIONS",
    "HEADER",
    "ITEM_COLUMNS",
    "REVIEW_SHEET",
    "Campaign",
    "CampaignStatus",
    "CollectResult",
    "RemediationPlan",
    "campaign_status",
    "collect_decisions",
    "create_campaign",
    "current_decisions",
    "load_campaign",
    "read_decision_log",
    "verify_revocations",
    "write_remediation",
]
