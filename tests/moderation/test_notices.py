"""Notices: one template per decision type, plain language by age tier, reporters learn no details."""

from __future__ import annotations

import pytest

from accounts.models import User
from moderation.models import Notice
from moderation.notices import render
from tests.factories.messaging import befriend, direct_thread, person, send
from tests.factories.moderation import decided, report_message, report_user

pytestmark = pytest.mark.django_db

TYPES = [
    ("warn", {}),
    ("restrict_feature", {"feature": "direct_messages", "days": 7}),
    ("suspend", {"days": 7}),
    ("terminate", {}),
    ("require_age_verification", {}),
]


@pytest.mark.parametrize(("decision_type", "options"), TYPES)
@pytest.mark.parametrize("age", [14, 17, 35])
def test_each_decision_type_sends_its_own_notice_in_words_for_the_readers_age(
    senior: User, decision_type: str, options: dict[str, object], age: int
) -> None:
    subject = person(age)
    ground = "tc_minimum_age" if decision_type == "require_age_verification" else "tc_harassment"
    decision = decided(report_user(subject, reporter=person(40)).case, senior, decision_type,
                       ground=ground, **options)  # fmt: skip
    notice = Notice.objects.get(recipient=subject, kind="decision")
    assert notice.template == f"decision_{decision_type}"
    assert notice.tier == ("adult" if age >= 18 else "young_teen" if age < 16 else "older_teen")
    assert notice.decision == decision
    assert notice.subject
    assert notice.body
    assert "{{" not in notice.body
    assert "{%" not in notice.body
    teen_voice = notice.body.startswith("Hi,")
    assert teen_voice is (age < 18)
    if decision.ends_at is not None:
        assert str(decision.ends_at.year) in notice.body


def test_a_message_removal_notice_counts_the_messages(moderator: User) -> None:
    a, b = person(30, dm="friends"), person(31, dm="friends")
    befriend(a, b)
    message = send(a, direct_thread(a, b), "rude")
    decided(report_message(message, reporter=b).case, moderator, "remove_messages")
    notice = Notice.objects.get(recipient=a, kind="decision")
    assert notice.subject == "A message you sent was removed"


def test_the_reporter_hears_the_outcome_but_no_private_details(moderator: User) -> None:
    subject, reporter = person(30), person(15)
    decision = decided(report_user(subject, reporter=reporter).case, moderator, "suspend", days=9)
    notice = Notice.objects.get(recipient=reporter)
    text = f"{notice.subject}\n{notice.body}".lower()
    assert "took action" in text
    for private in (subject.username.lower(), "suspend", "9 days", str(decision.ends_at.day) + " "):
        assert private not in text
    assert notice.tier == "young_teen"


def test_templates_render_for_staff_readers_in_the_adult_voice(senior: User) -> None:
    rendered = render("case_overdue", recipient=senior, context={"case_id": 7, "priority": 1,
                      "due_at": "today", "involves_minor": True})  # fmt: skip
    assert rendered.tier == "adult"
    assert rendered.subject == "Case 7 is past its due time (P1)"
    assert "involves a minor" in rendered.body


def test_a_template_without_a_subject_line_is_a_bug(tmp_path: object, settings: object) -> None:
    with pytest.raises(ValueError, match="Subject"):
        render("_appeal", recipient=person(30), context={})
