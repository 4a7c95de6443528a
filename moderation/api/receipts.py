"""Receiving a report now and filing it behind the response (`Prefer: respond-async`, D38).

Thin: the receipt (its own idempotency record) is written by `ReportReceipt.objects.receive`; the
filing, the rules, the refusals and the answer's shape are `moderation.actions.receiving`'s.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from moderation.actions import receiving
from moderation.models import ReportReceipt
from safety_portal.core.api import idempotency
from safety_portal.core.api.models import ApiClient
from safety_portal.core.api.schema import api_doc
from safety_portal.core.api.scopes import Scope
from safety_portal.core.api.views import ApiView

from .serializers import ReportResultSerializer

PREFER_ASYNC = "respond-async"  # RFC 7240


def wants_async(request: Request) -> bool:
    """Whether the `Prefer` header asks for respond-async (tokens are comma-separated and may
    carry parameters: `Prefer: respond-async, wait=5`)."""
    prefer = request.headers.get("Prefer", "")
    tokens = (part.split(";", 1)[0].split("=", 1)[0].strip().lower() for part in prefer.split(","))
    return PREFER_ASYNC in tokens


def receive(request: Request, *, client: ApiClient, key: str, data: dict[str, Any]) -> Response:
    """202 and a receipt once the notice is stored; the same key again replays it with 200, the
    same key with another request is 409."""
    digest = idempotency.fingerprint(request.method, request.path, request.data)
    try:
        receipt = ReportReceipt.objects.receive(
            client=client, key=key, request_hash=digest, payload=data
        )
        status = 202
    except IntegrityError:
        receipt = ReportReceipt.objects.for_key(client, key)
        if receipt is None:
            raise
        if receipt.request_hash != digest:
            raise idempotency.key_reused() from None
        status = 200  # a retry: the first answer again
    else:
        receiving.kick()
    body = receiving.answer(receipt)
    headers = {"Preference-Applied": PREFER_ASYNC, "Location": body["status_url"]}
    return Response(body, status=status, headers=headers)


class ReceiptAcceptedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=[ReportReceipt.Status.RECEIVED.value])
    received_at = serializers.DateTimeField()
    status_url = serializers.CharField(help_text="GET it to learn what became of the report.")


class ReceiptSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=ReportReceipt.Status.choices)
    received_at = serializers.DateTimeField()
    filed_at = serializers.DateTimeField(allow_null=True)
    report = ReportResultSerializer(allow_null=True)
    error = serializers.DictField(
        allow_null=True,
        help_text="When refused: `status`, `code`, `detail` and `fields`, as the synchronous "
        "request's error would have been.",
    )


class ReceiptView(ApiView):
    scopes = {"GET": Scope.REPORTS_WRITE}

    @api_doc(
        summary="What became of a report received with Prefer: respond-async",
        scope=Scope.REPORTS_WRITE,
        description=(
            "`received` until the filer has filed it (usually within a second), then `filed` "
            "with the report, its case and the case's band, or `refused` with the error a "
            "synchronous request would have received. Only the client that sent the report "
            "sees its receipt; settled receipts are kept 30 days."
        ),
        responses={200: ReceiptSerializer},
        errors=[404],
        tags=["moderation"],
        examples=[
            OpenApiExample(
                "Filed",
                response_only=True,
                value={
                    "id": 1204,
                    "status": "filed",
                    "received_at": "2026-12-07T10:00:00.120000Z",
                    "filed_at": "2026-12-07T10:00:00.410000Z",
                    "report": {"id": 88123, "case_id": 4410, "priority": 2},
                    "error": None,
                },
            )
        ],
    )
    def get(self, request: Request, pk: Any) -> Response:
        receipt = get_object_or_404(
            ReportReceipt.objects.of_client(self.client).select_related("report__case"), pk=pk
        )
        report = receipt.report
        body = {
            "id": receipt.pk,
            "status": receipt.status,
            "received_at": receipt.received_at,
            "filed_at": receipt.filed_at,
            "report": None
            if report is None
            else {"id": report.pk, "case_id": report.case_id, "priority": report.case.priority},
            "error": receipt.refusal,
        }
        return Response(ReceiptSerializer(body).data)
