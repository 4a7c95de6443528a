"""Moderation's doors: the use cases the portal, the API, the jobs and the demo call.

Each lives in its own module of `moderation/actions/` (deciding, appeals, flags, housekeeping,
filing a report, closing an under-age account); this module only names them, so a caller has one
place to look and the modules stay small enough to hold in mind. Every one takes the acting person
as `actor=`, keyword-only and never defaulted, and does its writes and audit entries in one
transaction (STYLE.md ideas 2-4, 7). POLICY.md §4 and §6; DSA arts. 16, 17, 20, 23, 24(5).
"""

from __future__ import annotations

from .actions.appeals import appeal_deadline_of, decide_appeal, file_appeal
from .actions.deciding import decide
from .actions.decision_notices import preview_decision_notice
from .actions.filing import file_report
from .actions.flags import confirm_flag, record_age_estimate, request_age_verification
from .actions.housekeeping import (
    end_elapsed_restrictions,
    escalate_overdue_cases,
    release_expired_claims,
)
from .actions.planning import EXPLANATION_MAX, FACTS_MAX

__all__ = [
    "EXPLANATION_MAX",
    "FACTS_MAX",
    "appeal_deadline_of",
    "confirm_flag",
    "decide",
    "decide_appeal",
    "end_elapsed_restrictions",
    "escalate_overdue_cases",
    "file_appeal",
    "file_report",
    "preview_decision_notice",
    "record_age_estimate",
    "release_expired_claims",
    "request_age_verification",
]
