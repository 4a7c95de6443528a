"""Moderation endpoints of the API (issue 6): report intake, cases, decisions, statements of
reasons and the audit log.

Thin: reports go through `Report.objects.file` (priority, case joining and age flags live there),
decisions through `Case.objects.claim` + `services.decide` (roles, effects, statements), reads
through the managers' vocabulary. The API client is the actor of every write it makes; a decision
is the moderator's, and the client that carried it is recorded beside it in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, Subquery
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, OpenApiParameter
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api.serializers import MAX_ID
from accounts.models import User
from moderation import services, statements
from moderation.actions import receiving
from moderation.models import Case, Decision, StatementOfReasons, Strike
from safety_portal.core import audit, clock
from safety_portal.core.api import idempotency
from safety_portal.core.api.pagination import (
    ApiCursorPagination,
    AuditCursorPagination,
    NewestFirstCursorPagination,
    StatementsPagination,
)
from safety_portal.core.api.schema import api_doc, idempotency_key_parameter
from safety_portal.core.api.scopes import Scope
from safety_portal.core.api.views import ApiGenericView, ApiView, validated
from safety_portal.core.audit.models import AuditEntry
from safety_portal.core.errors import DomainError

from . import receipts, reporter_reports
from .serializers import (
    AuditEntrySerializer,
    CaseDetailSerializer,
    CaseSerializer,
    DecisionCreateSerializer,
    DecisionResultSerializer,
    ReportCreateSerializer,
    ReportResultSerializer,
    StatementsSerializer,
)

MODERATION = ["moderation"]
TRANSPARENCY = ["transparency"]


def _since(raw: str | None, field: str = "since") -> dt.datetime | None:
    if raw is None or raw == "":
        return None
    try:
        return statements.parse_since(raw)
    except (ValueError, OverflowError) as exc:
        raise DomainError(
            "invalid", "Use YYYY-MM-DD or an ISO 8601 date-time.", fields={field: [str(exc)]}
        ) from exc


def _bool(raw: str, field: str) -> bool:
    value = raw.strip().lower()
    if value in {"true", "1", "yes"}:
        return True
    if value in {"false", "0", "no"}:
        return False
    raise DomainError("invalid", f"{field} is true or false.", fields={field: ["true or false"]})


class ReportsView(ApiGenericView):
    scopes = {"POST": Scope.REPORTS_WRITE, "GET": Scope.REPORTS_READ}
    pagination_class = NewestFirstCursorPagination
    serializer_class = reporter_reports.ReporterReportSerializer

    @api_doc(
        summary="A reporter's reports and what became of them (DSA art. 16(5))",
        scope=Scope.REPORTS_READ,
        description=(
            "`reporter` (required): an app user's id. Newest first, cursor-paginated. Each "
            "report says whether it was received, is under review, or was decided with action "
            "taken or no violation found, and until when a no-violation decision may be "
            "appealed. Nothing about the action taken or the reported person is shown."
        ),
        parameters=[OpenApiParameter("reporter", int, required=True)],
        responses={200: reporter_reports.ReporterReportSerializer(many=True)},
        errors=[400],
        tags=MODERATION,
        examples=[
            OpenApiExample(
                "A report found not to break the rules",
                response_only=True,
                value={
                    "next": None,
                    "previous": None,
                    "results": [
                        {
                            "id": 880,
                            "subject_type": "message",
                            "subject_id": 120344,
                            "category": "STATEMENT_CATEGORY_CYBER_VIOLENCE",
                            "created_at": "2026-12-01T18:02:11Z",
                            "status": "no_violation",
                            "status_text": "Decided: we found no breach of our rules or the law.",
                            "decided_at": "2026-12-02T09:40:00Z",
                            "decision": 1290,
                            "appealable_until": "2027-06-02T09:40:00Z",
                        }
                    ],
                },
            )
        ],
    )
    def get(self, request: Request) -> Response:
        raw = request.query_params.get("reporter", "")
        if not raw.isdigit() or not 0 < int(raw) <= MAX_ID:
            raise DomainError(
                "invalid",
                "Say whose reports: ?reporter=<user id>.",
                fields={"reporter": ["required"]},
            )
        page = self.paginate_queryset(reporter_reports.reports_of(int(raw)))
        body = reporter_reports.represent_page(page, now=clock.now())
        return self.get_paginated_response(
            reporter_reports.ReporterReportSerializer(body, many=True).data
        )

    @api_doc(
        summary="File a report (DSA art. 16 notice, trusted flagger, integration or rule)",
        scope=Scope.REPORTS_WRITE,
        description=(
            "Needs an `Idempotency-Key` header (1-255 visible ASCII characters): the same key "
            "with the same body answers the first result again with 200; the same key with "
            "another body is 409 `idempotency_key_reused`. Keys are per client and kept 24 h. "
            "Reports on a subject that has an open case join it; the answer names the case and "
            "its priority band. A subject that does not exist is 404.\n\n"
            "With `Prefer: respond-async` (RFC 7240) the report is stored and answered with 202 "
            "and a receipt as soon as it is durable, and filed just after (usually within a "
            "second): `GET` the receipt's `status_url` to learn its report and case, or the "
            "error the synchronous request would have answered (a refusal is never silent). "
            "Body validation (400) and the key's checks are the same both ways. For "
            "high-volume senders (classifiers, the app's report button): the request costs no "
            "case lock and no wait on other reports of the same subject."
        ),
        parameters=[
            idempotency_key_parameter("A unique string per report, e.g. a UUID."),
            OpenApiParameter(
                "Prefer",
                str,
                location=OpenApiParameter.HEADER,
                required=False,
                description="`respond-async`: answer 202 with a receipt, file just after.",
            ),
        ],
        request=ReportCreateSerializer,
        responses={
            201: ReportResultSerializer,
            200: ReportResultSerializer,
            202: receipts.ReceiptAcceptedSerializer,
        },
        writes=True,
        errors=[404, 409],
        tags=MODERATION,
    )
    def post(self, request: Request) -> Response:
        key = idempotency.read_key(request.headers)
        data = validated(ReportCreateSerializer, request.data)
        if receipts.wants_async(request):
            return receipts.receive(request, client=self.client, key=key, data=data)
        arguments = receiving.filing_arguments(data)

        def file(remember: idempotency.Remember) -> None:
            # The idempotency record is written with the report (on PostgreSQL by the same
            # statement, D27), before its audit entry; there is no transaction around this one.
            services.file_report(
                actor=self.client,
                **arguments,
                before_audit=lambda report: [
                    remember.unsaved(
                        status.HTTP_201_CREATED,
                        {
                            "id": report.pk,
                            "case_id": report.case_id,
                            "priority": report.case.priority,
                        },
                    )
                ],
            )

        code, body = idempotency.respond_once(request, client=self.client, key=key, action=file)
        return Response(body, status=code)


def _cases() -> Any:
    now = clock.now()
    strikes = (
        Strike.objects.active(at=now)
        .filter(user_id=OuterRef("subject_user_id"))
        .values("user_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Case.objects.annotate(
        active_strikes=Subquery(strikes, output_field=IntegerField())
    ).order_by("-id")


class CaseListView(ApiGenericView):
    scopes = {"GET": Scope.CASES_READ}
    pagination_class = ApiCursorPagination
    serializer_class = CaseSerializer

    @api_doc(
        summary="Cases, newest first",
        scope=Scope.CASES_READ,
        parameters=[
            OpenApiParameter("status", str, enum=[s.value for s in Case.Status]),
            OpenApiParameter("priority", int, enum=[1, 2, 3, 4]),
            OpenApiParameter("involving_minors", bool),
            OpenApiParameter("category", str),
        ],
        responses={200: CaseSerializer(many=True)},
        errors=[400],
        tags=MODERATION,
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        queryset = _cases()
        if "status" in params:
            if params["status"] not in Case.Status.values:
                raise DomainError("invalid", "Unknown status.", fields={"status": ["unknown"]})
            queryset = queryset.filter(status=params["status"])
        if "priority" in params:
            if params["priority"] not in {"1", "2", "3", "4"}:
                raise DomainError("invalid", "Priority is 1 to 4.", fields={"priority": ["1-4"]})
            queryset = queryset.filter(priority=int(params["priority"]))
        if "involving_minors" in params:
            minors = _bool(params["involving_minors"], "involving_minors")
            queryset = (
                queryset.involving_minors() if minors else queryset.exclude(involves_minor=True)
            )
        if "category" in params:
            queryset = queryset.filter(category=params["category"])
        page = self.paginate_queryset(queryset)
        now = clock.now()
        return self.get_paginated_response([CaseSerializer.represent(c, now=now) for c in page])


class CaseDetailView(ApiView):
    scopes = {"GET": Scope.CASES_READ}

    @api_doc(
        summary="One case, with its decisions",
        scope=Scope.CASES_READ,
        responses={200: CaseDetailSerializer},
        errors=[404],
        tags=MODERATION,
    )
    def get(self, request: Request, pk: int) -> Response:
        case = get_object_or_404(
            _cases().prefetch_related(
                Prefetch("decisions", queryset=Decision.objects.order_by("decided_at", "id"))
            ),
            pk=pk,
        )
        body = CaseSerializer.represent(case, now=clock.now())
        body["decisions"] = [
            {
                "id": d.pk,
                "type": d.type,
                "decided_at": d.decided_at,
                "ends_at": d.ends_at,
                "overturned": d.overturned_at is not None,
            }
            for d in case.decisions.all()
        ]
        return Response(CaseDetailSerializer(body).data)


class DecisionCreateView(ApiView):
    scopes = {"POST": Scope.DECISIONS_WRITE}

    @api_doc(
        summary="Decide a case on behalf of a named moderator",
        scope=Scope.DECISIONS_WRITE,
        description=(
            "The case is claimed for `moderator` (409 `claimed_by_another` when someone else "
            "holds it), then decided through the same service as the portal: the moderator "
            "must hold the role for the decision (403 `not_permitted`), its effects, strike, "
            "statement of reasons and notices are written in one transaction, and a decided "
            "case is 409. A termination or an under-age decision needs `confirm: true` (400 on "
            "`confirm` otherwise), as the portal's form does. The entry "
            "`moderation.decision.via_api` records the client."
        ),
        request=DecisionCreateSerializer,
        responses={201: DecisionResultSerializer},
        writes=True,
        errors=[404, 409],
        tags=MODERATION,
    )
    def post(self, request: Request, pk: int) -> Response:
        case = get_object_or_404(Case.objects.all(), pk=pk)
        data = validated(DecisionCreateSerializer, request.data)
        data.pop("confirm")  # checked by the serializer; `decide` takes no such argument
        moderator = User.objects.filter(pk=data.pop("moderator")).first()
        if moderator is None:
            raise DomainError("invalid", "Unknown moderator.", fields={"moderator": ["unknown"]})
        target_id = data.pop("target_user", None)
        target = None
        if target_id is not None:
            target = User.objects.app_users().filter(pk=target_id).first()
            if target is None:
                raise DomainError(
                    "invalid", "Unknown user.", fields={"target_user": ["unknown user"]}
                )
        with transaction.atomic():
            Case.objects.claim(case, actor=moderator)
            decision = services.decide(
                case,
                actor=moderator,
                decision_type=data.pop("decision_type"),
                facts=data.pop("facts"),
                target_user=target,
                **data,
            )
            audit.record(
                actor=self.client,
                action="moderation.decision.via_api",
                target=decision,
                after={"case": case.pk, "moderator": moderator.pk, "type": decision.type},
            )
        decision = Decision.objects.select_related("statement").get(pk=decision.pk)
        return Response(
            DecisionResultSerializer(DecisionResultSerializer.represent(decision)).data,
            status=status.HTTP_201_CREATED,
        )


class StatementListView(ApiGenericView):
    scopes = {"GET": Scope.SOR_READ}
    pagination_class = StatementsPagination

    @api_doc(
        summary="Statements of reasons (DSA Transparency Database schema)",
        scope=Scope.SOR_READ,
        description=(
            '`{"statements": [...]}` in the schema of POLICY.md §6, oldest first, at most 100 '
            "per answer (the Commission's batch limit); `next` fetches the following batch. "
            "`since` is YYYY-MM-DD (midnight, portal time zone) or an ISO 8601 date-time."
        ),
        parameters=[
            OpenApiParameter("since", str, description="Created at or after this."),
            OpenApiParameter("cursor", str, description="From `next` of the previous answer."),
            OpenApiParameter("page_size", int, description="At most 100 (the default)."),
        ],
        responses={200: StatementsSerializer},
        errors=[400],
        tags=TRANSPARENCY,
    )
    def get(self, request: Request) -> Response:
        since = _since(request.query_params.get("since"))
        queryset = StatementOfReasons.objects.all()
        if since is not None:
            queryset = queryset.filter(created_at__gte=since)
        page = self.paginate_queryset(queryset.only("id", "created_at", "payload"))
        return self.get_paginated_response([s.payload for s in page])


class AuditLogView(ApiGenericView):
    scopes = {"GET": Scope.AUDIT_READ}
    pagination_class = AuditCursorPagination
    serializer_class = AuditEntrySerializer

    @api_doc(
        summary="The audit log, newest first",
        scope=Scope.AUDIT_READ,
        description=(
            "`action` is an exact dotted code (`accounts.status.changed`) or a prefix ending "
            "in a dot (`moderation.`). Values are already redacted at write time (secrets, "
            "minors' exact birthdates)."
        ),
        parameters=[
            OpenApiParameter("since", str, description="YYYY-MM-DD or ISO 8601 date-time."),
            OpenApiParameter("action", str),
        ],
        responses={200: AuditEntrySerializer(many=True)},
        errors=[400],
        tags=TRANSPARENCY,
    )
    def get(self, request: Request) -> Response:
        queryset = AuditEntry.objects.all()
        since = _since(request.query_params.get("since"))
        if since is not None:
            queryset = queryset.since(since)
        action = request.query_params.get("action")
        if action:
            queryset = (
                queryset.action_prefix(action)
                if action.endswith(".")
                else queryset.filter(Q(action=action))
            )
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(AuditEntrySerializer(page, many=True).data)
