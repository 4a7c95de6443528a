"""REST API routes: /api/v1/..., /api/schema/, /api/docs/ (owned by the API issue)."""

from __future__ import annotations

urlpatterns: list = []
