"""/api/v1/reports/, cases/, statements-of-reasons/, audit-log/ (issue 6)."""

from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("reports/", views.ReportCreateView.as_view(), name="reports"),
    path("cases/", views.CaseListView.as_view(), name="cases"),
    path("cases/<int:pk>/", views.CaseDetailView.as_view(), name="case"),
    path("cases/<int:pk>/decisions/", views.DecisionCreateView.as_view(), name="case-decisions"),
    path("statements-of-reasons/", views.StatementListView.as_view(), name="statements-of-reasons"),
    path("audit-log/", views.AuditLogView.as_view(), name="audit-log"),
]
