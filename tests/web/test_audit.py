"""The audit log: append-only, hash-chained, verified, personal data masked."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from juesuan.web.audit.log import record, verify
from juesuan.web.audit.masking import mask_account, mask_id_number, mask_text
from juesuan.web.audit.models import AppendOnlyError, AuditEntry


def _entries(world, count=5):
    for n in range(count):
        record(
            "texts_save",
            user=world.users["finance"],
            unit=world.unit,
            year=2020,
            target=f"数据第 {n + 1} 版",
            summary=f"修改文字说明 {n}",
            before={"version": n},
            after={"version": n + 1, "amount": "12.30"},
        )


def _raw(sql, params=()):
    """SQL with the append-only triggers out of the way, as someone with the database's keys."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER IF EXISTS audit_no_update")
            cursor.execute("DROP TRIGGER IF EXISTS audit_no_delete")
        else:
            cursor.execute("ALTER TABLE audit_auditentry DISABLE TRIGGER audit_no_change")
        cursor.execute(sql, params)


def test_chain_verifies(world):
    _entries(world)
    result = verify()
    assert result.ok and result.checked == 5
    assert "完整" in str(result)
    call_command("verify_audit_log")  # exits normally


def test_a_changed_row_is_detected(world):
    _entries(world)
    _raw("UPDATE audit_auditentry SET summary = %s WHERE seq = 3", ["改过的内容"])
    result = verify()
    assert not result.ok and result.broken_seq == 3 and "被修改" in result.reason
    with pytest.raises(CommandError, match="第 3 条"):
        call_command("verify_audit_log")


def test_a_deleted_row_is_detected(world):
    _entries(world)
    _raw("DELETE FROM audit_auditentry WHERE seq = 2")
    result = verify()
    assert not result.ok and result.broken_seq == 2


def test_a_deleted_last_row_is_detected(world):
    _entries(world)
    _raw("DELETE FROM audit_auditentry WHERE seq = 5")
    result = verify()
    assert not result.ok and result.broken_seq == 5


def test_a_rehashed_row_breaks_the_next_link(world):
    """Recomputing a changed row's own hash does not help: the next row names the old one."""
    _entries(world)
    entry = AuditEntry.objects.get(seq=2)
    entry.summary = "伪造"
    new_hash = entry.compute_hash(entry.prev_hash)
    _raw(
        "UPDATE audit_auditentry SET summary = %s, hash = %s WHERE seq = 2",
        ["伪造", new_hash],
    )
    result = verify()
    assert not result.ok and result.broken_seq == 3


def test_rows_cannot_be_changed_through_the_application_or_plain_sql(world):
    _entries(world, 1)
    entry = AuditEntry.objects.get()
    entry.summary = "改"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditentry SET summary = 'x'")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditentry")
    assert verify().ok


def test_personal_data_is_masked():
    assert mask_id_number("51050219900101123X") == "5105**********123X"
    assert mask_account("6222 0212 3456 7890 123") == "***************0123"
    text = "身份证号 510502199001011234，账号 6222021234567890123，金额 12345.67 元"
    masked = mask_text(text)
    assert "510502199001011234" not in masked and "6222021234567890123" not in masked
    assert "5105**********1234" in masked and "12345.67" in masked
    sha = "d52f478df625e9bb8d4527a19b220cd8fcba12345678906305b86caaae85937ff7"
    assert mask_text(sha) == sha  # hashes are not account numbers


def test_audit_entries_store_masked_text(world):
    entry = record(
        "user_update", user=world.users["admin"], summary="核对 510502199001011234 的账户"
    )
    assert "510502199001011234" not in entry.summary
    assert "510502199001011234" not in AuditEntry.objects.get(pk=entry.pk).summary
