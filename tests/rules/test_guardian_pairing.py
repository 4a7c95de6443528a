"""Who may be linked as guardian and teen (POLICY.md §5: an adult and a minor). No Django."""

from __future__ import annotations

import datetime as dt

import pytest

from safety_portal.rules.ages import InvalidBirthdate, latest_birthdate_for_age
from safety_portal.rules.guardianship import check_pairing
from safety_portal.rules.vocabulary import Reason

ON = dt.date(2025, 6, 15)


def born(age: int) -> dt.date:
    """The latest birthdate of someone who is `age` on ON (their birthday is ON itself)."""
    return latest_birthdate_for_age(age, ON)


def test_an_adult_and_a_minor_may_be_linked() -> None:
    assert check_pairing(born(40), born(14), ON) is None


def test_a_guardian_who_turns_eighteen_today_is_an_adult() -> None:
    assert check_pairing(born(18), born(13), ON) is None


def test_a_guardian_a_day_short_of_eighteen_is_refused() -> None:
    a_day_short = born(18) + dt.timedelta(days=1)
    assert check_pairing(a_day_short, born(13), ON) is Reason.GUARDIAN_NOT_ADULT


def test_a_guardian_without_a_birthdate_is_not_an_app_user_and_is_refused() -> None:
    assert check_pairing(None, born(13), ON) is Reason.GUARDIAN_NOT_ADULT


def test_a_teen_who_turns_eighteen_today_is_no_longer_a_minor() -> None:
    assert check_pairing(born(40), born(18), ON) is Reason.TEEN_NOT_MINOR


def test_a_teen_a_day_short_of_eighteen_may_still_be_linked() -> None:
    assert check_pairing(born(40), born(18) + dt.timedelta(days=1), ON) is None


def test_a_teen_without_a_birthdate_is_refused() -> None:
    assert check_pairing(born(40), None, ON) is Reason.TEEN_NOT_MINOR


def test_the_guardian_is_checked_first_when_both_are_wrong() -> None:
    assert check_pairing(born(15), born(30), ON) is Reason.GUARDIAN_NOT_ADULT


def test_a_birthdate_in_the_future_is_invalid_input() -> None:
    with pytest.raises(InvalidBirthdate):
        check_pairing(ON + dt.timedelta(days=1), born(13), ON)
