"""Top-level URLs: the portal (admin-based), the REST API under /api/v1/, and its schema/docs."""

from __future__ import annotations

from django.contrib import admin
from django.urls import path

urlpatterns = [
    path("admin/", admin.site.urls),
]
