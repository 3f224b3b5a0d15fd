"""`python -m juesuan.web disburse_payer`: 经办 sets the account a scheme's batches are paid from."""

from __future__ import annotations

from juesuan.web.disbursement import services
from juesuan.web.disbursement.management.commands._base import PayCommand


class Command(PayCommand):
    help = "设置补贴类别的付款账户（付款账号、开户行、户名；经办）；未设置的类别不能审批发放"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--scheme", required=True, help="补贴类别代码")
        parser.add_argument("--account", required=True, help="付款账号")
        parser.add_argument("--bank", required=True, help="付款账户的开户行")
        parser.add_argument("--name", required=True, help="付款账户的户名")

    def handle(self, *args, **options):
        outcome = services.set_payer(
            self.unit(options),
            self.user(options),
            options["scheme"],
            account=options["account"],
            bank=options["bank"],
            name=options["name"],
        )
        self.report(outcome, options)
