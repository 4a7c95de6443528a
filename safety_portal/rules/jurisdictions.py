"""The jurisdiction rules of POLICY.md §2 and §7.1, as dated data.

Every number that depends on where a user lives is a row of `TABLE` below and nowhere else. A row
says which rule it is, where it applies, its value, from when and until when, whether it is in
force, adopted or only proposed, and the source a reviewer can check it against. The law moves
(POLICY.md §7): a rule is therefore always asked "as of a date", and the date is an argument, never
the clock (this module is pure: no Django, no I/O).

Why a typed table in code and not a database table an admin can edit: a rule change is reviewed
like code (POLICY.md §2), with its source in the diff, and the table is checked when the module is
imported (`check_table`), so a malformed row stops the portal from starting rather than answering
with a laxer default.

Country codes are ISO 3166-1 alpha-2, upper case (`"GB"`, not `"UK"`; `"GR"`, not the EU's `"EL"`).
Lookups upper-case their argument, so that a lower-case code can never fall through to a laxer
default, and reject anything that is not two ASCII letters. Subdivision rows (US states' app-store
laws) carry an ISO 3166-2 `region` such as `"US-UT"`.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
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


class RuleName(StrEnum):
    """The rules that differ by country (POLICY.md §2, §7.1, §7.2)."""

    MINIMUM_AGE = "minimum_age"
    GUARDIAN_CONSENT_BAND = "guardian_consent_band"
    DIGITAL_CONSENT_AGE = "digital_consent_age"
    GIFT_MINIMUM_AGE = "gift_minimum_age"
    PERSONALISED_ADS_MINIMUM_AGE = "personalised_ads_minimum_age"
    APP_STORE_AGE_SIGNAL = "app_store_age_signal"


DESCRIPTIONS: Final[dict[RuleName, str]] = {
    RuleName.MINIMUM_AGE: "minimum age to hold an account",
    RuleName.GUARDIAN_CONSENT_BAND: "ages at which an account is held only with a guardian's consent",
    RuleName.DIGITAL_CONSENT_AGE: (
        "age of digital consent (GDPR art. 8): below it, consent-based processing needs a "
        "guardian's consent"
    ),
    RuleName.GIFT_MINIMUM_AGE: "minimum age for virtual gifts (buy, send, receive)",
    RuleName.PERSONALISED_ADS_MINIMUM_AGE: "personalised advertising: off below this age",
    RuleName.APP_STORE_AGE_SIGNAL: "app stores must send an age-range signal to apps",
}


class RuleStatus(StrEnum):
    """POLICY.md §7: in force (apply it), adopted (apply from its date), proposed (off until a date
    is set: a proposed row without `effective_from` never applies)."""

    IN_FORCE = "in_force"
    ADOPTED = "adopted"
    PROPOSED = "proposed"


@dataclass(frozen=True)
class AgeBand:
    """Ages `youngest`..`oldest` inclusive (the guardian-consent band of POLICY.md §7.1)."""

    youngest: int
    oldest: int

    def __post_init__(self) -> None:
        if not 0 <= self.youngest <= self.oldest:
            raise ValueError(f"an age band runs from youngest to oldest, not {self}")

    def __contains__(self, age: object) -> bool:
        return isinstance(age, int) and self.youngest <= age <= self.oldest

    def __str__(self) -> str:
        return f"{self.youngest}-{self.oldest}"


RuleValue = int | AgeBand | bool
_VALUE_TYPES: Final[dict[RuleName, type]] = {
    RuleName.MINIMUM_AGE: int,
    RuleName.GUARDIAN_CONSENT_BAND: AgeBand,
    RuleName.DIGITAL_CONSENT_AGE: int,
    RuleName.GIFT_MINIMUM_AGE: int,
    RuleName.PERSONALISED_ADS_MINIMUM_AGE: int,
    RuleName.APP_STORE_AGE_SIGNAL: bool,
}


@dataclass(frozen=True)
class JurisdictionRule:
    """One dated row: `name` has `value` in `country` (None: the default row) from
    `effective_from` (None: since before the portal) until the day before `effective_to` (None:
    open-ended).

    A default row applies in the countries of `scope` (None: everywhere) that have no row of their
    own in force on the date: the digital-consent age exists only in the EU/EEA and where a
    national law sets one.
    """

    name: RuleName
    value: RuleValue
    status: RuleStatus
    source: str
    country: str | None = None
    region: str | None = None
    scope: frozenset[str] | None = None
    effective_from: dt.date | None = None
    effective_to: dt.date | None = None

    def applies_on(self, on: dt.date) -> bool:
        """Whether the row is the law (or the platform's terms) on `on`."""
        if self.status is RuleStatus.PROPOSED and self.effective_from is None:
            return False
        if self.effective_from is not None and on < self.effective_from:
            return False
        return self.effective_to is None or on < self.effective_to

    @property
    def where(self) -> str:
        """Where the row applies, for people: "default", "AU", "US-UT"."""
        return self.region or self.country or "default"

    @property
    def description(self) -> str:
        return DESCRIPTIONS[self.name]


def normalise_country(country: str) -> str:
    """Upper-case an ISO 3166-1 alpha-2 code; raise ValueError for anything else.

    Why upper-case rather than reject: `"au"` must not silently get the default minimum age of 13
    instead of Australia's 16.
    """
    code = country.strip().upper()
    if len(code) != 2 or not (code.isascii() and code.isalpha()):
        raise ValueError(f"{country!r} is not an ISO 3166-1 alpha-2 country code")
    return code


def _countries(
    name: RuleName, value: RuleValue, countries: Iterable[str], **row: object
) -> Iterator[JurisdictionRule]:
    for country in countries:
        yield JurisdictionRule(name=name, value=value, country=country, **row)  # type: ignore[arg-type]


def _app_store_signal(
    region: str, status: RuleStatus, start: dt.date, source: str
) -> JurisdictionRule:
    """A state law that makes app stores send apps an age-range signal (POLICY.md §7.2)."""
    return JurisdictionRule(
        RuleName.APP_STORE_AGE_SIGNAL,
        True,
        status,
        source,
        country=region.split("-", 1)[0],
        region=region,
        effective_from=start,
    )


_GDPR_ART_8 = (
    "GDPR art. 8(1) (16 unless national law lowers it, not below 13); national laws as collected "
    "in the Bird & Bird GDPR tracker and Commission SWD(2020) 115"
)
_FR_BILL = (
    "French bill on a social-media minimum age (Senate vote 31 Mar 2026; final text unverified)"
)
_DK_PLAN = "Danish government announcement on a social-media minimum age (2025)"
_IN_FORCE, _ADOPTED, _PROPOSED = RuleStatus.IN_FORCE, RuleStatus.ADOPTED, RuleStatus.PROPOSED

TABLE: Final[tuple[JurisdictionRule, ...]] = (
    # --- minimum age to hold an account (POLICY.md §2, §7.1) -----------------------------------
    JurisdictionRule(RuleName.MINIMUM_AGE, 13, _IN_FORCE, "Platform terms."),
    JurisdictionRule(
        RuleName.MINIMUM_AGE,
        16,
        _IN_FORCE,
        "Online Safety Amendment (Social Media Minimum Age) Act 2024; eSafety Commissioner, "
        "Social Media Minimum Age regulatory guidance ('reasonable steps', 2025).",
        country="AU",
        effective_from=dt.date(2025, 12, 10),
    ),
    JurisdictionRule(RuleName.MINIMUM_AGE, 15, _PROPOSED, _FR_BILL + ".", country="FR"),
    JurisdictionRule(
        RuleName.GUARDIAN_CONSENT_BAND,
        AgeBand(13, 14),
        _PROPOSED,
        _FR_BILL + ": 13-14 only with a guardian's consent.",
        country="FR",
    ),
    JurisdictionRule(RuleName.MINIMUM_AGE, 15, _PROPOSED, _DK_PLAN + ".", country="DK"),
    JurisdictionRule(
        RuleName.GUARDIAN_CONSENT_BAND,
        AgeBand(13, 14),
        _PROPOSED,
        _DK_PLAN + ": 13-14 with a guardian's consent.",
        country="DK",
    ),
    # --- age of digital consent (GDPR art. 8; POLICY.md §2, §5) --------------------------------
    JurisdictionRule(
        RuleName.DIGITAL_CONSENT_AGE, 16, _IN_FORCE, _GDPR_ART_8 + ".", scope=EU_EEA_COUNTRIES
    ),
    *_countries(
        RuleName.DIGITAL_CONSENT_AGE,
        13,
        ("BE", "EE", "FI", "LV", "MT", "PT", "SE", "IS", "NO"),
        status=_IN_FORCE,
        source=_GDPR_ART_8 + ".",
    ),
    JurisdictionRule(
        RuleName.DIGITAL_CONSENT_AGE,
        13,
        _IN_FORCE,
        "UK GDPR art. 8 as amended by the Data Protection Act 2018 s. 9.",
        country="GB",
    ),
    *_countries(
        RuleName.DIGITAL_CONSENT_AGE,
        14,
        ("AT", "BG", "CY", "ES", "IT", "LT"),
        status=_IN_FORCE,
        source=_GDPR_ART_8 + ".",
    ),
    *_countries(
        RuleName.DIGITAL_CONSENT_AGE,
        15,
        ("CZ", "DK", "FR", "GR", "SI"),
        status=_IN_FORCE,
        source=_GDPR_ART_8 + ".",
    ),
    *_countries(
        RuleName.DIGITAL_CONSENT_AGE,
        16,
        ("DE", "HR", "HU", "IE", "LU", "NL", "PL", "RO", "SK", "LI"),
        status=_IN_FORCE,
        source=_GDPR_ART_8 + ".",
    ),
    # --- virtual gifts and advertising (POLICY.md §2) ------------------------------------------
    JurisdictionRule(
        RuleName.GIFT_MINIMUM_AGE,
        18,
        _IN_FORCE,
        "TikTok gifting policy ('Send a gift during a LIVE'; 'Updating our gifting policies').",
    ),
    JurisdictionRule(
        RuleName.GIFT_MINIMUM_AGE, 19, _IN_FORCE, "TikTok gifting policy (KR: 19).", country="KR"
    ),
    JurisdictionRule(
        RuleName.PERSONALISED_ADS_MINIMUM_AGE,
        18,
        _IN_FORCE,
        "EU DSA art. 28(2); UK Age Appropriate Design Code std. 12.",
    ),
    # --- app-store age signals (POLICY.md §7.2) ------------------------------------------------
    _app_store_signal(
        "US-UT", _IN_FORCE, dt.date(2026, 5, 7), "Utah SB 142 (App Store Accountability Act)."
    ),
    _app_store_signal("US-LA", _IN_FORCE, dt.date(2026, 7, 1), "Louisiana HB 570."),
    _app_store_signal(
        "US-CA", _ADOPTED, dt.date(2027, 1, 1), "California AB 1043 (Digital Age Assurance Act)."
    ),
)


# Rules every country has on every date: their default row is open-ended.
_NEEDS_DEFAULT: Final = (
    RuleName.MINIMUM_AGE,
    RuleName.GIFT_MINIMUM_AGE,
    RuleName.PERSONALISED_ADS_MINIMUM_AGE,
)


class RuleTableError(ValueError):
    """The table breaks its own schema: the portal must not start on it."""


def check_table(table: Iterable[JurisdictionRule]) -> tuple[JurisdictionRule, ...]:
    """Validate a rule table and return it as a tuple; raise RuleTableError on the first fault.

    The schema: a known rule name and a value of its type; a source; a normalised country (and a
    region inside it); an adopted row has a date; dates in order; a default row for every rule
    that needs one on every date; no two rows for the same rule and place that could both apply
    on one day (the answer would depend on the row order).
    """
    rows = tuple(table)
    for row in rows:
        label = f"{row.name} {row.where}"
        if not isinstance(row.value, _VALUE_TYPES[RuleName(row.name)]):
            raise RuleTableError(f"{label}: value {row.value!r} is not a {_VALUE_TYPES[row.name]}")
        if not row.source.strip():
            raise RuleTableError(f"{label}: every row names its source")
        if row.country is not None and normalise_country(row.country) != row.country:
            raise RuleTableError(f"{label}: country codes are upper-case alpha-2")
        if row.region is not None and (
            row.country is None or not row.region.startswith(row.country + "-")
        ):
            raise RuleTableError(f"{label}: a region is an ISO 3166-2 code inside its country")
        if row.status is RuleStatus.ADOPTED and row.effective_from is None:
            raise RuleTableError(f"{label}: an adopted rule has the date it takes effect")
        if row.effective_from and row.effective_to and row.effective_to <= row.effective_from:
            raise RuleTableError(f"{label}: effective_to must be after effective_from")
        if row.country is not None and row.scope is not None:
            raise RuleTableError(f"{label}: only a default row has a scope")
    for i, a in enumerate(rows):
        for b in rows[i + 1 :]:
            same_place = (a.name, a.country, a.region) == (b.name, b.country, b.region)
            if same_place and _may_overlap(a, b):
                raise RuleTableError(f"{a.name} {a.where}: two rows could apply on the same day")
    for name in _NEEDS_DEFAULT:
        defaults = [r for r in rows if r.name is name and r.country is None]
        if not any(r.effective_from is None and r.effective_to is None for r in defaults):
            raise RuleTableError(f"{name} needs an open-ended default row")
    return rows


def _may_overlap(a: JurisdictionRule, b: JurisdictionRule) -> bool:
    """Whether two rows' windows could share a day (an undated proposed row could get any date)."""
    if RuleStatus.PROPOSED in (a.status, b.status) and None in (a.effective_from, b.effective_from):
        return True
    start_a, start_b = a.effective_from or dt.date.min, b.effective_from or dt.date.min
    end_a, end_b = a.effective_to or dt.date.max, b.effective_to or dt.date.max
    return start_a < end_b and start_b < end_a


check_table(TABLE)


def rule_on(
    name: RuleName,
    country: str,
    *,
    on: dt.date,
    table: Iterable[JurisdictionRule] = TABLE,
) -> JurisdictionRule | None:
    """The row of `name` that applies in `country` on `on`: the country's own, else the default
    (within its scope), else None (the rule does not exist there on that date)."""
    code = normalise_country(country)
    if table is TABLE:
        return _rule_in_table(name, code, on)
    return _find_rule(name, code, on, table)


@functools.lru_cache(maxsize=4096)
def _rule_in_table(name: RuleName, code: str, on: dt.date) -> JurisdictionRule | None:
    # The table is a constant and the answer depends on nothing else: every send asks the same
    # few questions for the same few countries and days, each a scan of the whole table.
    return _find_rule(name, code, on, TABLE)


def _find_rule(
    name: RuleName, code: str, on: dt.date, table: Iterable[JurisdictionRule]
) -> JurisdictionRule | None:
    default: JurisdictionRule | None = None
    for row in table:
        if row.name is not name or row.region is not None or not row.applies_on(on):
            continue
        if row.country == code:
            return row
        if row.country is None and (row.scope is None or code in row.scope):
            default = row
    return default


def value_on(
    name: RuleName, country: str, *, on: dt.date, table: Iterable[JurisdictionRule] = TABLE
) -> RuleValue | None:
    row = rule_on(name, country, on=on, table=table)
    return None if row is None else row.value


def rules_in_force(
    country: str, *, on: dt.date, table: Iterable[JurisdictionRule] = TABLE
) -> list[JurisdictionRule]:
    """Every row that applies in `country` on `on`, one per rule (and per region), in table order."""
    rows = tuple(table)
    code = normalise_country(country)
    found = [rule_on(name, code, on=on, table=rows) for name in RuleName]
    regional = [r for r in rows if r.region and r.country == code and r.applies_on(on)]
    chosen = {id(r) for r in (*found, *regional) if r is not None}
    return [r for r in rows if id(r) in chosen]


@dataclass(frozen=True)
class RuleChange:
    """A row starting or ending to apply on `on` (`starts` False: its last day was the day before)."""

    on: dt.date
    rule: JurisdictionRule
    starts: bool


def changes_between(
    start: dt.date,
    end: dt.date,
    *,
    country: str | None = None,
    table: Iterable[JurisdictionRule] = TABLE,
) -> list[RuleChange]:
    """Rows that start or stop applying after `start` and on or before `end`, by date.

    With a country, only its rows, its regions' rows and the default rows; without one, all rows.
    The minimum-age sweep runs for every change of a minimum-age row (POLICY.md §7.3).
    """
    code = normalise_country(country) if country is not None else None
    changes: list[RuleChange] = []
    for row in table:
        if code is not None and row.country not in (None, code):
            continue
        if row.effective_from is not None and start < row.effective_from <= end:
            changes.append(RuleChange(row.effective_from, row, True))
        if row.effective_to is not None and start < row.effective_to <= end:
            changes.append(RuleChange(row.effective_to, row, False))
    return sorted(changes, key=lambda c: (c.on, c.rule.name, c.rule.where))


def proposed_without_date(
    *, country: str | None = None, table: Iterable[JurisdictionRule] = TABLE
) -> list[JurisdictionRule]:
    """Proposed rows that are off until someone sets their date (POLICY.md §7)."""
    code = normalise_country(country) if country is not None else None
    return [
        r
        for r in table
        if r.status is RuleStatus.PROPOSED
        and r.effective_from is None
        and (code is None or r.country == code)
    ]


def app_store_age_signal_law(
    region: str, *, on: dt.date, table: Iterable[JurisdictionRule] = TABLE
) -> JurisdictionRule | None:
    """The US state law under which app stores send an age-range signal in `region` (ISO 3166-2,
    e.g. "US-UT") on `on`, or None where and before such a law applies (POLICY.md §7.2)."""
    code = region.strip().upper()
    for row in table:
        if row.name is RuleName.APP_STORE_AGE_SIGNAL and row.region == code and row.applies_on(on):
            return row if row.value is True else None
    return None


def is_eu_eea(country: str) -> bool:
    """Whether `country` is an EU member state or an EEA EFTA state (POLICY.md §2)."""
    return normalise_country(country) in EU_EEA_COUNTRIES


def _required_int(
    name: RuleName, country: str, on: dt.date, table: Iterable[JurisdictionRule]
) -> int:
    value = value_on(name, country, on=on, table=table)
    assert isinstance(value, int), f"{name} has an open-ended default row (check_table)"
    return value


def minimum_age(country: str, *, on: dt.date, table: Iterable[JurisdictionRule] = TABLE) -> int:
    """The age from which an account is held without conditions (POLICY.md §2, §7.1): 13, AU 16
    from 2025-12-10; FR/DK 15 once their proposals get a date."""
    return _required_int(RuleName.MINIMUM_AGE, country, on, table)


def guardian_consent_band(
    country: str, *, on: dt.date, table: Iterable[JurisdictionRule] = TABLE
) -> AgeBand | None:
    """The ages below the minimum at which an account is held only while a linked guardian has
    consented (POLICY.md §7.1; proposed for FR and DK), or None where there is no such band."""
    value = value_on(RuleName.GUARDIAN_CONSENT_BAND, country, on=on, table=table)
    assert value is None or isinstance(value, AgeBand)
    return value


def account_floor_age(
    country: str, *, on: dt.date, table: Iterable[JurisdictionRule] = TABLE
) -> int:
    """The age below which nobody holds an account there, not even with a guardian's consent: the
    bottom of the guardian-consent band where there is one, the minimum age otherwise."""
    rows = tuple(table)
    band = guardian_consent_band(country, on=on, table=rows)
    minimum = minimum_age(country, on=on, table=rows)
    return min(band.youngest, minimum) if band is not None else minimum


def account_floor_ages(
    *, on: dt.date, table: Iterable[JurisdictionRule] = TABLE
) -> tuple[int, dict[str, int]]:
    """The floor age everywhere on `on`: the default, and each country whose floor differs.

    For SQL: one birthdate range per distinct floor, with the countries listed as constants.
    """
    rows = tuple(table)
    default = _required_int(RuleName.MINIMUM_AGE, "ZZ", on, rows)
    countries = {
        r.country
        for r in rows
        if r.country and r.name in (RuleName.MINIMUM_AGE, RuleName.GUARDIAN_CONSENT_BAND)
    }
    floors = {c: account_floor_age(c, on=on, table=rows) for c in sorted(countries)}
    return default, {c: age for c, age in floors.items() if age != default}


def digital_consent_age(
    country: str, *, on: dt.date, table: Iterable[JurisdictionRule] = TABLE
) -> int | None:
    """GDPR art. 8 age of digital consent (POLICY.md §2, §5).

    16 in EU/EEA countries without a row of their own, the listed national age otherwise (GB,
    outside the EU/EEA, is listed with 13), and None for every other country: there the minimum
    age still applies but no separate consent age does.
    """
    value = value_on(RuleName.DIGITAL_CONSENT_AGE, country, on=on, table=table)
    assert value is None or isinstance(value, int)
    return value


def gift_minimum_age(
    country: str, *, on: dt.date, table: Iterable[JurisdictionRule] = TABLE
) -> int:
    """Minimum age to buy, send or receive virtual gifts: 18, KR 19 (POLICY.md §2)."""
    return _required_int(RuleName.GIFT_MINIMUM_AGE, country, on, table)


def personalised_ads_minimum_age(
    country: str, *, on: dt.date, table: Iterable[JurisdictionRule] = TABLE
) -> int:
    """Minimum age for personalised advertising: 18 everywhere (POLICY.md §2; DSA art. 28(2))."""
    return _required_int(RuleName.PERSONALISED_ADS_MINIMUM_AGE, country, on, table)
