"""The evidence a child-safety decision needs, on the case (issue 15.1).

Who is involved (the subject, the reporters, the other side of the conversation: age tier and
country), the reported conversation, the subject's contact-risk picture and history. Each block is
computed only for a viewer who may see it (`access.EVIDENCE_BLOCKS`): a block not shown is never
queried. Every block is a fixed number of indexed queries, whatever the subject's history; lists
are capped and say so. Message bodies are not read here: `messaging.services.read_messages_for_staff`
reads them, audited, when the moderator opens the conversation.
"""

from __future__ import annotations

import datetime as dt
import operator
from dataclasses import dataclass, field
from functools import reduce
from typing import Any

from django.db.models import Count, Q

from accounts.models import Restriction, User
from messaging.models import Message, Thread, ThreadParticipant
from moderation.models import Case, Decision, Flag, Report, Strike
from moderation.risk_signals import ContactRiskPicture, contact_risk_picture

from .access import evidence_blocks
from .presentation import AgeView, age_of, category_label

# Lists on the case are capped; the page says when there is more.
PRIOR_LIMIT = 10
FLAG_LIMIT = 10
STRIKE_LIMIT = 20
# A user case's conversations: the direct threads between the subject and its first reporters.
CONVERSATION_LIMIT = 3

SUBJECT, REPORTER, PARTICIPANT = "subject", "reporter", "in the conversation"


@dataclass
class Person:
    """Someone involved in the case, as the viewer may see them (`age` only with `ages`)."""

    user: User
    involvement: list[str]
    age: AgeView | None

    @property
    def is_subject(self) -> bool:
        return SUBJECT in self.involvement


@dataclass
class Conversation:
    thread: Thread
    participants: list[Person]


@dataclass
class Evidence:
    blocks: frozenset[str]
    people: list[Person] = field(default_factory=list)
    conversations: list[Conversation] = field(default_factory=list)
    contact_risk: ContactRiskPicture | None = None
    contact_risk_note: str = ""
    prior_reports: list[Report] = field(default_factory=list)
    prior_report_outcomes: dict[str, int] = field(default_factory=dict)
    prior_decisions: list[Decision] = field(default_factory=list)
    restrictions: list[Restriction] = field(default_factory=list)
    strikes: list[Strike] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)

    def person(self, user_id: int | None) -> Person | None:
        """The person of this id among those involved (None for an anonymous report)."""
        return next((p for p in self.people if p.user.pk == user_id), None)

    @property
    def prior_report_total(self) -> int:
        return sum(self.prior_report_outcomes.values())

    @property
    def prior_report_rows(self) -> list[dict[str, Any]]:
        return [{"r": r, "category": category_label(r.category)} for r in self.prior_reports]


def gather(
    case: Case, *, reports: list[Report], viewer: Any, at: dt.datetime, today: dt.date
) -> Evidence:
    """The evidence blocks of `case` that `viewer` may see. `reports` are the case's reports the
    page already holds (their reporters selected), so the reporters cost no query."""
    blocks = evidence_blocks(viewer)
    evidence = Evidence(blocks=blocks)
    subject = case.subject_user
    show_age = "ages" in blocks

    def add(user: User, involvement: str) -> Person:
        found = evidence.person(user.pk)
        if found is None:
            found = Person(user, [], age_of(user, on=today) if show_age else None)
            evidence.people.append(found)
        if involvement not in found.involvement:
            found.involvement.append(involvement)
        return found

    if subject is not None:
        add(subject, SUBJECT)
    reporters = [r.reporter for r in reports if r.reporter is not None]
    for reporter in reporters:
        add(reporter, REPORTER)
    for thread, members in _conversations(case, subject, reporters):
        evidence.conversations.append(
            Conversation(thread, [add(user, PARTICIPANT) for user in members])
        )
    if subject is None:
        evidence.flags = _flags(case, None) if "flags" in blocks else []
        return evidence
    if "contact_risk" in blocks:
        evidence.contact_risk = contact_risk_picture(subject, at=at)
        if evidence.contact_risk is None:
            evidence.contact_risk_note = (
                "The contact-risk signal concerns adults contacting minors."
            )
    if "prior_reports" in blocks:
        earlier = Report.objects.filter(subject_user=subject).exclude(case_id=case.pk)
        evidence.prior_reports = list(
            earlier.select_related("case").order_by("-created_at", "-id")[:PRIOR_LIMIT]
        )
        evidence.prior_report_outcomes = dict(
            earlier.order_by().values("outcome").annotate(n=Count("pk")).values_list("outcome", "n")
        )
    if "prior_decisions" in blocks:
        evidence.prior_decisions = list(
            Decision.objects.for_user(subject)
            .exclude(case_id=case.pk)
            .select_related("decided_by")
            .order_by("-decided_at")[:PRIOR_LIMIT]
        )
    if "restrictions" in blocks:
        evidence.restrictions = list(
            Restriction.objects.active(at=at).filter(user=subject).order_by("ends_at")
        )
    if "strikes" in blocks:
        evidence.strikes = list(
            Strike.objects.active(at=at)
            .filter(user=subject)
            .select_related("decision")
            .order_by("expires_at")[:STRIKE_LIMIT]
        )
    if "flags" in blocks:
        evidence.flags = _flags(case, subject)
    return evidence


def _conversations(
    case: Case, subject: User | None, reporters: list[User]
) -> list[tuple[Thread, list[User]]]:
    """The reported conversation: the case's thread, or for a case about an account the direct
    threads between the account and its first reporters (what the reporter is complaining about).
    Two queries at most: the threads, then their participants."""
    if case.subject_thread_id is not None:
        threads = [case.subject_thread]
    elif subject is not None and reporters:
        pairs = [Thread.objects.direct_between(subject, r) for r in reporters if r != subject]
        if not pairs:
            return []
        threads = list(reduce(operator.or_, pairs).order_by("-created_at")[:CONVERSATION_LIMIT])
    else:
        return []
    if not threads:
        return []
    members: dict[int, list[User]] = {t.pk: [] for t in threads}
    for row in (
        ThreadParticipant.objects.filter(thread__in=threads)
        .select_related("user")
        .order_by("thread_id", "joined_at", "id")
    ):
        members[row.thread_id].append(row.user)
    return [(t, members[t.pk]) for t in threads]


def _flags(case: Case, subject: User | None) -> list[Flag]:
    """Flags on the subject and flags that raised or joined this case (served by the foreign-key
    indexes on `user` and `case`)."""
    where = Q(case_id=case.pk)
    if subject is not None:
        where |= Q(user=subject)
    return list(
        Flag.objects.filter(where)
        .select_related("case")
        .order_by("-last_signal_at", "-id")[:FLAG_LIMIT]
    )


def thread_lines(messages: list[Message], evidence: Evidence) -> list[dict[str, Any]]:
    """Messages oldest first, each with its sender as the viewer may see them (tier badge)."""
    return [{"m": m, "who": evidence.person(m.sender_id)} for m in reversed(messages)]
