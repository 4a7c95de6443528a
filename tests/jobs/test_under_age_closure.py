"""Under-age review closure: after 180 days without an appeal the account is closed and erased."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import time_machine
from django.db import DatabaseError, connection, transaction

from accounts import erasure
from accounts.models import BirthdateChangeRequest, GuardianLink, User
from accounts.roles import Role
from moderation import services
from moderation.actions import under_age_closure as closure
from moderation.models import Case
from moderation.tasks import close_expired_under_age_reviews
from safety_portal.core import clock
from safety_portal.core.audit.models import AuditEntry
from tests.factories.accounts import AppUserFactory, StaffFactory, birthdate_for_age

CLOSED = "accounts.account.closed_under_age"
pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the birthdate guard is a PostgreSQL trigger"
)


def corrected_below_minimum_age(system, **factory_kwargs) -> User:
    """A 14-year-old whose birthdate is corrected to 11: `under_age_review` at once (POLICY §4)."""
    user = AppUserFactory(
        birthdate=birthdate_for_age(14), email="kid@example.org", **factory_kwargs
    )
    BirthdateChangeRequest.objects.submit(
        user=user,
        new_birthdate=birthdate_for_age(11),
        method="guardian_vouch",
        evidence_reference="support-ticket-4411",
        reason="A parent wrote in with the child's real age.",
        actor=system,
    )
    user.refresh_from_db()
    assert user.status == "under_age_review"
    return user


def age_review(user: User, *, days: int) -> None:
    """Pretend the review started `days` ago (test set-up; the column is not guarded)."""
    User.objects.filter(pk=user.pk).update(status_changed_at=clock.now() - dt.timedelta(days=days))


def closures() -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=CLOSED))


@pytest.mark.django_db
def test_after_180_days_without_appeal_the_account_is_closed_and_its_personal_data_erased(
    system,
):
    user = corrected_below_minimum_age(system)
    old_username, old_external_id = user.username, user.external_id
    age_review(user, days=181)
    last_id_before = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0

    result = closure.close_expired_reviews(actor=system)

    assert result.closed == [user.pk]
    user.refresh_from_db()
    assert user.status == "banned"
    assert not user.is_active
    assert user.username == f"closed-{user.pk}"
    assert (user.email, user.first_name, user.last_name) == ("", "", "")
    assert user.external_id is None
    assert user.birthdate is None
    assert not user.has_usable_password()
    assert user.country.code == "GB"  # kept: not identifying, needed for DSA statistics
    request = BirthdateChangeRequest.objects.get(user=user)
    assert request.evidence_reference == ""

    [entry] = closures()
    assert entry.target_label == f"closed-{user.pk}"
    assert entry.after["status"] == "banned"
    assert set(entry.after["erased"]) >= {"username", "email", "external_id", "birthdate"}
    # Every entry the closure wrote (status change, closure) names the pseudonym only.
    written = AuditEntry.objects.filter(id__gt=last_id_before)
    assert {e.action for e in written} == {"accounts.status.changed", CLOSED}
    for later in written:
        text = f"{later.target_label} {later.before} {later.after} {later.reason}"
        assert old_username not in text
        assert old_external_id not in text


@pytest.mark.django_db
def test_a_review_younger_than_180_days_stays_open(system):
    user = corrected_below_minimum_age(system)
    age_review(user, days=179)

    assert closure.close_expired_reviews(actor=system).closed == []
    user.refresh_from_db()
    assert user.status == "under_age_review"
    assert user.birthdate is not None


@pytest.mark.django_db
def test_a_pending_birthdate_request_keeps_the_account_open(system):
    user = corrected_below_minimum_age(system)
    BirthdateChangeRequest.objects.submit(
        user=user,
        new_birthdate=birthdate_for_age(14),
        method="id_document",
        evidence_reference="passport-check-77",
        reason="The child is 14; ID checked by support.",
        actor=system,
    )
    age_review(user, days=200)

    assert closure.close_expired_reviews(actor=system).closed == []


@pytest.mark.django_db
def test_open_guardian_links_end_with_the_account(system):
    guardian = AppUserFactory(birthdate=birthdate_for_age(40))
    teen = AppUserFactory(birthdate=birthdate_for_age(14))
    link = GuardianLink.objects.propose(guardian=guardian, teen=teen, actor=guardian)
    GuardianLink.objects.consent(link, actor=teen)
    BirthdateChangeRequest.objects.submit(
        user=teen,
        new_birthdate=birthdate_for_age(11),
        method="guardian_vouch",
        evidence_reference="",
        reason="The guardian corrected the age.",
        actor=guardian,
    )
    age_review(teen, days=181)

    closure.close_expired_reviews(actor=system)

    link.refresh_from_db()
    assert link.status == "ended"
    assert closures()[0].after["guardian_links_ended"] == 1


@pytest.mark.django_db
def test_running_the_job_twice_closes_each_account_once(system):
    user = corrected_below_minimum_age(system)
    age_review(user, days=181)

    assert close_expired_under_age_reviews.delay().get() == 1
    assert close_expired_under_age_reviews.delay().get() == 0
    assert len(closures()) == 1


@pytest.mark.django_db(transaction=True)
def test_two_closure_runs_at_once_close_the_account_once(system):
    users = [corrected_below_minimum_age(system) for _ in range(4)]
    for user in users:
        age_review(user, days=181)
    barrier = threading.Barrier(2)
    closed: list[list[int]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            closed.append(closure.close_expired_reviews(actor=system).closed)
        except BaseException as exc:  # reported to the main thread below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sorted(closed[0] + closed[1]) == sorted(u.pk for u in users)
    assert len(closures()) == 4


# --- the under-age decision path (moderation) -----------------------------------------------------


@pytest.fixture
def under_age_decision(system):
    """A senior moderator decides `require_age_verification` on a reported 13-year-old."""
    senior = StaffFactory(groups=[Role.SENIOR_MODERATOR.value])
    reporter = AppUserFactory(birthdate=birthdate_for_age(30))
    kid = AppUserFactory(birthdate=birthdate_for_age(13), email="young@example.org")
    report = services.file_report(
        actor=reporter,
        reporter=reporter,
        subject_type="user",
        subject_id=kid.pk,
        category="STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
        keywords=["KEYWORD_AGE_SPECIFIC_RESTRICTIONS_MINORS"],
        explanation="Says in every video that they are in year 5 at school.",
        raise_age_flag=False,
    )
    case = Case.objects.claim(report.case, actor=senior)
    decision = services.decide(
        case,
        actor=senior,
        decision_type="require_age_verification",
        facts="The account holder states a primary-school year in several videos.",
        target_user=kid,
    )
    kid.refresh_from_db()
    assert kid.status == "under_age_review"
    return decision


@pytest.mark.django_db
def test_an_under_age_decision_unappealed_for_180_days_closes_the_account(
    system, under_age_decision
):
    kid = under_age_decision.target_user
    with time_machine.travel(clock.now() + dt.timedelta(days=179), tick=False):
        assert closure.close_expired_reviews(actor=system).closed == []
    with time_machine.travel(clock.now() + dt.timedelta(days=181), tick=False):
        assert closure.close_expired_reviews(actor=system).closed == [kid.pk]
    kid.refresh_from_db()
    assert (kid.status, kid.birthdate, kid.email) == ("banned", None, "")


@pytest.mark.django_db
def test_an_appeal_pending_keeps_the_account_open_after_the_window(system, under_age_decision):
    kid = under_age_decision.target_user
    services.file_appeal(
        under_age_decision,
        appellant=kid,
        statement="I am 13; my passport shows it.",
        actor=kid,
        evidence_method="id_document",
        evidence_reference="passport-seen-by-support-9",
    )
    with time_machine.travel(clock.now() + dt.timedelta(days=200), tick=False):
        assert closure.close_expired_reviews(actor=system).closed == []


# --- the database guard -----------------------------------------------------------------------------


def erase_birthdate(user: User, *, sanction_for: User | None, to: dt.date | None = None) -> None:
    with transaction.atomic():
        if sanction_for is not None:
            erasure.sanction_erasure(sanction_for.pk)
        User.objects.filter(pk=user.pk).update(birthdate=to)


@pytest.mark.django_db
def test_the_database_refuses_to_erase_a_birthdate_without_the_sanction(system):
    user = corrected_below_minimum_age(system)
    with pytest.raises(DatabaseError, match="birthdate-change request"):
        erase_birthdate(user, sanction_for=None)


@pytest.mark.django_db
def test_the_erasure_sanction_covers_only_the_named_user_and_only_null(system):
    user = corrected_below_minimum_age(system)
    other = AppUserFactory(birthdate=birthdate_for_age(20))
    with pytest.raises(DatabaseError, match="birthdate-change request"):
        erase_birthdate(user, sanction_for=other)
    with pytest.raises(DatabaseError, match="birthdate-change request"):
        erase_birthdate(user, sanction_for=user, to=birthdate_for_age(30))


@pytest.mark.django_db
def test_an_active_app_user_may_not_lose_the_birthdate_even_with_the_sanction(system):
    user = AppUserFactory(birthdate=birthdate_for_age(20))
    with pytest.raises(DatabaseError, match="app_user_has_birthdate"):
        erase_birthdate(user, sanction_for=user)


@pytest.mark.django_db
def test_messages_stay_for_open_cases_after_the_account_is_closed(system):
    from messaging.models import Message
    from tests.factories.messaging import befriend, direct_thread, person, send

    teen, friend = person(17, dm="friends"), person(17, dm="friends")
    befriend(teen, friend)
    thread = direct_thread(teen, friend)
    message = send(teen, thread, "the bus leaves at eight")
    BirthdateChangeRequest.objects.submit(
        user=teen,
        new_birthdate=birthdate_for_age(12),
        method="guardian_vouch",
        evidence_reference="ticket-88",
        reason="A parent gave the real age.",
        actor=system,
    )
    age_review(teen, days=181)

    assert closure.close_expired_reviews(actor=system).closed == [teen.pk]

    kept = Message.objects.get(pk=message.pk)
    assert kept.body == "the bus leaves at eight"
    assert kept.sender_id == teen.pk  # now the pseudonymous `closed-<id>` account
