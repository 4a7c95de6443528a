"""Existing minors move to the 2025-26 defaults and ceilings (POLICY.md §7.4), audited, with a
notice, and nothing loosens; `manage.py apply_minor_defaults` runs it and can run again."""

from __future__ import annotations

from collections.abc import Callable
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from accounts import minor_defaults
from accounts.models import GuardianLink, SafetySettings, User
from safety_portal.core.audit.actors import SystemActor
from safety_portal.core.audit.models import AuditEntry
from safety_portal.core.outbox.models import UserNotice
from tests.factories.accounts import AppUserFactory

pytestmark = pytest.mark.django_db
ACTOR = SystemActor(minor_defaults.JOB)


def stored_before_the_change(user: User, **values: object) -> None:
    """Settings an account held under the rules before §7.4 (when they were allowed), written as
    the old code wrote them. The database now refuses such a row (accounts migration 0012), so
    the write goes past the ceiling trigger the way a row stored before that migration did: with
    triggers off for this one statement (`session_replication_role`, a superuser's power, as in
    conftest.py). The move itself then writes through the trigger."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        try:
            SafetySettings.objects.filter(user=user).update(**values)
        finally:
            cursor.execute("SET LOCAL session_replication_role = origin")


def row(user: User) -> SafetySettings:
    return SafetySettings.objects.get(user=user)


def test_a_16_year_old_with_downloads_on_has_them_turned_off_with_a_notice_and_an_audit_entry(
    audit_entries: Callable[..., list[AuditEntry]],
) -> None:
    teen = AppUserFactory(age=16)
    stored_before_the_change(teen, download_setting=True, dm_setting="friends")

    result = minor_defaults.apply(actor=ACTOR)

    assert (result.examined, result.moved, result.by_setting) == (1, 1, {"download_setting": 1})
    assert row(teen).download_setting is False
    assert row(teen).dm_setting == "friends"  # within the ceiling: left alone
    [entry] = audit_entries("accounts.settings.moved_within_rules")
    assert (entry.before, entry.after) == ({"download_setting": True}, {"download_setting": False})
    notice = UserNotice.objects.get(user=teen)
    assert notice.kind == UserNotice.Kind.POLICY_CHANGE
    assert "download your videos" in notice.body
    [summary] = audit_entries("accounts.settings.minor_defaults_applied")
    assert summary.after["moved"] == 1


def test_a_14_year_olds_public_account_and_suggestions_move_back_to_private_and_off() -> None:
    teen = AppUserFactory(age=14)
    stored_before_the_change(teen, private_account=False, suggest_account=True)

    minor_defaults.apply(actor=ACTOR)

    assert (row(teen).private_account, row(teen).suggest_account) == (True, False)
    body = UserNotice.objects.get(user=teen).body
    assert "private again" in body
    assert "no longer suggested" in body


def test_a_14_year_old_whose_linked_guardian_approved_a_public_account_stays_public() -> None:
    teen, parent = AppUserFactory(age=14), AppUserFactory(age=44)
    link = GuardianLink.objects.propose(guardian=parent, teen=teen, actor=parent)
    GuardianLink.objects.consent(link, actor=teen)
    SafetySettings.objects.change(
        teen, actor=teen, guardian_approved_by=parent, private_account=False
    )

    result = minor_defaults.apply(actor=ACTOR)

    assert result.moved == 0
    assert row(teen).private_account is False


def test_adults_and_compliant_minors_are_not_touched_and_nothing_loosens() -> None:
    adult = AppUserFactory(age=30)
    stored_before_the_change(adult, download_setting=True, suggest_account=True)
    teen = AppUserFactory(age=15)  # the defaults already comply
    before = {u.pk: vars(row(u)).copy() for u in (adult, teen)}

    result = minor_defaults.apply(actor=ACTOR)

    assert result.examined == 0
    for user in (adult, teen):
        after = vars(row(user))
        assert {k: after[k] for k in before[user.pk] if k != "_state"} == {
            k: v for k, v in before[user.pk].items() if k != "_state"
        }
    assert not UserNotice.objects.filter(kind=UserNotice.Kind.POLICY_CHANGE).exists()


def test_running_the_move_twice_moves_nobody_the_second_time_and_sends_one_notice() -> None:
    teen = AppUserFactory(age=17)
    stored_before_the_change(teen, download_setting=True)
    minor_defaults.apply(actor=ACTOR)

    again = minor_defaults.apply(actor=ACTOR, batch_size=1)

    assert (again.examined, again.moved) == (0, 0)
    assert UserNotice.objects.filter(user=teen).count() == 1


def test_the_move_finds_its_rows_in_batches_with_a_bounded_number_of_queries(
    django_assert_max_num_queries: Callable[..., object],
) -> None:
    teens = [AppUserFactory(age=16) for _ in range(3)]
    for teen in teens:
        stored_before_the_change(teen, download_setting=True)
    with django_assert_max_num_queries(3):
        assert minor_defaults.count_pending() == 3
    result = minor_defaults.apply(actor=ACTOR, batch_size=2)
    assert result.moved == 3


def test_the_command_counts_with_dry_run_moves_and_reports() -> None:
    teen = AppUserFactory(age=16)
    stored_before_the_change(teen, download_setting=True)
    out = StringIO()
    call_command("apply_minor_defaults", "--dry-run", stdout=out)
    assert "1 account(s) would move" in out.getvalue()
    assert row(teen).download_setting is True

    out = StringIO()
    call_command("apply_minor_defaults", stdout=out)
    assert "1 of 1 account(s) moved" in out.getvalue()
    assert row(teen).download_setting is False
    with pytest.raises(CommandError, match="batch-size"):
        call_command("apply_minor_defaults", "--batch-size", "0")
