"""The OpenAPI schema is accurate: generated without warnings, and schemathesis, sending bounded
generated requests (valid and invalid) to the WSGI app, finds no 5xx and no response that differs
from the schema (status codes, content types, bodies, headers) — issue 6."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.drainage import GENERATOR_STATS
from hypothesis import HealthCheck, settings
from rest_framework.test import APIClient
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from safety_portal.core.api.scopes import ALL_SCOPES

from .conftest import app_user

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


@pytest.mark.django_db
def test_the_schema_is_served_and_names_every_endpoint_and_error_body():
    GENERATOR_STATS.reset()
    response = APIClient().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    assert not GENERATOR_STATS, "drf-spectacular warned while generating the schema"
    schema = response.json()
    operations = {
        (method.upper(), path)
        for path, item in schema["paths"].items()
        for method in item
        if method in {"get", "post", "patch", "delete"}
    }
    # + appeals, a reporter's reports, a user's notices (GET, PATCH), a report's receipt
    assert len(operations) == 32
    assert ("GET", "/api/v1/reports/receipts/{id}/") in operations
    assert ("POST", "/api/v1/appeals/") in operations
    assert ("POST", "/api/v1/threads/{id}/invites/") in operations
    assert ("POST", "/api/v1/group-invites/{id}/accept/") in operations
    assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            for status in ("401", "403", "429"):
                body = responses[status]["content"]["application/json"]["schema"]
                assert body == {"$ref": "#/components/schemas/Error"}, (method, path, status)
            assert "Retry-After" in responses["429"]["headers"]
            if method in {"post", "patch", "delete"}:
                assert {"400", "413", "415"} <= set(responses), (method, path)
    error = schema["components"]["schemas"]["Error"]
    assert error["required"] == ["code", "detail"]


@pytest.mark.django_db
def test_the_documentation_page_uses_no_cdn(settings):
    # Production serves collected, hashed files (collectstatic); the test has not collected them.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    page = APIClient().get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "drf_spectacular_sidecar" in html
    assert "cdn" not in html.lower()
    assert "https://" not in html


@pytest.fixture
def fuzz_token(db: None, make_caller) -> Iterator[str]:
    """A client with every scope and a rate high enough not to be throttled, plus a few rows."""
    for age in (14, 17, 30):
        app_user(age)
    caller = make_caller(list(ALL_SCOPES), throttle_rate="100000/min", name="schemathesis")
    # Requests go straight to the WSGI app (not Django's test client), so keep the per-request
    # connection clean-up from closing the test's transaction, as the test client does.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield caller.token
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _load_schema() -> schemathesis.BaseSchema:
    """Loaded at collection from the WSGI app: generating the schema touches no database."""
    from safety_portal.wsgi import application

    loaded = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
    loaded.config.generation.update(
        modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], max_examples=12
    )
    return loaded


schema = _load_schema()


@schema.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_conforms_to_its_schema(case, fuzz_token):
    response = case.call(headers={"Authorization": f"Bearer {fuzz_token}"})
    case.validate_response(response, checks=CHECKS)
