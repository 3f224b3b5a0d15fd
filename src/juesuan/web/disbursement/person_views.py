"""A person's page (人员): the schemes, payments and life events of one person of the roster,
found by person key. Identity and account numbers are masked here as on every list; 经办, 复核
and 审批 may ask to see them in full (a POST), and every such look is written to the audit log.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render

from juesuan.web.accounts.access import PAY_VIEW, PERSONAL_DATA, UnitAccess, requires
from juesuan.web.disbursement.models import Beneficiary, LifeEvent, Payment
from juesuan.web.disbursement.services import people

RECENT_PAYMENTS = 36


@requires(PAY_VIEW)
def person(request, access: UnitAccess, key: str):
    unit = access.unit
    person_id = people.person_of(unit, key)
    if person_id is None:
        raise Http404("没有这个人员编号。")
    revealed = False
    if request.method == "POST":
        if PERSONAL_DATA not in access.capabilities:
            raise PermissionDenied("您的角色不能查看完整的身份证号和账号。")
        people.record_reveal(unit, request.user, key, request)
        revealed = True
    rows = Beneficiary.objects.filter(unit=unit, person_id=person_id).select_related("scheme")
    payments = (
        Payment.objects.filter(unit=unit, person_id=person_id)
        .select_related("scheme", "run")
        .order_by("-month", "-sequence")[:RECENT_PAYMENTS]
    )
    events = LifeEvent.objects.filter(unit=unit, person_id=person_id).select_related("scheme")
    return render(
        request,
        "juesuan/disbursement/person.html",
        {
            "unit": unit,
            "access": access,
            "tab": "roster",
            "key": key,
            "person_id": person_id,
            "name": next((r.name for r in rows), "") or next((p.name for p in payments), ""),
            "rows": rows,
            "payments": payments,
            "events": events.order_by("-day"),
            "revealed": revealed,
            "can_reveal": PERSONAL_DATA in access.capabilities,
        },
    )
