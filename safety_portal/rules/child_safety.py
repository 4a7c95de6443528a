"""Child sexual exploitation: which decisions and flags put evidence on legal hold and open an
escalation to the team that reports to the competent authority (issue 12.6).

The DSA statement vocabulary names the exploitation of children by keyword under
STATEMENT_CATEGORY_PROTECTION_OF_MINORS: child sexual abuse material (real or deepfake) and grooming
or sexual enticement of minors. A decision carrying one of them, other than "no violation", holds
the evidence; so does a confirmed contact-risk flag (the pattern of an adult seeking out minors).
The competent authority is national (e.g. NCMEC's CyberTipline in the US, the national police
or hotline in EU member states under the CSA Regulation's interim rules); this portal prepares the
package, people send it.
"""

from __future__ import annotations

from collections.abc import Iterable

from .decisions import DecisionType
from .sor_vocabulary import CategoryKeyword

EXPLOITATION_KEYWORDS: frozenset[str] = frozenset(
    {
        CategoryKeyword.CHILD_SEXUAL_ABUSE_MATERIAL.value,
        CategoryKeyword.CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE.value,
        CategoryKeyword.GROOMING_SEXUAL_ENTICEMENT_MINORS.value,
    }
)
# The flag kind whose confirmation is treated as exploitation risk (moderation.Flag.Kind).
CONTACT_RISK_FLAG = "contact_risk"


def is_exploitation(keywords: Iterable[str]) -> bool:
    """Whether a case's or decision's keywords name the sexual exploitation of a child."""
    return not EXPLOITATION_KEYWORDS.isdisjoint(keywords)


def decision_holds_evidence(decision_type: str, keywords: Iterable[str]) -> bool:
    """A decision in the exploitation category, except one finding no violation, holds the
    evidence: an escalation too, since the case is still being decided."""
    return DecisionType(decision_type) is not DecisionType.NO_VIOLATION and is_exploitation(
        keywords
    )


def flag_holds_evidence(flag_kind: str) -> bool:
    return flag_kind == CONTACT_RISK_FLAG
