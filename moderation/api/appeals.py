"""/api/v1/appeals/: the app files an internal complaint (DSA art. 20) for the person a decision
touches, and reads what became of it (issue 12.1).

Thin: who may appeal, the window, one appeal per decision and the age evidence of an under-age
appeal are `services.file_appeal`'s rules (POLICY.md §4, §6), with their reason codes; the appeal
then waits in the portal's appeal queue for a senior who took no part in the decision.
"""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api.serializers import MAX_ID, user_id_field
from accounts.models import User
from moderation import services
from moderation.models import Appeal, Decision
from moderation.services import FACTS_MAX
from safety_portal import rules
from safety_portal.core.api import idempotency
from safety_portal.core.api.schema import api_doc, idempotency_key_parameter
from safety_portal.core.api.scopes import Scope
from safety_portal.core.api.views import ApiView, validated
from safety_portal.core.errors import DomainError

APPEALS = ["appeals"]
METHODS = [m.value for m in rules.vocabulary.AssuranceMethod]


class AppealCreateSerializer(serializers.Serializer):
    decision = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text="The decision's id, as in its notice."
    )
    appellant = user_id_field(
        help_text="The app user appealing: the person the decision concerns, or for a "
        "no-violation decision a user who reported the case."
    )
    statement = serializers.CharField(
        max_length=FACTS_MAX, help_text="Why the decision should change, in the user's words."
    )
    evidence_method = serializers.ChoiceField(
        choices=METHODS,
        required=False,
        allow_blank=True,
        help_text="Under-age decisions only: how the age was shown (stronger than self_declared).",
    )
    evidence_reference = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        help_text="Under-age decisions only: the assurer's reference, never the document.",
    )


class AppealSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    decision = serializers.IntegerField()
    appellant = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Appeal.Kind.choices)
    status = serializers.ChoiceField(
        choices=Appeal.Status.choices,
        help_text="pending (waiting for a senior moderator), rejected (the decision stands) or "
        "overturned (the decision and its effects were reversed).",
    )
    status_text = serializers.CharField(help_text="The status in plain words.")
    filed_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)

    @staticmethod
    def represent(appeal: Appeal) -> dict[str, Any]:
        """JSON-ready (the idempotency record stores the first answer as it was sent)."""
        return {
            "id": appeal.pk,
            "decision": appeal.decision_id,
            "appellant": appeal.appellant_id,
            "kind": appeal.kind,
            "status": appeal.status,
            "status_text": Appeal.Status(appeal.status).label,
            "filed_at": appeal.filed_at.isoformat(),
            "decided_at": appeal.decided_at.isoformat() if appeal.decided_at else None,
        }


_FILED = {
    "id": 41,
    "decision": 1207,
    "appellant": 5521,
    "kind": "decision",
    "status": "pending",
    "status_text": "Waiting for a senior moderator",
    "filed_at": "2026-12-06T10:15:00+00:00",
    "decided_at": None,
}


class AppealCreateView(ApiView):
    scopes = {"POST": Scope.APPEALS_WRITE}

    @api_doc(
        summary="File an appeal against a decision (DSA art. 20 internal complaint)",
        scope=Scope.APPEALS_WRITE,
        description=(
            "For the person the decision concerns, or, against a no-violation decision, a user "
            "who reported the case. Within the decision's appeal window (six months after its "
            "notice; 180 days for an under-age decision, which needs age evidence), once per "
            "decision. Refusals: 403 `not_permitted` (not this person's decision), 409 "
            "`already_appealed`, `appeal_window_closed` or `not_appealable`. Needs an "
            "`Idempotency-Key` header: the same key and body replay the first answer with 200, "
            "another body is 409 `idempotency_key_reused`. The appellant gets an "
            "`appeal_received` notice now and an `appeal_decided` notice with the outcome."
        ),
        parameters=[idempotency_key_parameter("A unique string per appeal, e.g. a UUID.")],
        request=AppealCreateSerializer,
        responses={201: AppealSerializer, 200: AppealSerializer},
        writes=True,
        errors=[404, 409],
        tags=APPEALS,
        examples=[
            OpenApiExample(
                "An appeal against a suspension",
                request_only=True,
                value={
                    "decision": 1207,
                    "appellant": 5521,
                    "statement": "The video was a news clip, not my own threat.",
                },
            ),
            OpenApiExample("Filed", response_only=True, status_codes=["201"], value=_FILED),
        ],
    )
    def post(self, request: Request) -> Response:
        key = idempotency.read_key(request.headers)
        data = validated(AppealCreateSerializer, request.data)
        decision = Decision.objects.select_related("case").filter(pk=data["decision"]).first()
        if decision is None:
            raise DomainError("not_found", "No decision has this id.")
        appellant = User.objects.app_users().filter(pk=data["appellant"]).first()
        if appellant is None:
            raise DomainError(
                "invalid", "Unknown appellant.", fields={"appellant": ["unknown user"]}
            )

        def file(remember: idempotency.Remember) -> None:
            services.file_appeal(
                decision,
                appellant=appellant,
                statement=data["statement"],
                actor=self.client,
                evidence_method=data.get("evidence_method", ""),
                evidence_reference=data.get("evidence_reference", ""),
                before_audit=lambda appeal: remember(
                    status.HTTP_201_CREATED, AppealSerializer.represent(appeal)
                ),
            )

        code, body = idempotency.respond_once(request, client=self.client, key=key, action=file)
        return Response(body, status=code)


class AppealDetailView(ApiView):
    scopes = {"GET": Scope.APPEALS_READ}

    @api_doc(
        summary="An appeal's status",
        scope=Scope.APPEALS_READ,
        description="Who decided it is not shown: the outcome reaches the user as a notice.",
        responses={200: AppealSerializer},
        errors=[404],
        tags=APPEALS,
        examples=[OpenApiExample("Waiting", response_only=True, value=_FILED)],
    )
    def get(self, request: Request, pk: int) -> Response:
        appeal = get_object_or_404(Appeal.objects.all(), pk=pk)
        return Response(AppealSerializer(AppealSerializer.represent(appeal)).data)
