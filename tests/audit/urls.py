"""A probe view for the middleware tests: it writes one audit entry during a real request."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.urls import path

from safety_portal.core import audit
from safety_portal.core.audit.actors import SystemActor


def audited_probe(request: HttpRequest) -> JsonResponse:
    with transaction.atomic():
        entry = audit.record(actor=SystemActor("tests.probe"), action="tests.probe.called")
    return JsonResponse({"entry_id": entry.pk})


urlpatterns = [path("audit-probe/", audited_probe)]
