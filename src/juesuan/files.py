"""Writing files and folders so that a reader never sees half of one, under safe names."""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
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
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.parent / f".{target.stem}.{uuid.uuid4().hex[:8]}.tmp{target.suffix}"
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
    """
    target = Path(path).absolute()
    target.parent.mkdir(parents=True, exist_ok=True)
    # A short fixed name: `target.name` may already be as long as a file name can be.
    temporary = target.parent / f".juesuan-{uuid.uuid4().hex[:12]}.tmp"
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
    old = target.parent / f".juesuan-{uuid.uuid4().hex[:12]}.old"
    os.replace(target, old)
    try:
        os.replace(new, target)
    except BaseException:
        os.replace(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


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
