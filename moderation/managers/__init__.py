"""Moderation's managers: one module per aggregate, each holding that aggregate's reads and
guarded writes (checked by the rules, audited in the same transaction, the acting person
keyword-only). Use cases that write several aggregates are in `moderation/actions/`.
"""

from ._common import (
    EXPLANATION_MAX,
    NOTE_MAX,
    allowed_case_actions,
    case_refusal,
    case_state,
    require_perm,
)
from .appeals import AppealManager, AppealQuerySet
from .cases import CaseManager, CaseQuerySet, inputs_of
from .decisions import (
    FINAL,
    STANDING,
    DecisionManager,
    DecisionQuerySet,
    StatementManager,
    StatementQuerySet,
    StrikeManager,
    StrikeQuerySet,
)
from .flags import FlagManager, FlagQuerySet
from .notes import CaseNoteManager
from .notices import NoticeManager, NoticeQuerySet
from .receipts import ReportReceiptManager, ReportReceiptQuerySet
from .reporters import ReporterStandingManager, TrustedFlaggerManager

__all__ = [
    "EXPLANATION_MAX",
    "FINAL",
    "NOTE_MAX",
    "STANDING",
    "AppealManager",
    "AppealQuerySet",
    "CaseManager",
    "CaseNoteManager",
    "CaseQuerySet",
    "DecisionManager",
    "DecisionQuerySet",
    "FlagManager",
    "FlagQuerySet",
    "NoticeManager",
    "NoticeQuerySet",
    "ReportReceiptManager",
    "ReportReceiptQuerySet",
    "ReporterStandingManager",
    "StatementManager",
    "StatementQuerySet",
    "StrikeManager",
    "StrikeQuerySet",
    "TrustedFlaggerManager",
    "allowed_case_actions",
    "case_refusal",
    "case_state",
    "inputs_of",
    "require_perm",
]
