"""The request's CSRF token, masked once per request.

Django masks the CSRF secret anew (BREACH protection) every time a token is asked for, and a
mask costs 32 calls for random bytes (about 0.2 ms here): a page that draws its token in two
places (the top bar's sign-out form and a cached fragment's slot, workplace/pages.py) paid
twice. Every response still gets a fresh mask; its forms share it.
"""

from __future__ import annotations

from django.middleware.csrf import get_token
from django.utils.functional import SimpleLazyObject
from django.utils.html import format_html

CACHED = "_juesuan_csrf_token"  # request attribute: (secret, masked token)


def token(request) -> str:
    """get_token(request), masked once for the request's secret (rotate_token at sign-in gives a
    new secret, and so a new mask)."""
    cached = getattr(request, CACHED, None)
    if cached is not None and cached[0] == request.META.get("CSRF_COOKIE"):
        request.META["CSRF_COOKIE_NEEDS_UPDATE"] = True  # as get_token does: the cookie is sent
        return cached[1]
    masked = get_token(request)
    setattr(request, CACHED, (request.META["CSRF_COOKIE"], masked))
    return masked


def field(request) -> str:
    """The hidden form field {% csrf_token %} draws."""
    return format_html(
        '<input type="hidden" name="csrfmiddlewaretoken" value="{}">', token(request)
    )


def context(request) -> dict:
    """Context processor overriding Django's built-in one (which runs first): {{ csrf_token }}
    from `token`."""
    return {"csrf_token": SimpleLazyObject(lambda: token(request))}
