"""Top-level URLs: the portal (browser, staff) and the REST API (internal services)."""

from __future__ import annotations

from django.urls import include, path

from safety_portal.core import health
from safety_portal.integrations.metrics import metrics_view

urlpatterns = [
    # Liveness and readiness for load balancers and `make demo` (issue 14): no login, no data.
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),  # Prometheus, behind METRICS_TOKEN
    path("api/", include("safety_portal.api_urls")),
    path("", include("safety_portal.portal_urls")),
]
