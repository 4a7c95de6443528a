"""Django choices built from the policy module's enums, so the values exist in one place only."""

from __future__ import annotations

from enum import StrEnum

from . import policy


def choices_of(enum: type[StrEnum]) -> list[tuple[str, str]]:
    return [(member.value, member.value.replace("_", " ").capitalize()) for member in enum]


STATUS_CHOICES = choices_of(policy.AccountStatus)
AUDIENCE_CHOICES = choices_of(policy.Audience)
METHOD_CHOICES = choices_of(policy.AssuranceMethod)
TIER_CHOICES = choices_of(policy.Tier)

# How much a birthdate is worth, by the method that established it (POLICY.md §4). Self-declaration
# is the weakest; a document check or a payment card is the strongest the portal records.
ASSURANCE_LEVEL = {
    policy.AssuranceMethod.SELF_DECLARED: "low",
    policy.AssuranceMethod.GUARDIAN_VOUCH: "medium",
    policy.AssuranceMethod.FACIAL_ESTIMATION: "medium",
    policy.AssuranceMethod.PAYMENT_CARD: "high",
    policy.AssuranceMethod.ID_DOCUMENT: "high",
}
LEVEL_CHOICES = [("low", "Low"), ("medium", "Medium"), ("high", "High")]
