"""Response headers every page gets: a strict Content-Security-Policy (no inline script, no
outside host: everything the pages use is served by the app itself) and no caching of pages
that show a unit's data. And the idle deadline of a signed-in session, moved forward without a
database write on every request."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth import SESSION_KEY

REFRESHED = "_refreshed"  # session key: when the idle deadline was last moved (epoch seconds)

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        if not request.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response


class SessionRefreshMiddleware:
    """Saves a signed-in session (so its expiry is now + SESSION_COOKIE_AGE) when it was last
    saved SESSION_REFRESH_SECONDS ago or more. Django's SESSION_SAVE_EVERY_REQUEST would write
    the row on every page; this keeps the idle timeout within that many seconds of exact."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is None or session.session_key is None or SESSION_KEY not in session:
            return response
        now = int(time.time())
        last = session.get(REFRESHED)
        if not isinstance(last, int) or not 0 <= now - last < settings.SESSION_REFRESH_SECONDS:
            session[REFRESHED] = now  # marks it modified: SessionMiddleware saves it
        return response
