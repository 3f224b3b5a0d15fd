"""People: their internal keys (人员编号) and who sees their full identity and account numbers.

Payment numbers name a person by key (`core.PaymentKey.reference`), so an identity number never
travels through bank files, lists or logs. Lists show 身份证号 and account numbers masked; the
person's own page shows them in full to 经办, 复核 and 审批 on request, and every such reveal is
written to the audit log.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl
from django.db import IntegrityError, connection, transaction
from django.db.models import OuterRef, QuerySet, Subquery

from juesuan.disbursement import model as core
from juesuan.web.accounts.models import Unit, User
from juesuan.web.audit.log import record
from juesuan.web.disbursement.models import PersonKey
from juesuan.web.disbursement.services.common import bulk_work_mem, copy_out


def ensure_keys(unit: Unit, person_ids: Iterable[str] | QuerySet) -> int:
    """Give every person in `person_ids` without a key in `unit` the next ones; how many were
    given. Two steps giving keys at once: the loser's rows conflict and are given again."""
    if isinstance(person_ids, QuerySet) and connection.vendor == "postgresql":
        return _ensure_keys_in_database(unit, person_ids)
    wanted = set(person_ids)
    added = 0
    while True:
        known = set(
            PersonKey.objects.filter(unit=unit, person_id__in=wanted).values_list(
                "person_id", flat=True
            )
            if len(wanted) < 5000
            else PersonKey.objects.filter(unit=unit).values_list("person_id", flat=True)
        )
        missing = sorted(wanted - known)
        if not missing:
            return added
        last = PersonKey.objects.filter(unit=unit).order_by("-key").values_list("key", flat=True)
        start = int(last[0][1:]) + 1 if last else 1
        try:
            with transaction.atomic():
                PersonKey.objects.bulk_create(
                    (
                        PersonKey(unit=unit, person_id=person_id, key=core.person_key(n))
                        for n, person_id in enumerate(missing, start)
                    ),
                    batch_size=5000,
                )
            added += len(missing)
        except IntegrityError:
            continue


def _ensure_keys_in_database(unit: Unit, person_ids: QuerySet) -> int:
    """ensure_keys in one statement, for the people a query selects (a run's payees: millions,
    never brought into Python): the same keys, given in order of identity number."""
    people, params = person_ids.query.sql_with_params()
    table = PersonKey._meta.db_table
    sql = f"""
        INSERT INTO {table} (unit_id, person_id, key)
        SELECT %s, wanted.person_id,
               'P' || lpad((last.number + row_number() OVER (
                   ORDER BY wanted.person_id COLLATE "C"))::text, 9, '0')
        FROM (SELECT DISTINCT person_id FROM ({people}) AS given (person_id)) AS wanted
        CROSS JOIN (
            SELECT coalesce(max(substr(key, 2)::bigint), 0) AS number
            FROM {table} WHERE unit_id = %s
        ) AS last
        WHERE wanted.person_id IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM {table} AS known
            WHERE known.unit_id = %s AND known.person_id = wanted.person_id
        )
    """
    while True:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql, [unit.pk, *params, unit.pk, unit.pk])
                return cursor.rowcount
        except IntegrityError:
            continue


def keys_frame(unit: Unit) -> pl.DataFrame:
    """person_id → person_key of every person of `unit`. On PostgreSQL by COPY, the rows
    joined into one text per block of ids (separated by chr(30), which text COPY leaves
    alone): a few hundred messages instead of one per person, so millions of keys cost Python
    almost nothing and leave the interpreter to the threads beside it."""
    schema = {"person_id": pl.String, "person_key": pl.String}
    if connection.vendor == "postgresql":
        sql = (
            "COPY (SELECT string_agg(person_id || ',' || key, chr(30)) "
            f"FROM {PersonKey._meta.db_table} WHERE unit_id = {int(unit.pk)} "
            "GROUP BY id / 16384) TO STDOUT"
        )
        with bulk_work_mem():
            data = copy_out(sql).replace(b"\x1e", b"\n")  # no column is NULL or holds a comma
        if not data:
            return pl.DataFrame(schema=schema)
        return pl.read_csv(
            data, has_header=False, new_columns=list(schema), schema=schema, quote_char=None
        )
    rows = PersonKey.objects.filter(unit=unit).values_list("person_id", "key")
    return pl.DataFrame(list(rows), schema=schema, orient="row")


def keys_of(unit: Unit, person_ids: Iterable[str]) -> dict[str, str]:
    """person_id → person_key for the given people (those without one are left out)."""
    ids = list(set(person_ids))
    found: dict[str, str] = {}
    for offset in range(0, len(ids), 5000):
        rows = PersonKey.objects.filter(unit=unit, person_id__in=ids[offset : offset + 5000])
        found.update(rows.values_list("person_id", "key"))
    return found


def with_keys(rows: QuerySet) -> QuerySet:
    """`rows` (of a model with `unit` and `person_id`) each with its person's key as
    `person_key` (None when none was given), read in the same query: a page of fifty rows costs
    one query, not fifty-one."""
    key = PersonKey.objects.filter(unit=OuterRef("unit"), person_id=OuterRef("person_id"))
    return rows.annotate(person_key=Subquery(key.values("key")[:1]))


def person_of(unit: Unit, key: str) -> str | None:
    """The 公民身份号码 behind a person key, or None."""
    return PersonKey.objects.filter(unit=unit, key=key).values_list("person_id", flat=True).first()


def record_reveal(unit: Unit, user: User, key: str, request=None) -> None:
    """The audit log's line for one look at a person's full identity and account numbers."""
    record(
        "pay_person_reveal",
        request=request,
        user=user,
        unit=unit,
        target=key,
        summary=f"查看人员 {key} 的完整身份证号和银行账号",
    )
