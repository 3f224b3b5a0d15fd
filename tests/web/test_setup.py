"""Settings parsing, the demo's preparation, and the error pages."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from juesuan.web.settings import database_from_url
from juesuan.web.workplace.models import DatasetVersion


def test_database_urls():
    pg = database_from_url("postgres://jue:p%40ss@db.local:6432/juesuan?sslmode=require")
    assert pg["ENGINE"] == "django.db.backends.postgresql"
    assert (pg["USER"], pg["PASSWORD"], pg["HOST"], pg["PORT"], pg["NAME"]) == (
        "jue",
        "p@ss",
        "db.local",
        "6432",
        "juesuan",
    )
    assert pg["OPTIONS"] == {"sslmode": "require"}
    lite = database_from_url("sqlite:////srv/juesuan/db.sqlite3")
    assert (
        lite["ENGINE"] == "django.db.backends.sqlite3" and lite["NAME"] == "/srv/juesuan/db.sqlite3"
    )


def test_demo_is_prepared_once_with_a_fresh_password(db):
    from juesuan.web.commands import prepare_demo

    username, first = prepare_demo()
    _, second = prepare_demo()
    assert first != second
    assert DatasetVersion.objects.count() == 1
    version = DatasetVersion.objects.get()
    assert version.summary["fatal"] == 0 and version.unit.parent is not None
    client = Client()
    response = client.post(reverse("login"), {"username": username, "password": second})
    assert response.status_code == 302
    page = client.get(reverse("dashboard", args=[version.unit.pk, version.year]))
    assert page.status_code == 200 and "泸州市社会保险事业管理局" in page.content.decode()


def test_error_pages_are_in_chinese(client, world):
    client.force_login(world.users["clerk"])
    page = client.get(reverse("dashboard", args=[world.other.pk, 2020]))
    assert page.status_code == 404 and "找不到页面" in page.content.decode()
    page = client.post(reverse("texts", args=[world.unit.pk, 2021]), {})
    assert page.status_code == 403 and "没有权限" in page.content.decode()
