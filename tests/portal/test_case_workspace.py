"""The case workspace: claim, read the thread (audited), decide through the service, object rules."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from accounts.models import Restriction, SafetySettings
from accounts.roles import Role
from messaging.models import Message, Thread
from messaging.services import read_messages_for_staff
from moderation.models import Case, Decision, Flag, Report
from safety_portal.core import clock
from safety_portal.core.audit.models import AuditEntry
from safety_portal.portal import evidence
from tests.factories.accounts import AppUserFactory
from tests.factories.messaging import block, person
from tests.factories.moderation import (
    MINORS,
    SCAM,
    decided,
    report_message,
    report_thread,
    report_user,
)

from .conftest import sign_in
from .evidence_story import grooming, refused
from .scenario import ACTOR, Day, friends, staff

pytestmark = pytest.mark.django_db

# The case page, whatever the subject's history (issue 15.1: the evidence blocks included): the
# session and permissions (5), the case and its reports, the evidence blocks (12), the timeline and
# decisions. Opening the conversation adds the read (two ordered scans) and its audit entry.
MAX_CASE_PAGE_QUERIES = 22
MAX_THREAD_PAGE_QUERIES = 28

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


# --------------------------------------------------------------------------------------------------
# The evidence a child-safety decision needs, on the case (issue 15.1)
# --------------------------------------------------------------------------------------------------


def test_the_case_shows_the_reporter_and_subject_tier_country_and_years_never_birthdates(
    day: Day, as_role
) -> None:
    story = grooming()
    page = as_role(Role.MODERATOR).get(_case_url(story.case))
    people = {p.user.pk: p for p in page.context["evidence"].people}
    subject, teen = people[story.subject.pk], people[story.teen.pk]
    assert subject.involvement == ["subject", "in the conversation"]
    assert (subject.age.label, subject.age.years, subject.age.minor) == ("Adult", 19, False)
    assert teen.involvement == ["reporter", "in the conversation"]
    assert (teen.age.label, teen.age.years, teen.age.minor) == ("16\u201317", 16, True)
    html = page.content.decode()
    people_block = html[html.index('data-testid="evidence-people"') :]
    people_block = people_block[: people_block.index("</section>")]
    assert "Ireland" in people_block
    assert "United Kingdom" in people_block
    assert "19 y" in people_block
    assert "16 y" in people_block
    for who in (story.subject, story.teen):
        assert who.birthdate.isoformat() not in html
        assert who.birthdate.strftime("%d/%m/%Y") not in html


def test_opening_a_message_case_shows_both_sides_around_the_reported_message(
    day: Day, as_role
) -> None:
    story = grooming(messages=31)
    reported = story.lines[15]
    case = report_message(reported, reporter=story.teen, category=MINORS).case
    page = as_role(Role.TRIAGE).get(_case_url(case, "portal:case_thread"))
    assert page.status_code == 200
    shown = [line["m"].pk for line in page.context["thread_lines"]]
    window = [m.pk for m in story.lines[5:26]]  # 10 before, the reported one, 10 after
    assert shown == window
    assert {line["m"].sender_id for line in page.context["thread_lines"]} == {
        story.subject.pk,
        story.teen.pk,
    }
    html = page.content.decode()
    assert "line-05 of the chat" in html
    assert "line-25 of the chat" in html
    assert "line-04 of the chat" not in html
    assert "line-26 of the chat" not in html
    entry = AuditEntry.objects.get(action="messaging.messages.read_by_staff")
    assert entry.target_id == str(story.thread.pk)
    assert entry.after["case"] == str(case.pk)
    assert entry.after["around"] == reported.pk
    assert sorted(entry.after["message_ids"]) == sorted(window)
    assert entry.after["whose"] == [story.subject.pk, story.teen.pk]


def test_a_grooming_report_opens_the_conversation_between_the_minor_and_the_subject(
    day: Day, as_role
) -> None:
    story = grooming()
    client = as_role(Role.MODERATOR)
    case_page = client.get(_case_url(story.case))
    assert [c.thread.pk for c in case_page.context["evidence"].conversations] == [story.thread.pk]
    assert b'data-testid="open-thread"' in case_page.content
    assert b"line-00 of the chat" not in case_page.content  # bodies only when opened
    opened = client.get(_case_url(story.case, "portal:case_thread"))
    html = opened.content.decode()
    assert all(f"line-{i:02d} of the chat" in html for i in range(6))
    assert "unrelated-adult-chat-5521" not in html  # the old flow showed the subject's messages
    entry = AuditEntry.objects.get(action="messaging.messages.read_by_staff")
    assert (entry.target_type, entry.target_id) == ("messaging.thread", str(story.thread.pk))
    assert entry.after["case"] == str(story.case.pk)
    assert entry.after["whose"] == [story.subject.pk, story.teen.pk]
    assert entry.actor_id == str(day.staff[Role.MODERATOR].pk)


def test_a_case_is_not_a_door_to_other_threads(day: Day, as_role) -> None:
    story = grooming()
    url = _case_url(story.case, "portal:case_thread")
    response = as_role(Role.MODERATOR).get(url, {"thread": story.unrelated.thread_id})
    assert response.status_code == 404
    assert not AuditEntry.objects.filter(action="messaging.messages.read_by_staff").exists()


def test_the_contact_risk_block_counts_minors_over_seven_and_thirty_days(day: Day, as_role) -> None:
    story = grooming()  # reached the 16-year-old (thread started today), refused for a 14-year-old
    older_minor, other_teen = person(15), person(17, dm="friends")
    with time_machine.travel(clock.now() - dt.timedelta(days=12), tick=False):
        refused(story.subject, older_minor)
        refused(story.subject, older_minor)
        block(other_teen, story.subject)
    with time_machine.travel(clock.now() - dt.timedelta(days=40), tick=False):
        refused(story.subject, person(13))  # outside both windows
    block(story.younger, story.subject)
    page = as_role(Role.MODERATOR).get(_case_url(story.case))
    week, month = page.context["evidence"].contact_risk.windows
    assert (week.days, week.minors_reached, week.minors_refused, week.distinct_minors) == (
        7,
        1,
        1,
        2,
    )
    assert (week.refused_attempts, week.blocks_from_minors) == (1, 1)
    assert week.reasons == (("dm_recipient_under_16", 1),)
    assert (month.minors_reached, month.minors_refused, month.distinct_minors) == (1, 2, 3)
    assert (month.refused_attempts, month.blocks_from_minors) == (3, 2)
    assert month.reasons == (("dm_recipient_under_16", 3),)
    assert page.context["evidence"].contact_risk.blocks_from_minors_total == 2
    assert b'data-testid="risk-30d"' in page.content
    assert b"dm_recipient_under_16 \xc3\x97 3" in page.content


def test_a_minor_subject_gets_no_contact_risk_picture(day: Day, as_role) -> None:
    teen, other = person(16, dm="friends"), person(17, dm="friends")
    case = report_user(teen, reporter=other).case
    evidence = as_role(Role.MODERATOR).get(_case_url(case)).context["evidence"]
    assert evidence.contact_risk is None
    assert "adults" in evidence.contact_risk_note


def test_the_history_shows_prior_reports_decisions_restrictions_strikes_and_flags(
    day: Day, as_role
) -> None:
    story = grooming()
    moderator = day.staff[Role.MODERATOR]
    earlier = report_message(story.lines[0], reporter=story.teen).case
    decision = decided(
        earlier, moderator, "restrict_feature", days=5, feature="livestream", ground="tc_harassment"
    )
    pending = report_message(story.lines[2], reporter=story.teen, category=SCAM)
    flag = Flag.objects.raise_signal(
        user_id=story.subject.pk, kind="contact_risk", signal={"source": "test"}, actor=ACTOR
    )
    unrelated_adult = person(45)
    report_user(unrelated_adult, reporter=story.teen)  # someone else's history stays out
    evidence = as_role(Role.MODERATOR).get(_case_url(story.case)).context["evidence"]
    assert [r.pk for r in evidence.prior_reports] == [
        pending.pk,
        *Report.objects.filter(case=earlier).values_list("pk", flat=True),
    ]
    assert evidence.prior_report_outcomes == {"pending": 1, "upheld": 1}
    assert [d.pk for d in evidence.prior_decisions] == [decision.pk]
    assert [r.feature for r in evidence.restrictions] == ["livestream"]
    assert [s.decision_id for s in evidence.strikes] == [decision.pk]
    assert [f.pk for f in evidence.flags] == [flag.pk]


def _evidence_story(n: int) -> tuple[Case, Case]:
    """A grooming case whose subject has `n` messages in the reported thread (2n with the other
    side), `n` earlier reports (one on each of those messages) and `n` minors refused; and the
    case of one of those messages."""
    story = grooming(messages=2 * n, tag=f"_{n}")
    mine = [line for line in story.lines if line.sender_id == story.subject.pk]
    reports = [report_message(line, reporter=story.teen) for line in mine]
    for _ in range(n):
        refused(story.subject, person(14))
    return story.case, reports[n // 2].case


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_evidence_costs_the_same_queries_with_two_or_twenty_reports_and_messages(
    day: Day, as_role, django_assert_max_num_queries
) -> None:
    client = as_role(Role.SENIOR_MODERATOR)
    small, large = _evidence_story(2), _evidence_story(20)
    client.get(_case_url(day.message_case))  # the session's first request loads what it caches
    counts = {}
    for label, (user_case, message_case) in {"small": small, "large": large}.items():
        counts[label] = [
            _queries(client, _case_url(user_case)),
            _queries(client, _case_url(user_case, "portal:case_thread")),
            _queries(client, _case_url(message_case, "portal:case_thread")),
        ]
    assert counts["small"] == counts["large"], counts
    user_case, message_case = large
    with django_assert_max_num_queries(MAX_CASE_PAGE_QUERIES):
        client.get(_case_url(user_case))
    with django_assert_max_num_queries(MAX_THREAD_PAGE_QUERIES):
        client.get(_case_url(message_case, "portal:case_thread"))


def test_each_evidence_block_is_answered_from_an_index(day: Day) -> None:
    user_case, message_case = _evidence_story(3)
    senior = day.staff[Role.SENIOR_MODERATOR]
    with CaptureQueriesContext(connection) as queries:
        for case in (user_case, message_case):
            reports = list(Report.objects.filter(case=case).select_related("reporter"))
            found = evidence.gather(
                case, reports=reports, viewer=senior, at=clock.now(), today=clock.today()
            )
            read_messages_for_staff(
                actor=senior,
                thread=found.conversations[0].thread,
                case=case,
                reason="",
                around=case.subject_message,
                limit=10,
            )
    selects = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    assert len(selects) > 20
    plans = []
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for sql in selects:
            cursor.execute(f"EXPLAIN {sql}")
            plans.append(sql[:120] + "\n" + "\n".join(row[0] for row in cursor.fetchall()))
    text = "\n\n".join(plans)
    assert "Seq Scan" not in text, text
    # The planner picks among the indexes by the table's size; these have no alternative. On a
    # partitioned table (messages, D33) the plan names the month's copy of the index.
    for index in (
        "message_thread_recent",
        "block_blocked",
        "report_subject_created",
        "decision_target",
        "strike_user_expires",
    ):
        names = _index_and_its_partitions(index)
        assert any(name in text for name in names), f"{index} is not used:\n{text}"


def _index_and_its_partitions(index: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE i.inhparent = to_regclass(%s)",
            [index],
        )
        return {index, *(row[0] for row in cursor.fetchall())}


def test_a_reported_thread_opens_at_its_latest_messages_with_everyone_in_it(
    day: Day, as_role
) -> None:
    story = grooming(messages=25)
    case = report_thread(story.thread, reporter=story.teen, category=MINORS).case
    client = as_role(Role.MODERATOR)
    people = client.get(_case_url(case)).context["evidence"].people
    assert {p.user.pk: p.involvement for p in people} == {
        story.teen.pk: ["reporter", "in the conversation"],
        story.subject.pk: ["in the conversation"],
    }
    opened = client.get(_case_url(case, "portal:case_thread"))
    assert [line["m"].pk for line in opened.context["thread_lines"]] == [
        m.pk for m in story.lines[-21:]
    ]
    entry = AuditEntry.objects.get(action="messaging.messages.read_by_staff")
    assert "around" not in entry.after
    assert entry.after["case"] == str(case.pk)
