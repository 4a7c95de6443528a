"""/api/v1/reports/, appeals/, cases/, statements-of-reasons/, audit-log/ (issues 6, 12)."""

from __future__ import annotations

from django.urls import path

from . import appeals, notices, receipts, views

urlpatterns = [
    path("reports/", views.ReportsView.as_view(), name="reports"),
    path("reports/receipts/<int:pk>/", receipts.ReceiptView.as_view(), name="report-receipt"),
    path("appeals/", appeals.AppealCreateView.as_view(), name="appeals"),
    path("appeals/<int:pk>/", appeals.AppealDetailView.as_view(), name="appeal"),
    path("users/<int:pk>/notices/", notices.UserNoticesView.as_view(), name="user-notices"),
    path(
        "users/<int:pk>/notices/<str:notice_id>/",
        notices.UserNoticeStateView.as_view(),
        name="user-notice",
    ),
    path("cases/", views.CaseListView.as_view(), name="cases"),
    path("cases/<int:pk>/", views.CaseDetailView.as_view(), name="case"),
    path("cases/<int:pk>/decisions/", views.DecisionCreateView.as_view(), name="case-decisions"),
    path("statements-of-reasons/", views.StatementListView.as_view(), name="statements-of-reasons"),
    path("audit-log/", views.AuditLogView.as_view(), name="audit-log"),
]
