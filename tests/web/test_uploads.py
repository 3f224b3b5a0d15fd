"""Uploads: refused while they arrive when too large, parsed only in background jobs, and no
temporary folder left behind by a failure or a process that died."""

from __future__ import annotations

import os
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.urls import reverse

from juesuan.web.workplace.models import DatasetVersion
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


class _Spy(FileUploadHandler):
    """After the limit's handler: counts the bytes handed on to be kept."""

    kept = 0

    def receive_data_chunk(self, raw_data, start):
        type(self).kept += len(raw_data)
        return raw_data

    def file_complete(self, file_size):
        return None


@pytest.mark.parametrize("size_mb", [1.5, 8])
def test_a_too_large_upload_is_refused_while_it_arrives(
    client, world, settings, _media, size_mb
):
    """The limit is enforced on the bytes as they come: nothing past it is kept (the declared
    length, when it already says too much, stops it before the first byte of the file)."""
    settings.MAX_UPLOAD_MB = 1
    settings.FILE_UPLOAD_HANDLERS = [
        "juesuan.web.uploads.SizeLimitHandler",
        f"{__name__}._Spy",
        *settings.FILE_UPLOAD_HANDLERS[1:],
    ]
    _Spy.kept = 0
    client.force_login(world.users["finance"])
    payload = SimpleUploadedFile("大文件.xlsx", b"P" * int(size_mb * 1024 * 1024))
    response = client.post(reverse("upload", args=[world.unit.pk]), {"file": payload})
    assert response.status_code == 413
    page = response.content.decode()
    assert "文件太大" in page and "超过 1 MB" in page
    assert _Spy.kept <= 1024 * 1024
    assert DatasetVersion.objects.count() == 0
    assert not (_media / "tmp").exists() or not any((_media / "tmp").iterdir())
