"""Guardian links (POLICY.md §5): both sides consent, limits only tighten, both sides see the link."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.db import IntegrityError, transaction

from accounts.facts import facts_for, strictest_limits
from accounts.models import GuardianLink, User
from safety_portal import rules
from safety_portal.core import clock
from safety_portal.core.audit.models import AuditEntry
from safety_portal.core.errors import Conflict, NotPermitted, PolicyViolation
from safety_portal.rules.guardianship import GuardianLimits
from safety_portal.rules.vocabulary import Reason
from tests.factories.accounts import AppUserFactory

pytestmark = pytest.mark.django_db

Entries = Callable[..., list[AuditEntry]]
T = dt.time


def active_link(guardian: User, teen: User) -> GuardianLink:
    link = GuardianLink.objects.propose(guardian=guardian, teen=teen, actor=guardian)
    return GuardianLink.objects.consent(link, actor=teen)


# --- Proposing and consenting -------------------------------------------------------------------


def test_a_guardian_must_be_an_adult(teen: User, older_teen: User) -> None:
    with pytest.raises(PolicyViolation) as refused:
        GuardianLink.objects.propose(guardian=older_teen, teen=teen, actor=older_teen)

    assert refused.value.code == "guardian_not_adult"
    assert not GuardianLink.objects.exists()


def test_a_staff_account_cannot_be_a_guardian(teen: User, senior: User) -> None:
    with pytest.raises(PolicyViolation):
        GuardianLink.objects.propose(guardian=senior, teen=teen, actor=teen)


def test_only_a_minor_can_be_linked(adult: User) -> None:
    other_adult = AppUserFactory(age=18, username="just_eighteen")

    with pytest.raises(PolicyViolation) as refused:
        GuardianLink.objects.propose(guardian=adult, teen=other_adult, actor=adult)

    assert refused.value.code == "teen_not_minor"


def test_a_third_person_cannot_propose(adult: User, teen: User) -> None:
    stranger = AppUserFactory(age=35, username="stranger")

    with pytest.raises(NotPermitted):
        GuardianLink.objects.propose(guardian=adult, teen=teen, actor=stranger)


def test_a_link_is_active_only_after_both_sides_consent(
    adult: User, teen: User, audit_entries: Entries
) -> None:
    link = GuardianLink.objects.propose(guardian=adult, teen=teen, actor=teen)
    assert (link.status, link.teen_consented_at is not None) == ("proposed", True)
    assert link.guardian_consented_at is None

    with pytest.raises(NotPermitted):  # the teen already consented
        GuardianLink.objects.consent(link, actor=teen)
    link = GuardianLink.objects.consent(link, actor=adult)

    assert link.status == "active"
    assert [e.action for e in audit_entries() if e.action.startswith("accounts.guardian")] == [
        "accounts.guardian.proposed",
        "accounts.guardian.activated",
    ]


def test_limits_cannot_be_set_before_the_link_is_active(adult: User, teen: User) -> None:
    link = GuardianLink.objects.propose(guardian=adult, teen=teen, actor=adult)

    with pytest.raises(Conflict) as refused:
        GuardianLink.objects.set_limits(link, actor=adult, limits=GuardianLimits(dm_off=True))

    assert refused.value.code == "not_active"


def test_the_database_refuses_an_active_link_without_both_consents(adult: User, teen: User) -> None:
    link = GuardianLink.objects.propose(guardian=adult, teen=teen, actor=adult)

    with pytest.raises(IntegrityError), transaction.atomic():
        GuardianLink.objects.filter(pk=link.pk).update(status="active")


def test_a_pair_has_one_open_link(adult: User, teen: User) -> None:
    active_link(adult, teen)

    with pytest.raises(Conflict):
        GuardianLink.objects.propose(guardian=adult, teen=teen, actor=teen)


def test_the_link_is_visible_to_both_sides_and_nobody_else(adult: User, teen: User) -> None:
    link = GuardianLink.objects.propose(guardian=adult, teen=teen, actor=adult)
    stranger = AppUserFactory(age=30, username="stranger")

    assert list(GuardianLink.objects.involving(adult)) == [link]
    assert list(GuardianLink.objects.involving(teen)) == [link]
    assert list(GuardianLink.objects.involving(stranger)) == []


# --- Limits only tighten ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "limits",
    [
        GuardianLimits(daily_screen_time_minutes=90),  # longer than the teen default of 60
        GuardianLimits(quiet_hours=(T(22, 0), T(7, 0))),  # narrower than 21:00-08:00
        GuardianLimits(quiet_hours=(T(21, 0), T(7, 59))),
    ],
)
def test_a_guardian_cannot_loosen_beyond_the_tier(
    adult: User, teen: User, audit_entries: Entries, limits: GuardianLimits
) -> None:
    link = active_link(adult, teen)
    entries = len(audit_entries())

    with pytest.raises(PolicyViolation) as refused:
        GuardianLink.objects.set_limits(link, actor=adult, limits=limits)

    assert refused.value.code == Reason.GUARDIAN_LOOSENS
    link.refresh_from_db()
    assert link.limits() == GuardianLimits()
    assert len(audit_entries()) == entries


def test_a_guardian_tightens_and_it_is_audited(
    adult: User, teen: User, audit_entries: Entries
) -> None:
    link = active_link(adult, teen)
    limits = GuardianLimits(
        dm_off=True, daily_screen_time_minutes=45, quiet_hours=(T(20, 30), T(8, 30))
    )

    GuardianLink.objects.set_limits(
        link, actor=adult, limits=limits, consents_to_personalisation=True
    )

    link.refresh_from_db()
    assert link.limits() == limits
    assert link.consents_to_personalisation is True
    [entry] = audit_entries("accounts.guardian.limits_changed")
    assert entry.before["daily_screen_time_minutes"] is None
    assert entry.after == {
        "dm_off": True,
        "daily_screen_time_minutes": 45,
        "quiet_hours_start": "20:30:00",
        "quiet_hours_end": "08:30:00",
        "consents_to_personalisation": True,
    }


def test_only_the_guardian_sets_limits(adult: User, teen: User) -> None:
    link = active_link(adult, teen)

    with pytest.raises(NotPermitted):
        GuardianLink.objects.set_limits(link, actor=teen, limits=GuardianLimits(dm_off=False))


def test_setting_the_same_limits_again_writes_nothing(
    adult: User, teen: User, audit_entries: Entries
) -> None:
    link = active_link(adult, teen)
    GuardianLink.objects.set_limits(link, actor=adult, limits=GuardianLimits(dm_off=True))

    GuardianLink.objects.set_limits(link, actor=adult, limits=GuardianLimits(dm_off=True))

    assert len(audit_entries("accounts.guardian.limits_changed")) == 1


def test_guardian_limits_show_in_the_teens_capabilities(adult: User, older_teen: User) -> None:
    link = active_link(adult, older_teen)
    GuardianLink.objects.set_limits(
        link, actor=adult, limits=GuardianLimits(dm_off=True, daily_screen_time_minutes=30)
    )
    today = clock.today()

    facts = facts_for([older_teen], at=clock.now(), on=today)[older_teen.pk]
    caps = rules.capabilities.capabilities(facts, on=today)

    assert caps["direct_messages"].reason is Reason.GUARDIAN_RESTRICTED
    assert caps["daily_screen_time_limit"].value == 30


def test_ending_a_link_is_audited_and_only_the_two_sides_or_staff_may_do_it(
    adult: User, teen: User, senior: User, audit_entries: Entries
) -> None:
    link = active_link(adult, teen)
    stranger = AppUserFactory(age=30, username="stranger")

    with pytest.raises(NotPermitted):
        GuardianLink.objects.end(link, actor=stranger, reason="meddling")
    link = GuardianLink.objects.end(link, actor=teen, reason="I asked my parent to unlink.")

    assert link.status == "ended"
    [entry] = audit_entries("accounts.guardian.ended")
    assert entry.reason == "I asked my parent to unlink."
    with pytest.raises(Conflict):
        GuardianLink.objects.end(link, actor=senior, reason="again")


# --- Several guardians combine strictly ---------------------------------------------------------


def test_several_guardians_combine_to_the_strictest_of_each_limit(teen: User) -> None:
    mother, father = AppUserFactory(age=41, username="mother"), AppUserFactory(age=43)
    first, second = active_link(mother, teen), active_link(father, teen)
    GuardianLink.objects.set_limits(
        first,
        actor=mother,
        limits=GuardianLimits(daily_screen_time_minutes=30, quiet_hours=(T(20, 0), T(8, 0))),
        consents_to_personalisation=True,
    )
    GuardianLink.objects.set_limits(
        second,
        actor=father,
        limits=GuardianLimits(dm_off=True, daily_screen_time_minutes=0, quiet_hours=(T(21), T(9))),
    )

    facts = facts_for([teen], at=clock.now(), on=clock.today())[teen.pk]

    assert facts.guardian_limits == GuardianLimits(
        dm_off=True,
        daily_screen_time_minutes=0,  # zero minutes is the strictest limit, not "no limit"
        quiet_hours=(T(20, 0), T(9, 0)),  # covers both windows
    )
    assert facts.guardian_consent is True


def test_an_ended_link_no_longer_limits(adult: User, teen: User) -> None:
    link = active_link(adult, teen)
    GuardianLink.objects.set_limits(link, actor=adult, limits=GuardianLimits(dm_off=True))
    GuardianLink.objects.end(link, actor=adult, reason="Moved out.")

    facts = facts_for([teen], at=clock.now(), on=clock.today())[teen.pk]

    assert facts.guardian_limits is None


def test_strictest_limits_does_not_depend_on_the_order_of_links(teen: User) -> None:
    a = GuardianLink(daily_screen_time_minutes=0, quiet_hours_start=T(22), quiet_hours_end=T(9))
    b = GuardianLink(daily_screen_time_minutes=45, quiet_hours_start=T(20), quiet_hours_end=T(8))

    assert strictest_limits([a, b]) == strictest_limits([b, a])
    limits, _ = strictest_limits([a, b])
    assert limits is not None
    assert limits.daily_screen_time_minutes == 0
    assert limits.quiet_hours == (T(20), T(9))


def test_facts_for_fifty_users_costs_at_most_three_queries(
    django_assert_max_num_queries: Callable[..., object], adult: User
) -> None:
    teens = [AppUserFactory(age=13 + i % 5, username=f"cohort{i:02d}") for i in range(50)]
    for teen in teens[:5]:
        GuardianLink.objects.set_limits(
            active_link(adult, teen), actor=adult, limits=GuardianLimits(dm_off=True)
        )
    users = list(User.objects.filter(pk__in=[t.pk for t in teens]))
    at, on = clock.now(), clock.today()

    with django_assert_max_num_queries(3):  # type: ignore[operator]
        facts = facts_for(users, at=at, on=on)

    assert len(facts) == 50
    assert sum(f.guardian_limits is not None for f in facts.values()) == 5
    assert all(f.settings is not None for f in facts.values())
