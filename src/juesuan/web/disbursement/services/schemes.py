"""A 补贴类别 created or changed by form or imported from schemes.yaml, and its history.

The form's values are put in the shape of one entry of schemes.yaml and read by
`schemes.parse_schemes`, so a form and a file are held to the same rules; the errors name the
path inside that entry (`schemes[0].standards[1].amount`), which the form maps to its fields.
"""

from __future__ import annotations

from pathlib import Path

from django.db import transaction

from juesuan.disbursement import transitions as rules
from juesuan.web.accounts.access import roles_on
from juesuan.web.accounts.models import Unit, User
from juesuan.web.audit.log import record
from juesuan.web.audit.models import AuditEntry
from juesuan.web.disbursement.models import Scheme, Standard
from juesuan.web.disbursement.services.common import (
    Outcome,
    issue_dict,
    refused,
    sha256_file,
    yuan,
)
from juesuan.web.disbursement.services.roster import set_payer

FORM_NAME = "补贴类别表单"
HISTORY_ACTIONS = ("pay_scheme_edit", "pay_payer", "pay_schemes")


class _Refused(Exception):
    def __init__(self, outcome: Outcome):
        self.outcome = outcome


def save_scheme(
    unit: Unit,
    user: User,
    entry: dict,
    *,
    adapter: str,
    payer: dict[str, str],
    creating: bool,
) -> Outcome:
    """经办 creates (`creating`) or changes a scheme: `entry` is one scheme as schemes.yaml
    writes it; `payer` the account its batch files are paid from (account, bank, name; all
    empty to leave it unset). All or nothing; audit-logged with what changed."""
    from juesuan.disbursement.banks import adapter_ids
    from juesuan.disbursement.schemes import parse_schemes

    if rules.CLERK not in roles_on(user, unit):
        return refused("只有经办人员可以设置补贴类别。")
    parsed = parse_schemes({"schemes": [entry]}, FORM_NAME)
    problems = [issue_dict(i) for i in parsed.errors]
    if adapter not in adapter_ids():
        problems.append(_problem("bank_adapter", "没有这个银行接口", adapter))
    code = str(entry.get("code", "")).strip()
    exists = Scheme.objects.filter(unit=unit, code=code).exists()
    if creating and exists:
        problems.append(
            _problem("schemes[0].code", "本单位已有这个代码的补贴类别", code, "另一个代码")
        )
    if not creating and not exists:
        return refused(f"本单位没有补贴类别 {code}。")
    if problems:
        return Outcome(False, "补贴类别未保存，请按提示修改。", problems=problems)
    scheme = parsed.schemes[0]
    try:
        with transaction.atomic():
            row = Scheme.objects.select_for_update().filter(unit=unit, code=code).first()
            before = snapshot(row) if row is not None else None
            row = row or Scheme(unit=unit, code=code)
            row.bank_adapter = adapter
            _store(row, scheme)
            after = snapshot(row)
            if before != after:
                record(
                    "pay_scheme_edit",
                    user=user,
                    unit=unit,
                    target=str(row),
                    summary=f"{'新建' if before is None else '修改'}补贴类别 {row}："
                    + "；".join(changes(before, after)),
                    before=before,
                    after=after,
                )
            payer_changed = False
            if any(payer.values()) or row.payer_account:
                outcome = set_payer(unit, user, code, **payer)
                if not outcome.ok:
                    raise _Refused(
                        Outcome(
                            False,
                            "补贴类别未保存，请按提示修改。",
                            problems=[_problem("payer", outcome.message, None)],
                        )
                    )
                payer_changed = outcome.changed
    except _Refused as refusal:
        return refusal.outcome
    if before == after and not payer_changed:
        return Outcome(True, f"{row} 与现有的一致，无变化。")
    return Outcome(True, f"已保存补贴类别 {row}。", changed=True, data={"code": code})


def import_schemes(unit: Unit, user: User | None, path: Path, *, file_name: str = "") -> Outcome:
    """补贴类别 and standards from a YAML file (`schemes.load_schemes`); a file with errors
    changes nothing. Standards of a scheme in the file are replaced by the file's."""
    from juesuan.disbursement.schemes import load_schemes

    loaded = load_schemes(path)
    name = file_name or Path(path).name
    if not loaded.ok:
        return Outcome(
            False,
            f"“{name}”有 {len(loaded.errors)} 处错误，补贴类别未导入。",
            problems=[issue_dict(i) for i in loaded.errors],
        )
    changed, changed_names = [], []
    with transaction.atomic():
        for scheme in loaded.schemes:
            row, created = Scheme.objects.select_for_update().get_or_create(
                unit=unit,
                code=scheme.code,
                defaults={"name": scheme.name, "payment_day": scheme.payment_day},
            )
            before = snapshot(row) if not created else None
            _store(row, scheme)
            if before != snapshot(row):
                changed.append(scheme.code)
                changed_names.append(f"{scheme.name}（{scheme.code}）")
        sha = sha256_file(Path(path))
        if changed:
            record(
                "pay_schemes",
                user=user,
                unit=unit,
                target=name,
                summary=f"导入补贴类别 {len(loaded.schemes)} 个，变动 {'、'.join(changed)}",
                after={"file": name, "sha256": sha, "changed": changed},
            )
    if not changed:
        return Outcome(True, f"“{name}”中的补贴类别与现有的一致，无变化。")
    return Outcome(True, f"已导入补贴类别：{'、'.join(changed_names)}。", changed=True)


def _store(row: Scheme, scheme) -> None:
    """Writes a parsed scheme's settings onto `row` and replaces its standards; the bank
    adapter is the caller's, since a schemes.yaml entry does not name one."""
    row.name, row.payment_day = scheme.name, scheme.payment_day
    row.function_code, row.economic_code = scheme.function_code, scheme.economic_code
    row.project = scheme.project
    row.save()
    row.standards.all().delete()
    Standard.objects.bulk_create(
        Standard(
            scheme=row,
            tier=s.tier,
            start=str(s.start),
            amount=s.amount,
            announced=str(s.announced) if s.announced else "",
        )
        for s in scheme.standards
    )


def entry_of(row: Scheme) -> dict:
    """The scheme as one entry of schemes.yaml (amounts in 元), as `save_scheme` takes it."""
    return {
        "code": row.code,
        "name": row.name,
        "payment_day": row.payment_day,
        "function_code": row.function_code,
        "economic_code": row.economic_code,
        "project": row.project or row.name,
        "standards": [
            {
                **({"tier": s.tier} if s.tier else {}),
                "start": s.start,
                "amount": yuan(s.amount).replace(",", ""),
                **({"announced": s.announced} if s.announced else {}),
            }
            for s in row.standards.all()
        ],
    }


# The settings the history compares and names when they change.
_FIELD_TITLES = {
    "name": "名称",
    "payment_day": "发放日",
    "function_code": "功能分类",
    "economic_code": "经济分类",
    "project": "项目",
    "bank_adapter": "银行接口",
}


def snapshot(row: Scheme) -> dict:
    """What the history compares: the settings and the standards (amounts in 分)."""
    return {
        **{key: getattr(row, key) for key in _FIELD_TITLES},
        "standards": sorted(
            [s.tier, s.start, s.amount, s.announced]
            for s in Standard.objects.filter(scheme_id=row.pk)
        ),
    }


def changes(before: dict | None, after: dict) -> list[str]:
    """What changed, in Chinese: '发放日 10 → 15', '一档 自 2020-07 起 1,230.00 → 1,290.00 元'."""
    before = before or {"standards": []}
    found = [
        f"{title} {before.get(key, '（无）')} → {after[key]}"
        for key, title in _FIELD_TITLES.items()
        if key in before and before[key] != after[key]
    ]
    old = {(t, s): (a, p) for t, s, a, p in before["standards"]}
    new = {(t, s): (a, p) for t, s, a, p in after["standards"]}
    for tier, start in sorted(old.keys() | new.keys()):
        name = f"{tier or '标准'} 自 {start} 起"
        if (tier, start) not in old:
            amount, announced = new[(tier, start)]
            shown = f"（{announced} 公布）" if announced else ""
            found.append(f"新增{name} {yuan(amount)} 元{shown}")
        elif (tier, start) not in new:
            found.append(f"删除{name} {yuan(old[(tier, start)][0])} 元")
        elif old[(tier, start)] != new[(tier, start)]:
            (was, _), (now, announced) = old[(tier, start)], new[(tier, start)]
            shown = f"（{announced} 公布）" if announced else ""
            found.append(f"{name} {yuan(was)} → {yuan(now)} 元{shown}")
    return found or ["无变化"]


def history(unit: Unit, row: Scheme) -> list[AuditEntry]:
    """Who changed the scheme, when and what, newest first: its form edits, its payer
    account and the scheme files that changed it."""
    entries = AuditEntry.objects.filter(unit_id=unit.pk, action__in=HISTORY_ACTIONS).order_by(
        "-seq"
    )
    return [
        e
        for e in entries
        if e.target.endswith(f"（{row.code}）")
        or (e.action == "pay_schemes" and row.code in (e.after or {}).get("changed", []))
    ]


def _problem(column: str, message: str, value, accepted: str | None = None) -> dict:
    return {
        "severity": "错误",
        "file": FORM_NAME,
        "column": column,
        "value": value,
        "message": message,
        "accepted": accepted,
    }
