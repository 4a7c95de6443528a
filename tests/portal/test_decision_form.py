"""Deciding faster and safely (issue 15.2): the decision form starts from the case, termination and
under-age decisions need an explicit confirmation, and a form posted twice decides once (D37)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Restriction
from accounts.roles import Role
from moderation.models import Case, Decision
from safety_portal.core.audit.models import AuditEntry
from safety_portal.portal.views.case_workspace import DecisionForm
from tests.factories.messaging import person
from tests.factories.moderation import CSAM, GROOMING, MINORS, SCAM, report_user
from tests.moderation.test_concurrency import run_together

from .conftest import sign_in
from .evidence_story import grooming
from .scenario import Day, staff
from .test_case_workspace import SUSPEND_7_DAYS

pytestmark = pytest.mark.django_db

TERMINATE = {**SUSPEND_7_DAYS, "decision_type": "terminate", "days": ""}


def _url(case: Case, name: str = "portal:case") -> str:
    return reverse(name, args=[case.pk])


def _claimed_by(client: Client, case: Case) -> Client:
    assert client.post(_url(case, "portal:case_claim")).status_code == 302
    return client


# --- the form starts from the case ----------------------------------------------------------------


def test_the_decision_form_starts_from_the_cases_category_and_the_ground_it_suggests(
    day: Day, as_role
) -> None:
    story = grooming()
    client = _claimed_by(as_role(Role.MODERATOR), story.case)
    form = client.get(_url(story.case)).context["form"]
    assert form["category"].value() == MINORS
    assert form["ground"].value() == "tc_minor_safety"
    html = str(form["ground"])
    assert '<option value="tc_minor_safety" selected>' in html


def test_a_csam_keyword_pre_fills_the_legal_ground_and_a_scam_the_scams_clause(day: Day) -> None:
    moderator = day.staff[Role.MODERATOR]
    csam = report_user(person(30), reporter=person(16), category=MINORS, keywords=[CSAM]).case
    scam = report_user(person(30), reporter=person(40), category=SCAM).case
    assert DecisionForm(user=moderator, case=csam)["ground"].value() == "law_child_sexual_abuse"
    assert DecisionForm(user=moderator, case=scam)["ground"].value() == "tc_scams"


def test_the_category_the_moderator_leaves_or_changes_is_the_one_the_decision_records(
    day: Day, as_role
) -> None:
    client = _claimed_by(as_role(Role.MODERATOR), day.message_case)
    page = client.get(_url(day.message_case))
    assert page.context["form"]["category"].value() == day.message_case.category
    client.post(
        _url(day.message_case, "portal:case_decide"),
        {**SUSPEND_7_DAYS, "category": "STATEMENT_CATEGORY_CYBER_VIOLENCE"},
    )
    decision = Decision.objects.get(case=day.message_case)
    assert decision.category == "STATEMENT_CATEGORY_CYBER_VIOLENCE"
    entry = AuditEntry.objects.get(action="moderation.decision.taken", target_id=str(decision.pk))
    assert entry.after["category"] == "STATEMENT_CATEGORY_CYBER_VIOLENCE"


def test_a_form_without_a_category_keeps_the_cases_own(day: Day, as_role) -> None:
    client = _claimed_by(as_role(Role.MODERATOR), day.message_case)
    client.post(_url(day.message_case, "portal:case_decide"), SUSPEND_7_DAYS)
    assert Decision.objects.get(case=day.message_case).category == day.message_case.category


# --- termination and under-age decisions are confirmed ------------------------------------------


@pytest.mark.parametrize(
    ("posted", "label"),
    [
        (TERMINATE, "Terminate the account"),
        (
            {
                "decision_type": "require_age_verification",
                "facts": "The account holder says in a video that they are eleven.",
                "intent": "decide",
            },
            "Require age verification",
        ),
    ],
)
def test_a_senior_must_confirm_a_termination_or_an_under_age_decision(
    day: Day, as_role, posted: dict[str, str], label: str
) -> None:
    client = _claimed_by(as_role(Role.SENIOR_MODERATOR), day.message_case)
    refused = client.post(_url(day.message_case, "portal:case_decide"), posted)
    assert refused.status_code == 400
    [error] = refused.context["form"].errors["confirm"]
    assert label in error
    assert "tick" in error
    assert "decide again" in error
    assert (
        b"I have checked the evidence and I confirm: this cannot be undone by a moderator"
        in refused.content
    )
    assert not Decision.objects.filter(case=day.message_case).exists()
    day.message_case.refresh_from_db()
    assert day.message_case.status == "open"

    done = client.post(_url(day.message_case, "portal:case_decide"), {**posted, "confirm": "on"})
    assert done.status_code == 302
    assert Decision.objects.get(case=day.message_case).type == posted["decision_type"]


def test_a_suspension_needs_no_confirmation_and_a_preview_of_a_termination_neither(
    day: Day, as_role
) -> None:
    client = _claimed_by(as_role(Role.SENIOR_MODERATOR), day.message_case)
    preview = client.post(
        _url(day.message_case, "portal:case_decide"), {**TERMINATE, "intent": "preview"}
    )
    assert preview.status_code == 200
    assert "confirm" not in preview.context["form"].errors
    assert not Decision.objects.filter(case=day.message_case).exists()
    done = client.post(_url(day.message_case, "portal:case_decide"), SUSPEND_7_DAYS)
    assert done.status_code == 302
    assert Decision.objects.get(case=day.message_case).type == "suspend"


# --- a form posted twice decides once -------------------------------------------------------------


def test_the_same_decision_form_posted_twice_decides_once_and_says_so(day: Day, as_role) -> None:
    client = _claimed_by(as_role(Role.MODERATOR), day.message_case)
    url = _url(day.message_case, "portal:case_decide")
    first = client.post(url, SUSPEND_7_DAYS)
    second = client.post(url, SUSPEND_7_DAYS, follow=True)

    assert first.status_code == 302
    assert second.redirect_chain == [(_url(day.message_case), 302)]
    text = second.content.decode()
    assert f"Case #{day.message_case.pk} was already decided: Suspend" in text
    assert "This submission changed nothing." in text
    [decision] = Decision.objects.filter(case=day.message_case)
    assert decision.type == "suspend"
    assert AuditEntry.objects.filter(action="moderation.decision.taken").count() == 1
    assert Restriction.objects.filter(user=day.sender, kind="suspension").count() == 1


def test_an_escalation_posted_twice_escalates_once(day: Day, as_role) -> None:
    client = _claimed_by(as_role(Role.MODERATOR), day.message_case)
    url = _url(day.message_case, "portal:case_decide")
    posted = {
        "decision_type": "escalate",
        "facts": "Threat of violence: needs a senior.",
        "intent": "decide",
    }
    assert client.post(url, posted).status_code == 302
    second = client.post(url, posted, follow=True)
    assert "was already escalated: Escalate by mo_moderator" in second.content.decode()
    assert Decision.objects.filter(case=day.message_case).count() == 1
    assert AuditEntry.objects.filter(action="moderation.case.escalated").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_posts_of_the_same_form_at_the_same_instant_decide_once(day: Day) -> None:
    """Both requests pass the page's own check; the case's row lock lets one decide and the other
    find the case closed (real PostgreSQL, one connection per request thread)."""
    moderator = day.staff[Role.MODERATOR]
    case = day.message_case
    Case.objects.claim(case, actor=moderator)
    clients = [sign_in(Client(), moderator), sign_in(Client(), moderator)]
    url = _url(case, "portal:case_decide")

    responses = run_together(2, lambda i: clients[i].post(url, SUSPEND_7_DAYS, follow=True))

    assert [r.status_code for r in responses] == [200, 200]
    pages = [r.content.decode() for r in responses]
    assert sum(f"Case #{case.pk} is closed" in p for p in pages) == 1
    assert sum("This submission changed nothing." in p for p in pages) == 1
    assert Decision.objects.filter(case=case).count() == 1
    assert AuditEntry.objects.filter(action="moderation.decision.taken").count() == 1


def test_another_moderators_form_on_a_decided_case_is_told_who_decided(day: Day, as_role) -> None:
    client = _claimed_by(as_role(Role.MODERATOR), day.message_case)
    client.post(_url(day.message_case, "portal:case_decide"), SUSPEND_7_DAYS)
    other = sign_in(Client(), staff(Role.MODERATOR, "mo_late"))
    late = other.post(_url(day.message_case, "portal:case_decide"), SUSPEND_7_DAYS, follow=True)
    assert f"by {day.staff[Role.MODERATOR].username} at" in late.content.decode()
    assert Decision.objects.filter(case=day.message_case).count() == 1


def test_a_grooming_case_can_be_decided_as_a_direct_message_restriction(day: Day, as_role) -> None:
    story = grooming()
    client = _claimed_by(as_role(Role.MODERATOR), story.case)
    response = client.post(
        _url(story.case, "portal:case_decide"),
        {
            "decision_type": "restrict_feature",
            "feature": "direct_messages",
            "days": "30",
            "ground": "tc_minor_safety",
            "category": MINORS,
            "explanation": "You pressed a young person to move to another app and keep it secret.",
            "facts": "Messages asked a 16-year-old to move to another app and keep it secret.",
            "intent": "decide",
        },
    )
    assert response.status_code == 302
    decision = Decision.objects.get(case=story.case)
    assert (decision.type, decision.feature, decision.ground) == (
        "restrict_feature",
        "direct_messages",
        "tc_minor_safety",
    )
    assert decision.keywords == [GROOMING]
