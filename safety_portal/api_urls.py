"""REST API routes (issue 6): /api/v1/..., the OpenAPI schema and its documentation page.

The documentation is Swagger UI served from drf-spectacular-sidecar's static files (no CDN), with
its script served as a separate file so that it runs under the portal's Content-Security-Policy.
Any other /api/ path answers the API's JSON 404.
"""

from __future__ import annotations

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from safety_portal.core.api.errors import not_found
from safety_portal.core.api.views import WhoAmIView

v1 = [
    path("whoami/", WhoAmIView.as_view(), name="whoami"),
    path("", include("accounts.api.urls")),
    path("", include("messaging.api.urls")),
    path("", include("moderation.api.urls")),
]

urlpatterns = [
    path("v1/", include((v1, "api"), namespace="v1")),
    path(
        "schema/",
        SpectacularAPIView.as_view(
            custom_settings={
                "POSTPROCESSING_HOOKS": [
                    "drf_spectacular.hooks.postprocess_schema_enums",
                    "safety_portal.core.api.schema.add_error_headers",
                ],
                "SCHEMA_PATH_PREFIX": "/api/v1",
                "COMPONENT_SPLIT_REQUEST": True,
                "ENUM_NAME_OVERRIDES": {
                    "Audience": "accounts.api.serializers.AUDIENCES",
                    "AccountStatusEnum": "accounts.choices.STATUS_CHOICES",
                    "AppealKindEnum": "moderation.models.Appeal.Kind",
                    "KindEnum": "messaging.models.Thread.Kind",
                    "AppealStatusEnum": "moderation.models.Appeal.Status",
                    "ReportStatusEnum": "moderation.api.reporter_reports.STATUSES",
                    "BirthdateChangeStatusEnum": "accounts.models.BirthdateChangeRequest.Status",
                    "CaseStatusEnum": "moderation.models.Case.Status",
                    "DecisionTypeEnum": "moderation.api.serializers.DECISION_TYPES",
                },
            }
        ),
        name="api-schema",
    ),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    re_path(r"^[\s\S]*$", not_found),  # any character, newlines included
]
