"""Which cases carry content that is shielded from moderators until they choose to see it.

Issue 15.3 (moderator wellbeing): message bodies of cases about self-harm, violence and sexual
content involving minors are blurred until the moderator reveals them, and each moderator sees how
many such cases they decided or revealed today. This module is the one list of those categories
and keywords; the portal's blur, the reveal endpoint and the daily count all ask it (D34).

A case is shielded by its category, or by a keyword that names the same harms under another
category (a "cyber violence" report carrying the suicide keyword is still self-harm). The whole
protection-of-minors category is shielded, not only its child-sexual-abuse keywords: on a teen app
that category is mostly grooming and sexual contact, and a blur that costs one key is cheaper than
a moderator reading an unexpected message. Pure module: no Django, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable

from .priority import CHILD_ABUSE_KEYWORDS, IMMINENT_HARM_KEYWORDS, SELF_HARM_KEYWORDS
from .sor_vocabulary import Category

HARMFUL_CATEGORIES: frozenset[str] = frozenset(
    {
        Category.SELF_HARM,
        Category.VIOLENCE,
        Category.PROTECTION_OF_MINORS,
    }
)
# The same harms named by a keyword of any category: child sexual abuse and grooming, suicide,
# self-mutilation and eating disorders, incitement to violence, terrorist content, trafficking.
HARMFUL_KEYWORDS: frozenset[str] = (
    CHILD_ABUSE_KEYWORDS | SELF_HARM_KEYWORDS | IMMINENT_HARM_KEYWORDS
)


def is_harmful(category: str, keywords: Iterable[str] = ()) -> bool:
    """True when a case's message bodies are blurred until revealed (issue 15.3, D34)."""
    return category in HARMFUL_CATEGORIES or not HARMFUL_KEYWORDS.isdisjoint(keywords)
