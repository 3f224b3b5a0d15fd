"""Chinese (CJK) font files on this system, for the chart and PDF renderers.

Order of search: the file named by the environment variable JUESUAN_CJK_FONT; the usual places
of Noto CJK / WenQuanYi (Debian, Fedora, Arch), macOS and Windows fonts; then fontconfig
(`fc-list :lang=zh`). Results are cached; `clear_cache()` forgets them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import warnings
from functools import cache
from pathlib import Path
from typing import Literal

ENV_VAR = "JUESUAN_CJK_FONT"

INSTALL_HINT = (
    "未找到中文字体：请安装 Noto CJK 字体（Debian/Ubuntu：sudo apt install fonts-noto-cjk），"
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
    """No Chinese font file could be found; the message says how to install one."""

    def __init__(self, message: str = INSTALL_HINT):
        super().__init__(message)


def _is_serif(text: str) -> bool:
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
                f"环境变量 {ENV_VAR} 指向的字体文件不存在：{env_value}；改用系统中找到的中文字体",
                stacklevel=3,
            )
    result: dict[str, list[Path]] = {kind: list(chosen) for kind in _KINDS}
    for kind in _KINDS:
        for name in SEARCH_PATHS[kind]:
            path = Path(name)
            if path.is_file() and path not in result[kind]:
                result[kind].append(path)
    for path, names in _fc_list():
        kind = "serif" if _is_serif(f"{path.name} {names}") else "sans"
        if path.is_file() and path not in result[kind]:
            result[kind].append(path)
    return {kind: tuple(paths) for kind, paths in result.items()}


def _found() -> dict[str, tuple[Path, ...]]:
    return _search(os.environ.get(ENV_VAR) or None)


def cjk_font_files(kind: Kind = "sans") -> list[Path]:
    """Every CJK font file of one kind found here, best first (JUESUAN_CJK_FONT leads both)."""
    if kind not in _KINDS:
        raise ValueError(f"kind must be 'sans' or 'serif', not {kind!r}")
    return list(_found()[kind])


def find_cjk_font() -> Path:
    """The CJK font file to use (a sans face if there is one); FontMissing if there is none."""
    found = _found()
    for kind in _KINDS:
        if found[kind]:
            return found[kind][0]
    raise FontMissing()


def font_dirs() -> list[Path]:
    """The directories holding the CJK font files found (for typst's font paths), best first."""
    dirs: list[Path] = []
    for kind in _KINDS:
        for path in _found()[kind]:
            if path.parent not in dirs:
                dirs.append(path.parent)
    return dirs


def clear_cache() -> None:
    """Forget what was found (after installing a font or changing JUESUAN_CJK_FONT's file)."""
    _search.cache_clear()
