"""Content-Security-Policy on every response (issue 5: "CSP without inline scripts or styles").

Django 5.2 has no CSP support of its own (it arrives in 6.0 as SECURE_CSP), and the policy the portal
needs is one fixed string, so a small middleware is simpler than another dependency. Every asset the
portal uses is a vendored static file; charts are server-side SVG, so the policy allows no inline
script or style at all. A view that needs something else sets its own header, which is kept.
"""

from __future__ import annotations

import time
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


TOUCHED_KEY = "_portal_touched"


class SessionIdleMiddleware:
    """Sessions end after SESSION_COOKIE_AGE of inactivity (issue 5), with few writes.

    Each save of the session moves its expiry to now + SESSION_COOKIE_AGE; Django's
    SESSION_SAVE_EVERY_REQUEST would write the session row on every request of every moderator.
    This re-saves it only when the last save is more than SESSION_TOUCH_SECONDS old, so an idle
    session ends between AGE - TOUCH and AGE after the last request, for one write a minute.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.every = int(getattr(settings, "SESSION_TOUCH_SECONDS", 60))

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        user = getattr(request, "user", None)
        if session is None or user is None or not user.is_authenticated:
            return response
        if session.session_key is None:
            # No session cookie came in (an API client with a Bearer token): never create one.
            return response
        now = int(time.time())
        last = session.get(TOUCHED_KEY)
        if not isinstance(last, int) or now - last >= self.every:
            session[TOUCHED_KEY] = now  # marks the session modified: the middleware saves it
        return response
