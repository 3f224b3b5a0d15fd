"""Writing files and folders so that a reader never sees half of one, under safe names."""

from __future__ import annotations

import errno
import hashlib
import os
import re
import shutil
import socket
import unicodedata
import uuid
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def replaced(path: str | Path) -> Iterator[Path]:
    """A temporary path beside `path`; when the block succeeds it becomes `path`.

    The file gets the ordinary permissions of a new file (0666 less the umask), not the private
    ones of a temporary file. On failure the temporary file is removed and `path` is untouched.
    What a killed writer of `path` left beside it is swept first (`sweep_leftovers`).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    sweep_leftovers(target)
    temporary = _beside(target, "tmp", target.suffix)
    try:
        yield temporary
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


class KeptEntryClash(FileExistsError):
    """An entry to keep has the name of one the new folder already has (`filename`: its path
    relative to the folder)."""


@contextmanager
def replaced_folder(path: str | Path, *, keep: Collection[Path] = ()) -> Iterator[Path]:
    """A new empty folder beside `path`; when the block succeeds it replaces `path` as a whole.

    On failure (an exception, KeyboardInterrupt) the temporary folder is removed and `path` is
    exactly as it was. The previous folder, if any, is renamed aside and the new one renamed into
    place, then the old one removed: a reader sees the old folder or the new one, never a mix.
    `keep` lists entries of the previous folder (paths relative to it) carried into the new one
    before the swap, by hard link (a copy where the file system has none), so they stay the same
    files; one the new folder already has raises `KeptEntryClash`, and nothing changes.
    What a killed writer of `path` left beside it is swept first (`sweep_leftovers`).
    """
    target = Path(path).absolute()
    target.parent.mkdir(parents=True, exist_ok=True)
    sweep_leftovers(target)
    temporary = _beside(target, "tmp")
    temporary.mkdir()
    try:
        yield temporary
        _carry_over(target, temporary, keep)
        _swap_folder(temporary, target)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise


def _carry_over(old: Path, new: Path, entries: Collection[Path]) -> None:
    for entry in sorted(entries, key=lambda p: len(p.parts)):  # folders before their contents
        source, copy = old / entry, new / entry
        folder = source.is_dir() and not source.is_symlink()
        if folder and copy.is_dir() and not copy.is_symlink():
            continue  # a folder both have: the entries kept inside it are carried one by one
        if copy.exists() or copy.is_symlink():
            raise KeptEntryClash(errno.EEXIST, "already in the new folder", str(entry))
        if folder:
            copy.mkdir()
        elif source.is_symlink():
            copy.symlink_to(os.readlink(source))
        else:
            try:
                os.link(source, copy)
            except OSError:
                shutil.copy2(source, copy)


def _swap_folder(new: Path, target: Path) -> None:
    if not target.exists():
        os.replace(new, target)
        return
    old = _beside(target, "old")
    os.replace(target, old)
    try:
        os.replace(new, target)
    except BaseException:
        os.replace(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


# ---- what a killed writer leaves ---------------------------------------------------------------

# A temporary entry's name says whose it is: `.juesuan-` then 8 hex digits of its target's name,
# 4 of the host, the writer's process id and start time (clock ticks since boot, 0 where the
# system does not tell), 6 random hex digits, then `.tmp` or `.old` and the target's suffix.
# A short name of fixed form: `target.name` may already be as long as a file name can be.
_LEFTOVER = re.compile(r"\.juesuan-([0-9a-f]{8})-([0-9a-f]{4})-(\d+)-(\d+)-[0-9a-f]{6}\.(tmp|old)")


def _beside(target: Path, kind: str, suffix: str = "") -> Path:
    pid = os.getpid()
    owner = f"{_digest(target.name)}-{_HOST}-{pid}-{_process_start(pid) or 0}"
    return target.parent / f".juesuan-{owner}-{uuid.uuid4().hex[:6]}.{kind}{suffix}"


def sweep_leftovers(target: str | Path) -> list[Path]:
    """Put right what writers of `target` killed on this machine (SIGKILL, power cut) left
    beside it, and return those entries: a temporary file or folder is removed; a previous
    folder renamed aside for a swap that never finished goes back to its place when that place
    is empty, else is removed. Only entries named by `replaced` or `replaced_folder` for this
    target whose process is gone are touched; a writer still running keeps its own."""
    target = Path(target).absolute()
    found = []
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return found
    for entry in entries:
        mark = _LEFTOVER.match(entry.name)
        if mark is None or mark[1] != _digest(target.name) or mark[2] != _HOST:
            continue
        if _running(int(mark[3]), mark[4]):
            continue
        path = Path(entry.path)
        try:
            if mark[5] == "old" and not os.path.lexists(target):
                os.replace(path, target)
            elif entry.is_dir(follow_symlinks=False):
                shutil.rmtree(path)
            else:
                path.unlink()
        except OSError:
            continue  # put right at this moment by another run, or not ours to change: left
        found.append(path)
    return found


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:8]


_HOST = _digest(socket.gethostname())[:4]


def _process_start(pid: int) -> str:
    """When process `pid` started, in clock ticks since boot (Linux /proc); "" where unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return ""
    return stat.rpartition(b")")[2].split()[19].decode()  # field 22; the name may hold ")"


def _running(pid: int, start: str) -> bool:
    """Whether the process that named an entry may still be writing it: when in doubt, yes."""
    if os.name != "posix":
        return True  # os.kill would end the process on Windows rather than look it up
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process with that id
    now = _process_start(pid)
    return start == "0" or not now or now == start  # a new process under a reused id is not it


# ---- names -------------------------------------------------------------------------------------

# Characters no file name may hold on Windows (and "/" nowhere), each shown as its full-width
# form so that a unit name stays readable: 社保局/本级 -> 社保局／本级.
_FULL_WIDTH = str.maketrans({c: chr(ord(c) + 0xFEE0) for c in '/\\:*?"<>|'})
_RESERVED = {"CON", "PRN", "AUX", "NUL"} | {f"{p}{n}" for p in ("COM", "LPT") for n in "123456789"}
_SPACED = {"Cc": " ", "Zl": " ", "Zp": " ", "Cf": "", "Cs": ""}
NAME_CHARS, NAME_BYTES = 60, 180  # room left for what a caller adds, on Windows and Linux
FALLBACK_NAME = "未命名"


def safe_file_name(text: str, *, chars: int = NAME_CHARS, size: int = NAME_BYTES) -> str:
    """`text` as (part of) one file name usable on Linux, macOS and Windows, still readable.

    Forbidden characters become their full-width forms, control characters and runs of white
    space one space, invisible format characters nothing; leading dots and trailing dots and
    spaces go; a Windows device name (CON, NUL, COM1 …) gets a "_". A name longer than `chars`
    characters or `size` UTF-8 bytes keeps its beginning, then "…" and 8 hex digits of its
    SHA-256, so different long names stay apart.
    Hand-written: pathvalidate, the nearest library, replaces every character with one
    placeholder and truncates without keeping names apart.
    """
    name = unicodedata.normalize("NFC", text).translate(_FULL_WIDTH)
    name = "".join(_SPACED.get(unicodedata.category(c), c) for c in name)
    name = " ".join(name.split()).lstrip(".").rstrip(". ")
    stem, dot, rest = name.partition(".")
    if stem.rstrip().upper() in _RESERVED:
        name = f"{stem}_{dot}{rest}"
    if len(name) > chars or len(name.encode()) > size:
        tail = "…" + hashlib.sha256(name.encode()).hexdigest()[:8]
        head = name[: chars - len(tail)]
        while len((head + tail).encode()) > size:
            head = head[:-1]
        name = head.rstrip(". ") + tail
    return name or FALLBACK_NAME
