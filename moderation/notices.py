"""Render the notices moderation sends, in plain language suited to the reader's age tier.

Issue 4: the user is sent a notice per decision type, rendered from a template and stored; the
reporter hears the outcome without private details. Templates live in
`templates/moderation/notices/<name>.txt`; their first line is `Subject: ...`, the rest is the
body. Each template reads `teen` (the reader is under 18: shorter sentences, what happens next,
where to get help) and `tier`. Notices are plain text, so nothing is HTML-escaped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.template import engines

from safety_portal import rules
from safety_portal.core import clock

if TYPE_CHECKING:
    from accounts.models import User

TEMPLATE_DIR = "moderation/notices"


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str
    tier: str


def tier_of(user: User) -> str:
    """The reader's tier today; staff (no birthdate) read the adult wording."""
    if user.birthdate is None:
        return rules.vocabulary.Tier.ADULT.value
    return rules.ages.tier_on(user.birthdate, clock.today()).value


def render(name: str, *, recipient: User, context: Mapping[str, Any]) -> Rendered:
    tier = tier_of(recipient)
    template = engines["django"].from_string(
        "{% autoescape off %}{% include '"
        + f"{TEMPLATE_DIR}/{name}.txt"
        + "' %}{% endautoescape %}"
    )
    text = template.render({**context, "tier": tier, "teen": tier != "adult"})
    first, _, rest = text.strip().partition("\n")
    if not first.startswith("Subject:"):
        raise ValueError(f"notice template {name} must start with a 'Subject:' line")
    body = "\n".join(line.rstrip() for line in rest.strip().splitlines())
    while "\n\n\n" in body:
        body = body.replace("\n\n\n", "\n\n")
    return Rendered(subject=first.removeprefix("Subject:").strip()[:200], body=body, tier=tier)
