"""Django choices built from the policy module's enums, so the values exist in one place only."""

from __future__ import annotations

from enum import StrEnum

from django_countries import countries

from safety_portal import rules


def choices_of(enum: type[StrEnum]) -> list[tuple[str, str]]:
    return [(member.value, member.value.replace("_", " ").capitalize()) for member in enum]


STATUS_CHOICES = choices_of(rules.vocabulary.AccountStatus)
AUDIENCE_CHOICES = choices_of(rules.vocabulary.Audience)
METHOD_CHOICES = choices_of(rules.vocabulary.AssuranceMethod)
TIER_CHOICES = choices_of(rules.vocabulary.Tier)

# How much a birthdate is worth, by the method that established it (POLICY.md §4). Self-declaration
# is the weakest; a document check or a payment card is the strongest the portal records.
ASSURANCE_LEVEL = {
    rules.vocabulary.AssuranceMethod.SELF_DECLARED: "low",
    rules.vocabulary.AssuranceMethod.GUARDIAN_VOUCH: "medium",
    rules.vocabulary.AssuranceMethod.FACIAL_ESTIMATION: "medium",
    rules.vocabulary.AssuranceMethod.PAYMENT_CARD: "high",
    rules.vocabulary.AssuranceMethod.ID_DOCUMENT: "high",
}
LEVEL_CHOICES = [("low", "Low"), ("medium", "Medium"), ("high", "High")]

# Every ISO 3166-1 alpha-2 code: the values a country of residence may take (POLICY.md §2).
COUNTRY_CODES = sorted(code for code, _name in countries)
