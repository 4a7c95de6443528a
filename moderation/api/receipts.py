"""Receiving a report now and filing it behind the response (`Prefer: respond-async`, D38).

Thin: the receipt and the idempotency record are written by `ReportReceipt.objects.receive`; the
filing, the rules and the refusals are `moderation.actions.receiving`'s.
"""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from django.urls import reverse
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

PREFER_ASYNC = "respond-async"  # RFC 7240


def wants_async(request: Request) -> bool:
    """Whether the `Prefer` header asks for respond-async (tokens are comma-separated and may
    carry parameters: `Prefer: respond-async, wait=5`)."""
    prefer = request.headers.get("Prefer", "")
    tokens = (part.split(";", 1)[0].split("=", 1)[0].strip().lower() for part in prefer.split(","))
    return PREFER_ASYNC in tokens


def status_url(receipt_id: object) -> str:
    return reverse("v1:report-receipt", kwargs={"pk": receipt_id})


def _answer(receipt: ReportReceipt) -> dict[str, Any]:
    return {
        "id": str(receipt.pk),
        "status": ReportReceipt.Status.RECEIVED.value,
        "received_at": receipt.received_at.isoformat(),
        "status_url": status_url(receipt.pk),
    }


def receive(request: Request, *, client: ApiClient, key: str, data: dict[str, Any]) -> Response:
    """202 and a receipt once the notice is stored; the same key again replays it with 200."""
    stored: list[ReportReceipt] = []

    def store(remember: idempotency.Remember) -> None:
        stored.append(
            ReportReceipt.objects.receive(
                client=client, payload=data, remember=remember, answer=_answer
            )
        )

    code, body = idempotency.respond_once(request, client=client, key=key, action=store)
    if stored:
        receiving.kick()
    headers = {"Preference-Applied": PREFER_ASYNC}
    if "status_url" in body:  # a replay of a synchronous answer names its report instead
        headers["Location"] = body["status_url"]
    return Response(body, status=code, headers=headers)


class ReceiptAcceptedSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=[ReportReceipt.Status.RECEIVED.value])
    received_at = serializers.DateTimeField()
    status_url = serializers.CharField(help_text="GET it to learn what became of the report.")


class ReceiptReportSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    case_id = serializers.IntegerField()
    priority = serializers.IntegerField(help_text="The case's band when it was filed.")


class ReceiptSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=ReportReceipt.Status.choices)
    received_at = serializers.DateTimeField()
    filed_at = serializers.DateTimeField(allow_null=True)
    report = ReceiptReportSerializer(allow_null=True)
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
                    "id": "5f0c1e5e-9a55-4f7e-9d0b-0c2b8c3f6a10",
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
