"""`python -m juesuan.web verify_disbursement`: check conservation of money for a unit (exit 1 with the problems)."""

from __future__ import annotations

import json

from django.core.management.base import CommandError

from juesuan.web.disbursement import services
from juesuan.web.disbursement.management.commands._base import PayCommand


class Command(PayCommand):
    help = "核对单位的代发资金守恒：已审批 = 已到账 + 在途 + 退回待处理 + 已重发 + 已取消"
    needs_user = False

    def handle(self, *args, **options):
        result = services.conservation(self.unit(options))
        b = result.balance
        y = services.yuan
        if options.get("json"):
            self.stdout.write(
                json.dumps(
                    {
                        "ok": result.ok,
                        "approved": b.approved,
                        "paid": b.paid,
                        "sent": b.sent,
                        "returned": b.returned,
                        "reissued": b.reissued,
                        "cancelled": b.cancelled,
                        "problems": result.problems,
                    },
                    ensure_ascii=False,
                )
            )
        else:
            self.stdout.write(
                f"已审批 {y(b.approved)} 元 = 已到账 {y(b.paid)} + 在途 {y(b.sent)} + "
                f"退回待处理 {y(b.returned)} + 已重发待审批 {y(b.reissued)} + "
                f"已取消 {y(b.cancelled)}（合计 {y(b.accounted)}）"
            )
        if not result.ok:
            raise CommandError("资金不守恒：\n" + "\n".join(result.problems))
        if not options.get("json"):
            self.stdout.write("资金守恒，核对无误。")
