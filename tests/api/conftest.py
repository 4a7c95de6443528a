"""Fixtures of the API tests: clients with chosen scopes, and a DRF test client per token."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from safety_portal.core.api.models import ApiClient
from safety_portal.core.api.scopes import ALL_SCOPES
from safety_portal.core.audit.actors import SystemActor

ADMIN = SystemActor("tests.api")


@pytest.fixture(autouse=True)
def _fresh_throttle_counters() -> Iterator[None]:
    """Throttle windows live in Redis (this run's own db): start every test from zero."""
    cache.clear()
    yield
    cache.clear()


def app_user(age: int, **kwargs: Any) -> Any:
    """An app user of exactly `age` (passes the birthdate: the factory's `age` param is a Param
    that factory-boy does not forward to `_create`)."""
    from tests.factories.accounts import AppUserFactory, birthdate_for_age

    return AppUserFactory(birthdate=birthdate_for_age(age), **kwargs)


class Caller:
    """A DRF test client that sends one API client's Bearer token on every request."""

    def __init__(self, client: ApiClient, token: str) -> None:
        self.client = client
        self.token = token
        self.http = APIClient()
        self.http.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    def get(self, path: str, params: Any = None, **kwargs: Any) -> Any:
        return self.http.get(path, params, **kwargs)

    def post(self, path: str, data: Any = None, **kwargs: Any) -> Any:
        return self.http.post(path, data, format="json", **kwargs)

    def patch(self, path: str, data: Any = None, **kwargs: Any) -> Any:
        return self.http.patch(path, data, format="json", **kwargs)

    def delete(self, path: str, data: Any = None, **kwargs: Any) -> Any:
        return self.http.delete(path, data, format="json", **kwargs)


@pytest.fixture
def make_caller(db: None) -> Callable[..., Caller]:
    counter = iter(range(10_000))

    def make(scopes: str | list[str] = (), *, throttle_rate: str = "", name: str = "") -> Caller:
        client, token = ApiClient.objects.create_client(
            name=name or f"service-{next(counter)}",
            scopes=scopes if isinstance(scopes, str) else list(scopes),
            throttle_rate=throttle_rate,
            actor=ADMIN,
        )
        return Caller(client, token)

    return make


@pytest.fixture
def full(make_caller: Callable[..., Caller]) -> Caller:
    """A client holding every scope."""
    return make_caller(list(ALL_SCOPES), name="all-scopes")


@pytest.fixture
def moderator(db: None) -> Any:
    from tests.factories.accounts import StaffFactory

    return StaffFactory(roles=["Moderator"])


@pytest.fixture
def senior(db: None) -> Any:
    from tests.factories.accounts import StaffFactory

    return StaffFactory(roles=["Senior moderator"])
