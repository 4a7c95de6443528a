"""The jurisdiction table of POLICY.md §2, as data.

Every number that depends on where a user lives is in this module and nowhere else, each row with
the source a reviewer can check it against. Changing a number is a code change, reviewed like any
other (POLICY.md §2). The module is pure: no Django, no I/O, no clock.

Country codes are ISO 3166-1 alpha-2, upper case (`"GB"`, not `"UK"`; `"GR"`, not the EU's `"EL"`).
Lookups upper-case their argument, so that a lower-case code can never fall through to a laxer
default, and reject anything that is not two ASCII letters.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

# The 27 EU member states and the three EEA EFTA states (Iceland, Liechtenstein, Norway).
EU_COUNTRIES: Final[frozenset[str]] = frozenset(
    {
        "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE",
        "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
    }
)  # fmt: skip
EEA_EFTA_COUNTRIES: Final[frozenset[str]] = frozenset({"IS", "LI", "NO"})
EU_EEA_COUNTRIES: Final[frozenset[str]] = EU_COUNTRIES | EEA_EFTA_COUNTRIES


@dataclass(frozen=True)
class AgeRule:
    """One row of the POLICY.md §2 table: an age threshold that may differ by country.

    `default_scope` limits where the default applies: a country outside it that has no override has
    no such threshold at all (the digital-consent age exists only in the EU/EEA and where a national
    law sets one). `None` means the default applies everywhere.
    """

    name: str
    description: str
    default: int
    overrides: Mapping[str, int]
    source: str
    default_scope: frozenset[str] | None = None

    def for_country(self, country: str) -> int | None:
        """The threshold for `country`, or None where the rule does not apply there."""
        code = normalise_country(country)
        if code in self.overrides:
            return self.overrides[code]
        if self.default_scope is None or code in self.default_scope:
            return self.default
        return None


def normalise_country(country: str) -> str:
    """Upper-case an ISO 3166-1 alpha-2 code; raise ValueError for anything else.

    Why upper-case rather than reject: `"au"` must not silently get the default minimum age of 13
    instead of Australia's 16.
    """
    code = country.strip().upper()
    if len(code) != 2 or not (code.isascii() and code.isalpha()):
        raise ValueError(f"{country!r} is not an ISO 3166-1 alpha-2 country code")
    return code


def _by_value(groups: Mapping[int, Iterable[str]]) -> Mapping[str, int]:
    """Flatten {age: countries} into {country: age}, refusing a country listed twice."""
    flat: dict[str, int] = {}
    for age, countries in groups.items():
        for country in countries:
            if country in flat:
                raise ValueError(f"{country} is listed twice in the jurisdiction table")
            flat[country] = age
    return MappingProxyType(flat)


DEFAULT_MINIMUM_AGE: Final = 13
MINIMUM_AGE_OVERRIDES: Final[Mapping[str, int]] = MappingProxyType({"AU": 16})
MINIMUM_AGE = AgeRule(
    name="minimum_age",
    description="minimum age to hold an account",
    default=DEFAULT_MINIMUM_AGE,
    overrides=MINIMUM_AGE_OVERRIDES,
    source=(
        "Platform terms (13); AU 16: Online Safety Amendment (Social Media Minimum Age) Act 2024, "
        "in force 10 Dec 2025."
    ),
)

DEFAULT_DIGITAL_CONSENT_AGE: Final = 16
DIGITAL_CONSENT_AGE_OVERRIDES: Final[Mapping[str, int]] = _by_value(
    {
        13: ("BE", "EE", "FI", "LV", "MT", "PT", "SE", "IS", "NO", "GB"),
        14: ("AT", "BG", "CY", "ES", "IT", "LT"),
        15: ("CZ", "DK", "FR", "GR", "SI"),
        16: ("DE", "HR", "HU", "IE", "LU", "NL", "PL", "RO", "SK", "LI"),
    }
)
DIGITAL_CONSENT_AGE = AgeRule(
    name="digital_consent_age",
    description=(
        "age of digital consent (GDPR art. 8): below it, consent-based processing needs a "
        "guardian's consent"
    ),
    default=DEFAULT_DIGITAL_CONSENT_AGE,
    overrides=DIGITAL_CONSENT_AGE_OVERRIDES,
    source=(
        "GDPR art. 8(1) (16 unless national law lowers it, not below 13); national laws as "
        "collected in the Bird & Bird GDPR tracker and Commission SWD(2020) 115; GB: UK GDPR "
        "art. 8 as amended by the Data Protection Act 2018 (13)."
    ),
    default_scope=EU_EEA_COUNTRIES,
)

DEFAULT_GIFT_MINIMUM_AGE: Final = 18
GIFT_MINIMUM_AGE_OVERRIDES: Final[Mapping[str, int]] = MappingProxyType({"KR": 19})
GIFT_MINIMUM_AGE = AgeRule(
    name="gift_minimum_age",
    description="minimum age for virtual gifts (buy, send, receive)",
    default=DEFAULT_GIFT_MINIMUM_AGE,
    overrides=GIFT_MINIMUM_AGE_OVERRIDES,
    source="TikTok gifting policy ('Send a gift during a LIVE'; 'Updating our gifting policies').",
)

DEFAULT_PERSONALISED_ADS_MINIMUM_AGE: Final = 18
PERSONALISED_ADS_MINIMUM_AGE = AgeRule(
    name="personalised_ads_minimum_age",
    description="personalised advertising: off for every minor",
    default=DEFAULT_PERSONALISED_ADS_MINIMUM_AGE,
    overrides=MappingProxyType({}),
    source="EU DSA art. 28(2); UK Age Appropriate Design Code std. 12.",
)

RULES: Final[tuple[AgeRule, ...]] = (
    MINIMUM_AGE,
    DIGITAL_CONSENT_AGE,
    GIFT_MINIMUM_AGE,
    PERSONALISED_ADS_MINIMUM_AGE,
)


def is_eu_eea(country: str) -> bool:
    """Whether `country` is an EU member state or an EEA EFTA state (POLICY.md §2)."""
    return normalise_country(country) in EU_EEA_COUNTRIES


def minimum_age(country: str) -> int:
    """Minimum age to hold an account where the user lives: 13, AU 16 (POLICY.md §2)."""
    age = MINIMUM_AGE.for_country(country)
    assert age is not None  # the rule has no scope: it applies everywhere
    return age


def digital_consent_age(country: str) -> int | None:
    """GDPR art. 8 age of digital consent (POLICY.md §2, §5).

    16 in EU/EEA countries without an override, the listed national age otherwise (GB, outside the
    EU/EEA, is listed with 13), and None for every other country: there the minimum age still
    applies but no separate consent age does.
    """
    return DIGITAL_CONSENT_AGE.for_country(country)


def gift_minimum_age(country: str) -> int:
    """Minimum age to buy, send or receive virtual gifts: 18, KR 19 (POLICY.md §2)."""
    age = GIFT_MINIMUM_AGE.for_country(country)
    assert age is not None
    return age


def personalised_ads_minimum_age(country: str) -> int:
    """Minimum age for personalised advertising: 18 everywhere (POLICY.md §2; DSA art. 28(2))."""
    age = PERSONALISED_ADS_MINIMUM_AGE.for_country(country)
    assert age is not None
    return age
