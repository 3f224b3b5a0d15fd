"""`python -m juesuan.web COMMAND`: Django's management commands with this project's settings
(migrate, verify_audit_log, createadmin, …)."""

from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "juesuan.web.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
