"""`python -m juesuan.web disburse_check_files`: put right what crashed steps left among a unit's
payment files and compare every recorded file with its SHA-256 (exit 1 when one is missing or
differs)."""

from __future__ import annotations

import json

from django.core.management.base import CommandError

from juesuan.web.disbursement import services
from juesuan.web.disbursement.management.commands._base import PayCommand


class Command(PayCommand):
    help = (
        "核对单位的代发文件：补做已提交文件的落位，删除中断留下的未提交、未完成和临时文件，"
        "并逐个核对银行文件和回盘留存副本的 SHA-256"
    )
    needs_user = False

    def handle(self, *args, **options):
        done, problems = services.check_files(self.unit(options))
        if options.get("json"):
            self.stdout.write(
                json.dumps(
                    {"ok": not problems, "done": done, "problems": problems}, ensure_ascii=False
                )
            )
        else:
            for line in done:
                self.stdout.write(line)
            if not problems:
                self.stdout.write(
                    "代发文件核对无误"
                    + (f"（整理了 {len(done)} 个文件）。" if done else "，无需整理。")
                )
        if problems:
            raise CommandError("代发文件有问题：\n" + "\n".join(problems))
