"""Age and tiers (POLICY.md §1, §2): whole years completed on a date, 29 February counting on 1 March,
and the birthdate bounds SQL uses so that Python and the database share one definition of a birthday.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from typing import Final

from . import jurisdictions
from .vocabulary import Tier

EARLIEST_BIRTHDATE: Final = date(1900, 1, 1)
YOUNG_TEEN_AGE: Final = 13
DM_MINIMUM_AGE: Final = 16  # direct messages and group threads (POLICY.md §3)
ADULT_AGE: Final = 18


class InvalidBirthdate(ValueError):
    """A birthdate that POLICY.md §1 calls invalid input.

    `code` is "future" or "before_1900". A date that is not a real calendar date (30 February) never
    gets this far: it cannot be a `datetime.date`, so parsing rejects it.
    """

    def __init__(self, code: str, message: str | None = None) -> None:
        super().__init__(message or f"invalid birthdate: {code}")
        self.code = code


def validate_birthdate(birthdate: date, *, on: date) -> None:
    """Raise InvalidBirthdate unless 1900-01-01 <= birthdate <= on (POLICY.md §1).

    Being born on `on` itself is valid (age 0); only a date after it is in the future.
    """
    if birthdate > on:
        raise InvalidBirthdate("future", f"{birthdate.isoformat()} is after {on.isoformat()}")
    if birthdate < EARLIEST_BIRTHDATE:
        raise InvalidBirthdate("before_1900", f"{birthdate.isoformat()} is before 1900-01-01")


def nth_birthday(birthdate: date, n: int) -> date:
    """The date on which someone born on `birthdate` turns `n` (POLICY.md §1).

    Someone born on 29 February turns a year older on 1 March in non-leap years: the later of the
    two candidate dates, so that a protection lasts a day longer rather than a day shorter.
    """
    if n < 0:
        raise ValueError("n must be >= 0")
    year = birthdate.year + n
    if (birthdate.month, birthdate.day) == (2, 29) and not calendar.isleap(year):
        return date(year, 3, 1)
    return birthdate.replace(year=year)


def age_on(birthdate: date, on: date) -> int:
    """Whole years completed on `on` (POLICY.md §1).

    Raises InvalidBirthdate("future") for a birthdate after `on`: someone not yet born has no age,
    and a silent negative number would read as "younger than every threshold" in one place and as a
    bug in another.
    """
    if birthdate > on:
        raise InvalidBirthdate("future", f"{birthdate.isoformat()} is after {on.isoformat()}")
    years = on.year - birthdate.year
    if on < nth_birthday(birthdate, years):
        years -= 1
    return years


def latest_birthdate_for_age(age: int, on: date) -> date:
    """The cut-off birthdate for SQL range queries (POLICY.md §1: Python and SQL must agree).

    Everyone born on or before the returned date is at least `age` on `on`; everyone born after it
    (and not after `on`) is younger. So `birthdate <= cutoff` selects exactly the people for whom
    `age_on(birthdate, on) >= age`, including 29 February births, whose birthday is 1 March in
    non-leap years: on 28 February of a non-leap year a 29 February baby has not had a birthday yet,
    hence the cut-off is 28 February of the birth year, not 29 February.
    """
    if age < 0:
        raise ValueError("age must be >= 0")
    year = on.year - age
    if year < date.min.year:
        raise ValueError(f"no birthdate makes someone {age} on {on.isoformat()}")
    if (on.month, on.day) == (2, 29) and not calendar.isleap(year):
        return date(year, 2, 28)
    return on.replace(year=year)


def birthdates_turning(age: int, on: date) -> tuple[date, date]:
    """The birthdates of the people whose `age`-th birthday is `on` (POLICY.md §1), as SQL bounds:
    born after the first date and on or before the second. 29 February births turn a year older on
    1 March in common years, as `latest_birthdate_for_age` has it."""
    return latest_birthdate_for_age(age, on - timedelta(days=1)), latest_birthdate_for_age(age, on)


def tier_for_age(age: int) -> Tier:
    """The POLICY.md §1 tier: child < 13, young_teen 13-15, older_teen 16-17, adult >= 18."""
    if age < 0:
        raise ValueError("age must be >= 0")
    if age < YOUNG_TEEN_AGE:
        return Tier.CHILD
    if age < DM_MINIMUM_AGE:
        return Tier.YOUNG_TEEN
    if age < ADULT_AGE:
        return Tier.OLDER_TEEN
    return Tier.ADULT


def tier_ages(tier: Tier | str) -> tuple[int, int | None]:
    """The ages `tier` spans, youngest and oldest inclusive; None: no upper bound (POLICY.md §1).

    The same thresholds as `tier_for_age`, turned around for SQL: a query for a tier asks for the
    birthdates of these ages (with `latest_birthdate_for_age`) instead of restating the numbers.
    """
    return {
        Tier.CHILD: (0, YOUNG_TEEN_AGE - 1),
        Tier.YOUNG_TEEN: (YOUNG_TEEN_AGE, DM_MINIMUM_AGE - 1),
        Tier.OLDER_TEEN: (DM_MINIMUM_AGE, ADULT_AGE - 1),
        Tier.ADULT: (ADULT_AGE, None),
    }[Tier(tier)]


def tier_on(birthdate: date, on: date) -> Tier:
    """The tier of someone born on `birthdate`, on `on` (POLICY.md §1)."""
    return tier_for_age(age_on(birthdate, on))


def is_minor(birthdate: date, on: date) -> bool:
    """Under 18 on `on` (POLICY.md §1)."""
    return age_on(birthdate, on) < ADULT_AGE


def minor_summary(birthdate: date, on: date) -> dict[str, object] | None:
    """What the audit log keeps of a minor's birthdate: age and tier on `on` (decisions D4)."""
    age = age_on(birthdate, on)
    if age >= ADULT_AGE:
        return None
    return {"age": age, "tier": str(tier_for_age(age))}


def is_below_minimum_age(birthdate: date, country: str, on: date) -> bool:
    """Too young to hold an account there on `on`, even with a guardian's consent (POLICY.md §2,
    §7.1: 13, AU 16 from 2025-12-10; the bottom of a guardian-consent band where one is in force)."""
    return age_on(birthdate, on) < jurisdictions.account_floor_age(country, on=on)


def needs_guardian_consent_to_hold(birthdate: date, country: str, on: date) -> bool:
    """In the country's guardian-consent band on `on` (POLICY.md §7.1: proposed for FR and DK, 13-14):
    the account is active only while a linked guardian has consented."""
    band = jurisdictions.guardian_consent_band(country, on=on)
    return band is not None and age_on(birthdate, on) in band
