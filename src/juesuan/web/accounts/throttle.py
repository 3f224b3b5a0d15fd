"""Login throttling: failures are counted per (username, address) in the database, so every web
process and every machine behind one database sees the same count."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from juesuan.web.accounts.models import LoginFailure


def _window() -> timedelta:
    return timedelta(minutes=settings.LOGIN_LOCK_MINUTES)


def locked_until(username: str, ip: str) -> datetime | None:
    """When the pair is locked: the time it opens again; else None."""
    since = timezone.now() - _window()
    failures = LoginFailure.objects.filter(username=username, ip=ip, at__gte=since)
    if failures.count() < settings.LOGIN_MAX_FAILURES:
        return None
    last = failures.order_by("-at").values_list("at", flat=True).first()
    return last + _window() if last else None


def register_failure(username: str, ip: str) -> datetime | None:
    """Count one failure; the time the pair opens again if this failure locked it."""
    LoginFailure.objects.create(username=username, ip=ip, at=timezone.now())
    LoginFailure.objects.filter(at__lt=timezone.now() - 4 * _window()).delete()  # old ones
    return locked_until(username, ip)


def clear(username: str, ip: str) -> None:
    LoginFailure.objects.filter(username=username, ip=ip).delete()


def remaining(username: str, ip: str) -> int:
    since = timezone.now() - _window()
    used = LoginFailure.objects.filter(username=username, ip=ip, at__gte=since).count()
    return max(settings.LOGIN_MAX_FAILURES - used, 0)
