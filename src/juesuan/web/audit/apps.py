from __future__ import annotations

from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "juesuan.web.audit"
    label = "audit"
    verbose_name = "操作记录"
