from __future__ import annotations

from django.apps import AppConfig


class WorkplaceConfig(AppConfig):
    name = "juesuan.web.workplace"
    label = "workplace"
    verbose_name = "决算工作台"
