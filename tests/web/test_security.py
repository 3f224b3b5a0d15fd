"""Sign-in throttling, CSRF, session timeout, and password hashing."""

from __future__ import annotations

import time
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from juesuan.web.audit.models import AuditEntry
from juesuan.web.middleware import REFRESHED
from web.conftest import PASSWORD


def _login(client, username, password, ip="10.0.0.1"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip
    )


def test_login_and_logout(client, world):
    response = _login(client, "finance", PASSWORD)
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert client.session.get(SESSION_KEY)
    client.post(reverse("logout"))
    assert SESSION_KEY not in client.session
    actions = list(AuditEntry.objects.values_list("action", flat=True))
    assert actions[:2] == ["login", "logout"]


def test_logout_by_address_offers_the_button_and_keeps_the_session(client, world):
    client.force_login(world.users["finance"])
    response = client.get(reverse("logout"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "退出登录" in page and f'action="{reverse("logout")}"' in page
    assert SESSION_KEY in client.session  # a GET signs nobody out


def test_login_locks_after_failures(client, world, settings):
    settings.LOGIN_MAX_FAILURES = 3
    for attempt in range(2):
        response = _login(client, "finance", "wrong")
        assert response.status_code == 200
        assert f"再错 {2 - attempt} 次" in response.content.decode()
    response = _login(client, "finance", "wrong")
    assert response.status_code == 429
    assert "暂时锁定" in response.content.decode()
    # the right password does not open a locked account from that address
    response = _login(client, "finance", PASSWORD)
    assert response.status_code == 429 and SESSION_KEY not in client.session
    # another address is not locked out
    response = _login(client, "finance", PASSWORD, ip="10.0.0.2")
    assert response.status_code == 302
    assert AuditEntry.objects.filter(action="login_locked").exists()
    assert AuditEntry.objects.filter(action="login_failed").count() == 2


def test_trying_many_usernames_from_one_address_locks_the_address(client, world):
    """Two guesses at each of six usernames (fewer than locks any one of them): the address is
    refused from the tenth failure on, for every username, the right password included;
    another address is not."""
    usernames = ["finance", "clerk", "reviewer", "approver", "admin", "no-such-user"]
    answers = [_login(client, name, "wrong") for name in usernames for _ in range(2)]
    limit = settings.LOGIN_MAX_FAILURES_PER_ADDRESS
    assert [r.status_code for r in answers] == [200] * (limit - 1) + [429] * (13 - limit)
    assert "所有账号在本机已暂时锁定" in answers[-1].content.decode()
    refused = _login(client, "bureau", PASSWORD)
    assert refused.status_code == 429 and SESSION_KEY not in client.session
    assert "所有账号在本机已暂时锁定" in refused.content.decode()
    assert _login(client, "finance", PASSWORD, ip="10.0.0.2").status_code == 302


def test_lock_expires(client, world, settings):
    from datetime import timedelta

    from juesuan.web.accounts.models import LoginFailure

    settings.LOGIN_MAX_FAILURES = 2
    _login(client, "finance", "wrong")
    _login(client, "finance", "wrong")
    assert _login(client, "finance", PASSWORD).status_code == 429
    earlier = timedelta(minutes=settings.LOGIN_LOCK_MINUTES + 1)
    for failure in LoginFailure.objects.all():
        LoginFailure.objects.filter(pk=failure.pk).update(at=failure.at - earlier)
    assert _login(client, "finance", PASSWORD).status_code == 302


def test_csrf_is_enforced(world):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("login"), {"username": "finance", "password": PASSWORD})
    assert response.status_code == 403
    assert "页面已过期" in response.content.decode()
    page = client.get(reverse("login"))
    token = page.context["csrf_token"]
    response = client.post(
        reverse("login"),
        {"username": "finance", "password": PASSWORD, "csrfmiddlewaretoken": str(token)},
    )
    assert response.status_code == 302
    # signed in, a POST without the token is still refused
    response = client.post(reverse("texts", args=[world.unit.pk, 2020]), {"base_version": 1})
    assert response.status_code == 403


def test_session_ends_when_idle(client, world):
    assert settings.SESSION_COOKIE_AGE == settings.SESSION_IDLE_MINUTES * 60
    _login(client, "finance", PASSWORD)
    assert 0 < client.session.get_expiry_age() <= settings.SESSION_COOKIE_AGE
    key = client.session.session_key
    row = Session.objects.filter(session_key=key)
    home = reverse("home")

    # idle past the deadline: signed out
    row.update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get(home)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_idle_deadline_moves_without_a_write_on_every_page(client, world):
    _login(client, "finance", PASSWORD)
    key = client.session.session_key
    row = Session.objects.filter(session_key=key)
    home = reverse("home")
    soon = timezone.now() + timedelta(minutes=1)

    # refreshed moments ago: a page does not write the session again
    row.update(expire_date=soon)
    assert client.get(home).status_code == 200
    assert row.get().expire_date == soon

    # last refreshed longer ago than the interval: the page moves the deadline forward
    session = client.session
    session[REFRESHED] = int(time.time()) - settings.SESSION_REFRESH_SECONDS - 1
    session.save()
    row.update(expire_date=soon)
    before = timezone.now()
    assert client.get(home).status_code == 200
    moved = row.get().expire_date
    assert moved >= before + timedelta(seconds=settings.SESSION_COOKIE_AGE - 5)
    assert client.session[REFRESHED] >= int(before.timestamp())


def test_passwords_are_hashed_with_a_slow_hasher(world):
    from django.contrib.auth.hashers import get_hasher

    assert "PBKDF2" in settings_module_hashers()[0] or "Argon2" in settings_module_hashers()[0]
    assert not world.users["finance"].password.startswith(PASSWORD)
    assert get_hasher("default")  # the configured list loads


def settings_module_hashers() -> list[str]:
    import importlib

    module = importlib.import_module("juesuan.web.settings")
    return module.PASSWORD_HASHERS


def test_pages_carry_security_headers(client, world):
    client.force_login(world.users["finance"])
    response = client.get(reverse("home"))
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cache-Control"] == "no-store"
