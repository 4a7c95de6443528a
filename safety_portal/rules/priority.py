"""The queue's priority and due-time formula: the one place it is written down.

POLICY.md §6 says reports that involve a minor and trusted-flagger reports (DSA art. 22) come first;
issue 4 adds the category's severity, the number of distinct reporters, the reporters' credibility
(DSA art. 23) and the age of the case. Everything that orders the queue or sets a deadline calls
:func:`assess`; nothing else computes a score. Pure module: no ORM, no clock (times are arguments).

The formula
-----------
``score = severity + minor + trusted_flagger + many_reporters - low_credibility + overdue``

==================  =====  ====================================================================
term                points when
==================  =====  ====================================================================
severity            100    critical: child sexual abuse, grooming, self-harm, imminent harm
                     60    high: other protection-of-minors, cyber violence, harmful speech,
                           public security
                     35    medium: scams, privacy, unsafe products, civic discourse, animals
                     15    low: intellectual property, consumer information, other T&C
minor               +30    anyone involved (the subject, a reporter, another participant of
                           the thread) is under 18 on the day of the report
trusted_flagger     +25    at least one report comes from a trusted flagger (art. 22)
many_reporters      +15    at least :data:`MANY_REPORTERS` distinct credible reporters; given
                           once, so a flood of reports raises the priority once, never per report
low_credibility     -20    every report so far comes from reporters marked for filing many
                           rejected reports (art. 23): ranked lower, never dropped; not applied
                           to critical severity (a child possibly in danger outweighs the record)
overdue             +20    the case passed its due time (applied once by the deadline job)
==================  =====  ====================================================================

The score falls into a band, and the band sets the due time counted from when the case opened:

====  ========  =========  ========
band  name      score      due in
====  ========  =========  ========
1     urgent    >= 100     1 hour
2     high      >= 70      4 hours
3     normal    >= 40      24 hours
4     low       < 40       72 hours
====  ========  =========  ========

A higher band only ever brings the due time forward. Age enters twice: a case past its due time
gains the overdue term once, and among equal scores the case due first (so, the one waiting
longest) is served first — that is the queue's ``ORDER BY priority_score DESC, due_at, id``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import IntEnum
from types import MappingProxyType

from safety_portal.rules.sor_vocabulary import Category, CategoryKeyword


class Severity(IntEnum):
    """How much harm the category describes; the value is the score's severity term."""

    LOW = 15
    MEDIUM = 35
    HIGH = 60
    CRITICAL = 100


class Band(IntEnum):
    """Priority bands, 1 being the most urgent (the value is what the queue shows as P1..P4)."""

    URGENT = 1
    HIGH = 2
    NORMAL = 3
    LOW = 4


MINOR_INVOLVED = 30
TRUSTED_FLAGGER = 25
MANY_REPORTERS_BONUS = 15
MANY_REPORTERS = 3
LOW_CREDIBILITY_PENALTY = 20
OVERDUE_BONUS = 20

# (lowest score, band), highest first.
BAND_FLOORS: tuple[tuple[int, Band], ...] = (
    (100, Band.URGENT),
    (70, Band.HIGH),
    (40, Band.NORMAL),
)
DUE_IN: MappingProxyType[Band, dt.timedelta] = MappingProxyType(
    {
        Band.URGENT: dt.timedelta(hours=1),
        Band.HIGH: dt.timedelta(hours=4),
        Band.NORMAL: dt.timedelta(hours=24),
        Band.LOW: dt.timedelta(hours=72),
    }
)

# Child sexual abuse (Directive 2011/93/EU arts. 3-7, including solicitation, art. 6): the reports
# that DSA art. 16(2)(c) lets a notifier file without a name, and the most severe we handle.
CHILD_ABUSE_KEYWORDS: frozenset[str] = frozenset(
    {
        CategoryKeyword.CHILD_SEXUAL_ABUSE_MATERIAL,
        CategoryKeyword.CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE,
        CategoryKeyword.GROOMING_SEXUAL_ENTICEMENT_MINORS,
    }
)
SELF_HARM_KEYWORDS: frozenset[str] = frozenset(
    {
        CategoryKeyword.SUICIDE,
        CategoryKeyword.SELF_MUTILATION,
        CategoryKeyword.CONTENT_PROMOTING_EATING_DISORDERS,
    }
)
# Imminent harm to a person: threats and incitement of violence, terrorist content.
IMMINENT_HARM_KEYWORDS: frozenset[str] = frozenset(
    {
        CategoryKeyword.INCITEMENT_VIOLENCE_HATRED,
        CategoryKeyword.TERRORIST_CONTENT,
        CategoryKeyword.HUMAN_TRAFFICKING,
        CategoryKeyword.TRAFFICKING_WOMEN_GIRLS,
    }
)

CATEGORY_SEVERITY: MappingProxyType[str, Severity] = MappingProxyType(
    {
        Category.SELF_HARM: Severity.CRITICAL,
        Category.VIOLENCE: Severity.CRITICAL,
        Category.PROTECTION_OF_MINORS: Severity.HIGH,
        Category.CYBER_VIOLENCE: Severity.HIGH,
        Category.CYBER_VIOLENCE_AGAINST_WOMEN: Severity.HIGH,
        Category.ILLEGAL_OR_HARMFUL_SPEECH: Severity.HIGH,
        Category.RISK_FOR_PUBLIC_SECURITY: Severity.HIGH,
        Category.SCAMS_AND_FRAUD: Severity.MEDIUM,
        Category.DATA_PROTECTION_AND_PRIVACY_VIOLATIONS: Severity.MEDIUM,
        Category.UNSAFE_AND_PROHIBITED_PRODUCTS: Severity.MEDIUM,
        Category.NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS: Severity.MEDIUM,
        Category.ANIMAL_WELFARE: Severity.MEDIUM,
        Category.INTELLECTUAL_PROPERTY_INFRINGEMENTS: Severity.LOW,
        Category.CONSUMER_INFORMATION: Severity.LOW,
        Category.OTHER_VIOLATION_TC: Severity.LOW,
        Category.NOT_SPECIFIED_NOTICE: Severity.LOW,
    }
)


def severity_of(category: str, keywords: frozenset[str] | set[str] | list[str] = ()) -> Severity:
    """The severity of one report: its category, raised to critical by a critical keyword.

    Child sexual abuse, grooming, self-harm and imminent harm come first (issue 4), whatever
    category the reporter chose for them.
    """
    words = set(keywords)
    if words & (CHILD_ABUSE_KEYWORDS | SELF_HARM_KEYWORDS | IMMINENT_HARM_KEYWORDS):
        return Severity.CRITICAL
    return CATEGORY_SEVERITY.get(category, Severity.LOW)


@dataclass(frozen=True)
class Inputs:
    """What the formula reads about a case; the manager keeps these as counters on the case."""

    severity: Severity
    minor_involved: bool = False
    trusted_flagger: bool = False
    credible_reporters: int = 1
    low_credibility_only: bool = False
    overdue: bool = False


@dataclass(frozen=True)
class Assessment:
    score: int
    band: Band
    due_at: dt.datetime
    terms: tuple[tuple[str, int], ...]  # (term, points), for the case page's "why this priority"


def band_for(score: int) -> Band:
    for floor, band in BAND_FLOORS:
        if score >= floor:
            return band
    return Band.LOW


def assess(
    inputs: Inputs, *, opened_at: dt.datetime, current_due_at: dt.datetime | None = None
) -> Assessment:
    """Score a case, band it, and set its due time (see the module docstring for the table).

    ``current_due_at`` keeps a deadline from moving later: a re-assessment can only bring it
    forward.
    """
    terms: list[tuple[str, int]] = [("severity", int(inputs.severity))]
    if inputs.minor_involved:
        terms.append(("minor_involved", MINOR_INVOLVED))
    if inputs.trusted_flagger:
        terms.append(("trusted_flagger", TRUSTED_FLAGGER))
    if inputs.credible_reporters >= MANY_REPORTERS:
        terms.append(("many_reporters", MANY_REPORTERS_BONUS))
    if inputs.low_credibility_only and inputs.severity < Severity.CRITICAL:
        terms.append(("low_credibility", -LOW_CREDIBILITY_PENALTY))
    if inputs.overdue:
        terms.append(("overdue", OVERDUE_BONUS))
    score = sum(points for _, points in terms)
    band = band_for(score)
    due_at = opened_at + DUE_IN[band]
    if current_due_at is not None and current_due_at < due_at:
        due_at = current_due_at
    return Assessment(score=score, band=band, due_at=due_at, terms=tuple(terms))
