"""The frame every page draws (top bar, unit header) is kept in the process as drawn strings
(templatetags/juesuan.py), under keys naming what it shows: a renamed unit, a user's new name or
a role granted since shows at once, and each page carries its own request's CSRF field."""

from __future__ import annotations

import re

from django.urls import reverse

from juesuan.web.accounts.models import BUREAU, Grant
from web.conftest import store


def test_the_kept_frame_follows_names_roles_and_tokens(client, world, example_workbook):
    store(world.unit, example_workbook, world.users["finance"])
    user = world.users["finance"]
    client.force_login(user)
    tables = reverse("tables", args=[world.unit.pk, 2020]) + "?t=general"
    first = client.get(tables).content.decode()
    assert client.get(tables).content.decode().count("unit-head") == 1

    world.unit.name = "改名后的单位"
    world.unit.save()
    assert "<h1>改名后的单位 · 2020 年度决算</h1>" in client.get(tables).content.decode()
    user.display_name = "新名字"
    user.save()
    assert f"<span>新名字（{user.username}）</span>" in client.get(tables).content.decode()
    Grant.objects.create(user=user, unit=world.department, role=BUREAU)
    page = client.get(tables).content.decode()
    assert '<span class="badge">财政局</span>' in page
    assert f'<a href="/u/{world.department.pk}/">{world.department.name}</a>' in page
    assert f'<a href="/u/{world.department.pk}/">' not in first  # the unit above opens now

    # the sign-out form's token is this request's (a fresh mask of the session's secret)
    token = re.compile(
        r'action="/logout/"><input type="hidden" name="csrfmiddlewaretoken" value="(\w+)"'
    )
    assert token.search(first) and token.search(page)
    assert token.search(first).group(1) != token.search(page).group(1)
