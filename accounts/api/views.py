"""Accounts endpoints of the API (issue 6): sign-up with the age gate, reads, capabilities,
settings and birthdate-change requests. Thin: every rule is in `safety_portal.rules` and the managers.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import age_gate
from accounts import minimum_age_sweep as sweeps
from accounts.facts import facts_of
from accounts.models import AgeAssuranceResult, BirthdateChangeRequest, SafetySettings, User
from safety_portal import rules
from safety_portal.core import clock
from safety_portal.core.api import idempotency
from safety_portal.core.api.pagination import ApiCursorPagination
from safety_portal.core.api.schema import api_doc, idempotency_key_parameter
from safety_portal.core.api.scopes import Scope
from safety_portal.core.api.views import ApiGenericView, ApiView, validated
from safety_portal.core.errors import DomainError

from .serializers import (
    AssuranceResultCreateSerializer,
    AssuranceResultSerializer,
    BirthdateChangeCreateSerializer,
    BirthdateChangeSerializer,
    CapabilitiesSerializer,
    SettingsPatchSerializer,
    SettingsSerializer,
    SignalsSerializer,
    UserCreateSerializer,
    UserSerializer,
    capability_value,
)

TAGS = ["users"]


def app_user_or_404(pk: int) -> User:
    """An app user; staff accounts (no birthdate) are invisible to API clients (404)."""
    return get_object_or_404(User.objects.app_users(), pk=pk)


class UserListCreateView(ApiGenericView):
    scopes = {"GET": Scope.USERS_READ, "POST": Scope.USERS_WRITE}
    pagination_class = ApiCursorPagination
    serializer_class = UserSerializer

    @api_doc(
        summary="Find app users",
        scope=Scope.USERS_READ,
        description="Newest first. `external_id` looks up the account the app back end knows.",
        parameters=[OpenApiParameter("external_id", str, required=False)],
        responses={200: UserSerializer(many=True)},
        errors=[400],
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        queryset = User.objects.app_users().order_by("-id")
        external_id = request.query_params.get("external_id")
        if external_id is not None:
            queryset = queryset.filter(external_id=external_id)
        page = self.paginate_queryset(queryset)
        today = clock.today()
        return self.get_paginated_response([UserSerializer.represent(u, today=today) for u in page])

    @api_doc(
        summary="Sign up an app user (age gate)",
        scope=Scope.USERS_WRITE,
        description=(
            "Below the country's minimum age (POLICY.md §2) no account is created: 403 "
            "`under_minimum_age`, and the refusal is kept without the birthdate. A retry for the "
            "same `external_id` within 24 h that would pass is refused (403 `age_gate_retry`) "
            "and flagged for staff review. 409 `duplicate` for a taken username or external_id."
        ),
        request=UserCreateSerializer,
        responses={201: UserSerializer},
        writes=True,
        errors=[409],
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        data = validated(UserCreateSerializer, request.data)
        user = age_gate.sign_up(client=self.client, **data)
        return Response(
            UserSerializer.represent(user, today=clock.today()), status=status.HTTP_201_CREATED
        )


class UserDetailView(ApiView):
    scopes = {"GET": Scope.USERS_READ}

    @api_doc(
        summary="One app user",
        scope=Scope.USERS_READ,
        responses={200: UserSerializer},
        errors=[404],
        tags=TAGS,
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(UserSerializer.represent(app_user_or_404(pk), today=clock.today()))


class CapabilitiesView(ApiView):
    scopes = {"GET": Scope.USERS_READ}

    @api_doc(
        summary="What the user may do today, and why not",
        scope=Scope.USERS_READ,
        description=(
            "Every capability of POLICY.md §3 with its effective value (tier ceiling, country, "
            "guardian, moderation restriction and own setting combined) and the reason code "
            "when something is refused or limited; with `assurance_required`, the strength of "
            "the age-assurance ladder still missing (POLICY.md §7.2). The single source other "
            "services consult."
        ),
        responses={200: CapabilitiesSerializer},
        errors=[404],
        tags=TAGS,
    )
    def get(self, request: Request, pk: int) -> Response:
        user = app_user_or_404(pk)
        now, today = clock.now(), clock.today()
        caps = rules.capabilities.capabilities(facts_of(user, at=now, on=today), on=today)
        return Response(
            {
                "age": user.age(today),
                "tier": str(user.tier(today)),
                "capabilities": {
                    name: {
                        "allowed": cap.allowed,
                        "value": capability_value(cap.value),
                        "reason": None if cap.reason is None else str(cap.reason),
                        "dismissable": cap.dismissable,
                        "required_strength": (
                            None if cap.required_strength is None else str(cap.required_strength)
                        ),
                    }
                    for name, cap in caps.items()
                },
            }
        )


class SignalsView(ApiView):
    scopes = {"POST": Scope.USERS_WRITE}

    @api_doc(
        summary="Report re-registration signals of an account under minimum-age review",
        scope=Scope.USERS_WRITE,
        description=(
            "POLICY.md §7.3: for an account under minimum-age review (or closed after one), the "
            "app sends salted hashes of its device and account-recovery identifiers; while they "
            "are kept (the appeal window plus 30 days) a sign-up with any of them is refused "
            "(403 `age_gate_retry`) and flagged. Sending the same signal again extends nothing "
            "beyond that window from today. 409 `not_under_review` for any other account."
        ),
        request=SignalsSerializer,
        responses={202: SignalsSerializer},
        writes=True,
        errors=[404, 409],
        tags=TAGS,
    )
    def post(self, request: Request, pk: int) -> Response:
        data = validated(SignalsSerializer, request.data)
        pairs = sweeps.record_signals(app_user_or_404(pk), data["signals"], actor=self.client)
        return Response(
            {"signals": [{"kind": k, "digest": d} for k, d in pairs]},
            status=status.HTTP_202_ACCEPTED,
        )


class SettingsView(ApiView):
    scopes = {"PATCH": Scope.USERS_WRITE}

    @api_doc(
        summary="Change the user's own safety settings",
        scope=Scope.USERS_WRITE,
        description=(
            "Any subset of the settings. A value looser than the user's tier allows is refused "
            "with 403 and the reason code (`setting_above_tier_ceiling`, "
            "`setting_locked_for_tier`); a 13-15-year-old's loosening that needs their linked "
            "guardian's approval is 403 `setting_needs_guardian` until it is sent again with "
            "`guardian_approved_by`; unknown names or values are 400. Returns all settings."
        ),
        request=SettingsPatchSerializer,
        responses={200: SettingsSerializer},
        writes=True,
        errors=[404],
        tags=TAGS,
    )
    def patch(self, request: Request, pk: int) -> Response:
        user = app_user_or_404(pk)
        if not isinstance(request.data, dict):
            raise DomainError("invalid", "Send a JSON object of settings.")
        values = dict(request.data)
        approver = values.pop("guardian_approved_by", None)
        if approver is not None and (isinstance(approver, bool) or not isinstance(approver, int)):
            raise DomainError(
                "invalid",
                "guardian_approved_by is a user id.",
                fields={"guardian_approved_by": ["A user id (an integer) is required."]},
            )
        unknown = sorted(set(values) - set(rules.safety_settings.SETTING_NAMES))
        if unknown:  # checked here too so that no key can collide with the manager's keywords
            raise DomainError(
                "invalid", "Unknown settings.", fields={n: ["unknown setting"] for n in unknown}
            )
        SafetySettings.objects.change(
            user, actor=self.client, guardian_approved_by=approver, **values
        )
        current = SafetySettings.objects.get(user=user)
        return Response(
            {name: getattr(current, name) for name in rules.safety_settings.SETTING_NAMES}
        )


class BirthdateChangeRequestView(ApiView):
    scopes = {"POST": Scope.USERS_WRITE}

    @api_doc(
        summary="Request a corrected birthdate",
        scope=Scope.USERS_WRITE,
        description=(
            "POLICY.md §4: a younger date applies at once (status `applied`); an older one waits "
            "for staff review (status `pending`) and needs a method stronger than "
            "`self_declared` (403 `method_too_weak`). 409 when a request is already pending."
        ),
        request=BirthdateChangeCreateSerializer,
        responses={201: BirthdateChangeSerializer},
        writes=True,
        errors=[404, 409],
        tags=TAGS,
    )
    def post(self, request: Request, pk: int) -> Response:
        user = app_user_or_404(pk)
        data = validated(BirthdateChangeCreateSerializer, request.data)
        change = BirthdateChangeRequest.objects.submit(
            user=user,
            new_birthdate=data["birthdate"],
            method=data["method"],
            evidence_reference=data["evidence_reference"],
            reason=data["reason"],
            actor=self.client,
        )
        body = {
            "id": change.pk,
            "user": change.user_id,
            "status": change.status,
            "method": change.method,
            "created_at": change.created_at,
        }
        return Response(BirthdateChangeSerializer(body).data, status=status.HTTP_201_CREATED)


class AssuranceResultsView(ApiGenericView):
    scopes = {"GET": Scope.ASSURANCE_READ, "POST": Scope.ASSURANCE_WRITE}
    pagination_class = ApiCursorPagination
    serializer_class = AssuranceResultSerializer

    @api_doc(
        summary="The user's age-assurance results",
        scope=Scope.ASSURANCE_READ,
        description="Newest first (POLICY.md §7.2). Results hold a range, an 'over N' bit or an "
        "estimate; never an image or a document number.",
        responses={200: AssuranceResultSerializer(many=True)},
        errors=[404],
        tags=TAGS,
    )
    def get(self, request: Request, pk: int) -> Response:
        user = app_user_or_404(pk)
        page = self.paginate_queryset(AgeAssuranceResult.objects.of_user(user).order_by("-id"))
        return self.get_paginated_response([AssuranceResultSerializer.represent(r) for r in page])

    @api_doc(
        summary="Record an age-assurance result",
        scope=Scope.ASSURANCE_WRITE,
        description=(
            "POLICY.md §7.2. One result per call: app_store_signal with `age_range` and `region`; "
            "facial_estimation with `estimate` (0-120); id_document, age_token, payment_card or "
            "guardian_vouch with `over_age` and `is_over`. Any other field (a document number, "
            "an image) is 400. Needs an `Idempotency-Key` header: the same key from the same "
            "service with the same result answers the first result again with 200; with another "
            "result it is 409 `idempotency_key_reused` (kept for good, per service). A result "
            "that says younger than the stored age applies at once and flags staff; one that "
            "says older flags staff and changes nothing."
        ),
        parameters=[
            idempotency_key_parameter("A unique string per result, e.g. the assurer's check id.")
        ],
        request=AssuranceResultCreateSerializer,
        responses={201: AssuranceResultSerializer, 200: AssuranceResultSerializer},
        writes=True,
        errors=[404, 409],
        tags=TAGS,
    )
    def post(self, request: Request, pk: int) -> Response:
        key = idempotency.read_key(request.headers)
        user = app_user_or_404(pk)
        data = validated(AssuranceResultCreateSerializer, request.data)
        result, created = AgeAssuranceResult.objects.record(
            user=user, actor=self.client, idempotency_key=key, **data
        )
        return Response(
            AssuranceResultSerializer.represent(result),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )
