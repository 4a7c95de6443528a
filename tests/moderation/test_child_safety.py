"""Child sexual exploitation (issue 12.6): a decision or a confirmed contact-risk flag puts the
evidence on legal hold, which no erasure may touch, and opens an escalation for the team that
reports to the competent authority."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from accounts import erasure
from accounts.models import BirthdateChangeRequest, LegalHold, User
from accounts.roles import Role
from moderation import services
from moderation.actions import child_safety
from moderation.actions import under_age_closure as closure
from moderation.models import ChildSafetyEscalation, Flag
from safety_portal.core import clock
from safety_portal.core.audit.models import AuditEntry
from safety_portal.core.errors import Conflict, DomainError, NotPermitted
from tests.factories.accounts import AppUserFactory, StaffFactory, birthdate_for_age
from tests.factories.messaging import direct_thread, friendly_pair, send
from tests.factories.moderation import CSAM, GROOMING, MINORS, decided, report_message, report_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead(db: None) -> User:
    return StaffFactory(roles=[Role.CHILD_SAFETY])


def exploitation_case(keyword: str = GROOMING):
    adult, teen = friendly_pair(34, 17)
    thread = direct_thread(adult, teen)
    message = send(adult, thread, "send me a photo, keep it between us")
    report = report_message(message, reporter=teen, category=MINORS, keywords=[keyword])
    return adult, teen, message, report.case


def test_a_grooming_decision_holds_the_subjects_data_and_opens_one_escalation(
    moderator: User, audit_actions
) -> None:
    adult, _teen, _message, case = exploitation_case()
    decision = decided(case, moderator, "suspend", days=30)
    hold = LegalHold.objects.active().get(user=adult)
    assert hold.case_id == case.pk
    escalation = ChildSafetyEscalation.objects.get(case=case)
    assert (escalation.status, escalation.decision_id) == ("open", decision.pk)
    assert len(audit_actions("accounts.legal_hold.placed")) == 1
    assert len(audit_actions("moderation.child_safety.escalated")) == 1


def test_a_no_violation_finding_holds_nothing(moderator: User) -> None:
    adult, _teen, _message, case = exploitation_case(CSAM)
    decided(case, moderator, "no_violation")
    assert not LegalHold.objects.filter(user=adult).exists()
    assert not ChildSafetyEscalation.objects.exists()


def test_a_harassment_decision_is_not_a_child_safety_case(moderator: User) -> None:
    subject = AppUserFactory(age=30)
    decided(report_user(subject, reporter=AppUserFactory(age=35)).case, moderator, "warn")
    assert not ChildSafetyEscalation.objects.exists()


def test_a_confirmed_contact_risk_flag_holds_and_escalates(moderator: User) -> None:
    adult = AppUserFactory(age=41)
    flag = Flag.objects.raise_signal(
        user_id=adult.pk,
        kind=Flag.Kind.CONTACT_RISK,
        signal={"rule": "contact_risk", "refused_minors": 5},
        actor=moderator,
    )
    case = services.confirm_flag(flag, actor=moderator, note="Five refused teens in an hour.")
    assert LegalHold.objects.is_held(adult.pk)
    assert ChildSafetyEscalation.objects.get(case=case).flag_id == flag.pk


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the birthdate guard is a trigger")
def test_the_under_age_closure_never_erases_a_held_account_until_the_hold_is_released(
    moderator: User, lead: User, system
) -> None:
    child = AppUserFactory(birthdate=birthdate_for_age(14))
    BirthdateChangeRequest.objects.submit(
        user=child, new_birthdate=birthdate_for_age(11), method="guardian_vouch",
        evidence_reference="ticket-1", reason="A parent wrote in.", actor=system,
    )  # fmt: skip
    User.objects.filter(pk=child.pk).update(status_changed_at=clock.now() - dt.timedelta(days=181))
    report = report_user(child, reporter=AppUserFactory(age=30), category=MINORS, keywords=[CSAM])
    decided(report.case, moderator, "warn")
    hold = LegalHold.objects.active().get(user=child)

    assert closure.close_expired_reviews(actor=system).closed == []
    with pytest.raises(Conflict) as refused:
        erasure.erase_child_data(child, actor=system, reason="a job that forgot to ask")
    assert refused.value.code == "legal_hold"
    child.refresh_from_db()
    assert child.birthdate is not None

    LegalHold.objects.release(hold, actor=lead, reason="Authority confirmed receipt; case closed.")
    assert closure.close_expired_reviews(actor=system).closed == [child.pk]
    assert AuditEntry.objects.filter(action="accounts.legal_hold.released").count() == 1


def test_only_the_child_safety_team_releases_a_hold_and_exports_the_package(
    moderator: User, senior: User, lead: User
) -> None:
    _adult, _teen, message, case = exploitation_case()
    decided(case, moderator, "suspend", days=30)
    hold = LegalHold.objects.active().get(case_id=case.pk)
    escalation = ChildSafetyEscalation.objects.get(case=case)
    with pytest.raises(NotPermitted):
        LegalHold.objects.release(hold, actor=senior, reason="tidying up")
    with pytest.raises(NotPermitted):
        child_safety.report_package(escalation, actor=senior)

    exported = child_safety.report_package(escalation, actor=lead)
    package = exported["package"]
    assert [m["body"] for m in package["messages"]] == [message.body]
    assert package["case"]["keywords"] == [GROOMING]
    assert package["subject_account"]["id"] == message.sender_id
    entry = AuditEntry.objects.get(action="moderation.child_safety.package_exported")
    assert entry.after["sha256"] == exported["sha256"]


def test_marking_an_escalation_reported_needs_the_authoritys_reference_once(
    moderator: User, lead: User
) -> None:
    _adult, _teen, _message, case = exploitation_case()
    decided(case, moderator, "suspend", days=30)
    escalation = ChildSafetyEscalation.objects.get(case=case)
    with pytest.raises(DomainError) as missing:
        child_safety.mark_reported(escalation, actor=lead, reference="  ")
    assert set(missing.value.fields) == {"reference"}
    child_safety.mark_reported(escalation, actor=lead, reference="CT-2026-118822")
    escalation.refresh_from_db()
    assert (escalation.status, escalation.authority_reference) == ("reported", "CT-2026-118822")
    with pytest.raises(Conflict):
        child_safety.mark_reported(escalation, actor=lead, reference="again")
    # The hold stays after reporting: the authority may still ask for the evidence.
    assert LegalHold.objects.active().filter(case_id=case.pk).exists()
