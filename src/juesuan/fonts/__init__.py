"""Chinese (CJK) fonts for the chart and PDF renderers: the ones bundled with the package, and
those of the system as fallbacks.

Order, for each kind (sans = 黑体-like, serif = 宋体/仿宋-like):
1. the file named by the environment variable JUESUAN_CJK_FONT (the user's explicit choice);
2. the fonts bundled in `data/` (Noto Sans/Serif CJK SC cut to GB 2312 and the project's own
   texts; see data/README.md) — before system fonts, so that a document is set the same way on
   every machine (same glyphs, same line and page breaks, same bytes);
3. the system's fonts — the usual places of Noto CJK / WenQuanYi (Debian, Fedora, Arch), macOS
   and Windows fonts, then fontconfig (`fc-list :lang=zh`) — used only for characters the fonts
   before them lack (a rare character in a name, say).

`missing_glyphs(text)` names the characters no font in the chain can draw, so a renderer can
refuse before printing boxes; `fonts_used(text)` names the files that draw `text`, for the
manifest. Results are cached; `clear_cache()` forgets them.
"""

from __future__ import annotations

import array
import contextlib
import hashlib
import os
import shutil
import stat
import struct
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Literal

ENV_VAR = "JUESUAN_CJK_FONT"

BUNDLED_DIR = Path(__file__).resolve().parent / "data"
BUNDLED: dict[str, Path] = {
    "sans": BUNDLED_DIR / "JuesuanNotoSansSC-Regular.otf",
    "serif": BUNDLED_DIR / "JuesuanNotoSerifSC-Regular.otf",
}

INSTALL_HINT = (
    "未找到中文字体：随软件安装的字体文件缺失（安装不完整，请重新安装 juesuan），"
    "系统中也没有中文字体。可安装 Noto CJK 字体（Debian/Ubuntu：sudo apt install fonts-noto-cjk），"
    "或设置环境变量 JUESUAN_CJK_FONT 指向一个中文字体文件（.ttf/.otf/.ttc）"
)

Kind = Literal["sans", "serif"]

# Known locations, best first within each kind.
SEARCH_PATHS: dict[str, tuple[str, ...]] = {
    "sans": (
        # Debian / Ubuntu: fonts-noto-cjk
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
        # Fedora, Arch
        "/usr/share/fonts/google-noto-sans-cjk-fonts/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
        # Debian / Ubuntu: fonts-wqy-zenhei, fonts-wqy-microhei, fonts-droid-fallback
        "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
        "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
        "/usr/share/fonts/wenquanyi/wqy-zenhei/wqy-zenhei.ttc",
        "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
        # macOS
        "/System/Library/Fonts/PingFang.ttc",
        "/System/Library/Fonts/Hiragino Sans GB.ttc",
        "/System/Library/Fonts/STHeiti Light.ttc",
        "/System/Library/Fonts/STHeiti Medium.ttc",
        "/Library/Fonts/Arial Unicode.ttf",
        # Windows
        "C:/Windows/Fonts/msyh.ttc",
        "C:/Windows/Fonts/simhei.ttf",
    ),
    "serif": (
        "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
        "/usr/share/fonts/opentype/noto/NotoSerifCJKsc-Regular.otf",
        "/usr/share/fonts/google-noto-serif-cjk-fonts/NotoSerifCJK-Regular.ttc",
        "/usr/share/fonts/google-noto-cjk/NotoSerifCJK-Regular.ttc",
        "/usr/share/fonts/noto-cjk/NotoSerifCJK-Regular.ttc",
        "/usr/share/fonts/truetype/arphic/uming.ttc",
        "/System/Library/Fonts/Supplemental/Songti.ttc",
        "/Library/Fonts/Songti.ttc",
        "C:/Windows/Fonts/simsun.ttc",
        "C:/Windows/Fonts/simfang.ttf",
    ),
}

FONT_SUFFIXES = (".ttf", ".otf", ".ttc", ".otc")
_SERIF_WORDS = ("serif", "song", "ming", "fang", "kai", "宋", "明", "仿", "楷")
_KINDS = ("sans", "serif")


class FontMissing(Exception):
    """No Chinese font can draw what is asked; the message says what to install."""

    def __init__(self, message: str = INSTALL_HINT):
        super().__init__(message)


def is_serif(text: str) -> bool:
    """Whether a font file or family name reads as a serif (宋体, 仿宋, 明体 …) face."""
    lowered = text.lower()
    return any(word in lowered for word in _SERIF_WORDS)


def _fc_list() -> list[tuple[Path, str]]:
    """(file, family names) of every font fontconfig says covers Chinese, regular faces first."""
    executable = shutil.which("fc-list")
    if executable is None:
        return []
    try:
        result = subprocess.run(
            [executable, ":lang=zh", "file", "family", "style"],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return []
    found: dict[Path, tuple[bool, str]] = {}
    for line in result.stdout.splitlines():
        file, _, rest = line.partition(":")
        path = Path(file.strip())
        if path.suffix.lower() not in FONT_SUFFIXES:
            continue
        bold = any(w in rest.lower() for w in ("bold", "heavy", "black", "粗"))
        found.setdefault(path, (bold, rest))
    ordered = sorted(found.items(), key=lambda item: (item[1][0], str(item[0])))
    return [(path, rest) for path, (_bold, rest) in ordered]


@cache
def _search(env_value: str | None) -> dict[str, tuple[Path, ...]]:
    chosen: list[Path] = []
    if env_value:
        candidate = Path(env_value).expanduser()
        if candidate.is_file():
            chosen.append(candidate)
        else:
            warnings.warn(
                f"环境变量 {ENV_VAR} 指向的字体文件不存在：{env_value}；改用随软件安装的中文字体",
                stacklevel=3,
            )
    result: dict[str, list[Path]] = {kind: list(chosen) for kind in _KINDS}
    for kind in _KINDS:
        if BUNDLED[kind].is_file():
            result[kind].append(BUNDLED[kind])
        for name in SEARCH_PATHS[kind]:
            path = Path(name)
            if path.is_file() and path not in result[kind]:
                result[kind].append(path)
    for path, names in _fc_list():
        kind = "serif" if is_serif(f"{path.name} {names}") else "sans"
        if path.is_file() and path not in result[kind]:
            result[kind].append(path)
    return {kind: tuple(paths) for kind, paths in result.items()}


def _chosen() -> bool:
    """Whether JUESUAN_CJK_FONT names a file (which then leads every list)."""
    value = os.environ.get(ENV_VAR)
    return bool(value) and Path(value).expanduser().is_file()


def _found() -> dict[str, tuple[Path, ...]]:
    return _search(os.environ.get(ENV_VAR) or None)


def cjk_font_files(kind: Kind = "sans") -> list[Path]:
    """Every CJK font file of one kind, in the order of use (JUESUAN_CJK_FONT leads both)."""
    if kind not in _KINDS:
        raise ValueError(f"kind must be 'sans' or 'serif', not {kind!r}")
    return list(_found()[kind])


def find_cjk_font() -> Path:
    """The CJK font file to use first (a sans face if there is one); FontMissing if none."""
    found = _found()
    for kind in _KINDS:
        if found[kind]:
            return found[kind][0]
    raise FontMissing()


def font_chain() -> list[Path]:
    """Every CJK font file, in the order a renderer falls back through them for a character:
    JUESUAN_CJK_FONT, the bundled serif and sans, then the system's."""
    found = _found()
    chain = [found["sans"][0]] if _chosen() else []
    chain += [BUNDLED[kind] for kind in ("serif", "sans") if BUNDLED[kind].is_file()]
    for path in (*found["sans"], *found["serif"]):
        if path not in chain:
            chain.append(path)
    return chain


def font_dirs() -> list[Path]:
    """The directories holding the CJK font files (for typst's font paths), in order of use."""
    dirs: list[Path] = []
    for path in font_chain():
        if path.parent not in dirs:
            dirs.append(path.parent)
    return dirs


@contextmanager
def _faces(path: Path) -> Iterator[list]:
    """The faces of a font file (several in a collection) as fontTools reads them, each table
    read only when asked for, the file closed after. fontTools rather than matplotlib's
    FreeType: the process that writes the documents checks and names fonts without importing
    matplotlib (0.05 CPU-s against 0.25); both read the same character maps and names."""
    from fontTools.ttLib import TTCollection, TTFont

    # The file opened here, so that it is closed whatever fontTools raises on a damaged one.
    with path.open("rb") as file:
        if path.suffix.lower() in (".ttc", ".otc"):
            yield list(TTCollection(file, lazy=True).fonts)
        else:
            yield [TTFont(file, lazy=True)]


# What reading a file that is no font (or a damaged one) may raise, table by table.
_UNREADABLE = (OSError, ValueError, KeyError, IndexError, AssertionError, struct.error)


@cache
def coverage(path: Path) -> frozenset[int]:
    """The code points a font file has glyphs for (its first face, for a collection).

    Kept on disk between runs (`_kept`): reading a character map costs 0.03-0.1 CPU-s a file,
    and 0.05 more to import fontTools, in both the parent of a build and its drawer."""
    try:
        state = os.stat(path)
    except OSError:
        return frozenset()
    identity = f"{Path(path).resolve()}\n{state.st_size}\n{state.st_mtime_ns}\n{state.st_ino}\n"
    kept = _kept(identity)
    if kept is not None:
        return kept
    found = _read_coverage(path)
    if found:
        _keep(identity, found)
    return found


def _read_coverage(path: Path) -> frozenset[int]:
    from fontTools.ttLib import TTLibError

    try:
        with _faces(path) as faces:
            best = faces[0]["cmap"].getBestCmap() or {}
    except (TTLibError, *_UNREADABLE):
        return frozenset()
    return frozenset(code for code, glyph in best.items() if glyph != ".notdef")


# A font's coverage as kept: its identity (path, size, modification time and inode: another
# file or a changed one is read again), then the code points as 32-bit integers.
_KEPT_MAGIC = b"juesuan-coverage-1\n"


@cache
def _keeping_folder() -> Path | None:
    """This user's own folder for kept coverages (0700, checked to be the user's, so no one else
    can make a font seem to have a character), or None where there is none."""
    # Written as this machine's 32-bit integers: elsewhere (or without getuid) nothing is kept.
    if not hasattr(os, "getuid") or sys.byteorder != "little" or array.array("I").itemsize != 4:
        return None
    folder = Path(tempfile.gettempdir()) / f"juesuan-fonts-{os.getuid()}"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        state = os.lstat(folder)
    except OSError:
        return None
    if state.st_uid != os.getuid() or not stat.S_ISDIR(state.st_mode):
        return None
    if stat.S_IMODE(state.st_mode) != 0o700:
        return None
    return folder


def _kept_path(identity: str) -> Path | None:
    folder = _keeping_folder()
    if folder is None:
        return None
    return folder / f"{hashlib.sha256(identity.encode()).hexdigest()}.coverage"


def _kept(identity: str) -> frozenset[int] | None:
    path = _kept_path(identity)
    if path is None:
        return None
    head = _KEPT_MAGIC + identity.encode()
    try:
        data = path.read_bytes()
    except OSError:
        return None
    body = data[len(head) :]
    if not data.startswith(head) or not body or len(body) % 4:
        return None
    return frozenset(array.array("I", body))


def _keep(identity: str, codes: frozenset[int]) -> None:
    path = _kept_path(identity)
    if path is None:
        return
    data = _KEPT_MAGIC + identity.encode() + array.array("I", sorted(codes)).tobytes()
    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    except OSError:  # not kept: only read again next time
        return
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.remove(temporary)


def _drawn(text: str) -> set[str]:
    # Whitespace and control characters are laid out, not drawn.
    return {c for c in text if not c.isspace() and c.isprintable()}


def missing_glyphs(text: str) -> list[str]:
    """The characters of `text` that no font of the chain can draw, in order of appearance."""
    missing = _drawn(text)
    for path in font_chain():
        if not missing:
            break
        covered = coverage(path)
        missing = {c for c in missing if ord(c) not in covered}
    return sorted(missing, key=text.index)


def fonts_used(text: str, chain: Sequence[Path] | None = None) -> list[Path]:
    """The font files that draw `text`: for each character, the first of `chain` (by default
    `font_chain()`) that has it."""
    remaining = _drawn(text)
    used: list[Path] = []
    for path in font_chain() if chain is None else chain:
        if not remaining:
            break
        covered = coverage(path)
        drawn = {c for c in remaining if ord(c) in covered}
        if drawn:
            used.append(path)
            remaining -= drawn
    return used


@cache
def _postscript_names(folder: Path) -> dict[str, Path]:
    """PostScript name of every face of every font file in `folder` -> the file."""
    from fontTools.ttLib import TTLibError

    names: dict[str, Path] = {}
    for path in sorted(folder.iterdir()) if folder.is_dir() else ():
        if path.suffix.lower() not in FONT_SUFFIXES:
            continue
        try:
            with _faces(path) as faces:
                for face in faces:
                    name = face["name"].getDebugName(6)  # the PostScript name
                    if name is not None:
                        names.setdefault(name, path)
        except (TTLibError, *_UNREADABLE):
            continue
    return names


def read_font_names() -> None:
    """Read now the PostScript names `file_named` looks up (0.06-0.12 CPU-s, fontTools
    imported): a build does it while its PDF is laid out, not after."""
    for folder in font_dirs():
        _postscript_names(folder)


def file_named(postscript_name: str) -> Path | None:
    """The font file (of the folders renderers are given) holding a face of that PostScript
    name, as a PDF names the fonts it embeds; None when it is none of them."""
    for folder in font_dirs():
        path = _postscript_names(folder).get(postscript_name)
        if path is not None:
            return path
    return None


def require_glyphs(texts: Iterable[tuple[str, str]]) -> None:
    """Raise FontMissing naming each character that no font can draw and where it appears.

    `texts` are (where, text) pairs, such as ("单位名称", "…")."""
    problems: list[str] = []
    for where, text in texts:
        for character in missing_glyphs(text):
            at = text.index(character)
            snippet = text[max(0, at - 8) : at + 9].replace("\n", " ")
            problems.append(f"“{character}”（U+{ord(character):04X}，{where}：…{snippet}…）")
    if problems:
        shown = "；".join(dict.fromkeys(problems[:10]))
        more = f"等 {len(problems)} 处" if len(problems) > 10 else ""
        raise FontMissing(
            f"以下字符在可用的中文字体中都没有字形，印出来会是方框：{shown}{more}。"
            "请安装包含这些字的字体（Debian/Ubuntu：sudo apt install fonts-noto-cjk），"
            "或设置环境变量 JUESUAN_CJK_FONT 指向包含这些字的字体文件（.ttf/.otf/.ttc）"
        )


def font_source(path: Path) -> str:
    """Where a font file of the chain comes from: "bundled", "JUESUAN_CJK_FONT" or "system"."""
    if path.parent == BUNDLED_DIR:
        return "bundled"
    if _chosen() and path == Path(os.environ[ENV_VAR]).expanduser():
        return ENV_VAR
    return "system"


def clear_cache() -> None:
    """Forget what was found (after installing a font or changing JUESUAN_CJK_FONT's file)."""
    _search.cache_clear()
