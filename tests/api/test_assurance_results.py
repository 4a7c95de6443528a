"""POLICY.md §7.2 over the API and in the database: assurance results are recorded by scoped
services, idempotently, audited, append-only; a result that disagrees with the stored age flags
staff, and only a younger one changes anything."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts import erasure
from accounts.models import AgeAssuranceResult, BirthdateChangeRequest, MinimumAgeReview, User
from moderation.models import Flag
from safety_portal.core import clock
from safety_portal.core.audit.models import AuditEntry
from safety_portal.core.outbox.models import UserNotice
from safety_portal.rules import ages

from .conftest import app_user

pytestmark = pytest.mark.django_db


def url(user: User) -> str:
    return f"/api/v1/users/{user.pk}/assurance-results/"


def post(caller, user, body, key="k-1"):
    return caller.post(url(user), body, HTTP_IDEMPOTENCY_KEY=key)


ADULT_TOKEN = {"method": "age_token", "over_age": 18, "is_over": True}


# --- scopes ----------------------------------------------------------------------------------


def test_recording_needs_assurance_write_and_reading_needs_assurance_read(make_caller) -> None:
    adult = app_user(30)
    writer, reader, other = (
        make_caller("assurance:write"),
        make_caller("assurance:read"),
        make_caller("users:write"),
    )
    assert post(writer, adult, ADULT_TOKEN).status_code == 201
    assert post(reader, adult, ADULT_TOKEN).json()["code"] == "missing_scope"
    assert post(other, adult, ADULT_TOKEN).status_code == 403
    listed = reader.get(url(adult))
    assert listed.status_code == 200
    assert [r["method"] for r in listed.json()["results"]] == ["age_token"]
    assert writer.get(url(adult)).status_code == 403
    assert reader.get("/api/v1/users/999999/assurance-results/").status_code == 404


# --- idempotency and audit -------------------------------------------------------------------


def test_the_same_key_replays_the_first_answer_and_another_result_with_it_is_409(
    make_caller,
) -> None:
    caller, other = make_caller("assurance:write"), make_caller("assurance:write")
    adult = app_user(30)
    first = post(caller, adult, ADULT_TOKEN)
    again = post(caller, adult, ADULT_TOKEN)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    changed = post(caller, adult, {**ADULT_TOKEN, "over_age": 21})
    assert (changed.status_code, changed.json()["code"]) == (409, "idempotency_key_reused")
    # Keys are per assurer: another service's "k-1" is its own.
    assert post(other, adult, ADULT_TOKEN).status_code == 201
    assert AgeAssuranceResult.objects.of_user(adult).count() == 2


def test_a_recorded_result_is_audited_last_and_its_key_is_kept_only_as_a_hash(make_caller) -> None:
    caller = make_caller("assurance:write", name="age-checker")
    adult = app_user(30)
    with CaptureQueriesContext(connection) as ctx:
        response = post(caller, adult, ADULT_TOKEN, key="secret-looking-key")
    assert response.status_code == 201
    entry = AuditEntry.objects.get(action="accounts.assurance.recorded")
    assert (entry.actor_label, entry.target_id) == ("age-checker", str(adult.pk))
    assert entry.after["says"] == "over 18: yes"
    writes = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith(("INSERT", "UPDATE"))]
    assert "audit" in writes[-1]
    stored = AgeAssuranceResult.objects.get()
    assert stored.idempotency_key_hash != "secret-looking-key"
    assert len(stored.idempotency_key_hash) == 64
    assert response.json()["assurer"] == "age-checker"


# --- 400s ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {**ADULT_TOKEN, "method": "id_document", "document_number": "X1234567"},
            "document_number",
        ),
        ({**ADULT_TOKEN, "image": "data:image/png;base64,AAAA"}, "image"),
        ({"method": "retina_scan"}, "method"),
        ({"method": "self_declared"}, "method"),
        ({"method": "facial_estimation", "estimate": 121}, "estimate"),
        ({"method": "facial_estimation", "estimate": -0.5}, "estimate"),
        ({"method": "facial_estimation", "estimate": 20, "over_age": 18}, "over_age"),
        ({"method": "app_store_signal", "age_range": "18_plus"}, "region"),
        ({**ADULT_TOKEN, "reference": "passport P12345678"}, "reference"),
        ({**ADULT_TOKEN, "confidence": 2}, "confidence"),
        ({**ADULT_TOKEN, "assured_at": "2999-01-01T00:00:00Z"}, "assured_at"),
    ],
)
def test_bad_results_are_400_with_field_errors_and_write_nothing(make_caller, body, field) -> None:
    caller = make_caller("assurance:write")
    adult = app_user(30)
    response = post(caller, adult, body)
    assert response.status_code == 400, response.content
    assert field in response.json()["fields"]
    assert not AgeAssuranceResult.objects.exists()


def test_a_result_needs_an_idempotency_key(make_caller) -> None:
    caller = make_caller("assurance:write")
    response = caller.post(url(app_user(30)), ADULT_TOKEN)
    assert response.json()["code"] == "idempotency_key_required"


def test_a_uuid_reference_is_accepted(make_caller) -> None:
    caller = make_caller("assurance:write")
    reference = f"yoti:{uuid.uuid4()}"
    response = post(caller, app_user(30), {**ADULT_TOKEN, "reference": reference})
    assert (response.status_code, response.json()["reference"]) == (201, reference)


# --- conflicts with the stored birthdate -----------------------------------------------------


def test_an_assurance_result_that_says_older_raises_a_staff_flag_and_changes_nothing(
    make_caller,
) -> None:
    caller = make_caller("assurance:write")
    teen = app_user(15)
    born = teen.birthdate
    response = post(caller, teen, ADULT_TOKEN)
    assert (response.status_code, response.json()["direction"]) == (201, "older")
    teen.refresh_from_db()
    assert (teen.birthdate, teen.status) == (born, "active")
    flag = Flag.objects.get(user=teen)
    assert (flag.kind, flag.status) == (Flag.Kind.AGE_OLDER, "open")
    assert flag.signals[-1]["source"] == "age_assurance"
    assert not BirthdateChangeRequest.objects.filter(user=teen).exists()


def test_a_range_that_says_younger_applies_at_once_and_flags_staff(make_caller) -> None:
    caller = make_caller("assurance:write")
    adult = app_user(20, country="US")
    body = {"method": "app_store_signal", "age_range": "16_17", "region": "US-UT"}
    response = post(caller, adult, body)
    assert (response.status_code, response.json()["direction"]) == (201, "younger")
    adult.refresh_from_db()
    assert ages.age_on(adult.birthdate, clock.today()) == 17  # the oldest age the range allows
    request = BirthdateChangeRequest.objects.get(user=adult)
    assert (request.status, request.method) == ("applied", "app_store_signal")
    assert Flag.objects.get(user=adult).kind == Flag.Kind.AGE


def test_an_estimate_that_says_younger_only_flags_staff(make_caller) -> None:
    caller = make_caller("assurance:write")
    adult = app_user(25)
    born = adult.birthdate
    response = post(caller, adult, {"method": "facial_estimation", "estimate": 15.0})
    assert response.json()["direction"] == "younger"
    adult.refresh_from_db()
    assert (adult.birthdate, adult.status) == (born, "active")
    assert Flag.objects.get(user=adult).kind == Flag.Kind.AGE


def test_an_estimate_below_the_floor_with_its_buffer_puts_the_account_under_review(
    make_caller,
) -> None:
    caller = make_caller("assurance:write")
    teen = app_user(17, country="AU")
    post(caller, teen, {"method": "facial_estimation", "estimate": 12.5})
    teen.refresh_from_db()
    assert teen.status == "under_age_review"
    assert Flag.objects.get(user=teen).kind == Flag.Kind.AGE
    # §7.3: "or an assurance result ... places an account below the minimum": the same review,
    # windows and notice as a sweep's, in words that do not blame the birthday.
    review = MinimumAgeReview.objects.get(user=teen)
    assert (review.outcome, review.sweep, review.country) == ("open", None, "AU")
    notice = UserNotice.objects.get(user=teen, kind=UserNotice.Kind.MINIMUM_AGE)
    assert "An age check on your account says you are probably younger" in notice.body


# --- capabilities ----------------------------------------------------------------------------


def test_capabilities_name_the_strength_missing_to_hold_an_account_in_au(make_caller) -> None:
    caller = make_caller(["users:read", "assurance:write"])
    teen = app_user(17, country="AU")
    caps = caller.get(f"/api/v1/users/{teen.pk}/capabilities/").json()["capabilities"]
    assert caps["hold_account"]["reason"] == "assurance_required"
    assert caps["hold_account"]["required_strength"] == "facial_estimation"
    post(caller, teen, {"method": "facial_estimation", "estimate": 18.4})
    caps = caller.get(f"/api/v1/users/{teen.pk}/capabilities/").json()["capabilities"]
    assert caps["hold_account"]["allowed"] is True


def test_an_18_plus_feature_for_an_account_created_under_18_needs_id_document_or_age_token(
    make_caller, django_assert_max_num_queries
) -> None:
    caller = make_caller(["users:read", "assurance:write"])
    adult = app_user(19)
    User.objects.filter(pk=adult.pk).update(
        date_joined=clock.now() - dt.timedelta(days=2 * 365 + 30)
    )
    with django_assert_max_num_queries(8):
        caps = caller.get(f"/api/v1/users/{adult.pk}/capabilities/").json()["capabilities"]
    assert (caps["livestream"]["reason"], caps["livestream"]["required_strength"]) == (
        "assurance_required",
        "id_document",
    )
    post(caller, adult, {"method": "payment_card", "over_age": 18, "is_over": True})
    caps = caller.get(f"/api/v1/users/{adult.pk}/capabilities/").json()["capabilities"]
    assert caps["gifts"]["reason"] == "assurance_required"  # payment_card ranks lower
    post(caller, adult, {"method": "id_document", "over_age": 18, "is_over": True}, key="k-2")
    caps = caller.get(f"/api/v1/users/{adult.pk}/capabilities/").json()["capabilities"]
    assert caps["livestream"]["allowed"]
    assert caps["gifts"]["allowed"]


# --- append-only, walked through the leak paths ------------------------------------------------


def test_an_assurance_result_is_append_only_through_every_path(make_caller) -> None:
    caller = make_caller("assurance:write")
    post(caller, app_user(30), ADULT_TOKEN)
    result = AgeAssuranceResult.objects.get()
    with pytest.raises(TypeError):
        AgeAssuranceResult.objects.update(over_age=21)
    with pytest.raises(TypeError):
        AgeAssuranceResult.objects.all().delete()
    with pytest.raises(TypeError):
        result.save()
    with (
        pytest.raises(IntegrityError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE accounts_ageassuranceresult SET over_age = 21 WHERE id = %s", [result.pk]
        )
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        AgeAssuranceResult._base_manager.filter(pk=result.pk).update(over_age=21)
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        AgeAssuranceResult._base_manager.filter(pk=result.pk).delete()
    result.refresh_from_db()
    assert result.over_age == 18


def test_upward_correction_across_18_is_refused_with_an_app_store_signal_as_method(
    make_caller,
) -> None:
    caller = make_caller("users:write")
    teen = app_user(17)
    body = {
        "birthdate": str(ages.latest_birthdate_for_age(18, clock.today())),
        "method": "app_store_signal",
        "evidence_reference": "",
        "reason": "I am 18.",
    }
    response = caller.post(f"/api/v1/users/{teen.pk}/birthdate-change-requests/", body)
    assert (response.status_code, response.json()["code"]) == (403, "method_too_weak")
    body["method"] = "facial_estimation"
    response = caller.post(f"/api/v1/users/{teen.pk}/birthdate-change-requests/", body)
    assert (response.status_code, response.json()["status"]) == (201, "pending")


def test_a_younger_range_waits_for_staff_while_a_birthdate_request_is_pending(make_caller) -> None:
    caller = make_caller(["users:write", "assurance:write"])
    adult = app_user(20, country="US")
    older = {
        "birthdate": str(ages.latest_birthdate_for_age(22, clock.today())),
        "method": "id_document",
        "evidence_reference": "",
        "reason": "Typo at sign-up.",
    }
    assert (
        caller.post(f"/api/v1/users/{adult.pk}/birthdate-change-requests/", older).status_code
        == 201
    )
    born = adult.birthdate
    body = {"method": "app_store_signal", "age_range": "16_17", "region": "US-LA"}
    assert post(caller, adult, body).json()["direction"] == "younger"
    adult.refresh_from_db()
    assert adult.birthdate == born
    flag = Flag.objects.get(user=adult)
    assert flag.signals[-1]["protection"] == "not_applied_request_pending"


def test_closing_an_under_age_account_erases_its_assurance_results(make_caller) -> None:
    caller = make_caller("assurance:write")
    child = app_user(14)
    post(caller, child, {"method": "facial_estimation", "estimate": 14.0})
    with transaction.atomic():
        erasure.sanction_erasure(child.pk)
        erased = AgeAssuranceResult.objects.filter(user=child).erase_for_closure()
    assert erased == 1
    assert not AgeAssuranceResult.objects.filter(user=child).exists()
