"""The minimum-age sweep (POLICY.md §7.3): Australia's minimum age of 16 takes effect on 10 December
2025 and re-checks the accounts that already exist there."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command

from accounts import minimum_age_sweep as sweeps
from accounts.models import BirthdateChangeRequest, MinimumAgeReview, MinimumAgeSweep, User
from accounts.roles import Role
from safety_portal import rules
from safety_portal.core.audit.actors import SystemActor
from safety_portal.core.audit.models import AuditEntry
from safety_portal.core.outbox.models import UserNotice
from tests.dates import born
from tests.factories.accounts import FACTORY_ACTOR, AppUserFactory, StaffFactory

pytestmark = pytest.mark.django_db
ACTOR = SystemActor(sweeps.JOB)
BEFORE, IN_FORCE = dt.date(2025, 12, 1), dt.date(2025, 12, 10)


def at_noon(day: dt.date) -> time_machine.travel:
    return time_machine.travel(dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC), tick=False)


@pytest.fixture
def australians() -> dict[str, User]:
    """Accounts made before the law: a 14- and a 15-year-old in AU, a 16-year-old in AU and a
    14-year-old in GB (who keeps the default minimum age of 13)."""
    with at_noon(BEFORE):
        people = {
            "au_14": AppUserFactory(birthdate=born(14, on=IN_FORCE), country="AU"),
            "au_15": AppUserFactory(birthdate=born(15, on=IN_FORCE), country="AU"),
            "au_16": AppUserFactory(birthdate=born(16, on=IN_FORCE), country="AU"),
            "gb_14": AppUserFactory(birthdate=born(14, on=IN_FORCE), country="GB"),
        }
    return people


def prove_age(user: User, age: int, reference: str = "check:123") -> BirthdateChangeRequest:
    """The user asks to be found `age` on the day of the law, with an identity check (§7.2)."""
    return BirthdateChangeRequest.objects.submit(
        user=user,
        new_birthdate=born(age, on=IN_FORCE),
        method=rules.vocabulary.AssuranceMethod.ID_DOCUMENT,
        evidence_reference=reference,
        reason=f"I am {age}.",
        actor=FACTORY_ACTOR,
    )


def status(user: User) -> str:
    return User.objects.values_list("status", flat=True).get(pk=user.pk)


def test_minimum_age_sweep_runs_on_the_day_australias_rule_takes_effect(
    australians: dict[str, User], audit_entries: Callable[..., list[AuditEntry]]
) -> None:
    with at_noon(IN_FORCE - dt.timedelta(days=1)):
        assert sweeps.run_due(actor=ACTOR) == []  # the law is not in force yet
    with at_noon(IN_FORCE):
        [sweep] = sweeps.run_due(actor=ACTOR)

    assert (sweep.key, sweep.found, sweep.completed_at is not None) == (
        "rule:AU:2025-12-10",
        2,
        True,
    )
    assert status(australians["au_14"]) == status(australians["au_15"]) == "under_age_review"
    assert status(australians["au_16"]) == status(australians["gb_14"]) == "active"
    review = MinimumAgeReview.objects.get(user=australians["au_14"])
    assert (review.grace_until, review.appeal_until) == (
        IN_FORCE + dt.timedelta(days=rules.minimum_age.GRACE_DAYS),
        IN_FORCE + dt.timedelta(days=rules.decisions.UNDER_AGE_APPEAL_DAYS),
    )
    notice = UserNotice.objects.get(user=australians["au_14"], kind=UserNotice.Kind.MINIMUM_AGE)
    assert "16 or older" in notice.body
    assert "24 December 2025" in notice.body  # the grace window, in words
    changes = [
        e
        for e in audit_entries("accounts.status.changed")
        if e.after == {"status": "under_age_review"}
    ]
    assert len(changes) == 2  # one entry per account ...
    assert len(audit_entries("accounts.minimum_age_sweep.completed")) == 1  # ... and a summary


def test_minimum_age_sweep_runs_once_however_often_the_job_runs(
    australians: dict[str, User],
) -> None:
    with at_noon(IN_FORCE):
        sweeps.run_due(actor=ACTOR)
    with at_noon(IN_FORCE + dt.timedelta(days=1)):
        [again] = sweeps.run_due(actor=ACTOR)
    assert again.found == 2
    assert MinimumAgeSweep.objects.count() == 1
    assert MinimumAgeReview.objects.count() == 2
    assert UserNotice.objects.filter(kind=UserNotice.Kind.MINIMUM_AGE).count() == 2


def test_minimum_age_sweep_killed_after_a_batch_resumes_where_it_stopped(
    australians: dict[str, User],
) -> None:
    class Killed(Exception):
        pass

    def kill(_n: int) -> None:
        raise Killed

    with at_noon(IN_FORCE):
        sweep = sweeps.start(
            key="rule:AU:2025-12-10", country="AU", on=IN_FORCE, source="t", actor=ACTOR
        )
        with pytest.raises(Killed):
            sweeps.run(sweep, actor=ACTOR, batch_size=1, progress=kill)
        stopped = MinimumAgeSweep.objects.get(pk=sweep.pk)
        assert (stopped.found, stopped.completed_at) == (1, None)
        [done] = sweeps.run_due(actor=ACTOR)
    assert (done.found, done.completed_at is not None) == (2, True)
    assert MinimumAgeReview.objects.count() == 2


def test_minimum_age_sweep_writes_nothing_for_an_account_old_enough_under_its_row_lock(
    australians: dict[str, User],
) -> None:
    """The rule is checked again under the row lock: an account old enough by then is skipped."""
    with at_noon(IN_FORCE):
        assert sweeps.place_under_review(australians["au_16"], sweep=None, actor=ACTOR) is False
    assert not MinimumAgeReview.objects.filter(user=australians["au_16"]).exists()


def test_regulator_counts_follow_each_review_to_its_outcome(australians: dict[str, User]) -> None:
    with at_noon(IN_FORCE):
        sweeps.run_due(actor=ACTOR)
    with at_noon(IN_FORCE + dt.timedelta(days=3)):
        prove_age(australians["au_15"], 16)
        User.objects.change_status(
            australians["au_15"], "active", actor=FACTORY_ACTOR, reason="appeal upheld"
        )
        User.objects.change_status(
            australians["au_14"], "banned", actor=FACTORY_ACTOR, reason="closed after review"
        )

    rows = sweeps.regulator_counts(start_on=IN_FORCE, end_on=IN_FORCE + dt.timedelta(days=30))
    [row] = rows
    assert row == {
        "country": "AU",
        "found": 2,
        "notified": 2,
        "verified_older": 0,
        "deactivated": 1,
        "appealed": 1,
        "reinstated": 1,
    }
    assert sweeps.regulator_counts(start_on=BEFORE, end_on=BEFORE) == []


def test_an_approved_proof_of_age_closes_the_review_as_verified_older_and_reactivates(
    australians: dict[str, User], audit_entries: Callable[..., list[AuditEntry]]
) -> None:
    """§7.3 "a grace window of 14 days to provide assurance": the proof is a birthdate correction
    with strong assurance, approved by a senior (§4); the account comes back and the regulator's
    counts say "verified older", not "reinstated"."""
    senior = StaffFactory(roles=[Role.SENIOR_MODERATOR])
    teen = australians["au_15"]
    with at_noon(IN_FORCE):
        sweeps.run_due(actor=ACTOR)
    with at_noon(IN_FORCE + dt.timedelta(days=3)):
        request = prove_age(teen, 16)
        assert status(teen) == "under_age_review"  # nothing changes before a person checks it
        BirthdateChangeRequest.objects.approve(request, actor=senior, note="ID checked.")

    assert status(teen) == "active"
    review = MinimumAgeReview.objects.get(user=teen)
    assert (review.outcome, review.appealed_at is not None) == ("verified_older", True)
    [entry] = [
        e for e in audit_entries("accounts.status.changed") if e.after == {"status": "active"}
    ]
    assert (entry.actor_id, f"birthdate correction {request.pk}" in entry.reason) == (
        str(senior.pk),
        True,
    )
    [row] = sweeps.regulator_counts(start_on=IN_FORCE, end_on=IN_FORCE + dt.timedelta(days=30))
    assert (row["verified_older"], row["reinstated"], row["appealed"]) == (1, 0, 1)


def test_a_correction_that_is_still_below_the_floor_leaves_the_review_open(
    australians: dict[str, User],
) -> None:
    senior = StaffFactory(roles=[Role.SENIOR_MODERATOR])
    teen = australians["au_14"]
    with at_noon(IN_FORCE):
        sweeps.run_due(actor=ACTOR)
        request = prove_age(teen, 15, reference="check:124")
        BirthdateChangeRequest.objects.approve(request, actor=senior, note="ID checked.")
    assert status(teen) == "under_age_review"
    assert MinimumAgeReview.objects.get(user=teen).outcome == "open"


def test_a_younger_correction_below_the_floor_opens_a_review_with_its_notice(
    australians: dict[str, User],
) -> None:
    """§7.3: a signal that places an account below the minimum gets the sweep's review and
    notice, not only a status change; a banned account is not moved."""
    gb_teen = australians["gb_14"]
    with at_noon(IN_FORCE):
        banned = AppUserFactory(birthdate=born(14, on=IN_FORCE), country="GB", status="banned")
        for user in (gb_teen, banned):
            BirthdateChangeRequest.objects.submit(
                user=user,
                new_birthdate=born(12, on=IN_FORCE),
                method=rules.vocabulary.AssuranceMethod.SELF_DECLARED,
                evidence_reference="",
                reason="Typed the wrong year.",
                actor=FACTORY_ACTOR,
            )
    assert (status(gb_teen), status(banned)) == ("under_age_review", "banned")
    review = MinimumAgeReview.objects.get(user=gb_teen)
    assert (review.country, review.found_on, review.sweep) == ("GB", IN_FORCE, None)
    notice = UserNotice.objects.get(user=gb_teen, kind=UserNotice.Kind.MINIMUM_AGE)
    assert "13 or older" in notice.body
    assert not MinimumAgeReview.objects.filter(user=banned).exists()


def test_the_sweep_command_runs_a_staff_sweep_and_writes_the_counts_as_csv(
    australians: dict[str, User], tmp_path: Path
) -> None:
    with at_noon(IN_FORCE):
        out = StringIO()
        call_command("minimum_age_sweep", "--country", "au", stdout=out)
        assert "staff:AU:2025-12-10: 2 account(s) placed under review" in out.getvalue()
    target = tmp_path / "counts.csv"
    call_command(
        "minimum_age_sweep", "--counts", "--from", "2025-12-01", "--to", "2025-12-31",
        "--csv", str(target), stdout=StringIO(),
    )  # fmt: skip
    lines = target.read_text().splitlines()
    assert lines[0] == "country,found,notified,verified_older,deactivated,appealed,reinstated"
    assert lines[1] == "AU,2,2,0,0,0,0"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--country", "XX"], "alpha-2"),
        (["--counts", "--from", "2025-12-01"], "--from and --to"),
        (["--counts", "--from", "2025-12-31", "--to", "2025-12-01"], "before --from"),
        (["--on", "2025-13-01", "--country", "AU"], "YYYY-MM-DD"),
        ([], "--due, --counts"),
    ],
)
def test_the_sweep_command_refuses_bad_input_with_a_message(args: list[str], message: str) -> None:
    from django.core.management import CommandError

    with pytest.raises(CommandError, match=message):
        call_command("minimum_age_sweep", *args, stdout=StringIO())


def test_minimum_age_sweep_batch_costs_a_fixed_number_of_queries_however_many_it_holds(
    django_assert_max_num_queries: Callable[..., object],
) -> None:
    """Set-based batches: 25 accounts in one batch cost what one does (one per account would be
    over a hundred queries)."""
    with at_noon(BEFORE):
        AppUserFactory.create_batch(25, birthdate=born(14, on=IN_FORCE), country="AU")
    with at_noon(IN_FORCE):
        sweep = sweeps.start(key="k", country="AU", on=IN_FORCE, source="t", actor=ACTOR)
        with django_assert_max_num_queries(20):
            sweeps.run(sweep, actor=ACTOR, batch_size=100)
    assert sweep.found == 25
    assert User.objects.filter(status="under_age_review").count() == 25
