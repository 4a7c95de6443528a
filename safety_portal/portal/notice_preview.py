"""Preview of the notice a decision would send, before it is taken (issue 5, decision form).

A thin adapter: the rendering, its validation and its context are moderation's own
(`moderation.services.preview_decision_notice`, which shares its context builder with the notice
`decide` sends), so the preview cannot drift from the notice. This module only adds what the page
shows beside it (the recipient's username). Nothing is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from moderation import services
from moderation.models import Case


@dataclass(frozen=True)
class Preview:
    recipient: str
    tier: str
    subject: str
    body: str


def render(
    case: Case,
    *,
    actor: object,
    decision_type: str,
    ground: str,
    explanation: str,
    days: int | None,
    feature: str,
    message_ids: Sequence[int],
    lock_thread: bool,
    facts: str = "",
) -> Preview | None:
    """The page's preview; `facts` is accepted (the form sends it) but is not part of a notice."""
    rendered = services.preview_decision_notice(
        case,
        actor=actor,
        decision_type=decision_type,
        ground=ground,
        explanation=explanation,
        days=days,
        feature=feature,
        message_ids=message_ids,
        lock_thread=lock_thread,
    )
    if rendered is None:
        return None
    # The portal's decisions act on the case's subject (a thread case names no one here), so the
    # reader is the subject; the message sender of a message case is the subject too.
    subject = case.subject_user
    return Preview(
        recipient=subject.username if subject is not None else "",
        tier=rendered.tier,
        subject=rendered.subject,
        body=rendered.body,
    )
