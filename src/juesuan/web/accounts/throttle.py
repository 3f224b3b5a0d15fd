"""Login throttling: failures are counted in the database, so every web process and every
machine behind one database sees the same count. Two locks: one username from one address
(LOGIN_MAX_FAILURES), and every username from one address (LOGIN_MAX_FAILURES_PER_ADDRESS), so
that trying many usernames, a few passwords each, is stopped too."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from juesuan.web.accounts.models import LoginFailure


@dataclass(frozen=True)
class Lock:
    until: datetime
    whole_address: bool  # every username from the address, not only the one tried


def _window() -> timedelta:
    return timedelta(minutes=settings.LOGIN_LOCK_MINUTES)


def locked(username: str, ip: str) -> Lock | None:
    """The lock on signing in as `username` from `ip`, if there is one."""
    recent = LoginFailure.objects.filter(ip=ip, at__gte=timezone.now() - _window())
    pair = recent.filter(username=username)
    if recent.count() >= settings.LOGIN_MAX_FAILURES_PER_ADDRESS:
        failures, whole_address = recent, True
    elif pair.count() >= settings.LOGIN_MAX_FAILURES:
        failures, whole_address = pair, False
    else:
        return None
    last = failures.aggregate(last=Max("at"))["last"]
    return Lock(last + _window(), whole_address)


def register_failure(username: str, ip: str) -> Lock | None:
    """Count one failure; the lock it completed, if any."""
    LoginFailure.objects.create(username=username, ip=ip, at=timezone.now())
    LoginFailure.objects.filter(at__lt=timezone.now() - 4 * _window()).delete()  # old ones
    return locked(username, ip)


def clear(username: str, ip: str) -> None:
    LoginFailure.objects.filter(username=username, ip=ip).delete()


def remaining(username: str, ip: str) -> int:
    since = timezone.now() - _window()
    used = LoginFailure.objects.filter(username=username, ip=ip, at__gte=since).count()
    return max(settings.LOGIN_MAX_FAILURES - used, 0)
