"""PostgreSQL refuses safety settings above the tier ceiling (issue 11.5; POLICY.md §3, §7.4).

The manager (`SafetySettings.objects.change`) is one doorway; `QuerySet.update()`, `bulk_create`
and raw SQL walk around it, so the database refuses a row above its user's tier ceiling, computed
from the birthdate on CURRENT_DATE. A birthdate corrected to a younger tier is checked at commit: the
sanctioned correction moves the settings within the new ceiling in the same transaction. Each leak
path runs inside a savepoint so that the refusal does not end the test's transaction.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import DatabaseError, IntegrityError, connection, transaction

from accounts import migrations as accounts_migrations
from accounts import triggers
from accounts.managers import sanction_birthdate_write
from accounts.models import BirthdateChangeRequest, SafetySettings, User
from safety_portal import rules
from safety_portal.core import clock
from safety_portal.core.constraints import constraint_of
from safety_portal.core.errors import PolicyViolation
from tests.factories.accounts import FACTORY_ACTOR, AppUserFactory, birthdate_for_age
from tests.migrated_sql import assert_in_step

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the triggers exist on PostgreSQL only"
    ),
]

CEILING = triggers.SETTINGS_CEILING_CONSTRAINT


def stored(user: User) -> dict[str, object]:
    return SafetySettings.objects.filter(user=user).values(*rules.safety_settings.SETTING_NAMES)[0]


def refused_by_the_ceiling(excinfo: pytest.ExceptionInfo[DatabaseError]) -> bool:
    return constraint_of(excinfo.value) == CEILING and "above the tier ceiling" in str(
        excinfo.value
    )


def check_at_commit_now() -> None:
    """The birthdate check is deferred to the commit, and a test never commits: run it now."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS accounts_user_settings_ceiling_check IMMEDIATE")


def correct_birthdate(user: User, *, to_age: int) -> None:
    """The sanctioned path: a birthdate-change request that makes the user younger."""
    BirthdateChangeRequest.objects.submit(
        user=user,
        new_birthdate=birthdate_for_age(to_age),
        method="self_declared",
        evidence_reference="",
        reason="Typed the wrong year.",
        actor=FACTORY_ACTOR,
    )


# --- leak paths --------------------------------------------------------------------------------


def test_database_refuses_dm_setting_above_the_young_teen_ceiling_via_queryset_update() -> None:
    teen = AppUserFactory(age=14)
    before = stored(teen)

    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        SafetySettings.objects.filter(user=teen).update(dm_setting="everyone")

    assert refused_by_the_ceiling(refused)
    assert stored(teen) == before


def test_database_refuses_dm_everyone_for_an_older_teen_via_raw_sql() -> None:
    teen = AppUserFactory(age=17)

    with (
        pytest.raises(IntegrityError) as refused,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE accounts_safetysettings SET dm_setting = 'everyone' WHERE user_id = %s",
            [teen.pk],
        )

    assert refused_by_the_ceiling(refused)
    assert stored(teen)["dm_setting"] == "nobody"


@pytest.mark.parametrize(
    ("age", "setting", "value"),
    [
        (14, "comment_setting", "everyone"),
        (14, "duet_setting", "friends"),
        (14, "download_setting", True),
        (14, "suggest_account", True),
        (14, "connections_visible", True),
        (16, "download_setting", True),  # §7.4: off and locked for 16-17 too
    ],
)
def test_database_refuses_each_setting_above_its_tier_ceiling(
    age: int, setting: str, value: object
) -> None:
    user = AppUserFactory(age=age)

    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        SafetySettings.objects.filter(user=user).update(**{setting: value})

    assert refused_by_the_ceiling(refused)
    assert setting in str(refused.value)


def test_database_refuses_a_settings_row_above_the_ceiling_via_bulk_create() -> None:
    teen = AppUserFactory(age=15)
    SafetySettings.objects.filter(user=teen).delete()
    row = SafetySettings(
        user=teen,
        **rules.safety_settings.default_settings(rules.vocabulary.Tier.ADULT).__dict__,
    )

    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        SafetySettings.objects.bulk_create([row])

    assert refused_by_the_ceiling(refused)
    assert not SafetySettings.objects.filter(user=teen).exists()


def test_database_refuses_a_raw_birthdate_correction_that_leaves_settings_above_the_new_ceiling() -> (
    None
):
    """The guard of migration 0002 refuses a raw birthdate write; even with its sanction (the
    request path without the settings move) the commit-time check refuses the row."""
    adult = AppUserFactory(age=30)
    SafetySettings.objects.filter(user=adult).update(dm_setting="everyone")
    request = BirthdateChangeRequest.objects.create(
        user=adult,
        old_birthdate=adult.birthdate,
        new_birthdate=birthdate_for_age(14),
        method="self_declared",
        reason="typed the wrong year",
        status="applied",
        requested_by_kind="system",
        requested_by_label="test",
        created_at=adult.date_joined,
    )

    def raw_correction() -> None:
        sanction_birthdate_write(request.pk)
        User.objects.filter(pk=adult.pk).update(birthdate=request.new_birthdate)
        check_at_commit_now()

    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        raw_correction()

    assert refused_by_the_ceiling(refused)
    assert User.objects.get(pk=adult.pk).birthdate == adult.birthdate


def test_the_manager_reports_the_databases_ceiling_refusal_as_the_policys_reason_code() -> None:
    """Python's today (moved here, as a TIME_ZONE ahead of the database's day would) says 18;
    the database's CURRENT_DATE says 17: the write is refused, and reported as the reason code."""
    teen = AppUserFactory(birthdate=birthdate_for_age(17, days_after_birthday=360))
    ahead = dt.datetime.combine(clock.today() + dt.timedelta(days=10), dt.time(12), tzinfo=dt.UTC)

    with time_machine.travel(ahead, tick=False), pytest.raises(PolicyViolation) as refused:
        SafetySettings.objects.change(teen, actor=teen, dm_setting="everyone")

    assert refused.value.code == "setting_above_tier_ceiling"
    assert stored(teen)["dm_setting"] == "nobody"


# --- legal paths -------------------------------------------------------------------------------


def test_settings_at_and_below_the_ceiling_are_stored_whatever_the_path() -> None:
    teen = AppUserFactory(age=16)
    SafetySettings.objects.filter(user=teen).update(
        dm_setting="friends", comment_setting="everyone"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE accounts_safetysettings SET duet_setting = 'everyone' WHERE user_id = %s",
            [teen.pk],
        )
    adult = AppUserFactory(age=30)
    SafetySettings.objects.filter(user=adult).update(dm_setting="everyone", download_setting=True)

    assert (stored(teen)["dm_setting"], stored(teen)["duet_setting"]) == ("friends", "everyone")
    assert stored(adult)["dm_setting"] == "everyone"


def test_the_managers_sanctioned_change_within_the_ceiling_passes_the_trigger() -> None:
    teen = AppUserFactory(age=17)

    SafetySettings.objects.change(teen, actor=teen, dm_setting="friends", duet_setting="everyone")

    assert stored(teen)["dm_setting"] == "friends"


def test_a_birthdate_correction_to_younger_moves_the_settings_and_passes_the_commit_check() -> None:
    adult = AppUserFactory(age=30)
    SafetySettings.objects.change(adult, actor=adult, dm_setting="everyone")

    correct_birthdate(adult, to_age=14)
    check_at_commit_now()

    assert stored(adult)["dm_setting"] == "nobody"
    assert stored(adult)["download_setting"] is False


def test_a_teen_corrected_to_a_child_holds_the_strictest_settings_and_nothing_looser() -> None:
    teen = AppUserFactory(age=14)
    SafetySettings.objects.change(teen, actor=teen, comment_setting="friends")

    correct_birthdate(teen, to_age=12)

    assert stored(teen)["comment_setting"] == "nobody"
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        SafetySettings.objects.filter(user=teen).update(private_account=False)
    assert refused_by_the_ceiling(refused)


def test_a_user_without_a_birthdate_holds_only_the_strictest_settings() -> None:
    """Staff and erased (closed) accounts have no birthdate; Python reads no settings for them
    and refuses to change them, so the database takes the strictest ceiling (a child's)."""
    staff = User.objects.create(username="staff-with-settings", is_staff=True)
    strictest = rules.safety_settings.strictest()
    SafetySettings.objects.create(
        user=staff,
        **{
            n: str(getattr(strictest, n))
            if isinstance(getattr(strictest, n), str)
            else getattr(strictest, n)
            for n in rules.safety_settings.SETTING_NAMES
        },
    )

    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        SafetySettings.objects.filter(user=staff).update(dm_setting="friends")

    assert refused_by_the_ceiling(refused)


# --- the generated SQL and the migrated SQL stay in step ------------------------------------


def test_the_ceiling_trigger_sql_generated_from_the_rules_is_the_latest_migrated_version() -> None:
    assert_in_step(
        triggers.render_settings_ceiling_sql(), accounts_migrations, "CEILING_TRIGGER_SQL"
    )


def test_the_generated_ceiling_names_every_value_the_rules_refuse() -> None:
    sql = triggers.render_settings_ceiling_sql()
    for tier in rules.vocabulary.Tier:
        youngest, _ = rules.ages.tier_ages(tier)
        if youngest:
            assert f"interval '{youngest} years'" in sql
        ceiling = rules.safety_settings.ceiling(tier)
        for name in rules.safety_settings.SETTING_NAMES:
            if rules.safety_settings.values_looser_than(name, getattr(ceiling, name)):
                assert f"tier = '{tier.value}' AND s.{name} IN (" in sql
