"""`python -m juesuan.web disburse_scheme`: 经办 changes a scheme's bank adapter and payer account
(付款账号, 开户行, 户名), checked and audit-logged as the scheme's page does; `--adapters` lists
the bank adapters."""

from __future__ import annotations

from juesuan.web.disbursement.management.commands._base import PayCommand
from juesuan.web.disbursement.services import Outcome


class Command(PayCommand):
    help = "设置补贴类别的银行接口和付款账户（经办）；--adapters 列出可用的银行接口"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--scheme", help="补贴类别代码")
        parser.add_argument("--adapter", help="银行接口（见 --adapters）")
        parser.add_argument("--payer-account", help="付款账号")
        parser.add_argument("--payer-bank", help="付款账户的开户行")
        parser.add_argument("--payer-name", help="付款账户的户名")
        parser.add_argument("--adapters", action="store_true", help="列出可用的银行接口")

    def handle(self, *args, **options):
        from juesuan.disbursement.banks import adapter_ids, get_adapter
        from juesuan.web.disbursement.models import Scheme
        from juesuan.web.disbursement.services.schemes import entry_of, save_scheme

        if options["adapters"]:
            for adapter_id in adapter_ids():
                self.stdout.write(f"{adapter_id}\t{get_adapter(adapter_id).name}")
            return
        unit, user = self.unit(options), self.user(options)
        row = Scheme.objects.filter(unit=unit, code=options["scheme"] or "").first()
        if row is None:
            codes = "、".join(Scheme.objects.filter(unit=unit).values_list("code", flat=True))
            self.report(
                Outcome(False, f"本单位没有补贴类别“{options['scheme']}”（有：{codes or '无'}）"),
                options,
            )
            return
        payer = {
            "account": options["payer_account"] or row.payer_account,
            "bank": options["payer_bank"] or row.payer_bank,
            "name": options["payer_name"] or row.payer_name,
        }
        outcome = save_scheme(
            unit,
            user,
            entry_of(row),
            adapter=options["adapter"] or row.bank_adapter,
            payer=payer,
            creating=False,
        )
        self.report(outcome, options)
