"""Uploads: refused while they arrive when too large, parsed only in background jobs, and no
temporary folder left behind by a failure or a process that died."""

from __future__ import annotations

import os
import time

import pytest

from juesuan.web.workplace.versions import save_upload, sweep_workspaces, workspace


def test_stale_workspaces_are_swept_and_fresh_ones_kept(_media):
    stale, fresh = workspace(), workspace()
    (stale / "上传.xlsx").write_bytes(b"PK")
    stray = _media / "tmp" / "tmpabc.xlsx"
    stray.write_bytes(b"PK")
    two_days_ago = time.time() - 2 * 24 * 3600
    for path in (stale / "上传.xlsx", stale, stray):
        os.utime(path, (two_days_ago, two_days_ago))
    assert sweep_workspaces() == 2
    assert not stale.exists() and not stray.exists()
    assert fresh.is_dir()


class _CutOff:
    """An upload whose data stops coming after the first chunk (the client went away)."""

    name = "数据.xlsx"

    def chunks(self):
        yield b"PK" * 1000
        raise OSError("connection reset")


def test_an_upload_that_fails_while_saved_leaves_no_folder(_media):
    folder = workspace()
    with pytest.raises(OSError):
        save_upload(_CutOff(), folder)
    assert not folder.exists()
    assert not any((_media / "tmp").iterdir())
