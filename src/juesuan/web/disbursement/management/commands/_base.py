"""What the disbursement commands share: finding the unit, the user, a run or a returned payment;
printing an outcome."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from juesuan.web.accounts.management.commands._office import find_unit
from juesuan.web.accounts.models import Unit, User


class PayCommand(BaseCommand):
    needs_user = True

    def add_arguments(self, parser):
        parser.add_argument("--unit", required=True, help="单位的编号（id）、编码或名称")
        if self.needs_user:
            parser.add_argument("--user", required=True, help="以哪位用户的身份办理（用户名）")
        parser.add_argument("--json", action="store_true", help="以 JSON 输出结果")

    def unit(self, options) -> Unit:
        return find_unit(options["unit"])

    def user(self, options) -> User:
        name = str(options["user"]).strip()
        found = User.objects.filter(username=name, is_active=True).first()
        if found is None:
            raise CommandError(f"没有可用的用户“{name}”")
        return found

    def report(self, outcome, options) -> None:
        if options.get("json"):
            self.stdout.write(json.dumps(outcome.as_dict(), ensure_ascii=False))
        else:
            for line in summarised(outcome.problems):
                self.stderr.write(line)
            (self.stdout if outcome.ok else self.stderr).write(outcome.message)
        if not outcome.ok:
            raise SystemExit(1)


SHOWN_PER_KIND = 5


def summarised(problems: list[dict]) -> list[str]:
    """Problems grouped by severity and column: each group's count and its first few, so a
    roster of 200,000 rows with a warning each prints a few lines, not 200,000 (--json gives
    every one)."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for problem in problems:
        key = (problem.get("severity") or "", problem.get("column") or "")
        groups.setdefault(key, []).append(problem)
    lines = []
    for (severity, column), found in groups.items():
        head = f"{severity or '问题'}{f'（{column}）' if column else ''}共 {len(found)} 处"
        lines.append(
            head + (f"，前 {SHOWN_PER_KIND} 处：" if len(found) > SHOWN_PER_KIND else "：")
        )
        for problem in found[:SHOWN_PER_KIND]:
            where = "，".join(
                str(x)
                for x in (
                    problem.get("file"),
                    problem.get("sheet") and f"工作表“{problem['sheet']}”",
                    problem.get("row") and f"第{problem['row']}行",
                )
                if x
            )
            lines.append(f"  {where}：{problem.get('message')}")
    return lines


def _returned_payment(unit, number: str):
    """The unit's payment named by its number (付款编号), or the refusal saying why none."""
    from juesuan.disbursement.model import Reference
    from juesuan.web.disbursement.models import Payment
    from juesuan.web.disbursement.services import Outcome, people

    try:
        ref = Reference.parse(number)
    except ValueError:
        return None, Outcome(False, f"付款编号“{number}”无法识别；应为 类别代码-人员编号-年月-序号")
    person_id = people.person_of(unit, ref.person_key)
    payment = (
        Payment.objects.filter(
            unit=unit,
            scheme__code=ref.scheme,
            person_id=person_id or "",
            month=str(ref.month),
            sequence=ref.sequence,
        )
        .select_related("scheme")
        .first()
    )
    if payment is None:
        return None, Outcome(False, f"本单位没有付款 {number}。")
    return payment, None


class RunStepCommand(PayCommand):
    """A step on one run, named by its number within the unit (第几批)."""

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("run", type=int, help="批次号（本单位的第几批）")

    def step(self, unit, user, run_id: int, options):
        raise NotImplementedError

    def handle(self, *args, **options):
        from juesuan.web.disbursement import services
        from juesuan.web.disbursement.models import Run

        unit = self.unit(options)
        run = Run.objects.filter(unit=unit, number=options["run"]).first()
        if run is None:
            outcome = services.Outcome(False, f"本单位没有第 {options['run']} 批")
        else:
            outcome = self.step(unit, self.user(options), run.pk, options)
        self.report(outcome, options)


class PaymentStepCommand(PayCommand):
    """A step on one returned payment, named by its number (付款编号, as the bank file carries it)."""

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("payment", help="付款编号，如 QYJS-P000000123-202003-1")

    def step(self, unit, user, payment, options):
        raise NotImplementedError

    def handle(self, *args, **options):
        unit, user = self.unit(options), self.user(options)
        payment, refusal = _returned_payment(unit, options["payment"])
        self.report(refusal or self.step(unit, user, payment, options), options)
