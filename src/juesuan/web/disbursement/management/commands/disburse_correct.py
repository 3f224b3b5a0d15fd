"""`python -m juesuan.web disburse_correct`: 经办 enters new payee details for a returned payment,
or (`--check`) 复核 accepts or rejects a correction entered by someone else. The payment is named
by its number (付款编号, as the bank file carries it)."""

from __future__ import annotations

from juesuan.web.disbursement.management.commands._base import PayCommand, returned_payment
from juesuan.web.disbursement.services import Outcome


class Command(PayCommand):
    help = "录入退回付款的更正信息（经办），或复核更正（--check，复核）"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("payment", help="付款编号，如 QYJS-P000000123-202003-1")
        parser.add_argument("--check", choices=("accept", "reject"), help="复核：通过或不通过")
        parser.add_argument("--name", help="收款人姓名（不填则不变）")
        parser.add_argument("--bank", help="开户银行")
        parser.add_argument("--account", help="银行账号")
        parser.add_argument("--account-name", help="账户名（不填则不变）")
        parser.add_argument("--note", default="", help="说明")

    def handle(self, *args, **options):
        from juesuan.web.disbursement import services
        from juesuan.web.disbursement.models import ENTERED

        unit, user = self.unit(options), self.user(options)
        payment, refusal = returned_payment(unit, options["payment"])
        if refusal:
            self.report(refusal, options)
            return
        if options["check"]:
            correction = payment.corrections.filter(status=ENTERED).first()
            if correction is None:
                outcome = Outcome(False, f"付款 {options['payment']} 没有待复核的更正信息。")
            else:
                accept = options["check"] == "accept"
                outcome = services.check_correction(unit, user, correction.pk, accept=accept)
            self.report(outcome, options)
            return
        missing = [t for k, t in (("bank", "--bank"), ("account", "--account")) if not options[k]]
        if missing:
            self.report(Outcome(False, f"录入更正需要 {'、'.join(missing)}"), options)
            return
        outcome = services.enter_correction(
            unit,
            user,
            payment.pk,
            name=options["name"] or payment.name,
            bank=options["bank"],
            account=options["account"],
            account_name=options["account_name"] or payment.account_name,
            note=options["note"],
        )
        self.report(outcome, options)
