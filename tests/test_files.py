"""Folders swapped in whole, and file names safe from any text."""

from __future__ import annotations

from pathlib import Path

import pytest

from juesuan.files import KeptEntryClash, replaced_folder, safe_file_name, sweep_leftovers


def _contents(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _old_folder(tmp_path: Path) -> Path:
    target = tmp_path / "out"
    (target / "sub").mkdir(parents=True)
    (target / "a.txt").write_text("old", encoding="utf-8")
    (target / "sub" / "b.txt").write_text("old b", encoding="utf-8")
    return target


def test_a_completed_folder_replaces_the_old_one_whole(tmp_path):
    target = _old_folder(tmp_path)
    with replaced_folder(target) as folder:
        (folder / "new.txt").write_text("new", encoding="utf-8")
        assert _contents(target) == {"a.txt": b"old", "sub/b.txt": b"old b"}
    assert _contents(target) == {"new.txt": b"new"}
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


@pytest.mark.parametrize("failure", [RuntimeError("renderer"), KeyboardInterrupt()])
def test_a_failure_leaves_the_old_folder_exactly_and_nothing_beside_it(tmp_path, failure):
    target = _old_folder(tmp_path)
    before = _contents(target)
    with pytest.raises(type(failure)), replaced_folder(target) as folder:
        (folder / "a.txt").write_text("half", encoding="utf-8")
        raise failure
    assert _contents(target) == before
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_a_new_folder_appears_only_when_complete(tmp_path):
    target = tmp_path / "deep" / "new"
    with pytest.raises(OSError), replaced_folder(target) as folder:
        (folder / "x").write_text("x", encoding="utf-8")
        raise OSError(28, "No space left on device")
    assert not target.exists() and list((tmp_path / "deep").iterdir()) == []


def test_kept_entries_are_carried_into_the_new_folder_as_the_same_files(tmp_path):
    target = _old_folder(tmp_path)
    inode = (target / "sub" / "b.txt").stat().st_ino
    with replaced_folder(target, keep=[Path("sub"), Path("sub/b.txt")]) as folder:
        (folder / "a.txt").write_text("new", encoding="utf-8")
    assert _contents(target) == {"a.txt": b"new", "sub/b.txt": b"old b"}
    assert (target / "sub" / "b.txt").stat().st_ino == inode


def test_a_kept_entry_named_as_a_new_one_changes_nothing(tmp_path):
    target = _old_folder(tmp_path)
    before = _contents(target)
    with pytest.raises(KeptEntryClash) as clash, replaced_folder(target, keep=[Path("a.txt")]) as f:
        (f / "a.txt").write_text("new", encoding="utf-8")
    assert clash.value.filename == "a.txt"
    assert _contents(target) == before
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("社保局/本级", "社保局／本级"),
        ('a\\b:c*d?e"f<g>h|i', "a＼b：c＊d？e＂f＜g＞h｜i"),
        ("..隐藏", "隐藏"),
        ("尾部. . ", "尾部"),
        ("两行\n名称\t单位", "两行 名称 单位"),
        ("反向\u202e文字", "反向文字"),
        ("CON", "CON_"),
        ("nul.txt", "nul_.txt"),
        ("COM1", "COM1_"),
        ("CONSOLE", "CONSOLE"),
        ("\x00\x1f", "未命名"),
        ("...", "未命名"),
    ],
)
def test_names_are_safe_and_still_readable(text, expected):
    assert safe_file_name(text) == expected


def test_a_long_name_is_shortened_readably_and_different_names_stay_apart():
    first = "四川省泸州市社会保险事业管理局" * 20  # 300 characters, 900 bytes
    second = first[:-1] + "甲"
    a, b = safe_file_name(first), safe_file_name(second)
    assert a != b
    for name in (a, b):
        assert name.startswith("四川省泸州市社会保险事业管理局四川省")
        assert "…" in name and len(name) <= 60 and len(name.encode()) <= 180
    assert safe_file_name(a) == a  # already safe: unchanged
    assert safe_file_name("某" * 60) == "某" * 60  # at the limit: kept whole


# ---- what a killed writer leaves -------------------------------------------------------------

_KILLED_WRITER = """
import os, signal, sys
from pathlib import Path
from juesuan import files

target, step = Path(sys.argv[1]), sys.argv[2]
if step == "swap":  # killed between renaming the old folder aside and the new one into place
    real = os.replace
    def replace(source, destination):
        if str(source) == str(target):
            real(source, destination)
            os.kill(os.getpid(), signal.SIGKILL)
        real(source, destination)
    files.os.replace = replace
if step == "file":
    with files.replaced(target) as temporary:
        temporary.write_text("半个文件")
        os.kill(os.getpid(), signal.SIGKILL)
with files.replaced_folder(target) as folder:
    (folder / "新.txt").write_text("新")
    if step == "write":
        os.kill(os.getpid(), signal.SIGKILL)
"""


def _killed_writer(target: Path, step: str) -> None:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", _KILLED_WRITER, str(target), step], check=False)
    assert done.returncode == -9


def _beside(target: Path) -> list[str]:
    return sorted(p.name for p in target.parent.iterdir() if p.name != target.name)


@pytest.mark.parametrize("step", ["write", "file"])
def test_the_next_run_sweeps_what_a_killed_build_left_and_nothing_else(tmp_path, step):
    target = _old_folder(tmp_path)
    others = [tmp_path / ".juesuan-1234.tmp", tmp_path / "报告.tmp", tmp_path / "其他单位"]
    for other in others:
        other.mkdir()
    _killed_writer(tmp_path / "其他单位", "write")  # a leftover of another output
    _killed_writer(target, step)
    assert len(_beside(target)) == len(others) + 2
    with replaced_folder(target) as folder:
        (folder / "再次.txt").write_text("再次")
    assert _contents(target) == {"再次.txt": "再次".encode()}
    left = set(_beside(target)) - {o.name for o in others}
    assert {o.name for o in others} <= set(_beside(target)) and len(left) == 1
    assert [p.name for p in sweep_leftovers(tmp_path / "其他单位")] == list(left)


def test_a_swap_killed_half_way_gives_the_old_folder_back(tmp_path):
    target = _old_folder(tmp_path)
    before = _contents(target)
    _killed_writer(target, "swap")
    assert not target.exists()  # the old folder lies renamed aside
    assert sweep_leftovers(target) != []
    assert _contents(target) == before
    assert _beside(target) == []


def test_a_running_writer_keeps_its_temporary_folder(tmp_path):
    import subprocess
    import sys

    target = tmp_path / "包"
    code = (
        "import sys, time\nfrom juesuan.files import replaced_folder\n"
        "with replaced_folder(sys.argv[1]):\n    print('in', flush=True)\n    time.sleep(60)\n"
    )
    writer = subprocess.Popen([sys.executable, "-c", code, str(target)], stdout=subprocess.PIPE)
    try:
        assert writer.stdout.readline() == b"in\n"
        assert sweep_leftovers(target) == []
        assert len(_beside(target)) == 1
    finally:
        writer.kill()
        writer.wait()
    assert len(sweep_leftovers(target)) == 1
    assert _beside(target) == []
