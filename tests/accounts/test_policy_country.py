"""The country the rules read for a person (accounts/facts.py `_country`).

The send reads the stored code without django-countries' descriptor (D24); a person loaded without
the country column, or given a country just now, must still come out with the right code.
"""

from __future__ import annotations

import pytest

from accounts.facts import _country
from accounts.models import User
from tests.factories.accounts import AppUserFactory

pytestmark = pytest.mark.django_db


def test_the_stored_code_is_read_for_a_loaded_person() -> None:
    user = AppUserFactory(country="IE")
    assert _country(User.objects.get(pk=user.pk)) == "IE"


def test_a_person_loaded_without_the_country_column_still_gives_their_country() -> None:
    user = AppUserFactory(country="FR")
    deferred = User.objects.only("id", "birthdate").get(pk=user.pk)
    assert "country" not in vars(deferred)
    assert _country(deferred) == "FR"


def test_a_country_set_on_the_instance_is_the_one_read() -> None:
    user = AppUserFactory(country="GB")
    user.country = "au"  # as a form or a serializer might hand it over, lower case
    assert _country(user) == "AU"
