"""One 人员变动 entered by form: checked by the events file reader, previewed, recorded.

The form's values are written as a one-row events file and read by `roster.read_events`, so a
form and a file are held to exactly the same rules and say the same things; the errors come
back by column title (`EVENT_HEADERS`), which the form maps to its fields.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date

from django.db import transaction

from juesuan.disbursement import model as core
from juesuan.disbursement import transitions as rules
from juesuan.ledger.issues import ERROR
from juesuan.web.accounts.access import roles_on
from juesuan.web.accounts.models import Unit, User
from juesuan.web.audit.log import record
from juesuan.web.disbursement.models import Beneficiary, LifeEvent, Scheme
from juesuan.web.disbursement.services.common import Outcome, issue_dict, refused
from juesuan.web.disbursement.services.preview import Preview, preview
from juesuan.web.disbursement.services.roster import core_schemes

FORM_NAME = "人员变动表单.csv"


@dataclass(frozen=True)
class EventEntry:
    """An event as a form gives it (text as typed; the reader decides what it means)."""

    scheme: str
    person_id: str
    kind: str  # core.DEATH, SUSPEND, RESUME, ACCOUNT_CHANGE, TIER_CHANGE, STOP
    day: date
    reported: date | None = None
    bank: str = ""
    account: str = ""
    account_name: str = ""
    tier: str = ""
    reason: str = ""  # kept with the event (why a suspension, a stop)

    def as_row(self) -> dict[str, str]:
        from juesuan.disbursement.roster import (
            ACCOUNT,
            ACCOUNT_NAME,
            BANK,
            DAY,
            KIND,
            PERSON_ID,
            REPORTED,
            SCHEME,
            TIER,
        )

        return {
            PERSON_ID: self.person_id,
            SCHEME: self.scheme,
            KIND: core.EVENT_NAMES.get(self.kind, self.kind),
            DAY: self.day.isoformat(),
            REPORTED: self.reported.isoformat() if self.reported else "",
            BANK: self.bank,
            ACCOUNT: self.account,
            ACCOUNT_NAME: self.account_name,
            TIER: self.tier,
        }


def check_event(unit: Unit, entry: EventEntry) -> tuple[core.LifeEvent | None, list[dict]]:
    """The event, or the problems (issue dicts naming the column) that keep it out."""
    from juesuan.disbursement.roster import EVENT_HEADERS, read_events

    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=EVENT_HEADERS, lineterminator="\n")
    writer.writeheader()
    writer.writerow(entry.as_row())
    roster = Beneficiary.objects.filter(
        unit=unit, scheme__code=entry.scheme, person_id=entry.person_id
    ).select_related("scheme")
    found = read_events(
        text.getvalue().encode("utf-8"),
        core_schemes(unit),
        [b.as_core() for b in roster],
        filename=FORM_NAME,
    )
    problems = [issue_dict(i) for i in found.errors]
    if problems or not found.events:
        return None, problems or [
            {"severity": ERROR, "column": None, "message": "这条人员变动无法登记。"}
        ]
    event = found.events[0]
    if entry.reason.strip():
        event = core.LifeEvent(
            event.person_id,
            event.scheme,
            event.kind,
            event.day,
            event.reported,
            {**event.detail, "reason": entry.reason.strip()[:200]},
        )
    return event, []


def store_event(unit: Unit, user: User | None, event: core.LifeEvent) -> bool:
    scheme = Scheme.objects.get(unit=unit, code=event.scheme)
    _row, created = LifeEvent.objects.get_or_create(
        unit=unit,
        scheme=scheme,
        person_id=event.person_id,
        kind=event.kind,
        day=event.day,
        defaults={"reported": event.reported, "detail": dict(event.detail), "recorded_by": user},
    )
    return created


def preview_event(unit: Unit, event: core.LifeEvent) -> Preview:
    """The person's next payment without and with the event."""
    return preview(unit, event.scheme, event.person_id, lambda: store_event(unit, None, event))


def record_event(unit: Unit, user: User, entry: EventEntry) -> Outcome:
    """经办 records one event (checked as a file row would be); the same event twice is kept
    once. The outcome's data holds the preview sentence of the next payment."""
    if rules.CLERK not in roles_on(user, unit):
        return refused("只有经办人员可以录入人员变动。")
    event, problems = check_event(unit, entry)
    if event is None:
        return Outcome(False, "人员变动未登记，请按提示修改。", problems=problems)
    with transaction.atomic():
        list(Scheme.objects.select_for_update().filter(unit=unit))
        shown = preview_event(unit, event)
        if not store_event(unit, user, event):
            return Outcome(True, "这条人员变动已登记过，无变化。")
        name = describe(event)
        record(
            "pay_event",
            user=user,
            unit=unit,
            year=event.day.year,
            target=f"{event.scheme} {event.person_id}",
            summary=f"登记人员变动：{name}；{shown.after.describe()}",
            after={
                "scheme": event.scheme,
                "person_id": event.person_id,
                "kind": event.kind,
                "day": event.day.isoformat(),
                "reported": event.reported.isoformat() if event.reported else None,
                "detail": dict(event.detail),
                "next_before": shown.before.describe(),
                "next_after": shown.after.describe(),
            },
        )
    return Outcome(
        True,
        f"已登记{name}。下一次发放：{shown.after.describe()}",
        changed=True,
    )


def describe(event: core.LifeEvent) -> str:
    """'死亡（2020-03-15）', '变更档次为 二档（2020-04 起）' …"""
    kind = core.EVENT_NAMES.get(event.kind, event.kind)
    if event.kind in (core.DEATH, core.STOP):
        return f"{kind}（{event.day.isoformat()}）"
    month = core.Month.of(event.day)
    if event.kind == core.TIER_CHANGE:
        return f"变更档次为 {event.detail.get('tier') or '（不分档次）'}（{month} 起）"
    return f"{kind}（{month} 起）"
