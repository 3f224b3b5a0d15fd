"""What the web app keeps per unit and year: dataset versions, builds, and background jobs.

Nothing here computes a number: a version is a workbook file on disk (with its SHA-256) that the
core loads; a build is a package folder the core wrote, with its manifest.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from juesuan.web.accounts.models import Unit

UPLOAD, TEXTS, CONSOLIDATION, DEMO = "upload", "texts", "consolidation", "demo"
VERSION_KIND_NAMES = {
    UPLOAD: "上传工作簿",
    TEXTS: "修改文字说明",
    CONSOLIDATION: "汇总生成",
    DEMO: "示例数据",
}


class DatasetVersion(models.Model):
    """One accepted dataset of a unit and year. The highest number is the current version."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="versions")
    year = models.IntegerField("年度")
    number = models.IntegerField("版本")
    kind = models.CharField(max_length=20, choices=list(VERSION_KIND_NAMES.items()))
    file = models.CharField(max_length=500)  # relative to MEDIA_ROOT
    original_name = models.CharField("文件名", max_length=255)
    sha256 = models.CharField(max_length=64)
    size = models.BigIntegerField(default=0)
    note = models.TextField("说明", blank=True)
    issues = models.JSONField(default=list)  # import warnings (accepted files have no errors)
    summary = models.JSONField(default=dict)  # readiness figures computed at import
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("unit", "year", "-number")
        constraints = (
            models.UniqueConstraint(fields=("unit", "year", "number"), name="version_unique"),
        )

    def __str__(self) -> str:
        return f"{self.unit} {self.year} 第{self.number}版"

    @property
    def kind_name(self) -> str:
        return VERSION_KIND_NAMES.get(self.kind, self.kind)

    @property
    def path(self):
        return settings.MEDIA_ROOT / self.file


QUEUED, RUNNING, SUCCEEDED, FAILED = "queued", "running", "succeeded", "failed"
JOB_STATUS_NAMES = {QUEUED: "排队中", RUNNING: "进行中", SUCCEEDED: "已完成", FAILED: "失败"}
BUILD_JOB, CONSOLIDATE_JOB, IMPORT_JOB, AUDIT_JOB = "build", "consolidate", "import", "audit"
JOB_KIND_NAMES = {
    BUILD_JOB: "生成公开包",
    CONSOLIDATE_JOB: "汇总",
    IMPORT_JOB: "导入数据",
    AUDIT_JOB: "审核已公开文本",
}


class Job(models.Model):
    """Long work done in the background, with its progress for the page that watches it.

    An upload's year is known once the workbook is read; an audit of published texts belongs
    to no unit."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=20, choices=list(JOB_KIND_NAMES.items()))
    unit = models.ForeignKey(Unit, null=True, on_delete=models.PROTECT, related_name="jobs")
    year = models.IntegerField(null=True)
    status = models.CharField(max_length=20, choices=list(JOB_STATUS_NAMES.items()), default=QUEUED)
    progress = models.IntegerField(default=0)  # 0–100
    message = models.CharField(max_length=300, blank=True)
    params = models.JSONField(default=dict)
    result = models.JSONField(default=dict)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)

    @property
    def kind_name(self) -> str:
        return JOB_KIND_NAMES.get(self.kind, self.kind)

    @property
    def status_name(self) -> str:
        return JOB_STATUS_NAMES.get(self.status, self.status)

    @property
    def finished(self) -> bool:
        return self.status in (SUCCEEDED, FAILED)


class Build(models.Model):
    """A disclosure package written by the core, kept with its manifest."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="builds")
    year = models.IntegerField()
    number = models.IntegerField()
    version = models.ForeignKey(DatasetVersion, on_delete=models.PROTECT, related_name="builds")
    format = models.CharField(max_length=50)
    draft = models.BooleanField(default=False)
    directory = models.CharField(max_length=500)  # relative to MEDIA_ROOT
    manifest = models.JSONField(default=dict)
    zip_name = models.CharField(max_length=255)
    zip_sha256 = models.CharField(max_length=64)
    checks = models.JSONField(default=dict)  # the summary of rule outcomes
    # The unit's payments the package took its performance actuals from: the payments stamp
    # and each figure ("项目 · 名称" → value), so a later change of payments is seen and named.
    payments = models.JSONField(default=dict)
    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("unit", "year", "-number")
        constraints = (
            models.UniqueConstraint(fields=("unit", "year", "number"), name="build_unique"),
        )

    @property
    def path(self):
        return settings.MEDIA_ROOT / self.directory

    @property
    def outputs(self) -> list[dict]:
        return list(self.manifest.get("outputs", []))
