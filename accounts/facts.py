"""Assemble `rules.capabilities.UserFacts` for many users in a constant number of queries.

Messaging and moderation ask the policy about several people at once (every participant of a
thread); this module turns rows into the pure facts the policy reads, without per-user queries.
Stored `status` values that a time-bounded restriction put there (suspended, restricted) count only
while that restriction is in force: a suspension ends by itself at its end time (issue 4).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from safety_portal import rules
from safety_portal.core import clock

from .managers import ActiveRestrictions
from .models import AgeAssuranceResult, GuardianLink, Restriction, SafetySettings, User


def strictest_limits(
    links: Iterable[GuardianLink],
) -> tuple[rules.guardianship.GuardianLimits | None, bool]:
    """Several guardians' limits combined strictly (policy), and consent if any guardian gave it."""
    links = list(links)
    consent = any(link.consents_to_personalisation for link in links)
    return rules.guardianship.combine_guardian_limits(link.limits() for link in links), consent


def facts_for(
    users: Iterable[User], *, at: dt.datetime, on: dt.date
) -> dict[int, rules.capabilities.UserFacts]:
    """Facts of app users (staff without a birthdate are left out). Three queries, and a fourth
    for the age-assurance results of the people a §7.2 purpose can ask about (`needs_results`:
    a country whose minimum age is above 13, or an adult who signed up under 18)."""
    users = [u for u in users if u.birthdate is not None]
    if not users:
        return {}
    ids = [u.pk for u in users]
    settings = {s.user_id: s.as_policy() for s in SafetySettings.objects.filter(user_id__in=ids)}
    links: dict[int, list[GuardianLink]] = {}
    for link in GuardianLink.objects.active().filter(teen_id__in=ids):
        links.setdefault(link.teen_id, []).append(link)
    restrictions = Restriction.objects.by_user(ids, at=at)
    assured = [u.pk for u in users if needs_results(u, on=on)]
    results = AgeAssuranceResult.objects.filter(user_id__in=assured).as_rules() if assured else {}
    return {
        user.pk: assemble(
            user,
            settings=settings.get(user.pk),
            links=links.get(user.pk, ()),
            restrictions=restrictions.get(user.pk),
            assurance=results.get(user.pk, ()),
        )
        for user in users
    }


def _country(user: User) -> str:
    """The stored country code. Read from the loaded field value: django-countries' descriptor
    builds a new Country object on every access, which was a tenth of a send's time in Python."""
    code = vars(user).get("country")
    if isinstance(code, str) and len(code) == 2 and code.isascii() and code.isupper():
        return code  # as stored: an ISO 3166 alpha-2 code
    # deferred, blank, or just set to another spelling ("au", "AUS"): through the descriptor,
    # which loads the column and normalises the code
    country = user.country
    return str(country.code if hasattr(country, "code") else country)


def needs_results(user: User, *, on: dt.date) -> bool:
    """Whether a purpose of POLICY.md §7.2 can ask for this app user's assurance results."""
    return rules.assurance.needs_results(
        user.birthdate, _country(user), created_on=clock.date_of(user.date_joined), on=on
    )


def assemble(
    user: User,
    *,
    settings: rules.safety_settings.SafetySettings | None,
    links: Iterable[GuardianLink],
    restrictions: ActiveRestrictions | None,
    assurance: Iterable[rules.assurance.AssuranceResult] = (),
) -> rules.capabilities.UserFacts:
    """One app user's facts from rows already read (`facts_for`, messaging's send snapshot).

    A stored suspended/restricted status counts only while a restriction backs it; an active
    suspension counts whatever the stored status says (docs/decisions.md D5).
    """
    status = rules.account_status.effective_status(
        user.status,
        restriction_in_force=restrictions is not None,
        suspended_now=restrictions is not None and restrictions.suspended,
    )
    limits, consent = strictest_limits(links)
    return rules.capabilities.UserFacts(
        birthdate=user.birthdate,
        country=_country(user),
        status=status,
        settings=settings,
        guardian_limits=limits,
        guardian_consent=consent,
        restricted_features=restrictions.features if restrictions else frozenset(),
        created_on=clock.date_of(user.date_joined),
        assurance=tuple(assurance),
    )


def facts_of(user: User, *, at: dt.datetime, on: dt.date) -> rules.capabilities.UserFacts:
    facts = facts_for([user], at=at, on=on)
    if user.pk not in facts:
        raise ValueError(f"{user} is a staff account without a birthdate; it has no age facts.")
    return facts[user.pk]
