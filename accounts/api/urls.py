"""/api/v1/users/... (issue 6)."""

from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("users/", views.UserListCreateView.as_view(), name="users"),
    path("users/<int:pk>/", views.UserDetailView.as_view(), name="user"),
    path(
        "users/<int:pk>/capabilities/", views.CapabilitiesView.as_view(), name="user-capabilities"
    ),
    path(
        "users/<int:pk>/re-registration-signals/",
        views.SignalsView.as_view(),
        name="user-re-registration-signals",
    ),
    path("users/<int:pk>/settings/", views.SettingsView.as_view(), name="user-settings"),
    path(
        "users/<int:pk>/birthdate-change-requests/",
        views.BirthdateChangeRequestView.as_view(),
        name="user-birthdate-change-requests",
    ),
    path(
        "users/<int:pk>/assurance-results/",
        views.AssuranceResultsView.as_view(),
        name="user-assurance-results",
    ),
]
