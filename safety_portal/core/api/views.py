"""Base classes of every API view, and the one view that belongs to no domain app.

The domain views (accounts/api, messaging/api, moderation/api) are thin: they check the input's
shape, call a manager or service, and let `errors.api_exception_handler` translate refusals.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rest_framework import exceptions, generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .errors import RequestTooLarge
from .models import ApiClient
from .parsers import max_request_bytes
from .permissions import HasScope
from .schema import api_doc

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def validated(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    """Validate a request body with `serializer_class`; bad input raises 400 with field errors."""
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def check_body(request: Request) -> None:
    """413 for a body over the limit, 415 for a body that is not JSON (before reading it)."""
    if request.method not in _BODY_METHODS:
        return
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    chunked = "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
    limit = max_request_bytes()
    if length > limit:
        raise RequestTooLarge(f"The request body is larger than {limit} bytes.")
    if length > 0 or chunked:
        media_type = (request.content_type or "").split(";")[0].strip().lower()
        if media_type != "application/json":
            raise exceptions.UnsupportedMediaType(
                media_type or "(none)", detail="Send the body as application/json."
            )


class ApiMixin:
    """Scope permission, per-client throttling and body checks for every API view."""

    permission_classes: ClassVar[list] = [HasScope]
    scopes: ClassVar[dict[str, str | None]] = {}

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]  # auth, scope, throttle
        check_body(request)

    @property
    def client(self) -> ApiClient:
        return self.request.user  # type: ignore[attr-defined,return-value]


class ApiView(ApiMixin, APIView):
    pass


class ApiGenericView(ApiMixin, generics.GenericAPIView):
    pass


class WhoAmISerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    scopes = serializers.ListField(child=serializers.CharField())


class WhoAmIView(ApiView):
    """Lets a client check its token and scopes; also the bench's trivial baseline endpoint."""

    scopes = {"GET": None}

    @api_doc(summary="The calling client", scope=None, responses={200: WhoAmISerializer})
    def get(self, request: Request) -> Response:
        client = self.client
        return Response({"id": client.pk, "name": client.name, "scopes": client.scopes})
