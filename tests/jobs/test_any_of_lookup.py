"""`core.lookups.AnyOf`: a batch of ids as one array parameter, selecting exactly what IN would."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from safety_portal.core.lookups import AnyOf
from tests.factories.accounts import AppUserFactory

pytestmark = pytest.mark.django_db


def test_any_of_selects_the_same_rows_as_in_with_one_parameter() -> None:
    users = AppUserFactory.create_batch(5)
    wanted = [users[0].pk, users[3].pk, users[4].pk, 999_999_999]
    with CaptureQueriesContext(connection) as queries:
        found = sorted(User.objects.filter(AnyOf(F("pk"), wanted)).values_list("pk", flat=True))
    assert found == sorted(User.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    assert found == sorted(wanted[:3])
    if connection.vendor == "postgresql":
        assert "= ANY(" in queries[0]["sql"]


def test_any_of_an_empty_list_selects_nothing_and_a_non_id_is_refused() -> None:
    AppUserFactory()
    assert not User.objects.filter(AnyOf(F("pk"), [])).exists()
    with pytest.raises(ValueError, match="invalid literal"):
        list(User.objects.filter(AnyOf(F("pk"), ["1; DROP TABLE x"])))
