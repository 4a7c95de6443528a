"""Moderation records: reports, cases, decisions and what decisions leave behind.

The rules live in `safety_portal/rules/` (pure); the guarded writes in `moderation/managers/` and
the use cases in `moderation/actions/`. The models hold fields and the database constraints that
back the rules up when something walks around a manager (STYLE.md idea 2). POLICY.md §4 and §6,
DSA arts. 16-24. One module per part of the story: reporting, decisions, follow-up.
"""

from ._choices import CATEGORY_CHOICES, DECISION_CHOICES, SOURCE_CHOICES, SubjectType
from .child_safety import ChildSafetyEscalation
from .decisions import Decision, DecisionEffect, StatementOfReasons, Strike
from .follow_up import Appeal, Flag, Notice
from .notice_feed import NoticeFeedItem
from .receipts import ReportReceipt
from .reporting import Case, CaseNote, Report, ReporterStanding, TrustedFlagger

__all__ = [
    "CATEGORY_CHOICES",
    "DECISION_CHOICES",
    "SOURCE_CHOICES",
    "Appeal",
    "Case",
    "CaseNote",
    "ChildSafetyEscalation",
    "Decision",
    "DecisionEffect",
    "Flag",
    "Notice",
    "NoticeFeedItem",
    "Report",
    "ReportReceipt",
    "ReporterStanding",
    "StatementOfReasons",
    "Strike",
    "SubjectType",
    "TrustedFlagger",
]
