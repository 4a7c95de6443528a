"""Which of two setting values is the stricter, and whether a change tightens (POLICY.md §3).

The accounts manager tells messaging when a change tightens something; these are the answers it
relies on. No Django.
"""

from __future__ import annotations

import itertools

import pytest

from safety_portal.rules.safety_settings import AUDIENCE_SETTINGS, is_stricter, tightens
from safety_portal.rules.vocabulary import Audience

ORDER = [Audience.NOBODY, Audience.FRIENDS, Audience.EVERYONE]  # strictest first


@pytest.mark.parametrize("name", sorted(AUDIENCE_SETTINGS))
@pytest.mark.parametrize(("new", "old"), list(itertools.product(ORDER, ORDER)))
def test_an_audience_is_stricter_exactly_when_it_lets_fewer_people_in(
    name: str, new: Audience, old: Audience
) -> None:
    assert is_stricter(name, new, old) is (ORDER.index(new) < ORDER.index(old))


def test_audiences_may_be_given_as_the_plain_strings_the_database_returns() -> None:
    assert is_stricter("dm_setting", "nobody", "friends")
    assert not is_stricter("dm_setting", "everyone", Audience.FRIENDS)


def test_a_private_account_is_stricter_than_a_public_one() -> None:
    assert is_stricter("private_account", True, False)
    assert not is_stricter("private_account", False, True)


@pytest.mark.parametrize("name", ["download_setting", "suggest_account"])
def test_downloads_and_suggestions_are_stricter_off(name: str) -> None:
    assert is_stricter(name, False, True)
    assert not is_stricter(name, True, False)


@pytest.mark.parametrize(
    ("name", "value"),
    [("dm_setting", Audience.FRIENDS), ("private_account", True), ("download_setting", False)],
)
def test_a_value_is_never_stricter_than_itself(name: str, value: object) -> None:
    assert not is_stricter(name, value, value)


def test_unknown_settings_and_ill_typed_values_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown setting"):
        is_stricter("livestream", True, False)
    with pytest.raises(TypeError):
        is_stricter("private_account", "yes", False)
    with pytest.raises(ValueError, match="strangers"):
        is_stricter("dm_setting", "strangers", "nobody")


def test_a_change_tightens_when_any_one_setting_became_stricter() -> None:
    before = {"dm_setting": "friends", "private_account": False, "download_setting": True}
    assert tightens(before, {"dm_setting": Audience.EVERYONE, "private_account": True})
    assert tightens(before, {"download_setting": False})


def test_a_change_that_only_loosens_does_not_tighten() -> None:
    before = {"dm_setting": "nobody", "private_account": True, "suggest_account": False}
    assert not tightens(before, {"dm_setting": Audience.FRIENDS, "private_account": False})
    assert not tightens(before, {"suggest_account": True})
    assert not tightens(before, {})
