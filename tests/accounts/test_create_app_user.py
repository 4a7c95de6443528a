"""`User.objects.create_app_user`: the one doorway for a new app account (POLICY.md §1-3)."""

from __future__ import annotations

import datetime as dt

import pytest

from accounts.models import SafetySettings, User
from safety_portal import rules
from safety_portal.core.audit.models import AuditEntry
from safety_portal.core.errors import DomainError, PolicyViolation
from tests.dates import born
from tests.factories.accounts import birthdate_for_age

pytestmark = pytest.mark.django_db


def create(system: object, **kwargs: object) -> User:
    values: dict[str, object] = {"username": "new_user", "country": "GB"} | kwargs
    return User.objects.create_app_user(actor=system, **values)  # type: ignore[arg-type]


def nothing_written() -> tuple[int, int, int]:
    return User.objects.count(), SafetySettings.objects.count(), AuditEntry.objects.count()


@pytest.mark.parametrize(
    ("age", "tier"),
    [
        (13, rules.vocabulary.Tier.YOUNG_TEEN),
        (15, rules.vocabulary.Tier.YOUNG_TEEN),
        (16, rules.vocabulary.Tier.OLDER_TEEN),
        (17, rules.vocabulary.Tier.OLDER_TEEN),
        (18, rules.vocabulary.Tier.ADULT),
        (52, rules.vocabulary.Tier.ADULT),
    ],
)
def test_a_new_user_gets_the_safety_defaults_of_their_tier(
    system: object, today: dt.date, age: int, tier: rules.vocabulary.Tier
) -> None:
    user = create(system, birthdate=birthdate_for_age(age))

    assert user.tier(today) is tier
    assert user.safety_settings.as_policy() == rules.safety_settings.default_settings(tier)


def test_teen_defaults_are_private_with_dms_off_and_no_suggestions(system: object) -> None:
    """POLICY.md §3: 13-15 private, DMs nobody, comments friends, duet and downloads off."""
    settings = create(system, birthdate=birthdate_for_age(14)).safety_settings

    assert settings.private_account is True
    assert settings.dm_setting == "nobody"
    assert settings.comment_setting == "friends"
    assert settings.duet_setting == "nobody"
    assert settings.download_setting is False
    assert settings.suggest_account is False


def test_adult_defaults_are_public_with_dms_from_friends(system: object) -> None:
    settings = create(system, birthdate=birthdate_for_age(30)).safety_settings

    assert settings.private_account is False
    assert settings.dm_setting == "friends"
    assert settings.suggest_account is True


@pytest.mark.parametrize(
    ("birthdate", "message"),
    [
        ("tomorrow", "cannot be in the future"),
        (dt.date(1899, 12, 31), "before 1900-01-01"),
        ("2010-02-30", "must be a calendar date"),
        (dt.datetime(2010, 5, 1, 12, 0), "must be a calendar date"),
        (None, "must be a calendar date"),
    ],
)
def test_an_invalid_birthdate_is_refused_and_nothing_is_written(
    system: object, today: dt.date, birthdate: object, message: str
) -> None:
    if birthdate == "tomorrow":
        birthdate = today + dt.timedelta(days=1)
    before = nothing_written()

    with pytest.raises(DomainError) as refused:
        create(system, birthdate=birthdate)

    assert refused.value.code == "invalid"
    assert message in refused.value.fields["birthdate"][0]
    assert nothing_written() == before


@pytest.mark.parametrize("country", ["UK", "XX", "GBR", "", None, "E1"])
def test_an_unknown_country_is_refused_and_nothing_is_written(
    system: object, country: object
) -> None:
    before = nothing_written()

    with pytest.raises(DomainError) as refused:
        create(system, birthdate=birthdate_for_age(20), country=country)

    assert "is not an ISO 3166-1 alpha-2 country code" in refused.value.fields["country"][0]
    assert nothing_written() == before


def test_a_lower_case_country_code_is_stored_upper_case(system: object) -> None:
    """`au` must get Australia's minimum age, never fall through to the default (POLICY.md §2)."""
    user = create(system, birthdate=birthdate_for_age(17), country="au")

    assert user.country == "AU"


def test_several_bad_fields_are_reported_together(system: object) -> None:
    with pytest.raises(DomainError) as refused:
        create(system, birthdate=dt.date(1850, 1, 1), country="ZZ", username="")

    assert set(refused.value.fields) == {"birthdate", "country", "username"}


def test_a_twelve_year_old_is_refused_with_the_minimum_age_reason(
    system: object, today: dt.date
) -> None:
    before = nothing_written()

    with pytest.raises(PolicyViolation) as refused:
        create(system, birthdate=born(13, on=today, days_after_birthday=-1))  # turns 13 tomorrow

    assert refused.value.code == rules.vocabulary.Reason.UNDER_MINIMUM_AGE
    assert nothing_written() == before


def test_a_user_whose_thirteenth_birthday_is_today_may_join(system: object, today: dt.date) -> None:
    user = create(system, birthdate=rules.ages.latest_birthdate_for_age(13, today))

    assert user.age(today) == 13


def test_a_fifteen_year_old_in_australia_is_refused(system: object) -> None:
    """POLICY.md §2: the minimum age in Australia is 16."""
    before = nothing_written()

    with pytest.raises(PolicyViolation) as refused:
        create(system, birthdate=birthdate_for_age(15), country="AU")

    assert refused.value.code == rules.vocabulary.Reason.UNDER_MINIMUM_AGE
    assert nothing_written() == before


def test_a_fifteen_year_old_elsewhere_may_join(system: object) -> None:
    assert create(system, birthdate=birthdate_for_age(15), country="NZ").pk is not None


def test_creation_is_audited_with_a_minors_birthdate_redacted(
    system: object, today: dt.date, audit_entries: object
) -> None:
    born = birthdate_for_age(14)

    user = create(system, birthdate=born)

    [entry] = audit_entries("accounts.user.created")  # type: ignore[operator]
    assert (entry.target_type, entry.target_id) == ("accounts.user", str(user.pk))
    assert entry.actor_kind == "system"
    assert entry.after["birthdate"] == {"redacted": "minor", "age": 14, "tier": "young_teen"}
    assert born.isoformat() not in str(entry.after)
    assert entry.after["tier"] == "young_teen"
    assert entry.after["settings"]["dm_setting"] == "nobody"


def test_an_adults_birthdate_is_kept_in_the_audit_entry(
    system: object, audit_entries: object
) -> None:
    """Adults' exact birthdates stay: age-assurance disputes need them."""
    born = birthdate_for_age(30)

    create(system, birthdate=born)

    [entry] = audit_entries("accounts.user.created")  # type: ignore[operator]
    assert entry.after["birthdate"] == born.isoformat()


def test_an_actor_is_required(today: dt.date) -> None:
    with pytest.raises(TypeError):
        User.objects.create_app_user(  # type: ignore[call-arg]
            username="nobody_acts", birthdate=birthdate_for_age(20), country="GB"
        )
    with pytest.raises(TypeError, match="cannot act"):
        create(None, birthdate=birthdate_for_age(20))
    assert not User.objects.filter(username__in=["nobody_acts", "new_user"]).exists()
