"""Settings parsing, the demo's preparation, and the error pages."""

from __future__ import annotations

import pytest
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
    # the precomposed statements (web/sql.py) prepared at their first run on a connection
    assert pg["OPTIONS"] == {"sslmode": "require", "prepare_threshold": 0}
    later = database_from_url("postgres://db.local/juesuan?prepare_threshold=5")
    assert later["OPTIONS"] == {"prepare_threshold": 5}
    pooled = database_from_url("postgres://db.local/juesuan?prepare_threshold=none")
    assert pooled["OPTIONS"] == {"prepare_threshold": None}  # psycopg then prepares nothing
    with pytest.raises(ValueError, match="prepare_threshold 应为 0 或正整数"):
        database_from_url("postgres://db.local/juesuan?prepare_threshold=-1")
    lite = database_from_url("sqlite:////srv/juesuan/db.sqlite3")
    assert (
        lite["ENGINE"] == "django.db.backends.sqlite3" and lite["NAME"] == "/srv/juesuan/db.sqlite3"
    )


def test_demo_is_prepared_once_with_a_fresh_password(db):
    from juesuan.web.commands import prepare_demo

    first = prepare_demo()
    again = prepare_demo()
    (role, username, _), *_others = again
    second = again[0][2]
    assert role == "财务" and first[0][2] != second
    # one user per role, each with a fresh password that signs in
    assert [r for r, _, _ in again] == ["财务", "经办", "复核", "审批", "财政局"]
    for (_, name, old), (_, same, new) in zip(first, again, strict=True):
        assert name == same and old != new
        assert (
            Client().post(reverse("login"), {"username": name, "password": new}).status_code == 302
        )
    assert DatasetVersion.objects.count() == 1
    version = DatasetVersion.objects.get()
    assert version.summary["fatal"] == 0 and version.unit.parent is not None
    client = Client()
    response = client.post(reverse("login"), {"username": username, "password": second})
    assert response.status_code == 302
    page = client.get(reverse("dashboard", args=[version.unit.pk, version.year]))
    assert page.status_code == 200 and "泸州市社会保险事业管理局" in page.content.decode()
    # the 代发 office is ready to run: the example's schemes with their payer account, roster
    from juesuan.web.disbursement.models import Beneficiary, Scheme

    schemes = Scheme.objects.filter(unit=version.unit)
    assert schemes.count() == 3 and not any(s.payer_missing for s in schemes)
    assert Beneficiary.objects.filter(unit=version.unit).count() == 756


def test_error_pages_are_in_chinese(client, world):
    client.force_login(world.users["clerk"])
    page = client.get(reverse("dashboard", args=[world.other.pk, 2020]))
    assert page.status_code == 404 and "找不到页面" in page.content.decode()
    page = client.post(reverse("texts", args=[world.unit.pk, 2021]), {})
    assert page.status_code == 403 and "没有权限" in page.content.decode()
