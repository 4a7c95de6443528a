"""SQL age queries agree with the Python policy on every boundary (POLICY.md §1, §2).

`User.objects.minors/adults/in_tier/turning/below_minimum_age` answer in SQL with birthdate ranges;
`rules.ages.age_on/tier_on/nth_birthday/is_below_minimum_age` answer in Python. A population with
birthdates on, just before and just after every cut-off of every reference date (and on 28/29
February, 1 March, 31 December and 1 January of many years), in a country with the default minimum
age and in Australia, must get the same answer from both for every reference date.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.managers import UserQuerySet
from accounts.models import User
from safety_portal import rules

pytestmark = pytest.mark.django_db

REFERENCE_DATES = [
    dt.date(2024, 2, 28),  # leap year: the day before 29 February
    dt.date(2024, 2, 29),
    dt.date(2024, 3, 1),
    dt.date(2025, 2, 28),  # non-leap year: 29 February babies are still a year younger today
    dt.date(2025, 3, 1),  # ... and a year older today
    dt.date(2023, 12, 31),
    dt.date(2024, 1, 1),
    dt.date(2025, 12, 31),
    dt.date(2026, 1, 1),
    dt.date(2027, 3, 1),
    dt.date(2028, 2, 29),
    dt.date(2026, 7, 14),
    dt.date(2025, 12, 9),  # the last day of Australia's old minimum age (13) ...
    dt.date(2025, 12, 10),  # ... and the first of its new one (16, POLICY.md §7.1)
]
THRESHOLD_AGES = (12, 13, 15, 16, 17, 18, 19)
TURNING_AGES = (13, 16, 18)
COUNTRIES = ("GB", "AU")  # default minimum age 13, and Australia's 16 (POLICY.md §2)


@dataclass(frozen=True)
class Person:
    pk: int
    birthdate: dt.date
    country: str


def boundary_birthdates() -> list[dt.date]:
    dates: set[dt.date] = set()
    for on in REFERENCE_DATES:
        for age in THRESHOLD_AGES:
            cutoff = rules.ages.latest_birthdate_for_age(age, on)
            dates.update(cutoff + dt.timedelta(days=d) for d in (-1, 0, 1))
    for year in range(2004, 2017):
        dates.update(dt.date(year, m, d) for m, d in ((1, 1), (2, 27), (2, 28), (3, 1), (12, 31)))
        if calendar.isleap(year):
            dates.add(dt.date(year, 2, 29))
    return sorted(dates)


@pytest.fixture
def population(db: None, system: object) -> list[Person]:
    """~700 app users; bulk-inserted because only their birthdates and countries matter here."""
    rows = [
        User(
            username=f"p{i:04d}_{country}",
            birthdate=born,
            country=country,
            password="!",
        )
        for i, born in enumerate(boundary_birthdates())
        for country in COUNTRIES
    ]
    User.objects.bulk_create(rows, batch_size=1000)
    # A staff account has no birthdate: it is nobody's minor or adult.
    User.objects.create_staff_user(actor=system, username="staff_member", password="x" * 20)
    return [
        Person(*row) for row in User.objects.app_users().values_list("pk", "birthdate", "country")
    ]


Query = Callable[[UserQuerySet, dt.date], UserQuerySet]
Rule = Callable[[Person, dt.date], bool]


def _age(p: Person, on: dt.date) -> int:
    return rules.ages.age_on(p.birthdate, on)


CASES: dict[str, tuple[Query, Rule]] = {
    "minors": (lambda qs, on: qs.minors(on=on), lambda p, on: _age(p, on) < 18),
    "adults": (lambda qs, on: qs.adults(on=on), lambda p, on: _age(p, on) >= 18),
    **{
        f"in_tier({tier.value})": (
            lambda qs, on, tier=tier: qs.in_tier(tier, on=on),
            lambda p, on, tier=tier: rules.ages.tier_on(p.birthdate, on) is tier,
        )
        for tier in rules.vocabulary.Tier
    },
    **{
        f"turning({age})": (
            lambda qs, on, age=age: qs.turning(age, on=on),
            lambda p, on, age=age: rules.ages.nth_birthday(p.birthdate, age) == on,
        )
        for age in TURNING_AGES
    },
    "below_minimum_age": (
        lambda qs, on: qs.below_minimum_age(on=on),
        lambda p, on: rules.ages.is_below_minimum_age(p.birthdate, p.country, on),
    ),
}


def sql_ids(query: Query, on: dt.date) -> set[int]:
    return set(query(User.objects.all(), on).values_list("pk", flat=True))


def python_ids(people: list[Person], rule: Rule, on: dt.date) -> set[int]:
    return {p.pk for p in people if rule(p, on)}


@pytest.mark.parametrize("on", REFERENCE_DATES, ids=str)
def test_sql_and_python_agree_on_boundary_dates(population: list[Person], on: dt.date) -> None:
    for name, (query, rule) in CASES.items():
        expected = python_ids(population, rule, on)
        assert sql_ids(query, on) == expected, f"{name} on {on}"


def test_the_boundary_population_really_sits_on_the_boundaries(population: list[Person]) -> None:
    """Guard against a vacuous comparison: every query finds someone on some reference date, and
    29 February babies turn a year older on 29 February in a leap year and on 1 March otherwise."""
    for name, (query, _rule) in CASES.items():
        assert any(sql_ids(query, on) for on in REFERENCE_DATES), name
    leap_babies = {p.pk for p in population if (p.birthdate.month, p.birthdate.day) == (2, 29)}
    turning_16, _ = CASES["turning(16)"]
    turning_13, _ = CASES["turning(13)"]
    assert sql_ids(turning_16, dt.date(2024, 2, 29)) & leap_babies  # born 29 Feb 2008
    assert sql_ids(turning_13, dt.date(2025, 3, 1)) & leap_babies  # born 29 Feb 2012
    assert not sql_ids(turning_13, dt.date(2025, 2, 28)) & leap_babies


LATEST_BIRTHDATE = max(boundary_birthdates())


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(on=st.dates(min_value=LATEST_BIRTHDATE, max_value=dt.date(2045, 12, 31)))
def test_sql_and_python_agree_on_random_dates(population: list[Person], on: dt.date) -> None:
    for name, (query, rule) in CASES.items():
        assert sql_ids(query, on) == python_ids(population, rule, on), f"{name} on {on}"


# --- The shape of the SQL -----------------------------------------------------------------------

ON = dt.date(2026, 3, 1)
BIRTHDATE_RANGE = re.compile(r'"accounts_user"\."birthdate" (<=|>) \d{4}-\d{2}-\d{2}(?!\d)')
ALLOWED_WORDS = {"IN", "NOT", "AND", "OR"}


@pytest.mark.parametrize("name", list(CASES))
def test_the_sql_uses_only_birthdate_ranges_and_no_per_row_function(name: str) -> None:
    """Index-friendly predicates (issue 2): `birthdate <= date` / `birthdate > date` comparisons
    against constants, never an expression over the column (AGE(), EXTRACT, date arithmetic)."""
    query, _rule = CASES[name]
    sql = str(query(User.objects.all(), ON).query)
    where = sql.split(" WHERE ", 1)[1]

    mentions = where.count('"accounts_user"."birthdate"')
    assert mentions >= 1
    assert len(BIRTHDATE_RANGE.findall(where)) == mentions, where
    called = {word.upper() for word in re.findall(r"\b([A-Za-z_]+)\s*\(", where)}
    assert called <= ALLOWED_WORDS, f"{name} calls {called - ALLOWED_WORDS}: {where}"
    for forbidden in ("AGE(", "EXTRACT", "INTERVAL", "DATE_PART", "::", "+", " - "):
        assert forbidden not in where.upper(), where


def test_below_minimum_age_compares_country_with_constants_only() -> None:
    where = str(User.objects.below_minimum_age(on=ON).query).split(" WHERE ", 1)[1]

    assert '"accounts_user"."country" IN (AU)' in where  # str(query) does not quote values
    assert "2013-03-01" in where  # 13 years before: the default minimum age
    assert "2010-03-01" in where  # 16 years before: Australia (POLICY.md §2)
