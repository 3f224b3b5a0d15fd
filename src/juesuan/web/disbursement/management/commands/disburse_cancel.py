"""`python -m juesuan.web disburse_cancel`: 经办 cancels a returned payment with a reason, saying
whether the person's payments stop (`--stop`: a suspension from that month) or continue (the
cancelled month is then paid again as 补发 in the next run)."""

from __future__ import annotations

from juesuan.web.disbursement.management.commands._base import PayCommand, returned_payment


class Command(PayCommand):
    help = "取消退回的付款（经办），须写明原因；--stop 同时暂停此人此后的发放"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("payment", help="付款编号，如 QYJS-P000000123-202003-1")
        parser.add_argument("--reason", required=True, help="取消原因")
        then = parser.add_mutually_exclusive_group(required=True)
        then.add_argument("--stop", action="store_true", help="此人自该月起暂停发放")
        then.add_argument("--continue", dest="go_on", action="store_true", help="此人继续发放")

    def handle(self, *args, **options):
        from juesuan.web.disbursement import services

        unit, user = self.unit(options), self.user(options)
        payment, refusal = returned_payment(unit, options["payment"])
        if refusal:
            self.report(refusal, options)
            return
        outcome = services.cancel_payment(
            unit, user, payment.pk, options["reason"], stop=options["stop"]
        )
        self.report(outcome, options)
