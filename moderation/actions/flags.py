"""Reviewing flags: confirming one into a case, asking for age verification, and recording an age
estimate from the app (POLICY.md §4).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction

from accounts.models import User
from safety_portal import rules
from safety_portal.core import clock
from safety_portal.core.errors import DomainError
from safety_portal.rules.decisions import DecisionType
from safety_portal.rules.grounds import MINIMUM_AGE_GROUND

from .. import conf
from ..managers import require_perm
from ..models import (
    Case,
    Decision,
    Flag,
)
from .child_safety import hold_and_escalate
from .deciding import decide
from .filing import file_report

if TYPE_CHECKING:
    from accounts.models import User

FLAG_CLASSIFICATION = {
    Flag.Kind.AGE: (
        rules.sor_vocabulary.Category.PROTECTION_OF_MINORS.value,
        [rules.sor_vocabulary.CategoryKeyword.AGE_SPECIFIC_RESTRICTIONS_MINORS.value],
    ),
    Flag.Kind.AGE_OLDER: (
        rules.sor_vocabulary.Category.PROTECTION_OF_MINORS.value,
        [rules.sor_vocabulary.CategoryKeyword.AGE_SPECIFIC_RESTRICTIONS_MINORS.value],
    ),
    Flag.Kind.CONTACT_RISK: (
        rules.sor_vocabulary.Category.PROTECTION_OF_MINORS.value,
        [rules.sor_vocabulary.CategoryKeyword.GROOMING_SEXUAL_ENTICEMENT_MINORS.value],
    ),
}


def confirm_flag(flag: Flag, *, actor: User, note: str) -> Case:
    """Staff agree the flag needs a decision: it joins (or opens) the case on the account, with
    the flag's evidence; audited. The age is not changed (POLICY.md §4)."""
    require_perm(actor, rules.decisions.PERM_REVIEW_FLAG, doing="review flags")
    with transaction.atomic():
        case = _case_for_flag(flag, actor=actor)
        Flag.objects.confirm(flag, actor=actor, note=note, case=case)
        if rules.child_safety.flag_holds_evidence(flag.kind):
            hold_and_escalate(
                case, actor=actor, trigger=f"Contact-risk flag {flag.pk} confirmed", flag=flag
            )
    flag.refresh_from_db()
    return case


def request_age_verification(flag: Flag, *, actor: User, note: str) -> Decision:
    """From an age flag: pause the account for an age check (→ `under_age_review`), through the
    normal decision path, so it gets a statement, a notice and a 180-day appeal (POLICY.md §4)."""
    require_perm(
        actor,
        rules.decisions.PERM_REVIEW_FLAG,
        rules.decisions.PERM_UNDER_AGE,
        doing="require age checks",
    )
    if flag.kind != Flag.Kind.AGE:
        raise DomainError("invalid", "Only an age flag leads to an age check.")
    with transaction.atomic():
        case = confirm_flag(flag, actor=actor, note=note)
        if case.claimed_by_id not in (None, actor.pk) and case.claim_expires_at > clock.now():
            Case.objects.take_over(case, actor=actor, reason=f"Age flag {flag.pk}: {note}")
        else:
            Case.objects.claim(case, actor=actor)
        return decide(
            case,
            actor=actor,
            decision_type=DecisionType.REQUIRE_AGE_VERIFICATION,
            ground=MINIMUM_AGE_GROUND,
            facts=(
                "Signals that the account holder may be below the minimum age were reviewed by "
                "staff: " + _flag_summary(flag)
            ),
        )


def _flag_summary(flag: Flag) -> str:
    sources: dict[str, int] = {}
    for signal in flag.signals:
        key = str(signal.get("source", "signal"))
        sources[key] = sources.get(key, 0) + 1
    parts = [
        f"{n} {name.replace('_', ' ')} signal{'s' if n > 1 else ''}" for name, n in sources.items()
    ]
    return ", ".join(parts) + "."


def _case_for_flag(flag: Flag, *, actor: User) -> Case:
    if flag.case_id is not None:
        case = Case.objects.get(pk=flag.case_id)
        if rules.casework.is_open(case.status):
            return case
    category, keywords = FLAG_CLASSIFICATION[Flag.Kind(flag.kind)]
    report = file_report(
        actor=actor,
        subject_type="user",
        subject_id=flag.user_id,
        category=category,
        keywords=keywords,
        explanation=f"Staff confirmed {flag.get_kind_display().lower()} flag {flag.pk}.",
        rule=f"flag:{flag.kind}",
        evidence={"flag": flag.pk, "signals": flag.signals[-20:]},
        raise_age_flag=False,
    )
    return report.case


def record_age_estimate(
    *, user: User, estimated_age: float, confidence: float, actor: object, model: str = ""
) -> Flag | None:
    """An integration's age estimate: raise (or add to) an age flag when it warrants review.

    POLICY.md §4: a flag is for staff review; it never changes the age. Estimates that raise
    nothing are not stored (data minimisation).
    """
    errors: dict[str, list[str]] = {}
    if not 0 <= estimated_age <= 120:
        errors["estimated_age"] = ["Between 0 and 120."]
    if not 0 <= confidence <= 1:
        errors["confidence"] = ["Between 0 and 1."]
    if user.birthdate is None:
        errors["user"] = ["Only app users have an age to check."]
    if errors:
        raise DomainError("invalid", "The age estimate is invalid.", fields=errors)
    finding = rules.risk.assess_age_estimate(
        declared_birthdate=user.birthdate,
        country=str(user.country),
        on=clock.today(),
        estimated_age=estimated_age,
        confidence=confidence,
        min_confidence=float(conf.value("MODERATION_AGE_SIGNAL_MIN_CONFIDENCE")),
        margin_years=float(conf.value("MODERATION_AGE_SIGNAL_MARGIN_YEARS")),
    )
    if not finding.raises_flag:
        return None
    return Flag.objects.raise_signal(
        user_id=user.pk,
        kind=Flag.Kind.AGE,
        signal={
            "source": "age_estimate",
            "estimated_age": round(estimated_age, 1),
            "confidence": round(confidence, 3),
            "model": model[:100],
            "why": finding.why,
        },
        actor=actor,
    )
