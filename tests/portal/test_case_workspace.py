"""The case workspace: claim, read the thread (audited), decide through the service, object rules."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from accounts.models import Restriction, SafetySettings
from accounts.roles import Role
from messaging.models import Message, Thread
from moderation.models import Case, Decision
from safety_portal.core.audit.models import AuditEntry
from tests.factories.accounts import AppUserFactory

from .conftest import sign_in
from .scenario import ACTOR, Day, friends, staff

pytestmark = pytest.mark.django_db

SUSPEND_7_DAYS = {
    "decision_type": "suspend",
    "days": "7",
    "ground": "tc_harassment",
    "explanation": "You threatened someone who refused to share their address.",
    "facts": "The account sent a threatening direct message after a refusal.",
    "intent": "decide",
}


def _case_url(case: Case, name: str = "portal:case") -> str:
    return reverse(name, args=[case.pk])


def test_a_moderator_claims_reads_and_suspends_for_seven_days(day: Day, as_role) -> None:
    client = as_role(Role.MODERATOR)
    case = day.message_case
    assert client.post(_case_url(case, "portal:case_claim")).status_code == 302
    page = client.get(_case_url(case))
    assert page.context["show_decision_form"] is True
    response = client.post(_case_url(case, "portal:case_decide"), SUSPEND_7_DAYS)
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == "decided"
    decision = Decision.objects.get(case=case)
    assert decision.type == "suspend"
    assert (decision.ends_at - decision.starts_at).days == 7
    assert Restriction.objects.filter(user=day.sender, kind="suspension").exists()
    entry = AuditEntry.objects.filter(action="moderation.decision.taken").latest("seq")
    assert entry.actor_id == str(day.staff[Role.MODERATOR].pk)
    closed = client.get(_case_url(case))
    assert b"Closed" in closed.content
    assert closed.context["show_decision_form"] is False


def test_decision_errors_are_shown_next_to_their_fields(day: Day, as_role) -> None:
    client = as_role(Role.MODERATOR)
    case = day.message_case
    client.post(_case_url(case, "portal:case_claim"))
    response = client.post(
        _case_url(case, "portal:case_decide"),
        {**SUSPEND_7_DAYS, "ground": "", "facts": "   "},
    )
    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors, "the service's field errors are on the form"
    assert b"has-error" in response.content
    case.refresh_from_db()
    assert case.status == "open"
    assert not Decision.objects.filter(case=case).exists()


def test_a_moderator_cannot_suspend_beyond_thirty_days(day: Day, as_role) -> None:
    client = as_role(Role.MODERATOR)
    case = day.message_case
    client.post(_case_url(case, "portal:case_claim"))
    response = client.post(_case_url(case, "portal:case_decide"), {**SUSPEND_7_DAYS, "days": "60"})
    assert response.status_code == 403
    assert b"role needed" in response.content
    assert not Decision.objects.filter(case=case).exists()


def test_the_notice_preview_renders_without_deciding(day: Day, as_role) -> None:
    client = as_role(Role.MODERATOR)
    case = day.message_case
    client.post(_case_url(case, "portal:case_claim"))
    response = client.post(
        _case_url(case, "portal:case_decide"), {**SUSPEND_7_DAYS, "intent": "preview"}
    )
    assert response.status_code == 200
    preview = response.context["preview"]
    assert preview.recipient == day.sender.username
    assert preview.subject
    assert not Decision.objects.filter(case=case).exists()


def test_triage_sees_the_case_but_no_decision_form_and_cannot_post_one(day: Day, as_role) -> None:
    client = as_role(Role.TRIAGE)
    case = day.message_case
    client.post(_case_url(case, "portal:case_claim"))
    page = client.get(_case_url(case))
    assert page.status_code == 200
    assert page.context["show_decision_form"] is False
    assert b'data-testid="decision-form"' not in page.content
    assert client.post(_case_url(case, "portal:case_decide"), SUSPEND_7_DAYS).status_code == 403


def test_another_moderators_claimed_case_cannot_be_decided_or_released(day: Day, as_role) -> None:
    holder = as_role(Role.MODERATOR)
    case = day.message_case
    holder.post(_case_url(case, "portal:case_claim"))
    other = sign_in(Client(), staff(Role.MODERATOR, "mo_other"))
    page = other.get(_case_url(case))
    assert page.context["held_by_other"] is True
    assert page.context["show_decision_form"] is False
    other.post(_case_url(case, "portal:case_decide"), SUSPEND_7_DAYS)
    other.post(_case_url(case, "portal:case_release"))
    case.refresh_from_db()
    assert case.status == "open"
    assert case.claimed_by == day.staff[Role.MODERATOR]
    assert not Decision.objects.filter(case=case).exists()
    assert other.post(_case_url(case, "portal:case_take_over"), {"reason": "x"}).status_code == 403


def test_a_senior_takes_over_a_claimed_case_with_a_reason(day: Day, as_role) -> None:
    as_role(Role.MODERATOR).post(_case_url(day.message_case, "portal:case_claim"))
    senior = as_role(Role.SENIOR_MODERATOR)
    senior.post(
        _case_url(day.message_case, "portal:case_take_over"), {"reason": "moderator off sick"}
    )
    day.message_case.refresh_from_db()
    assert day.message_case.claimed_by == day.staff[Role.SENIOR_MODERATOR]
    entry = AuditEntry.objects.filter(action="moderation.case.taken_over").latest("seq")
    assert entry.reason == "moderator off sick"


def test_message_text_appears_only_when_opened_and_the_read_is_audited(day: Day, as_role) -> None:
    client = as_role(Role.TRIAGE)
    case = day.message_case
    body = escape(day.reported.body).encode()
    page = client.get(_case_url(case))
    assert body not in page.content
    assert not AuditEntry.objects.filter(action="messaging.messages.read_by_staff").exists()
    opened = client.get(_case_url(case, "portal:case_thread"))
    assert body in opened.content
    entry = AuditEntry.objects.get(action="messaging.messages.read_by_staff")
    assert entry.actor_id == str(day.staff[Role.TRIAGE].pk)
    assert entry.after["case"] == str(case.pk)
    assert entry.after["message_ids"]


def test_a_minors_messages_are_never_shown_outside_their_own_case(day: Day, as_role) -> None:
    teen_a = AppUserFactory(username="teen_a", age=16, country="GB")
    teen_b = AppUserFactory(username="teen_b", age=17, country="GB")
    friends(teen_a, teen_b)
    for teen in (teen_a, teen_b):
        SafetySettings.objects.change(teen, actor=teen, dm_setting="friends")
    thread = Thread.objects.start(creator=teen_a, participants=[teen_b], actor=ACTOR)
    Message.objects.send(sender=teen_a, thread=thread, body="only-between-teens-7731", actor=ACTOR)
    senior = as_role(Role.SENIOR_MODERATOR)
    pages = [
        senior.get(_case_url(day.message_case, "portal:case_thread")),
        senior.get(reverse("portal:user_detail", args=[teen_a.pk])),
        senior.get(reverse("portal:users")),
        senior.get(reverse("portal:cases"), {"view": "open"}),
    ]
    for page in pages:
        assert page.status_code == 200
        assert b"only-between-teens-7731" not in page.content
    assert not AuditEntry.objects.filter(
        action="messaging.messages.read_by_staff", target_id=str(thread.pk)
    ).exists()


def test_moderators_see_age_and_tier_but_never_the_exact_birthdate(day: Day, as_role) -> None:
    client = as_role(Role.MODERATOR)
    minor = day.minor
    page = client.get(reverse("portal:user_detail", args=[minor.pk]))
    assert page.status_code == 200
    assert b"13\xe2\x80\x9315" in page.content  # the tier label 13-15, with an en dash
    assert minor.birthdate.isoformat().encode() not in page.content
    reveal = client.post(reverse("portal:user_birthdate", args=[minor.pk]), {"reason": "curious"})
    assert reveal.status_code == 403


def test_a_senior_sees_an_exact_birthdate_only_with_a_reason_and_it_is_audited(
    day: Day, as_role
) -> None:
    client = as_role(Role.SENIOR_MODERATOR)
    url = reverse("portal:user_birthdate", args=[day.minor.pk])
    refused = client.post(url, {"reason": " "})
    assert refused.status_code == 400
    assert not AuditEntry.objects.filter(action="accounts.birthdate.viewed").exists()
    shown = client.post(url, {"reason": "age appeal on case 4"})
    assert shown.status_code == 200
    assert day.minor.birthdate.isoformat().encode() in shown.content
    entry = AuditEntry.objects.get(action="accounts.birthdate.viewed")
    assert entry.target_id == str(day.minor.pk)
    assert entry.reason == "age appeal on case 4"


def test_claim_next_takes_the_highest_priority_case(day: Day, as_role) -> None:
    client = as_role(Role.MODERATOR)
    top = Case.objects.for_queue("all", moderator=day.staff[Role.MODERATOR]).first()
    response = client.post(reverse("portal:claim_next"), {"queue": "all"})
    assert response.status_code == 302
    assert response["Location"] == _case_url(top)
    top.refresh_from_db()
    assert top.claimed_by == day.staff[Role.MODERATOR]


def test_notes_and_escalation_go_through_the_case_manager(day: Day, as_role) -> None:
    client = as_role(Role.TRIAGE)
    case = day.message_case
    client.post(_case_url(case, "portal:case_claim"))
    client.post(
        _case_url(case, "portal:case_note"), {"body": "Looks like a threat; needs a senior."}
    )
    client.post(_case_url(case, "portal:case_escalate"), {"reason": "threat of violence"})
    case.refresh_from_db()
    assert case.status == "escalated"
    assert case.claimed_by is None
    assert case.notes.count() == 1
    actions = set(AuditEntry.objects.for_target(case).values_list("action", flat=True))
    assert {"moderation.case.note_added", "moderation.case.escalated"} <= actions


def test_the_case_list_stays_within_a_fixed_number_of_queries(
    day: Day, as_role, django_assert_max_num_queries
) -> None:
    client = as_role(Role.MODERATOR)
    for view in ("queue", "open", "decided", "mine", "overdue", "minors"):
        with django_assert_max_num_queries(12):
            assert client.get(reverse("portal:cases"), {"view": view}).status_code == 200
