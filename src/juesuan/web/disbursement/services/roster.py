"""Roster, life events and payer accounts into the database; schemes, roster and events read
back for the computation."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import polars as pl
from django.db import connection, transaction

from juesuan.disbursement import model as core
from juesuan.disbursement import transitions as rules
from juesuan.web.accounts.access import roles_on
from juesuan.web.accounts.models import Unit, User
from juesuan.web.audit.log import record
from juesuan.web.disbursement.models import (
    Beneficiary,
    LifeEvent,
    Scheme,
)
from juesuan.web.disbursement.services import people
from juesuan.web.disbursement.services.common import (
    Outcome,
    copy_out,
    issue_dict,
    refused,
    sha256_file,
)

# ---- schemes, roster, events ---------------------------------------------------------------------


def core_schemes(unit: Unit):
    """The unit's schemes as the engine's `Schemes` value."""
    from juesuan.disbursement.schemes import Schemes

    rows = Scheme.objects.filter(unit=unit).prefetch_related("standards").order_by("code")
    return Schemes(schemes=tuple(s.as_core() for s in rows), file="数据库")


PAYER_WHERE = (
    "付款账户由经办人员在代发概览的“补贴类别”中设置，或用命令 python -m juesuan.web "
    "disburse_payer --unit <单位> --user <经办用户名> --scheme <代码> --account <付款账号> "
    "--bank <开户行> --name <户名>。"
)


def set_payer(
    unit: Unit, user: User, scheme_code: str, *, account: str, bank: str, name: str
) -> Outcome:
    """经办 sets the account a scheme's batch files are paid from (付款账号, 开户行, 户名)."""
    from juesuan.disbursement.banks.fields import FORMULA_ACCEPTED, FORMULA_REFUSED, formula_like
    from juesuan.disbursement.roster import check_account

    if rules.CLERK not in roles_on(user, unit):
        return refused("只有经办人员可以设置付款账户。")
    digits, error, _luhn = check_account(account)  # a unit's account need not pass Luhn
    if error:
        return refused(f"付款账号“{account.strip()}”：{error}")
    values = {"payer_account": digits, "payer_bank": bank.strip(), "payer_name": name.strip()}
    for title, field, limit in (("开户行", "payer_bank", 100), ("户名", "payer_name", 100)):
        text = values[field]
        if not text:
            return refused(f"请填写付款账户的{title}。")
        if len(text) > limit:
            return refused(f"付款账户的{title}超过 {limit} 个字。")
        if formula_like(text):
            return refused(f"付款账户的{title}“{text}”{FORMULA_REFUSED}；应为{FORMULA_ACCEPTED}。")
    with transaction.atomic():
        scheme = Scheme.objects.select_for_update().filter(unit=unit, code=scheme_code).first()
        if scheme is None:
            return refused(f"本单位没有补贴类别 {scheme_code}。")
        before = {field: getattr(scheme, field) for field in values}
        if before == values:
            return Outcome(True, f"{scheme} 的付款账户与现有的一致，无变化。")
        for field, value in values.items():
            setattr(scheme, field, value)
        scheme.save(update_fields=list(values))
        record(
            "pay_payer",
            user=user,
            unit=unit,
            target=str(scheme),
            summary=(
                f"设置 {scheme} 的付款账户：{values['payer_name']}，{values['payer_bank']}，"
                f"账号 {digits}"
            ),
            before=before,
            after=values,
        )
    return Outcome(True, f"已设置 {scheme} 的付款账户。", changed=True)


def import_roster(unit: Unit, user: User | None, path: Path, *, file_name: str = "") -> Outcome:
    """花名册 from Excel/CSV (`roster.read_roster`). A file with any error stores nothing and
    the outcome lists every error by row and column. Rows are added or updated by (scheme,
    公民身份号码); people not in the file stay (stopping payment is a 人员变动)."""
    from juesuan.disbursement.roster import read_roster

    name = file_name or Path(path).name
    if user is not None and rules.CLERK not in roles_on(user, unit):
        return refused("只有经办人员可以导入花名册。")
    schemes = core_schemes(unit)
    if not len(schemes):
        return refused("本单位还没有补贴类别，请先导入补贴类别（schemes.yaml）。")
    sha = sha256_file(Path(path))
    result = read_roster(Path(path), schemes, filename=name)
    warnings = [issue_dict(i) for i in result.warnings]
    if not result.ok:
        record(
            "pay_roster_rejected",
            user=user,
            unit=unit,
            target=name,
            summary=f"花名册“{name}”有 {len(result.errors)} 处错误，未导入",
            after={"file": name, "sha256": sha, "errors": len(result.errors)},
        )
        return Outcome(
            False,
            f"“{name}”有 {len(result.errors)} 处错误，花名册未导入，原有花名册不变。",
            problems=[issue_dict(i) for i in result.errors] + warnings,
        )
    by_code = {s.code: s for s in Scheme.objects.filter(unit=unit)}
    added = updated = same = 0
    fields = ("name", "tier", "start", "bank", "account", "account_name")
    with transaction.atomic():
        # Locking the unit's schemes serialises roster imports and run preparation of the unit.
        list(Scheme.objects.select_for_update().filter(unit=unit))
        existing = {
            (b.scheme_id, b.person_id): b for b in Beneficiary.objects.filter(unit=unit).iterator()
        }
        create, update = [], []
        for person in result.beneficiaries:
            scheme = by_code[person.scheme]
            values = {
                "name": person.name,
                "tier": person.tier,
                "start": str(person.start),
                "bank": person.bank,
                "account": person.account,
                "account_name": person.account_name,
            }
            row = existing.get((scheme.pk, person.person_id))
            if row is None:
                create.append(
                    Beneficiary(unit=unit, scheme=scheme, person_id=person.person_id, **values)
                )
            elif any(getattr(row, k) != v for k, v in values.items()):
                for k, v in values.items():
                    setattr(row, k, v)
                update.append(row)
            else:
                same += 1
        Beneficiary.objects.bulk_create(create, batch_size=2000)
        people.ensure_keys(unit, (b.person_id for b in create))
        if update:
            Beneficiary.objects.bulk_update(update, fields, batch_size=2000)
        added, updated = len(create), len(update)
        if added or updated:
            record(
                "pay_roster",
                user=user,
                unit=unit,
                target=name,
                summary=f"导入花名册“{name}”：新增 {added} 人，更新 {updated} 人，未变 {same} 人",
                after={"file": name, "sha256": sha, "added": added, "updated": updated},
            )
    data = {"added": added, "updated": updated, "same": same, "sha256": sha}
    if not (added or updated):
        return Outcome(
            True, f"“{name}”与现有花名册一致，无变化（{same} 人）。", data=data, problems=warnings
        )
    return Outcome(
        True,
        f"花名册已导入：新增 {added} 人，更新 {updated} 人，未变 {same} 人。",
        changed=True,
        data=data,
        problems=warnings,
    )


def record_events(unit: Unit, user: User | None, path: Path, *, file_name: str = "") -> Outcome:
    """人员变动 from Excel/CSV (`roster.read_events`); an event already recorded (same person,
    scheme, kind and day) is not recorded again. A file with errors stores nothing."""
    from juesuan.disbursement.roster import read_events

    name = file_name or Path(path).name
    if user is not None and rules.CLERK not in roles_on(user, unit):
        return refused("只有经办人员可以录入人员变动。")
    schemes = core_schemes(unit)
    roster = tuple(
        b.as_core() for b in Beneficiary.objects.filter(unit=unit).select_related("scheme")
    )
    result = read_events(Path(path), schemes, roster, filename=name)
    if not result.ok:
        return Outcome(
            False,
            f"“{name}”有 {len(result.errors)} 处错误，人员变动未录入。",
            problems=[issue_dict(i) for i in result.errors],
        )
    by_code = {s.code: s for s in Scheme.objects.filter(unit=unit)}
    with transaction.atomic():
        list(Scheme.objects.select_for_update().filter(unit=unit))
        before = LifeEvent.objects.filter(unit=unit).count()
        LifeEvent.objects.bulk_create(
            (
                LifeEvent(
                    unit=unit,
                    scheme=by_code[e.scheme],
                    person_id=e.person_id,
                    kind=e.kind,
                    day=e.day,
                    reported=e.reported,
                    detail=_jsonable(e.detail),
                    recorded_by=user,
                )
                for e in result.events
            ),
            ignore_conflicts=True,
        )
        added = LifeEvent.objects.filter(unit=unit).count() - before
        if added:
            record(
                "pay_events",
                user=user,
                unit=unit,
                target=name,
                summary=f"录入人员变动 {added} 条（文件共 {len(result.events)} 条）",
                after={"file": name, "sha256": sha256_file(Path(path)), "added": added},
            )
    if not added:
        return Outcome(True, f"“{name}”中的 {len(result.events)} 条人员变动都已录入过，无变化。")
    return Outcome(True, f"已录入人员变动 {added} 条。", changed=True, data={"added": added})


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    return str(value)


# ---- reading the state for the computation --------------------------------------------------------


def roster_frame(unit: Unit, scheme_codes: Iterable[str] | None = None) -> pl.DataFrame:
    """The unit's roster as `compute.ROSTER_SCHEMA` (COPY on PostgreSQL: 2,000,000 rows in a
    few seconds; the ORM elsewhere)."""
    from juesuan.disbursement.compute import ROSTER_SCHEMA

    schemes = Scheme.objects.filter(unit=unit)
    if scheme_codes is not None:
        schemes = schemes.filter(code__in=list(scheme_codes))
    ids = {s.pk: s.code for s in schemes}
    if not ids:
        return pl.DataFrame(schema=ROSTER_SCHEMA)
    columns = ["person_id", "name", "scheme_id", "tier", "start", "bank", "account", "account_name"]
    if connection.vendor == "postgresql":
        sql = (
            f"COPY (SELECT {', '.join(columns)} FROM {Beneficiary._meta.db_table} "
            f"WHERE unit_id = {int(unit.pk)} AND scheme_id IN ({', '.join(map(str, ids))})"
            ") TO STDOUT WITH (FORMAT csv)"  # compute_month sorts its output itself
        )
        frame = pl.read_csv(
            copy_out(sql),
            has_header=False,
            new_columns=columns,
            schema_overrides={c: pl.String for c in columns if c != "scheme_id"},
        ).with_columns(pl.col(pl.String).fill_null(""))  # CSV has no empty string vs NULL
    else:
        rows = Beneficiary.objects.filter(unit=unit, scheme_id__in=list(ids)).values_list(*columns)
        frame = pl.DataFrame(
            list(rows),
            schema={c: (pl.Int64 if c == "scheme_id" else pl.String) for c in columns},
            orient="row",
        )
    codes = pl.DataFrame(
        {"scheme_id": list(ids), "scheme": list(ids.values())},
        schema={"scheme_id": pl.Int64, "scheme": pl.String},
    )
    frame = frame.with_columns(pl.col("scheme_id").cast(pl.Int64)).join(codes, on="scheme_id")
    return frame.select(list(ROSTER_SCHEMA)).cast(ROSTER_SCHEMA)


def unit_events(unit: Unit, scheme_codes: Iterable[str] | None = None) -> list[core.LifeEvent]:
    events = LifeEvent.objects.filter(unit=unit).select_related("scheme")
    if scheme_codes is not None:
        events = events.filter(scheme__code__in=list(scheme_codes))
    return [e.as_core() for e in events]


# Statuses whose money counts as given for a month: a chain of re-issues counts once, at its
# last approved payment; cancelled money was not given.
