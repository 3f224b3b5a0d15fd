"""`python -m juesuan.web disburse_cancel`: 经办 cancels a returned payment with a reason, saying
what happens next, as the cancellation form does: the person died (`--died 2020-03-15`: a 死亡
event, checked as the 死亡 form checks it), the payments stop (`--stop`: a suspension from that
month) or continue (`--continue`: the cancelled month is paid again as 补发 in the next run)."""

from __future__ import annotations

import argparse
from datetime import date, datetime

from juesuan.web.disbursement.forms import DAY_FORMATS
from juesuan.web.disbursement.management.commands._base import PaymentStepCommand


def day(text: str) -> date:
    """A date as the forms take it (2020-03-15, 2020/3/15, 20200315, 2020年3月15日)."""
    for pattern in DAY_FORMATS:
        try:
            return datetime.strptime(text.strip(), pattern).date()
        except ValueError:
            continue
    raise argparse.ArgumentTypeError(f"“{text}”不是日期，请写作 2020-03-15（年-月-日）")


class Command(PaymentStepCommand):
    help = (
        "取消退回的付款（经办），须写明原因，并说明此人以后的发放："
        "--died 登记死亡、--stop 暂停或 --continue 继续"
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--reason", required=True, help="取消原因")
        then = parser.add_mutually_exclusive_group(required=True)
        then.add_argument(
            "--died", type=day, metavar="日期", help="领取人已死亡：登记死亡，次月起停发"
        )
        then.add_argument("--stop", action="store_true", help="此人自该月起暂停发放")
        then.add_argument("--continue", dest="go_on", action="store_true", help="此人继续发放")

    def step(self, unit, user, payment, options):
        from juesuan.web.disbursement import services

        return services.cancel_payment(
            unit, user, payment.pk, options["reason"], stop=options["stop"], died=options["died"]
        )
