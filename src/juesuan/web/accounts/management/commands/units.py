"""`python -m juesuan.web units`: list the units or add one (as the 管理 page does)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from juesuan.web.accounts.forms import UnitForm
from juesuan.web.accounts.management.commands._office import CONSOLE, find_unit, form_errors
from juesuan.web.accounts.models import DEPARTMENT, UNIT, Unit
from juesuan.web.accounts.office import create_unit

KINDS = {"部门": DEPARTMENT, "单位": UNIT, DEPARTMENT: DEPARTMENT, UNIT: UNIT}


class Command(BaseCommand):
    help = "列出单位，或新建部门、单位"

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        actions.add_parser("list", help="列出全部部门和单位")
        add = actions.add_parser("add", help="新建部门或单位")
        add.add_argument("name", help="名称")
        add.add_argument("--kind", default="单位", choices=sorted(KINDS), help="部门或单位")
        add.add_argument("--code", default="", help="编码")
        add.add_argument("--parent", help="上级部门（编号、编码或名称）")

    def handle(self, *args, **options):
        if options["action"] == "list":
            for unit in Unit.objects.select_related("parent").order_by("pk"):
                parent = f"，上级 {unit.parent.name}" if unit.parent else ""
                code = f"，编码 {unit.code}" if unit.code else ""
                self.stdout.write(f"{unit.pk}\t{unit.kind_name}\t{unit.name}{code}{parent}")
            return
        parent = find_unit(options["parent"]) if options["parent"] else None
        form = UnitForm(
            {
                "name": options["name"],
                "code": options["code"],
                "kind": KINDS[options["kind"]],
                "parent": parent.pk if parent else "",
            }
        )
        if not form.is_valid():
            raise form_errors(form)
        unit = create_unit(form.cleaned_data, username=CONSOLE)
        self.stdout.write(f"已新建{unit.kind_name}“{unit.name}”（编号 {unit.pk}）。")
