"""`python -m juesuan.web disburse_correct`: 经办 enters new payee details for a returned payment,
or (`--check`) 复核 accepts or rejects a correction entered by someone else. The payment is named
by its number (付款编号, as the bank file carries it)."""

from __future__ import annotations

from juesuan.web.disbursement.management.commands._base import PaymentStepCommand
from juesuan.web.disbursement.services import Outcome


class Command(PaymentStepCommand):
    help = "录入退回付款的更正信息（经办），或复核更正（--check，复核）"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--check", choices=("accept", "reject"), help="复核：通过或不通过")
        parser.add_argument("--name", help="收款人姓名（不填则不变）")
        parser.add_argument("--bank", help="开户银行")
        parser.add_argument("--account", help="银行账号")
        parser.add_argument("--account-name", help="账户名（不填则不变）")
        parser.add_argument("--note", default="", help="说明")

    def step(self, unit, user, payment, options):
        from juesuan.web.disbursement import services
        from juesuan.web.disbursement.models import ENTERED

        if options["check"]:
            correction = payment.corrections.filter(status=ENTERED).first()
            if correction is None:
                return Outcome(False, f"付款 {options['payment']} 没有待复核的更正信息。")
            accept = options["check"] == "accept"
            return services.check_correction(unit, user, correction.pk, accept=accept)
        missing = [t for k, t in (("bank", "--bank"), ("account", "--account")) if not options[k]]
        if missing:
            return Outcome(False, f"录入更正需要 {'、'.join(missing)}")
        return services.enter_correction(
            unit,
            user,
            payment.pk,
            name=options["name"] or payment.name,
            bank=options["bank"],
            account=options["account"],
            account_name=options["account_name"] or payment.account_name,
            note=options["note"],
        )
