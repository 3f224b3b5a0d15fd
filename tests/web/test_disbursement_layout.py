"""What the pages say and where their links lead: a payment waits for 复核 while its run does;
a breadcrumb links a unit only when the user may open it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from juesuan.disbursement import model as core
from juesuan.web.disbursement import services
from juesuan.web.disbursement.services.people import keys_of
from web.conftest import DEPARTMENT_NAME
from web.test_disbursement_support import set_up_unit


@pytest.fixture
def prepared(world, tmp_path) -> int:
    set_up_unit(world.unit, world.users["clerk"], tmp_path, people=4)
    return services.prepare_run(world.unit, world.users["clerk"], core.Month(2020, 3)).data["run"]


def _text(response) -> str:
    return response.content.decode()


def test_payments_read_awaiting_review_while_their_run_does(client, world, prepared):
    """In the rows, the status filter and the person's page alike."""
    client.force_login(world.users["clerk"])
    url = reverse("pay:run", args=[world.unit.pk, prepared])
    payment = world.unit.payments.first()
    key = keys_of(world.unit, [payment.person_id])[payment.person_id]
    person = reverse("pay:person", args=[world.unit.pk, key])
    pending = f'<option value="{core.PENDING}" >'
    page = _text(client.get(url))
    assert "<td>待复核" in page and f"{pending}待复核</option>" in page and "待审批" not in page
    assert "<td>待复核</td>" in _text(client.get(person))
    services.review_run(world.unit, world.users["reviewer"], prepared)
    page = _text(client.get(url))
    assert "<td>待审批" in page and f"{pending}待审批</option>" in page
    assert "<td>待审批</td>" in _text(client.get(person))


def test_breadcrumbs_link_only_where_the_user_may_go(client, world, prepared):
    department = reverse("unit", args=[world.department.pk])
    for role in ("clerk", "finance"):
        client.force_login(world.users[role])
        for name in ("pay:stats", None):
            url = (
                reverse(name, args=[world.unit.pk])
                if name
                else reverse("unit", args=[world.unit.pk])
            )
            page = _text(client.get(url))
            assert DEPARTMENT_NAME in page and f'href="{department}"' not in page, (role, url)
        assert client.get(department).status_code == 404
    client.force_login(world.users["bureau"])  # granted on the 部门: its page opens
    assert f'href="{department}"' in _text(client.get(reverse("unit", args=[world.unit.pk])))
    assert client.get(department).status_code == 200


def test_a_finished_step_goes_on_to_what_it_made(client, world, tmp_path):
    set_up_unit(world.unit, world.users["clerk"], tmp_path, people=4)
    client.force_login(world.users["clerk"])
    page = client.post(
        reverse("pay:run_prepare", args=[world.unit.pk]), {"month": "2020-03"}, follow=True
    )
    run = world.unit.runs.get()
    assert page.redirect_chain[-1][0] == reverse("pay:run", args=[world.unit.pk, run.pk])
    assert "已生成 2020-03 发放批次第 1 批" in _text(page)  # what the step did, said once
