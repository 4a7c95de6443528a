"""The sign-up age gate of the API (issue 6; POLICY.md §2 minimum age, §4 age signals).

A sign-up below the country's minimum age creates no account; the refusal is kept WITHOUT the
birthdate (external id, country, time) so that a retry for the same external id within
RETRY_WINDOW that would now pass — the classic "try an older birthdate" — is refused too
(`age_gate_retry`) and flagged: the attempt is marked `flagged` (there is no account to hang a
moderation flag on), and when an account is later created for that external id, moderation's age
flag is raised on it with the refusals as evidence. The rule of who is old enough stays in
`safety_portal.rules`; this module only remembers refusals.

It is an accounts use case (issue 10): the flag belongs to moderation, a floor above, so the sign-up
announces `events.signed_up_after_age_refusals` and moderation raises the flag when it hears it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from django.db import transaction

from safety_portal import rules
from safety_portal.core import audit, clock
from safety_portal.core.api.models import AgeGateAttempt, ApiClient
from safety_portal.core.errors import PolicyViolation

from . import events
from .managers.reregistration_signals import clean_signals
from .models import COUNTRY_CODES, ReRegistrationSignal, User

RETRY_WINDOW = dt.timedelta(hours=24)
ATTEMPT_RETENTION = dt.timedelta(days=90)
AGE_GATE_RETRY = "age_gate_retry"


def _kept_days() -> int:
    today = clock.today()
    return (rules.minimum_age.signal_kept_until(today) - today).days


def _would_pass(birthdate: dt.date, country: str, today: dt.date) -> bool | None:
    """None when the input is invalid (the manager then reports the field errors)."""
    if country.upper() not in COUNTRY_CODES:
        return None
    try:
        rules.ages.validate_birthdate(birthdate, on=today)
        return not rules.ages.is_below_minimum_age(birthdate, country, today)
    except ValueError:  # InvalidBirthdate, or a malformed country code
        return None


def _record(
    *, client: ApiClient, external_id: str, country: str, outcome: str, flagged: bool
) -> AgeGateAttempt:
    with transaction.atomic():
        attempt = AgeGateAttempt.objects.create(
            external_id=external_id,
            country=country.upper()[:2],
            outcome=outcome,
            client=client,
            flagged=flagged,
            created_at=clock.now(),
        )
        audit.record(
            actor=client,
            action=f"integrations.age_gate.{'retry_flagged' if flagged else 'refused'}",
            target=attempt,
            after={"external_id": external_id, "country": attempt.country, "outcome": outcome},
        )
    return attempt


def sign_up(
    *,
    client: ApiClient,
    external_id: str,
    username: str,
    birthdate: dt.date,
    country: str,
    signals: Iterable[Mapping[str, str]] = (),
) -> User:
    """Create an app user through `User.objects.create_app_user`, applying the retry rules.

    Two signals refuse a retry (`age_gate_retry`, the attempt kept and flagged): a refusal for age
    of the same external id in the last 24 hours, and, whatever the external id, a device or
    recovery signal (`signals`, salted hashes the integration sends) of a sign-up refused for age
    or an account placed under minimum-age review, while it is kept (POLICY.md §7.3). A sign-up
    refused for age keeps its signals. Raises PolicyViolation("under_minimum_age") (attempt
    kept), PolicyViolation("age_gate_retry"), or whatever the manager raises for bad input.
    """
    pairs = clean_signals(signals)
    if ReRegistrationSignal.objects.matching(pairs, on=clock.today()).exists():
        _record(
            client=client,
            external_id=external_id,
            country=country,
            outcome=AgeGateAttempt.Outcome.AGE_GATE_RETRY,
            flagged=True,
        )
        raise PolicyViolation(
            AGE_GATE_RETRY,
            "This device or recovery identifier belongs to a sign-up refused for age, or to an "
            f"account under minimum-age review, in the last {_kept_days()} days; the sign-up is "
            "refused and flagged for review. The person can appeal with proof of age.",
        )
    now = clock.now()
    previous = AgeGateAttempt.objects.latest_refusal(external_id, since=now - RETRY_WINDOW)
    if previous is not None and _would_pass(birthdate, country, clock.today()):
        _record(
            client=client,
            external_id=external_id,
            country=country,
            outcome=AgeGateAttempt.Outcome.AGE_GATE_RETRY,
            flagged=True,
        )
        raise PolicyViolation(
            AGE_GATE_RETRY,
            "A sign-up for this external_id was refused for age in the last 24 hours; a retry "
            "with another birthdate is refused and flagged for review.",
        )
    try:
        with transaction.atomic():
            user = User.objects.create_app_user(
                actor=client,
                username=username,
                birthdate=birthdate,
                country=country,
                external_id=external_id,
            )
            _flag_earlier_refusals(user, client=client, external_id=external_id)
        return user
    except PolicyViolation as exc:
        if exc.code == rules.vocabulary.Reason.UNDER_MINIMUM_AGE:
            with transaction.atomic():  # the signals and the refusal are kept together
                ReRegistrationSignal.objects.record(
                    pairs,
                    cause=ReRegistrationSignal.Cause.AGE_GATE_REFUSAL,
                    country=country.upper()[:2],
                    actor=client,
                )
                _record(
                    client=client,
                    external_id=external_id,
                    country=country,
                    outcome=AgeGateAttempt.Outcome.UNDER_MINIMUM_AGE,
                    flagged=False,
                )
        raise


def _flag_earlier_refusals(user: User, *, client: ApiClient, external_id: str) -> None:
    """An account created after the age gate refused the same external id gets an age flag.

    POLICY.md §4: a signal that the account may be younger than declared raises a flag for staff
    review (moderation's receiver of the event calls `Flag.objects.raise_signal`, in this
    transaction); the flag never changes the age by itself.
    The refused attempts are kept for ATTEMPT_RETENTION (tasks.purge_age_gate_attempts).
    """
    refusals = list(
        AgeGateAttempt.objects.filter(external_id=external_id)
        .order_by("-created_at")
        .values_list("outcome", "created_at")
    )
    if not refusals:
        return
    events.signed_up_after_age_refusals.send(
        sender=User,
        user=user,
        actor=client,
        evidence={
            "source": "age_gate",
            "refused_attempts": len(refusals),
            "retries_after_refusal": sum(1 for o, _ in refusals if o == AGE_GATE_RETRY),
            "last_refused_at": refusals[0][1].isoformat(),
        },
    )
