"""Authentication, scopes, throttling, size and media-type limits, and the one error format."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache
from django.test import override_settings
from rest_framework.test import APIClient

from safety_portal.core import metrics
from safety_portal.core.api.models import ApiClient

from .conftest import ADMIN

pytestmark = pytest.mark.django_db

USERS = "/api/v1/users/"


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code
    assert isinstance(body["detail"], str)
    assert body["detail"]
    return body


def test_a_request_without_a_token_is_refused_with_401_and_a_bearer_challenge():
    response = APIClient().get(USERS)
    _error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header",
    [
        "Bearer spk_000000000000_" + "a" * 43,
        "Bearer not-a-token",
        "Basic dXNlcjpwYXNz",
        "Bearer ",
        "Bearer two words",
    ],
)
def test_a_wrong_or_unknown_token_is_refused_with_401(header):
    response = APIClient().get(USERS, HTTP_AUTHORIZATION=header)
    _error(response, 401, "authentication_failed")


def test_a_revoked_client_is_refused_at_once(make_caller):
    caller = make_caller("users:read")
    assert caller.get(USERS).status_code == 200
    ApiClient.objects.revoke(caller.client, actor=ADMIN, reason="service retired")
    _error(caller.get(USERS), 401, "authentication_failed")


def test_only_the_hash_of_the_token_is_stored(make_caller):
    caller = make_caller("users:read")
    stored = ApiClient.objects.get(pk=caller.client.pk)
    fields = [str(getattr(stored, f.attname)) for f in ApiClient._meta.concrete_fields]
    assert all(caller.token not in value for value in fields)
    secret_part = caller.token[len("spk_") + 13 :]
    assert len(secret_part) == 43
    assert secret_part not in " ".join(fields)


def test_a_rotated_token_replaces_the_old_one(make_caller):
    caller = make_caller("users:read")
    new_token = ApiClient.objects.rotate_token(caller.client, actor=ADMIN, reason="leaked in a log")
    _error(caller.get(USERS), 401, "authentication_failed")
    fresh = APIClient()
    fresh.credentials(HTTP_AUTHORIZATION=f"Bearer {new_token}")
    assert fresh.get(USERS).status_code == 200


def test_a_client_without_the_scope_gets_403_missing_scope(make_caller):
    caller = make_caller("users:write")
    body = _error(caller.get(USERS), 403, "missing_scope")
    assert "users:read" in body["detail"]


def test_scope_changes_take_effect_on_the_next_request(make_caller):
    caller = make_caller("users:write")
    ApiClient.objects.change_scopes(
        caller.client, ["users:read"], actor=ADMIN, reason="read-only now"
    )
    assert caller.get(USERS).status_code == 200
    _error(caller.post(USERS, {}), 403, "missing_scope")


def test_client_changes_are_audited_with_the_acting_person(make_caller):
    from safety_portal.core.audit.models import AuditEntry

    caller = make_caller("users:read")
    ApiClient.objects.change_scopes(caller.client, "cases:read", actor=ADMIN, reason="moved team")
    ApiClient.objects.revoke(caller.client, actor=ADMIN, reason="retired")
    actions = list(
        AuditEntry.objects.filter(target_type="integrations.apiclient", target_id=caller.client.pk)
        .order_by("id")
        .values_list("action", "actor_label")
    )
    assert actions == [
        ("integrations.api_client.created", "tests.api"),
        ("integrations.api_client.changed", "tests.api"),
        ("integrations.api_client.revoked", "tests.api"),
    ]


def test_throttled_client_gets_429_with_retry_after_and_others_are_unaffected(make_caller):
    slow = make_caller("users:read", throttle_rate="3/min")
    other = make_caller("users:read", throttle_rate="3/min")
    statuses = [slow.get(USERS).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = slow.get(USERS)
    _error(response, 429, "throttled")
    assert 1 <= int(response["Retry-After"]) <= 60
    assert other.get(USERS).status_code == 200
    # The window counters expire by themselves (no key outlives its window by more than 1 s).
    redis = cache._cache.get_client(None)
    keys = redis.keys("*throttle:api_client:*")
    assert keys
    assert all(0 < redis.ttl(key) <= 61 for key in keys)


def test_each_throttle_refusal_is_counted_for_the_metrics(make_caller):
    metrics.reset()
    slow = make_caller("users:read", throttle_rate="2/min")
    statuses = [slow.get(USERS).status_code for _ in range(4)]
    assert statuses == [200, 200, 429, 429]
    (family,) = [f for f in metrics.families() if f.name == "safety_portal_throttle_refusals"]
    assert [s.value for s in family.samples if s.name.endswith("_total")] == [2]
    metrics.reset()


def test_authentication_and_throttling_cost_one_query(make_caller, django_assert_num_queries):
    caller = make_caller([])
    with django_assert_num_queries(1):
        assert caller.get("/api/v1/whoami/").status_code == 200


def test_the_default_rate_comes_from_the_settings(make_caller, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api_client": "2/hour"},
    }
    caller = make_caller("users:read")
    assert [caller.get(USERS).status_code for _ in range(3)] == [200, 200, 429]
    assert int(caller.get(USERS)["Retry-After"]) <= 3600


def test_a_body_over_the_limit_gets_413_before_it_is_read(full):
    with override_settings(API_MAX_REQUEST_BYTES=1024):
        response = full.post(USERS, {"username": "x" * 2000})
    _error(response, 413, "request_too_large")


def test_the_parser_stops_reading_at_the_limit_whatever_the_headers_say():
    """Second guard, for a Content-Length that lies: the parser never reads past the limit."""
    import io

    from safety_portal.core.api.errors import RequestTooLarge
    from safety_portal.core.api.parsers import LimitedJSONParser

    stream = io.BytesIO(json.dumps({"username": "y" * 5000}).encode())
    with override_settings(API_MAX_REQUEST_BYTES=1024), pytest.raises(RequestTooLarge):
        LimitedJSONParser().parse(stream, "application/json", {})
    assert stream.tell() == 1025


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"]
)
def test_a_body_that_is_not_json_gets_415(full, content_type):
    response = full.http.generic("POST", USERS, b"username=x", content_type=content_type)
    _error(response, 415, "unsupported_media_type")


def test_a_body_without_a_content_type_gets_415(full):
    response = full.http.generic("POST", USERS, b'{"username": "x"}', content_type="")
    _error(response, 415, "unsupported_media_type")


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b'{"a": NaN}', b"[" * 100_00 + b"]" * 100_00, b"\xff\xfe", b'"\\ud800"'],
)
def test_malformed_json_is_a_400_never_a_500(full, raw):
    response = full.http.generic("POST", USERS, raw, content_type="application/json")
    assert response.status_code == 400, response.content
    assert response.json()["code"] in {"malformed", "invalid"}


def test_field_errors_are_listed_by_field(full):
    response = full.post(USERS, {"username": "ok", "birthdate": "2010-02-30", "country": 5})
    body = _error(response, 400, "invalid")
    assert set(body["fields"]) == {"external_id", "birthdate", "country"}
    assert all(isinstance(m, list) and m for m in body["fields"].values())


def test_an_unknown_api_path_is_a_json_404(full):
    _error(full.get("/api/v1/nothing-here/"), 404, "not_found")
    _error(full.get("/api/v2/users/"), 404, "not_found")


def test_an_api_path_with_a_newline_is_a_json_404_not_a_server_error(full):
    # schemathesis found it: `.` in the catch-all route did not match a newline, so the request
    # fell through to the HTML 404 page.
    _error(full.post("/api/v1/cases/7%3F%0Ax/decisions/", {}), 404, "not_found")


def test_an_unsupported_method_is_a_json_405(full):
    _error(full.http.put(USERS, {}, format="json"), 405, "method_not_allowed")


def test_whoami_names_the_client_and_its_scopes(make_caller):
    caller = make_caller(["cases:read", "users:read"], name="classifier")
    response = caller.get("/api/v1/whoami/")
    assert response.status_code == 200
    assert response.json() == {
        "id": caller.client.pk,
        "name": "classifier",
        "scopes": ["users:read", "cases:read"],
    }
