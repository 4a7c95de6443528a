"""Content-Security-Policy on every response (issue 5: "CSP without inline scripts or styles").

Django 5.2 has no CSP support of its own (it arrives in 6.0 as SECURE_CSP), and the policy the portal
needs is one fixed string, so a small middleware is simpler than another dependency. Every asset the
portal uses is a vendored static file; charts are server-side SVG, so the policy allows no inline
script or style at all. A view that needs something else sets its own header, which is kept.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

HEADER = "Content-Security-Policy"


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.policy = getattr(settings, "CONTENT_SECURITY_POLICY", "")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self.policy and HEADER not in response:
            response[HEADER] = self.policy
        return response
