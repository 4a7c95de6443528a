"""The send's one-query facts equal `accounts.facts.facts_for` (messaging/snapshot.py).

The send reads every participant's policy facts in the same query as the participants (issue 3's
performance target); `facts_for` stays the definition. This test holds the two to equality over a
cast that covers what a fact can depend on: every status, restrictions in force, ended, lifted and
not yet started, feature restrictions and suspensions, several guardians (active, proposed, ended)
with DM, screen-time and quiet-hours limits, and own settings. If accounts or moderation change
what a fact means, this fails.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, models, transaction

from accounts.facts import facts_for
from accounts.models import GuardianLink, Restriction, User
from messaging import migrations as messaging_migrations
from messaging.models import ThreadParticipant
from messaging.snapshot import function_sql, participant_rows, send_snapshot
from safety_portal import rules
from safety_portal.core import clock
from tests.factories.accounts import FACTORY_ACTOR
from tests.factories.messaging import befriend, block, follow, group_thread, person
from tests.migrated_sql import assert_in_step

pytestmark = pytest.mark.django_db


def restriction(user: User, kind: str, feature: str = "", **times: dt.datetime | None) -> None:
    now = clock.now()
    Restriction.objects.create(
        user=user,
        kind=kind,
        feature=feature,
        reason="snapshot test",
        starts_at=times.get("starts_at", now - dt.timedelta(days=1)),
        ends_at=times.get("ends_at", now + dt.timedelta(days=5)),
        lifted_at=times.get("lifted_at"),
        created_at=now,
    )


def guardian(
    teen: User, *, limits: rules.guardianship.GuardianLimits | None, consent: bool = False
) -> None:
    parent = person(45, country=teen.country.code)
    link = GuardianLink.objects.propose(guardian=parent, teen=teen, actor=parent)
    link = GuardianLink.objects.consent(link, actor=teen)
    if limits is not None or consent:
        GuardianLink.objects.set_limits(
            link,
            actor=parent,
            limits=limits or rules.guardianship.GuardianLimits(),
            consents_to_personalisation=consent,
        )


@pytest.fixture
def cast() -> list[User]:
    now = clock.now()
    DM, COMMENTS = rules.vocabulary.Feature.DIRECT_MESSAGES, rules.vocabulary.Feature.COMMENTS
    people = {
        "adult": person(30),
        "open_adult": person(52, dm="everyone", country="KR"),
        "teen_two_guardians": person(16, dm="friends", country="FR"),
        # 16+: the database refuses anyone under 16 in any thread (issue 11.5).
        "teen_links_not_active": person(17, country="DE"),
        "suspended": person(28),
        "restricted": person(33),
        "suspension_over": person(40),
        "lifted_and_future": person(22),
        "banned": person(19),
        "two_features": person(25, country="AU"),
    }
    guardian(
        people["teen_two_guardians"],
        limits=rules.guardianship.GuardianLimits(False, 45, (dt.time(21, 0), dt.time(8, 0))),
        consent=True,
    )
    guardian(
        people["teen_two_guardians"],
        limits=rules.guardianship.GuardianLimits(True, None, (dt.time(22, 0), dt.time(9, 0))),
    )
    teen = people["teen_links_not_active"]
    parent = person(41, country="DE")
    GuardianLink.objects.propose(guardian=parent, teen=teen, actor=parent)  # proposed only
    other = person(39, country="DE")
    ended = GuardianLink.objects.propose(guardian=other, teen=teen, actor=other)
    ended = GuardianLink.objects.consent(ended, actor=teen)
    GuardianLink.objects.end(ended, actor=other, reason="test")

    restriction(people["suspended"], "suspension")
    User.objects.change_status(people["suspended"], "suspended", actor=FACTORY_ACTOR, reason="t")
    restriction(people["restricted"], "feature", DM)
    restriction(people["restricted"], "feature", COMMENTS, ends_at=now - dt.timedelta(hours=1))
    User.objects.change_status(people["restricted"], "restricted", actor=FACTORY_ACTOR, reason="t")
    restriction(
        people["suspension_over"],
        "suspension",
        starts_at=now - dt.timedelta(days=10),
        ends_at=now - dt.timedelta(days=3),
    )
    User.objects.change_status(
        people["suspension_over"], "suspended", actor=FACTORY_ACTOR, reason="t"
    )
    restriction(people["lifted_and_future"], "feature", DM, lifted_at=now - dt.timedelta(hours=2))
    restriction(
        people["lifted_and_future"],
        "suspension",
        starts_at=now + dt.timedelta(days=2),
        ends_at=now + dt.timedelta(days=9),
    )
    User.objects.change_status(people["banned"], "banned", actor=FACTORY_ACTOR, reason="t")
    restriction(people["two_features"], "feature", DM, ends_at=None)
    restriction(people["two_features"], "feature", COMMENTS)
    return list(people.values())


def thread_of(users: list[User]):
    """A group holding everyone, the policy notwithstanding (the snapshot reads what is there)."""
    creator = person(30)
    thread = group_thread(creator, [person(30, dm="everyone"), person(30, dm="everyone")])
    for user in users:
        with transaction.atomic():
            models.Model.save(
                ThreadParticipant(
                    thread=thread, user=user, added_by=creator, joined_at=clock.now()
                ),
                force_insert=True,
            )
    return thread


@pytest.mark.parametrize("later", [dt.timedelta(0), dt.timedelta(days=4), dt.timedelta(days=20)])
def test_the_send_snapshot_reads_the_same_facts_as_facts_for(cast, later) -> None:
    thread = thread_of(cast)
    at = clock.now() + later
    rows, facts = send_snapshot(thread.pk, at=at)
    users = [r.user for r in rows]
    expected = facts_for(User.objects.filter(pk__in=[u.pk for u in users]), at=at, on=at.date())
    assert facts == expected
    assert len(rows) == len(cast) + 3  # one row per participant, whatever the links/restrictions
    # The cast really varies what the facts hold (so the equality above says something).
    values = list(expected.values())
    assert {f.status for f in values} >= {"active", "banned"}
    assert any(f.restricted_features for f in values)
    assert ("suspended" in {f.status for f in values}) == (later < dt.timedelta(days=9))
    assert any(f.guardian_limits and f.guardian_limits.quiet_hours for f in values)
    assert any(f.guardian_consent for f in values)


def test_the_snapshot_reads_relations_with_whoever_added_each_person() -> None:
    creator, friend, fan, foe = person(30), person(30), person(30, dm="everyone"), person(30)
    befriend(creator, friend)
    follow(fan, creator)  # one way: not a friend
    thread = group_thread(creator, [friend, fan, person(30, dm="everyone")])
    with transaction.atomic():
        models.Model.save(
            ThreadParticipant(thread=thread, user=foe, added_by=creator, joined_at=clock.now()),
            force_insert=True,
        )
    block(foe, fan)
    rows = participant_rows([thread.pk])
    by_user = {r.user_id: r for r in rows}
    flags = {
        who: (
            by_user[u.pk].follows_adder,
            by_user[u.pk].followed_by_adder,
            by_user[u.pk].blocked_in_thread,
        )
        for who, u in (("creator", creator), ("friend", friend), ("fan", fan), ("foe", foe))
    }
    assert flags == {
        "creator": (False, False, False),  # nobody follows themselves
        "friend": (True, True, False),
        "fan": (True, False, True),
        "foe": (False, False, True),
    }
    assert rows[0].user_id == creator.pk  # join order: the creator first


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PL/pgSQL function: PostgreSQL")
def test_the_send_snapshot_function_rendered_from_the_models_is_the_latest_migrated_version() -> (
    None
):
    assert_in_step(function_sql(), messaging_migrations, "SEND_SNAPSHOT_SQL")
