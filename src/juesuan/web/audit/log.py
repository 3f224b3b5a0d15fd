"""Writing to and verifying the audit log."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from juesuan.web.audit.masking import mask_data, mask_text
from juesuan.web.audit.models import GENESIS, AuditEntry, AuditHead

ACTION_NAMES = {
    "login": "登录",
    "login_failed": "登录失败",
    "login_locked": "登录被锁定",
    "logout": "退出",
    "password_change": "修改密码",
    "dataset_upload": "导入数据",
    "dataset_rejected": "导入被拒绝",
    "texts_save": "修改文字说明",
    "consolidate": "汇总",
    "build_start": "开始生成",
    "build_done": "生成完成",
    "build_failed": "生成失败",
    "build_approve": "审批公开包",
    "download": "下载",
    "published_audit": "审核已公开文本",
    "user_create": "新建用户",
    "user_update": "修改用户",
    "unit_create": "新建单位",
    "grant_add": "授权",
    "grant_remove": "取消授权",
}


def client_ip(request) -> str:
    """The peer address. Behind a reverse proxy, set JUESUAN_TRUST_X_FORWARDED_FOR=1 (read in
    settings as TRUST_X_FORWARDED_FOR) to take the proxy's X-Forwarded-For instead."""
    if request is None:
        return ""
    from django.conf import settings

    if getattr(settings, "TRUST_X_FORWARDED_FOR", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip()[:64]
    return (request.META.get("REMOTE_ADDR") or "")[:64]


def record(
    action: str,
    *,
    request=None,
    user=None,
    username: str | None = None,
    unit=None,
    year: int | None = None,
    target: str = "",
    summary: str = "",
    before: dict | None = None,
    after: dict | None = None,
    ip: str | None = None,
) -> AuditEntry:
    """Append one entry. Personal data in the texts is masked before it is written. `ip` is the
    client's address when there is no request (a background job started by one).

    The head row is updated first inside the transaction: that takes the write lock (SQLite) or
    the row lock (PostgreSQL) before the previous hash is read, so concurrent writers queue.
    """
    if user is None and request is not None and request.user.is_authenticated:
        user = request.user
    with transaction.atomic():
        AuditHead.objects.get_or_create(pk=1)
        AuditHead.objects.filter(pk=1).update(seq=F("seq") + 1)
        head = AuditHead.objects.select_for_update().get(pk=1)
        entry = AuditEntry(
            seq=head.seq,
            at=timezone.now(),
            user_id=user.pk if user is not None else None,
            username=(username if username is not None else (user.username if user else ""))[:150],
            action=action,
            unit_id=unit.pk if unit is not None else None,
            unit_name=unit.name if unit is not None else "",
            year=year,
            target=mask_text(target)[:300],
            summary=mask_text(summary),
            before=mask_data(before) if before is not None else None,
            after=mask_data(after) if after is not None else None,
            ip=ip if ip is not None else client_ip(request),
            prev_hash=head.hash,
        )
        entry.hash = entry.compute_hash(head.hash)
        entry.save()
        AuditHead.objects.filter(pk=1).update(hash=entry.hash)
    return entry


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int
    broken_seq: int | None = None
    reason: str = ""

    def __str__(self) -> str:
        if self.ok:
            return f"操作记录完整：共 {self.checked} 条，哈希链逐条核对无误。"
        return f"操作记录在第 {self.broken_seq} 条处断开：{self.reason}（已核对 {self.checked} 条）"


def verify(batch: int = 2000) -> Verification:
    """Walk the chain from the first row; report the first broken link."""
    previous_hash = GENESIS
    expected_seq = 1
    checked = 0
    last_seq = 0
    queryset = AuditEntry.objects.order_by("seq")
    start = 0
    while True:
        rows = list(queryset.filter(seq__gt=start)[:batch])
        if not rows:
            break
        for entry in rows:
            if entry.seq != expected_seq:
                return Verification(
                    False,
                    checked,
                    expected_seq,
                    f"缺少第 {expected_seq} 条（下一条是第 {entry.seq} 条），记录被删除",
                )
            if entry.prev_hash != previous_hash:
                return Verification(
                    False, checked, entry.seq, "本条记下的前一条哈希与前一条不符，记录被替换或插入"
                )
            if entry.compute_hash(previous_hash) != entry.hash:
                return Verification(False, checked, entry.seq, "本条内容与其哈希不符，记录被修改")
            previous_hash = entry.hash
            expected_seq += 1
            checked += 1
            last_seq = entry.seq
        start = rows[-1].seq
    head = AuditHead.objects.filter(pk=1).first()
    if head is not None and (head.seq != last_seq or head.hash != previous_hash):
        return Verification(
            False,
            checked,
            last_seq + 1,
            f"记录应有 {head.seq} 条，实有 {last_seq} 条：末尾的记录被删除或链尾被改动",
        )
    return Verification(True, checked)
