"""The other pages: dashboard, audit log, statements, appeals, flags, birthdate requests, users."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import connection, transaction
from django.urls import reverse

from accounts.models import BirthdateChangeRequest, Restriction
from accounts.roles import Role
from moderation import services
from moderation.models import Appeal, Case, Decision, Flag
from safety_portal import rules
from safety_portal.core.audit.models import AuditEntry
from tests.factories.accounts import AppUserFactory

from .scenario import ACTOR, Day

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _private_anchor_file(settings, tmp_path) -> None:
    """Verification reads the external anchors; tests must not read another run's file."""
    settings.AUDIT_ANCHOR_FILE = str(tmp_path / "anchors.log")
    settings.AUDIT_ANCHOR_STREAM = f"tests:portal:anchors:{tmp_path.name}"


def _decide_suspension(day: Day, *, days: int = 3) -> Decision:
    case = day.others[1]
    moderator = day.staff[Role.MODERATOR]
    Case.objects.claim(case, actor=moderator)
    return services.decide(
        case,
        actor=moderator,
        decision_type="suspend",
        days=days,
        ground="tc_scams",
        explanation="Your account posted scam links.",
        facts="The account posted the same crypto giveaway link under many videos.",
    )


# -- dashboard ------------------------------------------------------------------------------------


def test_the_dashboard_shows_the_queue_by_band_and_counts_overdue_cases(
    day: Day, as_role, time_machine
) -> None:
    time_machine.move_to(dt.datetime.now(dt.UTC) + dt.timedelta(days=5))
    client = as_role(Role.MODERATOR)
    response = client.get("/")
    assert response.status_code == 200
    assert response.context["overdue"] == 3
    assert sum(b.waiting for b in response.context["bands"]) == 3
    assert b"<svg" in response.content
    assert b"Reports received per day" in response.content


def test_an_auditor_sees_charts_but_no_case_lists(day: Day, as_role) -> None:
    response = as_role(Role.AUDITOR).get("/")
    assert response.status_code == 200
    assert "charts" in response.context
    assert "bands" not in response.context
    assert day.sender.username.encode() not in response.content


def test_a_senior_sees_the_appeals_waiting_for_them(day: Day, as_role) -> None:
    decision = _decide_suspension(day)
    services.file_appeal(
        decision, appellant=decision.target_user, statement="Unfair.", actor=decision.target_user
    )
    response = as_role(Role.SENIOR_MODERATOR).get("/")
    assert response.context["appeals_waiting"] == 1
    assert len(response.context["appeals"]) == 1


# -- audit log ------------------------------------------------------------------------------------


def test_the_audit_log_filters_by_action_prefix_and_actor(day: Day, as_role) -> None:
    client = as_role(Role.AUDITOR)
    response = client.get(reverse("portal:audit_log"), {"action": "accounts.roles"})
    actions = {row.entry.action for row in response.context["rows"]}
    assert actions == {"accounts.roles.granted"}
    by_actor = client.get(reverse("portal:audit_log"), {"actor": "system:tests.portal"})
    assert by_actor.context["rows"]
    assert {r.entry.actor_id for r in by_actor.context["rows"]} == {"tests.portal"}
    target = client.get(reverse("portal:audit_log"), {"target": day.sender.username})
    assert {r.entry.target_id for r in target.context["rows"]} == {str(day.sender.pk)}


def test_the_audit_log_pages_by_id_without_overlap(day: Day, as_role, monkeypatch) -> None:
    """By id, not chain position: entries not linked yet (the default deferred chain, D23) are
    listed from their commit."""
    from safety_portal.portal.views import audit_log

    monkeypatch.setattr(audit_log, "PAGE_SIZE", 10)
    client = as_role(Role.AUDITOR)
    first = client.get(reverse("portal:audit_log"))
    ids = [r.entry.id for r in first.context["rows"]]
    assert len(ids) == 10
    assert ids == sorted(ids, reverse=True)
    older = client.get(reverse("portal:audit_log") + first.context["older_url"])
    older_ids = [r.entry.id for r in older.context["rows"]]
    assert older_ids
    assert max(older_ids) < min(ids)
    back = client.get(reverse("portal:audit_log") + older.context["newer_url"])
    assert [r.entry.id for r in back.context["rows"]] == ids


def test_the_audit_log_date_filter_is_exact_when_ids_and_times_disagree(
    day: Day, as_role, time_machine
) -> None:
    """Ids are taken at INSERT and times just before, by writers running side by side, so around
    midnight an entry with a smaller id can carry the later time. Each day's page still shows
    exactly that day's entries."""
    from django.utils import timezone

    from safety_portal.core import audit
    from safety_portal.core.audit.actors import SystemActor

    midnight = timezone.make_aware(dt.datetime(2031, 3, 2))
    late, early = midnight + dt.timedelta(seconds=1), midnight - dt.timedelta(seconds=1)
    written = {}
    for moment in (late, early):  # the later time first: it gets the smaller id
        time_machine.move_to(moment, tick=False)
        with transaction.atomic():
            written[moment] = audit.record(
                actor=SystemActor("tests.clock"), action="tests.midnight.written"
            )
    assert written[late].id < written[early].id
    time_machine.move_to(midnight + dt.timedelta(days=1))
    client = as_role(Role.AUDITOR)

    def shown(**dates: str) -> set[int]:
        response = client.get(reverse("portal:audit_log"), {"action": "tests.midnight", **dates})
        return {r.entry.id for r in response.context["rows"]}

    assert shown(since="2031-03-02") == {written[late].id}
    assert shown(until="2031-03-01") == {written[early].id}
    assert shown(since="2031-03-01", until="2031-03-01") == {written[early].id}


def test_the_audit_log_hides_adult_birthdates_from_auditors(day: Day, as_role) -> None:
    adult = AppUserFactory(username="adult_b", age=40)
    response = as_role(Role.AUDITOR).get(reverse("portal:audit_log"), {"target": "adult_b"})
    assert response.status_code == 200
    assert adult.birthdate.isoformat().encode() not in response.content
    assert b"[hidden for your role]" in response.content


def test_an_auditor_verifies_the_chain_and_the_run_is_recorded(
    inline_audit_chain: None, day: Day, as_role
) -> None:
    client = as_role(Role.AUDITOR)
    response = client.post(reverse("portal:audit_verify"), follow=True)
    assert response.status_code == 200
    assert b"Chain intact" in response.content
    entry = AuditEntry.objects.filter(action="audit.chain.verified").latest("id")
    assert entry.after["ok"] is True


def test_the_verify_button_names_the_first_altered_entry(
    inline_audit_chain: None, day: Day, as_role
) -> None:
    victim = AuditEntry.objects.order_by("seq")[3]
    with transaction.atomic(), connection.cursor() as cursor:
        # As a database superuser could: bypass the append-only triggers for one edit.
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(
            f"UPDATE {AuditEntry._meta.db_table} SET reason = 'rewritten' WHERE id = %s",
            [victim.pk],
        )
    response = as_role(Role.AUDITOR).post(reverse("portal:audit_verify"), follow=True)
    assert b"Chain broken" in response.content
    assert f"#{victim.seq}".encode() in response.content


# -- statements, appeals, flags, birthdate requests -------------------------------------------


def test_statements_are_listed_and_exported_as_the_command_writes_them(day: Day, as_role) -> None:
    decision = _decide_suspension(day)
    client = as_role(Role.AUDITOR)
    listing = client.get(reverse("portal:statements"))
    assert decision.statement.puid.encode()[:20] in listing.content
    since = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    export = client.get(reverse("portal:statements_export"), {"since": since})
    assert export.status_code == 200
    batches = [json.loads(line) for line in b"".join(export.streaming_content).splitlines()]
    assert batches[0]["statements"][0]["puid"] == decision.statement.puid
    assert client.get(reverse("portal:statements_export"), {"since": "soon"}).status_code == 400


def test_a_senior_overturns_an_appeal_and_the_suspension_is_lifted(day: Day, as_role) -> None:
    decision = _decide_suspension(day)
    appeal = services.file_appeal(
        decision, appellant=decision.target_user, statement="Mistake.", actor=decision.target_user
    )
    client = as_role(Role.SENIOR_MODERATOR)
    page = client.get(reverse("portal:appeal", args=[appeal.pk]))
    assert page.context["can_decide"] is True
    response = client.post(
        reverse("portal:appeal", args=[appeal.pk]),
        {"outcome": "overturn", "note": "The links were to a real charity."},
    )
    assert response.status_code == 302
    appeal.refresh_from_db()
    assert appeal.status == Appeal.Status.OVERTURNED
    assert (
        not Restriction.objects.active(at=decision.decided_at + dt.timedelta(hours=1))
        .filter(user=decision.target_user)
        .exists()
    )


def test_the_decision_maker_cannot_decide_the_appeal_against_it(day: Day) -> None:
    from django.test import Client

    from accounts.roles import grant_role

    from .conftest import sign_in

    decision = _decide_suspension(day)
    appeal = services.file_appeal(
        decision, appellant=decision.target_user, statement="No.", actor=decision.target_user
    )
    maker = day.staff[Role.MODERATOR]
    grant_role(maker, Role.SENIOR_MODERATOR, actor=ACTOR)
    client = sign_in(Client(), maker)
    assert client.get(reverse("portal:appeals")).context["appeals"] == []
    page = client.get(reverse("portal:appeal", args=[appeal.pk]))
    assert page.context["can_decide"] is False
    assert page.context["conflict"]
    client.post(reverse("portal:appeal", args=[appeal.pk]), {"outcome": "overturn", "note": "x"})
    appeal.refresh_from_db()
    assert appeal.status == Appeal.Status.PENDING


def test_a_moderator_confirms_an_age_flag_into_the_queue(day: Day, as_role) -> None:
    flag = services.record_age_estimate(
        user=day.minor, estimated_age=11.0, confidence=0.95, actor=ACTOR, model="test"
    )
    client = as_role(Role.MODERATOR)
    page = client.get(reverse("portal:flag", args=[flag.pk]))
    assert page.context["can_review"] is True
    assert page.context["can_require_age_check"] is False  # an under-age decision is a senior's
    response = client.post(
        reverse("portal:flag_review", args=[flag.pk]), {"action": "confirm", "note": "Looks 11."}
    )
    assert response.status_code == 302
    flag.refresh_from_db()
    assert flag.status == Flag.Status.CONFIRMED
    assert flag.case is not None
    assert day.minor.birthdate == type(day.minor).objects.get(pk=day.minor.pk).birthdate


def test_a_flag_cannot_be_dismissed_without_a_note(day: Day, as_role) -> None:
    flag = services.record_age_estimate(
        user=day.minor, estimated_age=11.0, confidence=0.95, actor=ACTOR, model="test"
    )
    response = as_role(Role.MODERATOR).post(
        reverse("portal:flag_review", args=[flag.pk]), {"action": "dismiss", "note": ""}
    )
    assert response.status_code == 400
    flag.refresh_from_db()
    assert flag.status == Flag.Status.OPEN


def test_a_senior_approves_an_older_birthdate_request(day: Day, as_role) -> None:
    teen = AppUserFactory(username="ari_req", age=14, country="GB")
    request = BirthdateChangeRequest.objects.submit(
        user=teen,
        new_birthdate=teen.birthdate - dt.timedelta(days=365 * 3),
        method=rules.vocabulary.AssuranceMethod.ID_DOCUMENT,
        evidence_reference="idv:1",
        reason="Typed the wrong year.",
        actor=ACTOR,
    )
    client = as_role(Role.SENIOR_MODERATOR)
    listing = client.get(reverse("portal:birthdate_requests"))
    assert teen.birthdate.isoformat().encode() not in listing.content  # ages, not dates
    response = client.post(
        reverse("portal:birthdate_request", args=[request.pk]),
        {"decision": "approve", "note": "ID check matches."},
    )
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == "approved"
    teen.refresh_from_db()
    assert teen.birthdate == request.new_birthdate


def test_the_user_list_searches_by_username_prefix_and_external_id(day: Day, as_role) -> None:
    client = as_role(Role.MODERATOR)
    by_name = client.get(reverse("portal:users"), {"q": "sam_"})
    assert [r["user"].username for r in by_name.context["rows"]] == ["sam_sends"]
    by_id = client.get(reverse("portal:users"), {"q": day.recipient.external_id})
    assert [r["user"].username for r in by_id.context["rows"]] == ["jo_receives"]


def test_a_held_account_shows_its_legal_hold_and_the_child_safety_lead_sees_the_escalation(
    day: Day, as_role
) -> None:
    """Issue 12.6: the hold is visible on the account; the queue is the child-safety team's."""
    from moderation.actions.child_safety import hold_and_escalate

    decision = _decide_suspension(day)
    escalation = hold_and_escalate(
        decision.case, actor=ACTOR, trigger="Grooming keyword on the case", decision=decision
    )
    moderator_view = as_role(Role.MODERATOR).get(
        reverse("portal:user_detail", args=[decision.target_user_id])
    )
    assert b"Legal hold" in moderator_view.content
    lead = as_role(Role.CHILD_SAFETY)
    queue = lead.get(reverse("portal:child_safety"))
    assert queue.context["escalations"] == [escalation]
    detail = lead.get(reverse("portal:child_safety_escalation", args=[escalation.pk]))
    assert detail.context["holds"][0].user_id == decision.target_user_id
    posted = lead.post(
        reverse("portal:child_safety_escalation", args=[escalation.pk]), {"reference": ""}
    )
    assert posted.status_code == 200
    assert "reference" in posted.context["form"].errors
    package = lead.get(reverse("portal:child_safety_package", args=[escalation.pk]))
    assert json.loads(package.content)["package"]["case"]["id"] == decision.case_id
