"""Preview of the notice a decision would send, before it is taken (issue 5, decision form).

It renders the same template (`templates/moderation/notices/decision_<type>.txt`) through
`moderation.notices.render`, for the same recipient, with the context keys that
`moderation.services._notify_decision` passes. Nothing is written. If moderation grows a public
`preview_decision_notice(...)`, this module should call it instead (see the portal's report).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.template import TemplateDoesNotExist

from moderation import conf, notices, policy
from moderation.grounds import GROUNDS
from moderation.models import Case
from moderation.services import FEATURE_WORDS, _when
from safety_portal import clock
from safety_portal.exceptions import DomainError


@dataclass(frozen=True)
class Preview:
    recipient: str
    tier: str
    subject: str
    body: str


def render(
    case: Case,
    *,
    decision_type: str,
    ground: str,
    explanation: str,
    days: int | None,
    feature: str,
    message_ids: list[int],
    lock_thread: bool,
    facts: str,
) -> Preview | None:
    kind = policy.DecisionType(decision_type)
    target = case.subject_user
    if (
        target is None
        or target.birthdate is None
        or kind
        in {
            policy.DecisionType.NO_VIOLATION,
            policy.DecisionType.ESCALATE,
        }
    ):
        return None
    if kind in policy.RESTRICTING | {policy.DecisionType.WARN} and ground not in GROUNDS:
        raise DomainError("invalid", "Choose a policy ground.", fields={"ground": ["required"]})
    now = clock.now()
    ends_at = now + dt.timedelta(days=days) if days else None
    context: dict[str, Any] = {
        "ground_label": GROUNDS[ground].label if ground in GROUNDS else "",
        "explanation": explanation,
        "ends_at": _when(ends_at),
        "feature_label": FEATURE_WORDS.get(feature, feature),
        "message_count": len(message_ids),
        "thread_locked": lock_thread,
        "appeal_deadline": _when(policy.appeal_deadline(kind, notified_at=now)),
        "is_strike": kind in policy.STRIKING,
        "strike_days": conf.strike_ttl().days,
    }
    try:
        rendered = notices.render(f"decision_{kind.value}", recipient=target, context=context)
    except TemplateDoesNotExist:
        return None
    return Preview(
        recipient=target.username, tier=rendered.tier, subject=rendered.subject, body=rendered.body
    )
