"""Template context every page gets."""

from __future__ import annotations

from django.conf import settings


def navigation(request) -> dict:
    return {
        "app_title": "部门决算工作台",
        "session_minutes": settings.SESSION_IDLE_MINUTES,
        "access": getattr(request, "access", None),
    }
