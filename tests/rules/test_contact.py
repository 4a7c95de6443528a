"""Direct messages and group threads (POLICY.md §3, "Contact between adults and minors").

No database, no Django: the policy is pure, so every rule is checked on facts built in memory.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from safety_portal import rules
from safety_portal.rules.capabilities import UserFacts
from safety_portal.rules.guardianship import GuardianLimits
from safety_portal.rules.safety_settings import SafetySettings
from safety_portal.rules.vocabulary import AccountStatus, Audience, Decision, Feature, Reason, Tier
from tests.dates import born

ON = dt.date(2026, 6, 1)
NOBODY, FRIENDS, EVERYONE = Audience.NOBODY, Audience.FRIENDS, Audience.EVERYONE


def person(
    age: int, dm: Audience | None = None, country: str = "GB", **kwargs: object
) -> UserFacts:
    """Someone of `age`; `dm` sets their own DM setting on top of the tier defaults."""
    own = None
    if dm is not None:
        own = dataclasses.replace(
            rules.safety_settings.default_settings(rules.ages.tier_for_age(age)), dm_setting=dm
        )
    return UserFacts(
        birthdate=born(age, on=ON, days_after_birthday=40), country=country, settings=own, **kwargs
    )  # type: ignore[arg-type]


def dm(
    sender: UserFacts,
    recipient: UserFacts,
    *,
    friends: bool = True,
    blocked: bool = False,
    on: dt.date = ON,
) -> Decision:
    return rules.contact.can_direct_message(
        sender, recipient, are_friends=friends, blocked=blocked, on=on
    )


def refused(decision: Decision) -> Reason | None:
    return None if decision.allowed else decision.reason


# --- the rule, one example per line of POLICY.md §3 ---------------------------------------------


def test_sixteen_year_old_can_message_a_friend() -> None:
    assert dm(person(16, FRIENDS), person(16, FRIENDS)).allowed


def test_sixteen_year_old_cannot_message_someone_who_is_not_a_friend() -> None:
    assert refused(dm(person(16, FRIENDS), person(30, EVERYONE), friends=False)) is (
        Reason.DM_NOT_FRIENDS
    )


def test_sixteen_year_old_with_messages_off_cannot_send() -> None:
    # Messages are off by default for 16-17 (POLICY.md §3 default `nobody`).
    assert refused(dm(person(16), person(16, FRIENDS))) is Reason.DM_SENDER_SETTING


def test_fifteen_year_old_cannot_send_messages() -> None:
    assert refused(dm(person(15), person(15))) is Reason.DM_SENDER_UNDER_16


def test_nobody_can_message_a_fifteen_year_old() -> None:
    assert refused(dm(person(30, FRIENDS), person(15))) is Reason.DM_RECIPIENT_UNDER_16
    assert refused(dm(person(17, FRIENDS), person(15))) is Reason.DM_RECIPIENT_UNDER_16


def test_adult_can_message_a_seventeen_year_old_friend_who_allows_friends() -> None:
    assert dm(person(30), person(17, FRIENDS)).allowed


def test_adult_cannot_message_a_seventeen_year_old_who_is_not_a_friend() -> None:
    assert refused(dm(person(30), person(17, FRIENDS), friends=False)) is Reason.DM_NOT_FRIENDS


def test_adult_cannot_message_a_seventeen_year_old_friend_whose_setting_is_nobody() -> None:
    assert refused(dm(person(30), person(17, NOBODY))) is Reason.DM_RECIPIENT_SETTING


def test_a_minors_everyone_setting_stored_before_a_correction_still_means_friends_only() -> None:
    adult_settings = dataclasses.replace(
        rules.safety_settings.default_settings(Tier.ADULT), dm_setting=EVERYONE
    )
    minor = UserFacts(
        birthdate=born(17, on=ON, days_after_birthday=40), country="GB", settings=adult_settings
    )
    assert refused(dm(person(30), minor, friends=False)) is Reason.DM_NOT_FRIENDS
    assert dm(person(30), minor, friends=True).allowed


def test_adults_message_each_other_within_the_recipients_setting() -> None:
    assert dm(person(30), person(40, EVERYONE), friends=False).allowed
    assert refused(dm(person(30), person(40, FRIENDS), friends=False)) is Reason.DM_NOT_FRIENDS
    assert dm(person(30), person(40, FRIENDS), friends=True).allowed
    assert refused(dm(person(30), person(40, NOBODY))) is Reason.DM_RECIPIENT_SETTING


def test_an_adult_with_messages_set_to_nobody_may_still_write_to_others() -> None:
    assert dm(person(30, NOBODY), person(40, EVERYONE), friends=False).allowed


def test_seventeen_year_old_cannot_message_an_adult_stranger_even_if_the_adult_allows_everyone() -> (
    None
):
    assert refused(dm(person(17, FRIENDS), person(30, EVERYONE), friends=False)) is (
        Reason.DM_NOT_FRIENDS
    )


def test_a_block_either_way_ends_all_contact() -> None:
    assert refused(dm(person(30), person(17, FRIENDS), blocked=True)) is Reason.DM_BLOCKED
    assert refused(dm(person(17, FRIENDS), person(30), blocked=True)) is Reason.DM_BLOCKED


@pytest.mark.parametrize(
    "status",
    [
        AccountStatus.RESTRICTED,
        AccountStatus.SUSPENDED,
        AccountStatus.BANNED,
        AccountStatus.UNDER_AGE_REVIEW,
    ],
)
def test_a_sender_whose_account_is_not_active_cannot_send(status: AccountStatus) -> None:
    assert refused(dm(person(30, status=status), person(40, EVERYONE))) is (
        Reason.ACCOUNT_RESTRICTED
    )


@pytest.mark.parametrize(
    "status",
    [
        AccountStatus.RESTRICTED,
        AccountStatus.SUSPENDED,
        AccountStatus.BANNED,
        AccountStatus.UNDER_AGE_REVIEW,
    ],
)
def test_a_recipient_whose_account_is_not_active_is_unavailable(status: AccountStatus) -> None:
    # POLICY.md §3 locks a thread as soon as a participant's account is restricted.
    assert refused(dm(person(30), person(40, EVERYONE, status=status))) is (
        Reason.RECIPIENT_UNAVAILABLE
    )


def test_a_sender_under_a_dm_ban_cannot_send() -> None:
    banned = person(30, restricted_features=frozenset({Feature.DIRECT_MESSAGES}))
    assert refused(dm(banned, person(40, EVERYONE))) is Reason.FEATURE_RESTRICTED


def test_a_recipient_under_a_dm_ban_is_unavailable() -> None:
    banned = person(40, EVERYONE, restricted_features=frozenset({Feature.DIRECT_MESSAGES}))
    assert refused(dm(person(30), banned)) is Reason.RECIPIENT_UNAVAILABLE


def test_other_moderation_restrictions_do_not_touch_messages() -> None:
    limited = person(30, restricted_features=frozenset({Feature.LIVESTREAM, Feature.GIFTS}))
    assert dm(limited, person(40, EVERYONE), friends=False).allowed


def test_a_teen_whose_guardian_turned_messages_off_cannot_send() -> None:
    teen = person(17, FRIENDS, guardian_limits=GuardianLimits(dm_off=True))
    assert refused(dm(teen, person(17, FRIENDS))) is Reason.GUARDIAN_RESTRICTED


def test_nobody_can_message_a_teen_whose_guardian_turned_messages_off() -> None:
    # The guardian's limit is part of the teen's effective setting; the sender is not told why.
    teen = person(17, FRIENDS, guardian_limits=GuardianLimits(dm_off=True))
    assert refused(dm(person(30), teen)) is Reason.DM_RECIPIENT_SETTING


def test_messages_open_on_the_sixteenth_birthday_and_not_the_day_before() -> None:
    birthday_16 = dt.date(2010, 3, 14)
    teen = UserFacts(
        birthdate=birthday_16,
        country="GB",
        settings=dataclasses.replace(
            rules.safety_settings.default_settings(Tier.OLDER_TEEN), dm_setting=FRIENDS
        ),
    )
    friend = person(17, FRIENDS)
    assert refused(dm(teen, friend, on=dt.date(2026, 3, 13))) is Reason.DM_SENDER_UNDER_16
    assert dm(teen, friend, on=dt.date(2026, 3, 14)).allowed


def test_leap_day_teen_can_be_messaged_from_1_march_in_a_non_leap_year() -> None:
    teen = UserFacts(
        birthdate=dt.date(2008, 2, 29),
        country="GB",
        settings=dataclasses.replace(
            rules.safety_settings.default_settings(Tier.OLDER_TEEN), dm_setting=FRIENDS
        ),
    )
    adult = person(30)
    # 16 on 1 March 2024? No: 2024 is a leap year, the birthday is 29 February 2024.
    assert refused(dm(adult, teen, on=dt.date(2024, 2, 28))) is Reason.DM_RECIPIENT_UNDER_16
    assert dm(adult, teen, on=dt.date(2024, 2, 29)).allowed


# --- precedence ------------------------------------------------------------------------------------


def test_a_block_is_reported_before_anything_else() -> None:
    child = person(12, status=AccountStatus.SUSPENDED)
    assert refused(dm(child, child, friends=False, blocked=True)) is Reason.DM_BLOCKED


def test_the_senders_account_state_is_reported_before_the_recipients_age() -> None:
    assert refused(dm(person(30, status=AccountStatus.SUSPENDED), person(14))) is (
        Reason.ACCOUNT_RESTRICTED
    )


def test_an_unavailable_recipient_is_reported_before_either_age() -> None:
    assert refused(dm(person(14), person(14, status=AccountStatus.BANNED))) is (
        Reason.RECIPIENT_UNAVAILABLE
    )


def test_the_senders_age_is_reported_before_the_recipients() -> None:
    assert refused(dm(person(14), person(14))) is Reason.DM_SENDER_UNDER_16


def test_the_recipients_nobody_setting_is_reported_before_friendship() -> None:
    assert refused(dm(person(30), person(40, NOBODY), friends=False)) is (
        Reason.DM_RECIPIENT_SETTING
    )


def test_the_senders_own_setting_is_reported_before_the_recipients() -> None:
    assert refused(dm(person(17, NOBODY), person(17, NOBODY))) is Reason.DM_SENDER_SETTING


# --- the rule against an independent model, around the 13/16/18 boundaries -----------------------

BOUNDARY_AGES = [12, 13, 15, 16, 17, 18, 19, 30]


def reference_age(birthdate: dt.date, on: dt.date) -> int:
    return on.year - birthdate.year - ((on.month, on.day) < (birthdate.month, birthdate.day))


def reference_effective_dm(facts: UserFacts, age: int) -> Audience:
    """POLICY.md §3 read afresh: tier values and defaults, then the guardian."""
    if facts.guardian_limits is not None and facts.guardian_limits.dm_off:
        return NOBODY
    if age < 16:
        return NOBODY
    own = facts.settings.dm_setting if facts.settings else (FRIENDS if age >= 18 else NOBODY)
    if age < 18 and own is EVERYONE:  # 16-17 may choose nobody or friends only
        return FRIENDS
    return own


def reference_side_allows(facts: UserFacts, age: int, *, sending: bool, friends: bool) -> bool:
    """One side's rules: 16-17 only with friends and only if their own setting allows; adults
    receive within their setting and send freely (the other side's rules apply)."""
    if age < 16 or facts.status is not AccountStatus.ACTIVE:
        return False
    if Feature.DIRECT_MESSAGES in facts.restricted_features:
        return False
    setting = reference_effective_dm(facts, age)
    if sending and facts.guardian_limits is not None and facts.guardian_limits.dm_off:
        return False
    if age < 18:
        return friends and setting is FRIENDS
    if sending:
        return True
    return setting is EVERYONE or (setting is FRIENDS and friends)


@st.composite
def boundary_person(draw: st.DrawFn, on: dt.date) -> UserFacts:
    """Someone whose birthday is exactly on, just before or just after a boundary age."""
    age = draw(st.sampled_from(BOUNDARY_AGES))
    offset = draw(st.sampled_from([-1, 0, 1, 200]))
    birthdate = rules.ages.latest_birthdate_for_age(age, on) + dt.timedelta(days=offset)
    own = draw(
        st.one_of(
            st.none(),
            st.builds(
                SafetySettings,
                st.sampled_from(list(Audience)),
                st.booleans(),
                st.sampled_from(list(Audience)),
                st.sampled_from(list(Audience)),
                st.booleans(),
                st.booleans(),
            ),
        )
    )
    return UserFacts(
        birthdate=birthdate,
        country=draw(st.sampled_from(["GB", "AU", "DE", "US", "KR"])),
        status=draw(st.sampled_from([AccountStatus.ACTIVE] * 4 + list(AccountStatus))),
        settings=own,
        guardian_limits=draw(st.sampled_from([None, None, GuardianLimits(dm_off=True)])),
        restricted_features=draw(
            st.sampled_from([frozenset(), frozenset(), frozenset({Feature.DIRECT_MESSAGES})])
        ),
    )


@st.composite
def conversations(draw: st.DrawFn) -> tuple[UserFacts, UserFacts, bool, bool, dt.date]:
    on = draw(
        st.one_of(
            st.dates(dt.date(2020, 1, 1), dt.date(2030, 12, 31)),
            st.sampled_from([dt.date(2024, 2, 29), dt.date(2025, 2, 28), dt.date(2025, 3, 1)]),
        )
    )
    return (
        draw(boundary_person(on)),
        draw(boundary_person(on)),
        draw(st.booleans()),
        draw(st.sampled_from([False, False, False, True])),  # blocked: now and then
        on,
    )


@settings(max_examples=700, deadline=None)
@given(conversations())
def test_direct_messages_match_the_contact_rule_around_13_16_and_18(
    case: tuple[UserFacts, UserFacts, bool, bool, dt.date],
) -> None:
    sender, recipient, friends, blocked, on = case
    s_age, r_age = reference_age(sender.birthdate, on), reference_age(recipient.birthdate, on)
    expected = (
        not blocked
        and reference_side_allows(sender, s_age, sending=True, friends=friends)
        and reference_side_allows(recipient, r_age, sending=False, friends=friends)
    )
    decision = rules.contact.can_direct_message(
        sender, recipient, are_friends=friends, blocked=blocked, on=on
    )
    assert decision.allowed == expected
    if decision.allowed:
        # An adult reaches a minor only as a 16-17 friend whose setting is friends.
        if s_age >= 18 and r_age < 18:
            assert r_age >= 16
            assert friends
            assert reference_effective_dm(recipient, r_age) is FRIENDS
        # What the decision allows, each side's capabilities allow too: one rule, one place.
        assert rules.capabilities.capabilities(sender, on=on)["direct_messages"].allowed
        assert (
            rules.capabilities.capabilities(recipient, on=on)["direct_messages"].value is not NOBODY
        )
    else:
        assert decision.reason is not None


@settings(max_examples=300, deadline=None)
@given(conversations())
def test_a_block_refuses_both_directions(
    case: tuple[UserFacts, UserFacts, bool, bool, dt.date],
) -> None:
    a, b, friends, _, on = case
    for sender, recipient in ((a, b), (b, a)):
        decision = rules.contact.can_direct_message(
            sender, recipient, are_friends=friends, blocked=True, on=on
        )
        assert decision.reason is Reason.DM_BLOCKED


@settings(max_examples=300, deadline=None)
@given(conversations())
@example((  # a 15-year-old who is one day short of 16 does not become reachable
    UserFacts(birthdate=dt.date(2010, 3, 15), country="GB"),
    UserFacts(birthdate=dt.date(1990, 1, 1), country="GB"),
    True,
    False,
    dt.date(2026, 3, 14),
))  # fmt: skip
def test_no_one_under_16_ever_sends_or_receives(
    case: tuple[UserFacts, UserFacts, bool, bool, dt.date],
) -> None:
    a, b, friends, _, on = case
    for sender, recipient in ((a, b), (b, a)):
        decision = rules.contact.can_direct_message(
            sender, recipient, are_friends=friends, blocked=False, on=on
        )
        if min(rules.ages.age_on(a.birthdate, on), rules.ages.age_on(b.birthdate, on)) < 16:
            assert not decision.allowed


# --- group threads ---------------------------------------------------------------------------------


def join(
    member: UserFacts,
    added_by: UserFacts | None,
    *,
    friend: bool = True,
    blocked: bool = False,
    on: dt.date = ON,
) -> Decision:
    return rules.contact.can_join_group(
        member,
        added_by=added_by,
        added_by_is_friend=friend,
        blocked_with_any_member=blocked,
        on=on,
    )


def test_seventeen_year_old_can_be_added_to_a_group_by_a_friend() -> None:
    assert join(person(17, FRIENDS), person(17, FRIENDS)).allowed


def test_seventeen_year_old_cannot_be_added_by_someone_who_is_not_a_friend() -> None:
    assert refused(join(person(17, FRIENDS), person(30), friend=False)) is (
        Reason.GROUP_ADD_NOT_FRIEND
    )


def test_seventeen_year_old_cannot_be_put_in_a_group_without_an_adding_friend() -> None:
    assert refused(join(person(17, FRIENDS), None)) is Reason.GROUP_ADD_NOT_FRIEND


def test_fifteen_year_old_cannot_be_in_a_group_thread() -> None:
    assert refused(join(person(15), person(30))) is Reason.GROUP_MEMBER_UNDER_16


def test_fifteen_year_old_cannot_add_anyone_to_a_group_thread() -> None:
    assert refused(join(person(30, EVERYONE), person(15))) is Reason.GROUP_MEMBER_UNDER_16


def test_adults_open_to_everyone_can_be_added_by_anyone() -> None:
    assert join(person(30, EVERYONE), person(40), friend=False).allowed


def test_adults_open_to_friends_can_be_added_only_by_friends() -> None:
    assert refused(join(person(30, FRIENDS), person(40), friend=False)) is (
        Reason.GROUP_ADD_NOT_FRIEND
    )


def test_a_block_with_anyone_in_the_thread_keeps_the_member_out() -> None:
    assert refused(join(person(30, EVERYONE), person(40), blocked=True)) is Reason.DM_BLOCKED


def test_a_restricted_adder_cannot_add_and_a_restricted_member_cannot_be_added() -> None:
    restricted = person(40, status=AccountStatus.RESTRICTED)
    assert refused(join(person(30, EVERYONE), restricted)) is Reason.ACCOUNT_RESTRICTED
    assert refused(join(restricted, person(30))) is Reason.RECIPIENT_UNAVAILABLE


def test_a_teen_whose_guardian_turned_messages_off_cannot_be_added() -> None:
    teen = person(17, FRIENDS, guardian_limits=GuardianLimits(dm_off=True))
    assert refused(join(teen, person(17, FRIENDS))) is Reason.GUARDIAN_RESTRICTED


def test_a_teen_with_messages_off_cannot_be_added() -> None:
    assert refused(join(person(17), person(17, FRIENDS))) is Reason.DM_RECIPIENT_SETTING


@settings(max_examples=400, deadline=None)
@given(conversations(), st.booleans())
def test_group_membership_matches_the_rule_around_13_16_and_18(
    case: tuple[UserFacts, UserFacts, bool, bool, dt.date], with_adder: bool
) -> None:
    member, adder, friend, blocked, on = case
    m_age, a_age = reference_age(member.birthdate, on), reference_age(adder.birthdate, on)
    adder_ok = not with_adder or (
        adder.status is AccountStatus.ACTIVE
        and Feature.DIRECT_MESSAGES not in adder.restricted_features
        and a_age >= 16
    )
    expected = (
        not blocked
        and adder_ok
        and reference_side_allows(member, m_age, sending=False, friends=friend and with_adder)
    )
    decision = rules.contact.can_join_group(
        member,
        added_by=adder if with_adder else None,
        added_by_is_friend=friend,
        blocked_with_any_member=blocked,
        on=on,
    )
    assert decision.allowed == expected
    if decision.allowed and m_age < 18:
        assert m_age >= 16
        assert with_adder
        assert friend


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (AccountStatus.ACTIVE, None),
        (AccountStatus.RESTRICTED, Reason.ACCOUNT_RESTRICTED),
        (AccountStatus.SUSPENDED, Reason.ACCOUNT_RESTRICTED),
        (AccountStatus.BANNED, Reason.ACCOUNT_RESTRICTED),
        (AccountStatus.UNDER_AGE_REVIEW, Reason.UNDER_MINIMUM_AGE),
    ],
)
def test_every_status_but_active_locks_a_participants_threads(
    status: AccountStatus, reason: Reason | None
) -> None:
    assert rules.contact.status_lock_reason(status) is reason
    assert rules.contact.status_lock_reason(status.value) is reason  # as the signal sends it
