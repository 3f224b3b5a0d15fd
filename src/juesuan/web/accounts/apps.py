from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "juesuan.web.accounts"
    label = "accounts"
    verbose_name = "账号与单位"
