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

# Methods an assurance result can be recorded with (self-declaration is the birthdate itself).
RESULT_METHOD_CHOICES = [
    (value, label) for value, label in METHOD_CHOICES if value in rules.assurance.KIND_OF_METHOD
]
AGE_RANGE_CHOICES = choices_of(rules.assurance.AgeRange)

# How much a birthdate is worth, by the rung of the ladder its method stands on (POLICY.md §4,
# §7.2): self-declaration and an app-store range are low, the estimation rung (facial estimation,
# payment card, guardian vouch) medium, a document check or an age token high.
_LEVEL_OF_STRENGTH = {
    rules.assurance.Strength.SELF_DECLARED: "low",
    rules.assurance.Strength.APP_STORE_SIGNAL: "low",
    rules.assurance.Strength.FACIAL_ESTIMATION: "medium",
    rules.assurance.Strength.ID_DOCUMENT: "high",
}
ASSURANCE_LEVEL = {
    method: _LEVEL_OF_STRENGTH[strength] for method, strength in rules.assurance.STRENGTH.items()
}
LEVEL_CHOICES = [("low", "Low"), ("medium", "Medium"), ("high", "High")]

# Every ISO 3166-1 alpha-2 code: the values a country of residence may take (POLICY.md §2).
COUNTRY_CODES = sorted(code for code, _name in countries)
