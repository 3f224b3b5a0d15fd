from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "juesuan.web.accounts"
    label = "accounts"
    verbose_name = "账号与单位"

    def ready(self) -> None:
        from django.core.signals import request_started

        from juesuan.web.health import mark_quiet_connections_checked

        request_started.connect(mark_quiet_connections_checked)
