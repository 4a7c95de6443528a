"""Staff pass the second factor before any page (issue 5, "Security of the portal").

django-otp's middleware tells whether this session was verified with a device; this one acts on it:
a signed-in staff member whose session is not verified is sent to the code page (or, with no device
yet, to the enrolment page) from every portal and admin URL. Signed-in accounts that are not staff
(app users) get 403 everywhere: the portal is not theirs. The REST API authenticates its clients
itself and is not affected.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django_otp import user_has_device

# Pages a half-signed-in staff member may reach: the second-factor pages themselves, and sign-out.
OPEN_VIEWS = frozenset({"portal:login", "portal:logout", "portal:otp_verify", "portal:otp_setup"})


def needs_second_factor(user: Any) -> bool:
    return bool(user.is_authenticated and user.is_staff and not user.is_verified())


class StaffTwoFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.exempt_prefixes = (
            "/api/",
            "/" + settings.STATIC_URL.lstrip("/"),
            "/healthz",
            "/readyz",
            "/metrics",
        )

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., Any], args: Any, kwargs: Any
    ) -> HttpResponse | None:
        if request.path.startswith(self.exempt_prefixes):
            return None
        user = request.user
        if not user.is_authenticated:
            return None
        view_name = request.resolver_match.view_name if request.resolver_match else ""
        if not user.is_staff:
            if view_name == "portal:logout":
                return None
            return TemplateResponse(request, "portal/not_staff.html", status=403)
        if not user.is_verified() and view_name not in OPEN_VIEWS:
            target = "portal:otp_verify" if user_has_device(user) else "portal:otp_setup"
            return redirect(f"{_url(target)}?{urlencode({'next': request.get_full_path()})}")
        return None


def _url(name: str) -> str:
    from django.urls import reverse

    return reverse(name)
