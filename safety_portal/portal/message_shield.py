"""The wellbeing blur on a page that shows message bodies (issue 15.3).

A view that shows bodies puts `shield_for(case, request)` in its context as `shield`; the include
`portal/_message_body.html` then blurs every body of a harmful case (`moderation.wellbeing`) until
the moderator reveals it. The reveal posts to `portal:case_reveal`: with JavaScript the body is
shown in place, without it the endpoint answers with the thread again, naming the shown messages in
`?revealed=` so the page stays as the moderator left it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest

from moderation import wellbeing
from moderation.models import Case

from .presentation import category_label


@dataclass(frozen=True)
class Shield:
    on: bool  # the case's bodies are blurred until revealed
    revealed: frozenset[int]  # messages the moderator has chosen to see on this page
    why: str  # the case's category, as the blurred block names it
    thread: str  # the conversation the page shows (`?thread=`), kept when a form reveals one


def revealed_ids(values: list[str]) -> frozenset[int]:
    """Message ids from `?revealed=` (or the form's `shown`): anything not a number is ignored."""
    return frozenset(int(v) for v in values if v.isdigit())


def shield_for(case: Case, request: HttpRequest) -> Shield:
    return Shield(
        on=wellbeing.is_shielded(case),
        revealed=revealed_ids(request.GET.getlist("revealed")),
        why=category_label(case.category),
        thread=request.GET.get("thread", "") if request.GET.get("thread", "").isdigit() else "",
    )
