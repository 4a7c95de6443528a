"""/api/v1/users/{id}/notices/: the notices the app shows a user, and their delivery state
(issue 12.2). Thin: `moderation.notice_feed` reads both notice tables and moves the state."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User
from moderation import notice_feed
from moderation.models import NoticeFeedItem
from safety_portal.core.api.pagination import ApiCursorPagination
from safety_portal.core.api.schema import api_doc
from safety_portal.core.api.scopes import Scope
from safety_portal.core.api.views import ApiGenericView, ApiView, validated

NOTICES = ["notices"]


class NoticePagination(ApiCursorPagination):
    ordering = ("-created_at", "-uid")


class NoticeSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="Stable: 'moderation-12' or 'account-7'.")
    kind = serializers.CharField(
        help_text="decision, reporter_outcome, appeal_received, appeal_decided, "
        "restriction_ended, tier_change, policy_change or minimum_age."
    )
    code = serializers.CharField(
        help_text="Language-neutral, what the app keys on: e.g. decision_suspend, "
        "reporter_outcome.no_violation, appeal_decided.overturned, minimum_age."
    )
    tier = serializers.CharField(help_text="The age tier the text was written for.")
    subject = serializers.CharField()
    body = serializers.CharField(help_text="Plain language for the user's age tier.")
    created_at = serializers.DateTimeField()
    state = serializers.ChoiceField(choices=["written", "delivered", "read"])
    delivered_at = serializers.DateTimeField(allow_null=True)
    read_at = serializers.DateTimeField(allow_null=True)

    @staticmethod
    def represent(item: NoticeFeedItem) -> dict[str, Any]:
        return {
            "id": item.uid,
            "kind": item.kind,
            "code": item.code,
            "tier": item.tier,
            "subject": item.subject,
            "body": item.body,
            "created_at": item.created_at,
            "state": item.state,
            "delivered_at": item.delivered_at,
            "read_at": item.read_at,
        }


class NoticeStateSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=list(notice_feed.STATES))


_EXAMPLE = {
    "id": "moderation-311",
    "kind": "appeal_decided",
    "code": "appeal_decided.overturned",
    "tier": "older_teen",
    "subject": "Your appeal: we changed our decision",
    "body": "We looked again and changed our decision. The restriction has been lifted.",
    "created_at": "2026-12-06T11:20:00Z",
    "state": "written",
    "delivered_at": None,
    "read_at": None,
}


def _app_user(pk: int) -> User:
    return get_object_or_404(User.objects.app_users(), pk=pk)


class UserNoticesView(ApiGenericView):
    scopes = {"GET": Scope.NOTICES_READ}
    pagination_class = NoticePagination
    serializer_class = NoticeSerializer

    @api_doc(
        summary="A user's notices, newest first",
        scope=Scope.NOTICES_READ,
        description=(
            "Every notice the portal wrote for this app user: decisions, report outcomes, "
            "appeals, restrictions ended, age-group and rule changes, the minimum-age review. "
            "Cursor-paginated. A `notice.created` webhook announces each new one (ids and codes "
            "only); report back what the user saw with PATCH .../notices/{notice_id}/."
        ),
        responses={200: NoticeSerializer(many=True)},
        errors=[404],
        tags=NOTICES,
        examples=[
            OpenApiExample(
                "An appeal's outcome",
                response_only=True,
                value={"next": None, "previous": None, "results": [_EXAMPLE]},
            )
        ],
    )
    def get(self, request: Request, pk: int) -> Response:
        page = self.paginate_queryset(notice_feed.feed_for(_app_user(pk)))
        return self.get_paginated_response([NoticeSerializer.represent(i) for i in page])


class UserNoticeStateView(ApiView):
    scopes = {"PATCH": Scope.NOTICES_WRITE}

    @api_doc(
        summary="Report a notice delivered or read",
        scope=Scope.NOTICES_WRITE,
        description=(
            "`delivered` when the app has shown it, `read` when the user opened it (read "
            "implies delivered). States only move forward and keep their first time, so a "
            "retry or a late report changes nothing."
        ),
        request=NoticeStateSerializer,
        responses={200: NoticeSerializer},
        writes=True,
        errors=[404],
        tags=NOTICES,
        examples=[
            OpenApiExample("Read", request_only=True, value={"state": "read"}),
        ],
    )
    def patch(self, request: Request, pk: int, notice_id: str) -> Response:
        data = validated(NoticeStateSerializer, request.data)
        item = notice_feed.mark(_app_user(pk), notice_id, data["state"], actor=self.client)
        return Response(NoticeSerializer(NoticeSerializer.represent(item)).data)
