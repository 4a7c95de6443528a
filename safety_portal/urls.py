"""Top-level URLs: the portal (browser, staff) and the REST API (internal services)."""

from __future__ import annotations

from django.urls import include, path

urlpatterns = [
    path("api/", include("safety_portal.api_urls")),
    path("", include("safety_portal.portal_urls")),
]
