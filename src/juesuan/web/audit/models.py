"""The audit log: one row per change, approval, download and sign-in, chained by SHA-256.

Each row's `hash` is SHA-256 of the previous row's hash followed by the row's own canonical
content (a compact, key-sorted JSON of every field but the hashes). Changing, removing or
inserting a row breaks the chain at that row; `AuditHead` holds the last sequence number and hash
so that removing rows from the end is detected too. Rows are never updated or deleted by the
application (the model refuses, and database triggers refuse).
"""

from __future__ import annotations

import hashlib
import json

from django.db import models

GENESIS = "0" * 64


class AppendOnlyError(Exception):
    pass


class AuditEntry(models.Model):
    seq = models.BigIntegerField("序号", primary_key=True)
    at = models.DateTimeField("时间")
    user_id = models.BigIntegerField(null=True, blank=True)
    username = models.CharField("用户", max_length=150, blank=True)
    action = models.CharField("操作", max_length=50)
    unit_id = models.BigIntegerField(null=True, blank=True)
    unit_name = models.CharField("单位", max_length=200, blank=True)
    year = models.IntegerField("年度", null=True, blank=True)
    target = models.CharField("对象", max_length=300, blank=True)
    summary = models.TextField("摘要", blank=True)
    before = models.JSONField("修改前", null=True, blank=True)
    after = models.JSONField("修改后", null=True, blank=True)
    ip = models.CharField("地址", max_length=64, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ("seq",)
        indexes = (models.Index(fields=("unit_id", "year", "seq")),)

    def canonical(self) -> str:
        return canonical(
            {
                "seq": self.seq,
                "at": self.at.isoformat(),
                "user_id": self.user_id,
                "username": self.username,
                "action": self.action,
                "unit_id": self.unit_id,
                "unit_name": self.unit_name,
                "year": self.year,
                "target": self.target,
                "summary": self.summary,
                "before": self.before,
                "after": self.after,
                "ip": self.ip,
            }
        )

    def compute_hash(self, prev_hash: str) -> str:
        return chain_hash(prev_hash, self.canonical())

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("操作记录只能追加，不能修改")
        kwargs["force_insert"] = True
        return super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("操作记录只能追加，不能删除")


class AuditHead(models.Model):
    """The chain's end: one row (id 1) with the last sequence number and hash."""

    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=GENESIS)


def canonical(content: dict) -> str:
    return json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def chain_hash(prev_hash: str, canonical_content: str) -> str:
    return hashlib.sha256((prev_hash + canonical_content).encode("utf-8")).hexdigest()
