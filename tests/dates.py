"""The one way tests turn an age into a birthdate (pure: no Django, the date an argument)."""

from __future__ import annotations

import datetime as dt

from safety_portal import rules


def born(age: int, *, on: dt.date, days_after_birthday: int = 30) -> dt.date:
    """A birthdate that makes someone exactly `age` on `on`, `days_after_birthday` days past that
    birthday (0: the birthday is `on`; a 29 February birthday falls as the rules say)."""
    return rules.ages.latest_birthdate_for_age(age, on) - dt.timedelta(days=days_after_birthday)
