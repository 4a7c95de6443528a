"""/api/v1/follows/, blocks/, threads/... (issue 6)."""

from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("follows/", views.FollowView.as_view(), name="follows"),
    path("blocks/", views.BlockView.as_view(), name="blocks"),
    path("threads/", views.ThreadCreateView.as_view(), name="threads"),
    path(
        "threads/<int:pk>/participants/",
        views.ParticipantCreateView.as_view(),
        name="thread-participants",
    ),
    path("threads/<int:pk>/invites/", views.InviteCreateView.as_view(), name="thread-invites"),
    path(
        "group-invites/<int:pk>/accept/",
        views.InviteAnswerView.as_view(answer="accept"),
        name="group-invite-accept",
    ),
    path(
        "group-invites/<int:pk>/decline/",
        views.InviteAnswerView.as_view(answer="decline"),
        name="group-invite-decline",
    ),
    path(
        "threads/<int:pk>/messages/",
        views.MessageListCreateView.as_view(),
        name="thread-messages",
    ),
]
