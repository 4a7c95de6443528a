"""Contact (POLICY.md §3, "Contact between adults and minors"): direct messages and group threads."""

from __future__ import annotations

from datetime import date
from typing import Final

from .ages import DM_MINIMUM_AGE
from .capabilities import UserFacts, _resolve
from .vocabulary import AccountStatus, Audience, Decision, Feature, Reason, Tier

# A recipient must be in good standing to be reached: POLICY.md §3 locks a thread as soon as a
# participant's account is restricted, so a new message to a restricted account is refused too.
_REACHABLE: Final = frozenset({AccountStatus.ACTIVE})


def can_direct_message(
    sender: UserFacts, recipient: UserFacts, *, are_friends: bool, blocked: bool, on: date
) -> Decision:
    """May `sender` send a direct message to `recipient` on `on`? (POLICY.md §3)

    Checks, first failure wins:

    1. a block either way ends all contact .......................... DM_BLOCKED
    2. sender's status is not active ................................. ACCOUNT_RESTRICTED
    3. sender has a DM restriction (moderation) ...................... FEATURE_RESTRICTED
    4. recipient not active, or has a DM restriction ................. RECIPIENT_UNAVAILABLE
    5. sender under 16 ............................................... DM_SENDER_UNDER_16
    6. recipient under 16 ............................................ DM_RECIPIENT_UNDER_16
    7. sender / recipient below the country's minimum age ............ UNDER_MINIMUM_AGE /
       RECIPIENT_UNAVAILABLE (unreachable while every minimum age is <= 16; kept so that a
       higher national minimum can never open DMs)
    8. sender's guardian turned DMs off .............................. GUARDIAN_RESTRICTED
    9. sender is 16-17 and their own effective DM setting is nobody .. DM_SENDER_SETTING
    10. recipient's effective DM setting is nobody (own setting, tier
        ceiling or guardian) ......................................... DM_RECIPIENT_SETTING
    11. not friends, and either side is a minor or the recipient's
        effective setting is friends ................................. DM_NOT_FRIENDS

    Account-level states come before age so that the answer about a suspended or blocked account
    does not reveal the other person's age; the sender's own limits come before the recipient's
    settings, and a setting of nobody is reported before friendship because it refuses everyone.
    Together 6, 10 and 11 give the adult-to-minor rule: only a 16-17-year-old friend whose effective
    DM setting is friends (the tier ceiling caps 16-17 at friends).
    """
    if blocked:
        return Decision.refuse(Reason.DM_BLOCKED)
    s, t = _resolve(sender, on), _resolve(recipient, on)
    if sender.status is not AccountStatus.ACTIVE:
        return Decision.refuse(Reason.ACCOUNT_RESTRICTED)
    if s.restricts(Feature.DIRECT_MESSAGES):
        return Decision.refuse(Reason.FEATURE_RESTRICTED)
    if recipient.status not in _REACHABLE or t.restricts(Feature.DIRECT_MESSAGES):
        return Decision.refuse(Reason.RECIPIENT_UNAVAILABLE)
    if s.age < DM_MINIMUM_AGE:
        return Decision.refuse(Reason.DM_SENDER_UNDER_16)
    if t.age < DM_MINIMUM_AGE:
        return Decision.refuse(Reason.DM_RECIPIENT_UNDER_16)
    if s.below_minimum_age:
        return Decision.refuse(Reason.UNDER_MINIMUM_AGE)
    if t.below_minimum_age:
        return Decision.refuse(Reason.RECIPIENT_UNAVAILABLE)
    if s.guardian_dm_off:
        return Decision.refuse(Reason.GUARDIAN_RESTRICTED)
    if s.tier is Tier.OLDER_TEEN and s.dm_audience is Audience.NOBODY:
        return Decision.refuse(Reason.DM_SENDER_SETTING)
    if t.dm_audience is Audience.NOBODY:
        return Decision.refuse(Reason.DM_RECIPIENT_SETTING)
    friends_required = (
        s.tier < Tier.ADULT or t.tier < Tier.ADULT or t.dm_audience is Audience.FRIENDS
    )
    if friends_required and not are_friends:
        return Decision.refuse(Reason.DM_NOT_FRIENDS)
    return Decision.allow()


def can_join_group(
    member: UserFacts,
    *,
    added_by: UserFacts | None,
    added_by_is_friend: bool,
    blocked_with_any_member: bool,
    on: date,
) -> Decision:
    """May `member` be in a group thread (added by `added_by`, or joining) on `on`? (POLICY.md §3)

    Checks, first failure wins:

    1. a block between the member and anyone in the thread ........... DM_BLOCKED
    2. the adder's status is not active / adder has a DM restriction . ACCOUNT_RESTRICTED /
                                                                        FEATURE_RESTRICTED
    3. the member is not active, or has a DM restriction ............. RECIPIENT_UNAVAILABLE
    4. the member (or the adder) is under 16 ......................... GROUP_MEMBER_UNDER_16
    5. the member is below the country's minimum age ................. RECIPIENT_UNAVAILABLE
    6. the member's guardian turned DMs off .......................... GUARDIAN_RESTRICTED
    7. the member's effective DM setting is nobody ................... DM_RECIPIENT_SETTING
    8. the member is 16-17, or their effective DM setting is friends,
       and they were not added by a friend ........................... GROUP_ADD_NOT_FRIEND

    A group thread reaches its members like a direct message does, so a member's DM audience decides
    who may add them; for 16-17 that is at most friends, which is the §3 "only by a friend" rule.
    """
    if blocked_with_any_member:
        return Decision.refuse(Reason.DM_BLOCKED)
    m = _resolve(member, on)
    a = _resolve(added_by, on) if added_by is not None else None
    if a is not None:
        if a.facts.status is not AccountStatus.ACTIVE:
            return Decision.refuse(Reason.ACCOUNT_RESTRICTED)
        if a.restricts(Feature.DIRECT_MESSAGES):
            return Decision.refuse(Reason.FEATURE_RESTRICTED)
    if member.status not in _REACHABLE or m.restricts(Feature.DIRECT_MESSAGES):
        return Decision.refuse(Reason.RECIPIENT_UNAVAILABLE)
    if m.age < DM_MINIMUM_AGE or (a is not None and a.age < DM_MINIMUM_AGE):
        return Decision.refuse(Reason.GROUP_MEMBER_UNDER_16)
    if m.below_minimum_age:
        return Decision.refuse(Reason.RECIPIENT_UNAVAILABLE)
    if m.guardian_dm_off:
        return Decision.refuse(Reason.GUARDIAN_RESTRICTED)
    if m.dm_audience is Audience.NOBODY:
        return Decision.refuse(Reason.DM_RECIPIENT_SETTING)
    friend_only = m.tier < Tier.ADULT or m.dm_audience is Audience.FRIENDS
    if friend_only and not (added_by is not None and added_by_is_friend):
        return Decision.refuse(Reason.GROUP_ADD_NOT_FRIEND)
    return Decision.allow()


# POLICY.md §7.4 (DSA art. 28 guidelines, 2025): 16-17-year-olds join a group only by accepting an
# invite from a friend, never by being added. Younger teens are never in groups; adults are added.
_JOIN_BY_INVITE_ONLY: Final = frozenset({Tier.OLDER_TEEN})


def joins_groups_by_invite_only(member: UserFacts, *, on: date) -> bool:
    """Whether `member` may enter a group thread only by accepting an invite (POLICY.md §7.4:
    `group_invite_required` when they are added directly)."""
    return _resolve(member, on).tier in _JOIN_BY_INVITE_ONLY


def status_lock_reason(status: str) -> Reason | None:
    """The reason a participant's threads are locked when their account moves to `status`, or
    None when it does not lock them (POLICY.md §3: a thread whose participant's account is
    restricted is locked).

    Any status but active locks every thread of theirs outright, whoever else is in it: an age
    review as `under_minimum_age` (the account may be below the country's minimum age, §2),
    restricted, suspended or banned as `account_restricted`. Back to active locks nothing, and
    unlocks nothing either: a locked thread reopens only when someone unlocks it.
    """
    status = AccountStatus(status)
    if status is AccountStatus.ACTIVE:
        return None
    if status is AccountStatus.UNDER_AGE_REVIEW:
        return Reason.UNDER_MINIMUM_AGE
    return Reason.ACCOUNT_RESTRICTED
