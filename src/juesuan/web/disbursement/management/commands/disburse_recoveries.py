"""`python -m juesuan.web disburse_recoveries`: the unit's recoveries (追回) still outstanding.

Exit 0 with the list; with --check, exit 1 when anything is outstanding (for a scheduled check).
"""

from __future__ import annotations

import json

from django.core.management.base import CommandError

from juesuan.web.audit.masking import mask_id_number
from juesuan.web.disbursement import services
from juesuan.web.disbursement.management.commands._base import PayCommand


class Command(PayCommand):
    help = "列出单位待追回的款项：应追回、已追回、已核销、待追回"
    needs_user = False

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--check", action="store_true", help="有待追回款项时以退出码 1 结束")

    def handle(self, *args, **options):
        unit = self.unit(options)
        open_rows = [r for r in services.receivables(unit) if r.outstanding]
        totals = services.recovery_totals(unit)
        y = services.yuan
        if options.get("json"):
            self.stdout.write(
                json.dumps(
                    {
                        "due": totals.due,
                        "collected": totals.collected,
                        "written_off": totals.written_off,
                        "outstanding": totals.outstanding,
                        "open": [
                            {
                                "id": r.pk,
                                "scheme": r.scheme.code,
                                "person": mask_id_number(r.person_id),
                                "name": (r.detail or {}).get("name", ""),
                                "month": r.month,
                                "amount": r.amount,
                                "collected": r.collected,
                                "written_off": r.written_off,
                                "outstanding": r.outstanding,
                                "status": r.status,
                            }
                            for r in open_rows
                        ],
                    },
                    ensure_ascii=False,
                )
            )
        else:
            for r in open_rows:
                self.stdout.write(
                    f"{r.month} {r.scheme.name} {(r.detail or {}).get('name', '')} "
                    f"{mask_id_number(r.person_id)}：应追回 {y(r.amount)} 元，"
                    f"已追回 {y(r.collected)} 元，已核销 {y(r.written_off)} 元，"
                    f"待追回 {y(r.outstanding)} 元（{r.status_name}）"
                )
            self.stdout.write(
                f"共 {totals.count} 笔：应追回 {y(totals.due)} 元，已追回 {y(totals.collected)} 元，"
                f"已核销 {y(totals.written_off)} 元，待追回 {y(totals.outstanding)} 元。"
            )
        if options.get("check") and open_rows:
            raise CommandError(f"有 {len(open_rows)} 笔款项待追回，共 {y(totals.outstanding)} 元。")
