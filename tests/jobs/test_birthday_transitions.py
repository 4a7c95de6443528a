"""Birthday transitions: one notice per user crossing 13, 16 or 18, one audited summary per day."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection

from accounts import transitions
from accounts.models import SafetySettings, User
from accounts.tasks import birthday_transitions
from safety_portal.core import clock
from safety_portal.core.audit.models import AuditEntry
from safety_portal.core.outbox.models import JobRun, UserNotice
from tests.dates import born
from tests.factories.accounts import AppUserFactory

SUMMARY = "accounts.birthday_transitions.completed"


def summaries() -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=SUMMARY))


@pytest.fixture
def cohort(today):
    """Three users crossing a tier today, and people who must not hear anything."""
    return {
        13: AppUserFactory(birthdate=born(13, on=today, days_after_birthday=0)),
        16: AppUserFactory(birthdate=born(16, on=today, days_after_birthday=0)),
        18: AppUserFactory(birthdate=born(18, on=today, days_after_birthday=0), country="FR"),
        "16 tomorrow": AppUserFactory(
            birthdate=born(16, on=today + dt.timedelta(days=1), days_after_birthday=0)
        ),
        "17 today": AppUserFactory(birthdate=born(17, on=today, days_after_birthday=0)),
        "16 yesterday": AppUserFactory(
            birthdate=born(16, on=today - dt.timedelta(days=1), days_after_birthday=0)
        ),
        "banned, 16 today": AppUserFactory(
            birthdate=born(16, on=today, days_after_birthday=0), status="banned"
        ),
    }


@pytest.mark.django_db
def test_users_crossing_13_16_or_18_today_get_one_tier_change_notice_each(cohort, system, today):
    result = transitions.run_day(today, actor=system)

    notices = {n.user_id: n for n in UserNotice.objects.all()}
    assert set(notices) == {cohort[13].pk, cohort[16].pk, cohort[18].pk}
    assert notices[cohort[13].pk].tier == "young_teen"
    assert notices[cohort[16].pk].tier == "older_teen"
    assert "direct messages with friends" in notices[cohort[16].pk].subject
    assert notices[cohort[18].pk].tier == "adult"
    assert notices[cohort[16].pk].key == f"tier-change:16:{today.isoformat()}"
    assert result.turning == {13: 1, 16: 1, 18: 1}
    assert result.completed_now


@pytest.mark.django_db
def test_the_run_writes_one_summary_audit_entry_with_counts_and_no_personal_data(
    cohort, system, today
):
    transitions.run_day(today, actor=system)

    [entry] = summaries()
    assert entry.actor_kind == "system"
    assert entry.target_type == "outbox.jobrun"
    assert entry.after == {
        "date": today.isoformat(),
        "turning": {"13": 1, "16": 1, "18": 1},
        "notices": 3,
        "batches": 1,
    }
    text = str(entry.after) + entry.reason + entry.target_label
    for user in (cohort[13], cohort[16], cohort[18]):
        assert user.username not in text
        assert user.birthdate.isoformat() not in text


@pytest.mark.django_db
def test_a_second_run_the_same_day_sends_nothing_and_audits_nothing(cohort, system, today):
    first = transitions.run_day(today, actor=system)
    second = transitions.run_day(today, actor=system)

    assert first.completed_now
    assert not second.completed_now
    assert second.turning == first.turning  # read back from the day's summary
    assert UserNotice.objects.count() == 3
    assert len(summaries()) == 1


@pytest.mark.django_db
def test_a_run_killed_half_way_is_completed_by_the_next_without_duplicates(system, today):
    users = [AppUserFactory(birthdate=born(16, on=today, days_after_birthday=0)) for _ in range(5)]
    # What a worker killed after its first batch leaves: the day started, two notices written.
    JobRun.objects.create(job=transitions.JOB, run_date=today, started_at=clock.now())
    UserNotice.objects.bulk_create(
        transitions._notice(user.pk, 16, today, clock.now()) for user in users[:2]
    )

    result = transitions.run_day(today, actor=system, batch_size=2)

    assert result.completed_now
    assert result.turning[16] == 5
    assert result.batches == 3
    assert sorted(UserNotice.objects.values_list("user_id", flat=True)) == sorted(
        u.pk for u in users
    )
    assert len(summaries()) == 1


@pytest.mark.django_db
def test_nothing_about_capabilities_is_stored(cohort, system, today):
    users_before = dict(User.objects.values_list("pk", "updated_at"))
    settings_before = dict(SafetySettings.objects.values_list("pk", "updated_at"))
    audit_before = AuditEntry.objects.count()

    transitions.run_day(today, actor=system)

    assert dict(User.objects.values_list("pk", "updated_at")) == users_before
    assert dict(SafetySettings.objects.values_list("pk", "updated_at")) == settings_before
    assert AuditEntry.objects.count() == audit_before + 1  # the summary, nothing per user


@pytest.mark.django_db
def test_queries_stay_constant_per_batch_however_many_users_cross(
    system, today, django_assert_max_num_queries
):
    for _ in range(3):
        AppUserFactory(birthdate=born(16, on=today, days_after_birthday=0))
    with django_assert_max_num_queries(7):
        transitions.run_day(today, actor=system)

    tomorrow = today + dt.timedelta(days=1)
    for _ in range(40):
        AppUserFactory(birthdate=born(18, on=tomorrow, days_after_birthday=0))
    with django_assert_max_num_queries(7):
        result = transitions.run_day(tomorrow, actor=system)
    assert result.turning[18] == 40


@pytest.mark.django_db
def test_someone_born_on_29_february_crosses_on_1_march_in_a_common_year(system):
    leapling = AppUserFactory(birthdate=dt.date(2008, 2, 29))
    march_first = AppUserFactory(birthdate=dt.date(2008, 3, 1))

    on_28th = transitions.run_day(dt.date(2026, 2, 28), actor=system)
    assert on_28th.turning[18] == 0
    on_1st = transitions.run_day(dt.date(2026, 3, 1), actor=system)
    assert on_1st.turning[18] == 2
    assert set(UserNotice.objects.values_list("user_id", flat=True)) == {
        leapling.pk,
        march_first.pk,
    }


@pytest.mark.django_db
def test_missed_days_are_caught_up_from_the_last_completed_run(system, today):
    three_days_ago = today - dt.timedelta(days=3)
    JobRun.objects.create(
        job=transitions.JOB,
        run_date=three_days_ago,
        started_at=clock.now(),
        completed_at=clock.now(),
    )
    missed = AppUserFactory(
        birthdate=born(16, on=today - dt.timedelta(days=1), days_after_birthday=0)
    )

    days = transitions.run(actor=system, today=today)

    assert [d.on for d in days] == [today - dt.timedelta(days=n) for n in (2, 1, 0)]
    [notice] = UserNotice.objects.all()
    assert notice.user_id == missed.pk
    assert len(summaries()) == 3


@pytest.mark.django_db
def test_catching_up_goes_back_at_most_a_week(system, today):
    JobRun.objects.create(
        job=transitions.JOB,
        run_date=today - dt.timedelta(days=30),
        started_at=clock.now(),
        completed_at=clock.now(),
    )
    days = transitions.run(actor=system, today=today)
    assert [d.on for d in days] == [
        today - dt.timedelta(days=n) for n in range(transitions.CATCH_UP_DAYS - 1, -1, -1)
    ]


@pytest.mark.django_db
def test_the_very_first_run_covers_only_today(system, today):
    assert [d.on for d in transitions.run(actor=system, today=today)] == [today]


@pytest.mark.django_db
def test_the_task_takes_a_date_string_and_reports_the_notices_per_day(cohort, today):
    assert birthday_transitions.delay(today=today.isoformat()).get() == {today.isoformat(): 3}


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_send_each_notice_once_and_one_summary(system, today):
    users = [AppUserFactory(birthdate=born(16, on=today, days_after_birthday=0)) for _ in range(30)]
    barrier = threading.Barrier(2)
    results: list[transitions.DayResult] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            results.append(transitions.run_day(today, actor=system, batch_size=4))
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
    assert sorted(r.completed_now for r in results) == [False, True]
    assert sorted(UserNotice.objects.values_list("user_id", flat=True)) == sorted(
        u.pk for u in users
    )
    assert len(summaries()) == 1
