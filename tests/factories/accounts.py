"""Factories for realistic app users and staff, created through the guarded managers."""

from __future__ import annotations

import datetime as dt
import random

import factory

from accounts.models import User
from safety_portal.core import clock
from safety_portal.core.audit.actors import SystemActor
from tests.dates import born

FACTORY_ACTOR = SystemActor("tests.factory")
COUNTRIES = ["GB", "IE", "FR", "DE", "ES", "IT", "NL", "SE", "PL", "US", "AU", "KR", "BR", "JP"]


def birthdate_for_age(
    age: int, *, on: dt.date | None = None, days_after_birthday: int = 30
) -> dt.date:
    """A birthdate that makes someone exactly `age` on `on`, `days_after_birthday` past it."""
    return born(age, on=on or clock.today(), days_after_birthday=days_after_birthday)


class AppUserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    class Params:
        # A parameter, not a model field: factory_boy keeps it out of the model's kwargs, so the
        # birthdate is derived from it here (an explicit `birthdate=` still wins).
        age = factory.LazyFunction(lambda: random.randint(13, 60))

    username = factory.Sequence(lambda n: f"user{n:05d}")
    birthdate = factory.LazyAttribute(lambda o: birthdate_for_age(int(o.age)))
    country = "GB"
    external_id = factory.Sequence(lambda n: f"app-{n:08d}")

    @classmethod
    def _create(cls, model_class: type[User], *args: object, **kwargs: object) -> User:
        status = kwargs.pop("status", None)
        user = model_class.objects.create_app_user(actor=FACTORY_ACTOR, **kwargs)  # type: ignore[arg-type]
        if status and status != user.status:
            user = model_class.objects.change_status(
                user, str(status), actor=FACTORY_ACTOR, reason="test set-up"
            )
        return user


class StaffFactory(factory.django.DjangoModelFactory):
    """A staff account; `roles=[...]` grants roles through `accounts.roles.grant_role` (audited).

    Permissions come from roles only: the roles module refuses `user.groups.add(...)` made anywhere
    else, so the factory uses the same doorway as the admin. `groups=` is the older spelling.
    """

    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"staff{n:03d}")

    @classmethod
    def _create(cls, model_class: type[User], *args: object, **kwargs: object) -> User:
        roles = [*kwargs.pop("roles", ()), *kwargs.pop("groups", ())]  # type: ignore[misc]
        user = model_class.objects.create_staff_user(
            actor=FACTORY_ACTOR,
            username=str(kwargs["username"]),
            password="correct horse battery staple",
        )
        if roles:
            from accounts.roles import grant_role

            for role in roles:
                grant_role(user, str(role), actor=FACTORY_ACTOR, reason="test set-up")
        return user
