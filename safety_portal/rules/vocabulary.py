"""The words every rule speaks: tiers, statuses, audiences, features, assurance methods, and the
stable refusal codes (POLICY.md §3 "Every refusal has a stable reason code").
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class _RankedStrEnum(StrEnum):
    """A string enum ordered by declaration, not alphabetically.

    Plain `StrEnum` members compare as strings, which would make `"everyone" < "nobody"`. The
    policy's enums have a meaningful order (strictness, age), so comparisons use `rank`. A plain
    string that is a valid value is compared as that member; anything else is not comparable.
    """

    @property
    def rank(self) -> int:
        """Position in declaration order (0 = first)."""
        return type(self)._member_names_.index(self.name)

    def _other_rank(self, other: object) -> int | None:
        if isinstance(other, type(self)):
            return other.rank
        if isinstance(other, str) and not isinstance(other, StrEnum):
            try:
                return type(self)(other).rank
            except ValueError:
                return None
        return None

    def __lt__(self, other: object) -> bool:
        rank = self._other_rank(other)
        return NotImplemented if rank is None else self.rank < rank

    def __le__(self, other: object) -> bool:
        rank = self._other_rank(other)
        return NotImplemented if rank is None else self.rank <= rank

    def __gt__(self, other: object) -> bool:
        rank = self._other_rank(other)
        return NotImplemented if rank is None else self.rank > rank

    def __ge__(self, other: object) -> bool:
        rank = self._other_rank(other)
        return NotImplemented if rank is None else self.rank >= rank


class Tier(_RankedStrEnum):
    """Age tiers of POLICY.md §1, ordered youngest first (`Tier.CHILD < Tier.ADULT`)."""

    CHILD = "child"
    YOUNG_TEEN = "young_teen"
    OLDER_TEEN = "older_teen"
    ADULT = "adult"


class AccountStatus(StrEnum):
    """Lifecycle of an app account (POLICY.md §3 "hold an active account", §4, §6)."""

    ACTIVE = "active"
    RESTRICTED = "restricted"
    SUSPENDED = "suspended"
    BANNED = "banned"
    UNDER_AGE_REVIEW = "under_age_review"


class Audience(_RankedStrEnum):
    """Who a setting lets in, ordered strictest first: `NOBODY < FRIENDS < EVERYONE`."""

    NOBODY = "nobody"
    FRIENDS = "friends"  # mutual follow (POLICY.md §3)
    EVERYONE = "everyone"


class SuggestionReach(_RankedStrEnum):
    """Whom an account is suggested to, strictest first (POLICY.md §3, §7.4): a minor's account is
    never suggested to accounts that are not already connections."""

    NOBODY = "nobody"
    CONNECTIONS = "connections"  # follows them or is followed by them
    EVERYONE = "everyone"


class Feature(StrEnum):
    """Features a moderator can restrict one by one (POLICY.md §3 "moderation restriction")."""

    DIRECT_MESSAGES = "direct_messages"
    COMMENTS = "comments"
    LIVESTREAM = "livestream"
    GIFTS = "gifts"


class AssuranceMethod(StrEnum):
    """How an age was established (POLICY.md §4, §7.2). How strong each is: `rules.assurance`."""

    SELF_DECLARED = "self_declared"
    FACIAL_ESTIMATION = "facial_estimation"
    ID_DOCUMENT = "id_document"
    PAYMENT_CARD = "payment_card"
    GUARDIAN_VOUCH = "guardian_vouch"
    APP_STORE_SIGNAL = "app_store_signal"  # POLICY.md §7.2
    # POLICY.md §7.2: the EU age-verification app or a digital credential (not a secret)
    AGE_TOKEN = "age_token"  # noqa: S105


class Reason(StrEnum):
    """Stable refusal codes shared by the API, the admin and the tests (POLICY.md §3).

    Values are part of the public contract: add codes, never rename or reuse one.
    """

    UNDER_MINIMUM_AGE = "under_minimum_age"
    DM_SENDER_UNDER_16 = "dm_sender_under_16"
    DM_RECIPIENT_UNDER_16 = "dm_recipient_under_16"
    DM_NOT_FRIENDS = "dm_not_friends"
    DM_RECIPIENT_SETTING = "dm_recipient_setting"
    DM_SENDER_SETTING = "dm_sender_setting"
    DM_BLOCKED = "dm_blocked"
    ACCOUNT_RESTRICTED = "account_restricted"
    RECIPIENT_UNAVAILABLE = "recipient_unavailable"
    GROUP_ADD_NOT_FRIEND = "group_add_not_friend"
    GROUP_MEMBER_UNDER_16 = "group_member_under_16"
    SETTING_ABOVE_TIER_CEILING = "setting_above_tier_ceiling"
    SETTING_LOCKED_FOR_TIER = "setting_locked_for_tier"
    GUARDIAN_RESTRICTED = "guardian_restricted"
    GUARDIAN_CONSENT_REQUIRED = "guardian_consent_required"
    TIER_NOT_ELIGIBLE = "tier_not_eligible"
    BELOW_GIFT_AGE = "below_gift_age"
    FEATURE_RESTRICTED = "feature_restricted"
    METHOD_TOO_WEAK = "method_too_weak"
    BIRTHDATE_UNCHANGED = "birthdate_unchanged"
    GUARDIAN_LOOSENS = "guardian_loosens"
    GUARDIAN_NOT_ADULT = "guardian_not_adult"
    TEEN_NOT_MINOR = "teen_not_minor"
    SETTING_NEEDS_GUARDIAN = "setting_needs_guardian"  # POLICY.md §7.4
    GROUP_INVITE_REQUIRED = "group_invite_required"  # POLICY.md §7.4
    ASSURANCE_REQUIRED = "assurance_required"  # POLICY.md §7.2


@dataclass(frozen=True)
class Decision:
    """The answer to "may this happen?": allowed, or refused with a stable reason code."""

    allowed: bool
    reason: Reason | None = None

    def __post_init__(self) -> None:
        if self.allowed == (self.reason is not None):
            raise ValueError("a Decision carries a reason exactly when it refuses")

    @classmethod
    def allow(cls) -> Decision:
        return cls(allowed=True)

    @classmethod
    def refuse(cls, reason: Reason) -> Decision:
        return cls(allowed=False, reason=reason)
