"""POST/GET users, capabilities, settings and birthdate-change requests (issue 6)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from accounts.models import BirthdateChangeRequest, SafetySettings, User
from safety_portal import rules
from safety_portal.core import clock
from safety_portal.core.api.models import AgeGateAttempt
from safety_portal.core.audit.models import AuditEntry
from tests.factories.accounts import StaffFactory, birthdate_for_age

from .conftest import app_user

pytestmark = pytest.mark.django_db

USERS = "/api/v1/users/"


def _signup(caller, *, age: int, external_id: str = "app-1", country: str = "GB", **extra):
    body = {
        "external_id": external_id,
        "username": extra.pop("username", f"u-{external_id}"),
        "birthdate": birthdate_for_age(age).isoformat(),
        "country": country,
        **extra,
    }
    return caller.post(USERS, body)


def test_sign_up_creates_the_user_and_answers_age_tier_and_status(make_caller):
    caller = make_caller("users:write")
    response = _signup(caller, age=16, external_id="app-16")
    assert response.status_code == 201, response.content
    user = User.objects.get(external_id="app-16")
    assert response.json() == {
        "id": user.pk,
        "external_id": "app-16",
        "age": 16,
        "tier": "older_teen",
        "status": "active",
    }


def test_sign_up_is_audited_with_the_client_as_actor(make_caller):
    caller = make_caller("users:write", name="app-backend")
    user_id = _signup(caller, age=30).json()["id"]
    entry = AuditEntry.objects.get(action="accounts.user.created", target_id=str(user_id))
    assert (entry.actor_kind, entry.actor_id, entry.actor_label) == (
        "api_client",
        str(caller.client.pk),
        "app-backend",
    )


def test_under_the_minimum_age_no_account_is_created_and_the_attempt_is_kept_without_birthdate(
    make_caller,
):
    caller = make_caller("users:write")
    response = _signup(caller, age=12, external_id="kid-1")
    assert response.status_code == 403
    assert response.json()["code"] == "under_minimum_age"
    assert not User.objects.filter(external_id="kid-1").exists()
    attempt = AgeGateAttempt.objects.get(external_id="kid-1")
    assert attempt.outcome == "under_minimum_age"
    assert not attempt.flagged
    field_names = {f.name for f in AgeGateAttempt._meta.get_fields()}
    assert not any("birth" in name for name in field_names)
    entry = AuditEntry.objects.get(action="integrations.age_gate.refused")
    assert "birth" not in str(entry.after)


def test_the_minimum_age_depends_on_the_country(make_caller):
    caller = make_caller("users:write")
    assert _signup(caller, age=14, external_id="au-14", country="AU").status_code == 403
    assert _signup(caller, age=14, external_id="gb-14", country="GB").status_code == 201


def test_a_retry_with_an_older_birthdate_within_24_hours_is_refused_and_flagged(make_caller):
    caller = make_caller("users:write")
    assert _signup(caller, age=12, external_id="kid-2").status_code == 403
    with time_machine.travel(clock.now() + dt.timedelta(hours=23), tick=False):
        response = _signup(caller, age=18, external_id="kid-2")
    assert response.status_code == 403
    assert response.json()["code"] == "age_gate_retry"
    assert not User.objects.filter(external_id="kid-2").exists()
    retry = AgeGateAttempt.objects.get(external_id="kid-2", outcome="age_gate_retry")
    assert retry.flagged
    assert AuditEntry.objects.filter(action="integrations.age_gate.retry_flagged").count() == 1


def test_a_retry_that_is_still_under_age_is_refused_as_under_age_again(make_caller):
    caller = make_caller("users:write")
    _signup(caller, age=11, external_id="kid-3")
    response = _signup(caller, age=12, external_id="kid-3")
    assert response.json()["code"] == "under_minimum_age"
    assert AgeGateAttempt.objects.filter(external_id="kid-3").count() == 2


def test_a_retry_after_24_hours_is_judged_afresh(make_caller):
    caller = make_caller("users:write")
    _signup(caller, age=12, external_id="kid-4")
    with time_machine.travel(clock.now() + dt.timedelta(hours=24, minutes=1), tick=False):
        response = _signup(caller, age=14, external_id="kid-4")
    assert response.status_code == 201, response.content


def test_the_retry_rule_is_per_external_id(make_caller):
    caller = make_caller("users:write")
    _signup(caller, age=12, external_id="kid-5")
    assert _signup(caller, age=14, external_id="someone-else").status_code == 201


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("birthdate", "1899-12-31"),
        ("birthdate", "2999-01-01"),
        ("birthdate", "2011-02-29"),
        ("country", "XX"),
        ("country", "GBR"),
        ("username", ""),
        ("external_id", "x" * 65),
    ],
)
def test_invalid_sign_up_input_is_a_400_with_the_field_and_creates_nothing(
    make_caller, field, value
):
    caller = make_caller("users:write")
    body = {"external_id": "bad-1", "username": "bad", "birthdate": "2000-01-01", "country": "GB"}
    response = caller.post(USERS, {**body, field: value})
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid"
    assert field in response.json()["fields"]
    assert not User.objects.filter(username="bad").exists()
    assert not AgeGateAttempt.objects.exists()


def test_a_taken_external_id_or_username_is_a_409(make_caller):
    caller = make_caller("users:write")
    _signup(caller, age=20, external_id="dup", username="dup")
    assert _signup(caller, age=20, external_id="dup", username="other").status_code == 409
    assert _signup(caller, age=20, external_id="dup2", username="dup").status_code == 409


def test_get_user_by_id_and_by_external_id(make_caller):
    caller = make_caller("users:read")
    user = app_user(17, external_id="ext-17")
    app_user(40)
    one = caller.get(f"{USERS}{user.pk}/")
    assert one.status_code == 200
    assert one.json()["tier"] == "older_teen"
    assert one.json()["age"] == 17
    found = caller.get(USERS, {"external_id": "ext-17"}).json()
    assert [u["id"] for u in found["results"]] == [user.pk]
    assert caller.get(USERS, {"external_id": "nobody"}).json()["results"] == []


def test_staff_accounts_and_unknown_ids_are_404(make_caller):
    caller = make_caller("users:read")
    staff = StaffFactory()
    assert caller.get(f"{USERS}{staff.pk}/").json()["code"] == "not_found"
    assert caller.get(f"{USERS}{staff.pk}/capabilities/").status_code == 404
    assert caller.get(f"{USERS}999999/").status_code == 404
    assert caller.get(f"{USERS}{2**70}/").status_code == 404
    listed = {u["id"] for u in caller.get(USERS).json()["results"]}
    assert staff.pk not in listed


def test_the_user_list_is_cursor_paginated(make_caller):
    caller = make_caller("users:read")
    ids = {app_user(20).pk for _ in range(5)}
    first = caller.get(USERS, {"page_size": 2}).json()
    assert len(first["results"]) == 2
    assert first["next"]
    seen = [u["id"] for u in first["results"]]
    page = first
    while page["next"]:
        page = caller.get(page["next"]).json()
        seen += [u["id"] for u in page["results"]]
    assert set(seen) == ids
    assert len(seen) == len(ids)
    assert caller.get(USERS, {"cursor": "garbage"}).status_code == 400


def test_capabilities_list_every_row_of_the_policy_with_reasons(make_caller):
    caller = make_caller("users:read")
    teen = app_user(14, country="GB")
    response = caller.get(f"{USERS}{teen.pk}/capabilities/")
    assert response.status_code == 200
    body = response.json()
    assert body["age"] == 14
    assert body["tier"] == "young_teen"
    caps = body["capabilities"]
    assert set(caps) == set(rules.capabilities.CAPABILITY_NAMES)
    assert caps["direct_messages"] == {
        "allowed": False,
        "value": "nobody",
        "reason": "tier_not_eligible",
        "dismissable": None,
        "required_strength": None,
    }
    assert caps["livestream"]["allowed"] is False
    assert caps["quiet_hours"]["value"] == {"start": "21:00", "end": "08:00"}
    assert caps["daily_screen_time_limit"]["value"] == 60
    assert caps["daily_screen_time_limit"]["dismissable"] is False  # 13-15 (POLICY.md §7.4)
    assert caps["suggested_to"] == {
        "allowed": False,
        "value": "nobody",
        "reason": "tier_not_eligible",
        "dismissable": None,
        "required_strength": None,
    }


def test_capabilities_match_the_policy_module_for_an_adult(make_caller):
    caller = make_caller("users:read")
    adult = app_user(30, country="KR")
    caps = caller.get(f"{USERS}{adult.pk}/capabilities/").json()["capabilities"]
    assert caps["gifts"] == {
        "allowed": True,
        "value": None,
        "reason": None,
        "dismissable": None,
        "required_strength": None,
    }
    assert caps["suggested_to"]["value"] == "everyone"
    assert caps["direct_messages"]["allowed"] is True
    assert caps["quiet_hours"]["value"] is None


def test_settings_patch_changes_only_what_was_sent_and_is_audited(make_caller):
    caller = make_caller("users:write")
    adult = app_user(30)
    response = caller.patch(f"{USERS}{adult.pk}/settings/", {"dm_setting": "everyone"})
    assert response.status_code == 200, response.content
    assert response.json()["dm_setting"] == "everyone"
    assert SafetySettings.objects.get(user=adult).dm_setting == "everyone"
    entry = AuditEntry.objects.filter(action="accounts.settings.changed").latest("seq")
    assert entry.actor_kind == "api_client"


def test_a_setting_beyond_the_tier_ceiling_is_403_with_the_reason(make_caller):
    caller = make_caller("users:write")
    teen = app_user(16)
    response = caller.patch(f"{USERS}{teen.pk}/settings/", {"dm_setting": "everyone"})
    assert response.status_code == 403
    assert response.json()["code"] == "setting_above_tier_ceiling"
    young = app_user(14)
    locked = caller.patch(f"{USERS}{young.pk}/settings/", {"download_setting": True})
    assert locked.json()["code"] == "setting_locked_for_tier"
    assert SafetySettings.objects.get(user=teen).dm_setting == "nobody"


def test_a_14_year_olds_public_account_needs_the_linked_guardians_approval_over_the_api(
    make_caller,
):
    from accounts.models import GuardianLink

    caller = make_caller("users:write")
    young, parent = app_user(14), app_user(41)
    refused = caller.patch(f"{USERS}{young.pk}/settings/", {"private_account": False})
    assert refused.status_code == 403
    assert refused.json()["code"] == "setting_needs_guardian"
    link = GuardianLink.objects.propose(guardian=parent, teen=young, actor=parent)
    GuardianLink.objects.consent(link, actor=young)
    body = {"private_account": False, "guardian_approved_by": parent.pk}
    approved = caller.patch(f"{USERS}{young.pk}/settings/", body)
    assert approved.status_code == 200, approved.content
    assert approved.json()["private_account"] is False
    stranger = app_user(50)
    wrong = caller.patch(
        f"{USERS}{young.pk}/settings/",
        {"comment_setting": "friends", "guardian_approved_by": stranger.pk},
    )
    assert wrong.status_code == 400
    assert "guardian_approved_by" in wrong.json()["fields"]
    not_an_id = caller.patch(
        f"{USERS}{young.pk}/settings/", {"comment_setting": "friends", "guardian_approved_by": "x"}
    )
    assert not_an_id.status_code == 400


@pytest.mark.parametrize(
    "body",
    [
        {"dm_setting": "strangers"},
        {"private_account": "yes"},
        {"colour": "blue"},
        {"actor": "x"},
        {},
        ["dm_setting"],
    ],
)
def test_unknown_setting_names_or_values_are_400(make_caller, body):
    caller = make_caller("users:write")
    adult = app_user(30)
    response = caller.patch(f"{USERS}{adult.pk}/settings/", body)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid"


def test_a_younger_birthdate_applies_at_once(make_caller):
    caller = make_caller("users:write")
    user = app_user(19)
    response = caller.post(
        f"{USERS}{user.pk}/birthdate-change-requests/",
        {
            "birthdate": birthdate_for_age(17).isoformat(),
            "method": "self_declared",
            "evidence_reference": "",
            "reason": "typo at sign-up",
        },
    )
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "applied"
    user.refresh_from_db()
    assert user.age(clock.today()) == 17


def test_an_older_birthdate_waits_for_review_and_needs_strong_assurance(make_caller):
    caller = make_caller("users:write")
    user = app_user(15)
    older = {"birthdate": birthdate_for_age(18).isoformat(), "reason": "wrong year"}
    weak = caller.post(
        f"{USERS}{user.pk}/birthdate-change-requests/",
        {**older, "method": "self_declared", "evidence_reference": ""},
    )
    assert weak.status_code == 403
    assert weak.json()["code"] == "method_too_weak"
    strong = caller.post(
        f"{USERS}{user.pk}/birthdate-change-requests/",
        {**older, "method": "id_document", "evidence_reference": "idv-123"},
    )
    assert strong.status_code == 201
    assert strong.json()["status"] == "pending"
    again = caller.post(
        f"{USERS}{user.pk}/birthdate-change-requests/",
        {**older, "method": "id_document", "evidence_reference": "idv-124"},
    )
    assert again.status_code == 409
    assert BirthdateChangeRequest.objects.filter(user=user).count() == 1


def test_an_account_created_after_an_age_refusal_gets_an_age_flag_for_review(make_caller):
    from moderation.models import Flag

    caller = make_caller("users:write")
    _signup(caller, age=12, external_id="kid-6")
    _signup(caller, age=16, external_id="kid-6")  # the flagged retry
    with time_machine.travel(clock.now() + dt.timedelta(days=2), tick=False):
        response = _signup(caller, age=16, external_id="kid-6")
    assert response.status_code == 201
    flag = Flag.objects.get(user_id=response.json()["id"], kind="age", status="open")
    assert flag.signals[-1]["source"] == "age_gate"
    assert flag.signals[-1]["refused_attempts"] == 2
    assert flag.signals[-1]["retries_after_refusal"] == 1
    user = User.objects.get(pk=response.json()["id"])
    assert user.age(clock.today()) == 16  # a flag never changes the age (POLICY.md §4)


def test_refused_attempts_are_forgotten_after_their_retention(make_caller):
    from safety_portal.integrations import tasks

    caller = make_caller("users:write")
    _signup(caller, age=12, external_id="kid-7")
    with time_machine.travel(clock.now() + dt.timedelta(days=91), tick=False):
        assert tasks.purge_age_gate_attempts.delay().get() == 1
    assert not AgeGateAttempt.objects.exists()
