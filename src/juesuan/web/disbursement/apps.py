from __future__ import annotations

from django.apps import AppConfig


class DisbursementConfig(AppConfig):
    name = "juesuan.web.disbursement"
    label = "disbursement"
    verbose_name = "代发"

    def ready(self) -> None:
        # The audit log page names actions through audit.log.ACTION_NAMES; ours are added here so
        # the log shows 审批发放批次 rather than an identifier.
        from juesuan.web.audit.log import ACTION_NAMES
        from juesuan.web.disbursement.actions import ACTIONS

        for action, name in ACTIONS.items():
            ACTION_NAMES.setdefault(action, name)
        # Registers the Celery task when Celery is installed (the worker imports the apps).
        try:
            from juesuan.web.disbursement import tasks  # noqa: F401
        except ImportError:  # pragma: no cover - celery is a dependency, but stay importable
            pass
