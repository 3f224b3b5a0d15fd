"""The web app's commands through the `juesuan` CLI."""

from __future__ import annotations

import pytest

from juesuan.cli import main


@pytest.mark.django_db
def test_createadmin_and_verify_audit_log(capsys):
    assert main(["createadmin", "admin", "--password", "Str0ng!pass-2020"]) == 0
    assert main(["verify-audit-log"]) == 0
    assert "哈希链逐条核对无误" in capsys.readouterr().out
