"""Sign-in: password (rate-limited and locked out by django-axes), then the second factor.

The root URL shows the login page to anonymous visitors and the dashboard after login (issue 5).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import auth
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import devices_for_user, user_has_device
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import twofactor
from safety_portal.core import audit
from safety_portal.core.errors import DomainError

from ..access import staff_view
from ..forms import EnrolForm, LoginForm, TokenForm


def _next_url(request: HttpRequest, default: str = "portal:home") -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url(default)


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    """Step one: username and password. axes counts failures (AxesStandaloneBackend)."""
    if request.user.is_authenticated and request.user.is_staff:
        return redirect(_next_url(request))
    form = LoginForm(request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.get_user()
        auth.login(request, user)
        target = "portal:otp_verify" if user_has_device(user) else "portal:otp_setup"
        return redirect(f"{resolve_url(target)}?{urlencode({'next': _next_url(request)})}")
    return render(request, "portal/login.html", {"form": form, "next": _next_url(request)})


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    auth.logout(request)
    return redirect("portal:login")


def locked_out(
    request: HttpRequest, response: Any = None, credentials: Any = None, *args: Any
) -> HttpResponse:
    """axes' lockout response (AXES_LOCKOUT_CALLABLE): a page, status 429, no hint which part failed."""
    from django.conf import settings

    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "portal/locked_out.html", {"minutes": minutes}, status=429)


@never_cache
@login_required(login_url="portal:login")
@require_http_methods(["GET", "POST"])
def otp_verify(request: HttpRequest) -> HttpResponse:
    """Step two: a TOTP code or a single-use backup code."""
    user = request.user
    if user.is_verified():
        return redirect(_next_url(request))
    if not user_has_device(user):
        return redirect("portal:otp_setup")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        token = form.cleaned_data["token"].strip().replace(" ", "").lower()
        device = _match(user, token)
        if device is not None:
            otp_login(request, device)
            request.session.cycle_key()
            with transaction.atomic():
                audit.record(
                    actor=user,
                    action="accounts.staff.signed_in",
                    target=user,
                    after={"second_factor": device.name},
                )
            return redirect(_next_url(request))
        form.add_error(
            "token",
            "That code did not match, or it was already used. After a wrong code, wait a few "
            "seconds before the next try (each miss doubles the wait).",
        )
    return render(
        request,
        "portal/otp_verify.html",
        {"form": form, "next": _next_url(request)},
        status=400 if form.errors else 200,
    )


def _match(user: Any, token: str) -> Any:
    """The device that accepts the code. Rows are locked (django-otp's `for_verify`) so that two
    requests cannot both spend one backup code or one TOTP step, and the throttle counts hold."""
    with transaction.atomic():
        for device in devices_for_user(user, confirmed=True, for_verify=True):
            if device.verify_token(token):
                return device
    return None


@never_cache
@login_required(login_url="portal:login")
@require_http_methods(["GET", "POST"])
def otp_setup(request: HttpRequest) -> HttpResponse:
    """Enrolment: scan the QR code (or type the key), then confirm with one code."""
    user = request.user
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        return redirect("portal:otp_verify")
    device = twofactor.pending_device(user)
    form = EnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = twofactor.confirm_enrolment(
                user, device, form.cleaned_data["token"], actor=user
            )
        except DomainError as exc:
            form.add_error("token", exc.detail)
        else:
            otp_login(request, device)
            request.session.cycle_key()
            return render(
                request,
                "portal/backup_codes.html",
                {"codes": codes, "next": _next_url(request), "first_time": True},
            )
    uri = device.config_url
    return render(
        request,
        "portal/otp_setup.html",
        {
            "form": form,
            "qr": twofactor.qr_svg(uri),
            "uri": uri,
            "secret": _b32(device),
            "next": _next_url(request),
        },
        status=400 if form.errors else 200,
    )


def _b32(device: TOTPDevice) -> str:
    from base64 import b32encode

    raw = b32encode(device.bin_key).decode()
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


@never_cache
@require_http_methods(["GET", "POST"])
@staff_view()
def security(request: HttpRequest) -> HttpResponse:
    """The signed-in person's own second-factor page: remaining backup codes, issue new ones."""
    user = request.user
    if request.method == "POST":
        codes = twofactor.issue_backup_codes(user, actor=user)
        return render(
            request,
            "portal/backup_codes.html",
            {"codes": codes, "next": resolve_url("portal:security"), "first_time": False},
        )
    return render(
        request, "portal/security.html", {"remaining": twofactor.remaining_backup_codes(user)}
    )
