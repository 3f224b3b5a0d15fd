"""Make the Chinese fonts bundled in src/juesuan/fonts/data/ from Noto Sans/Serif CJK.

Run once when the bundled fonts change (not at build or install time):

    python tools/make_bundled_fonts.py /usr/share/fonts/opentype/noto

The folder must hold NotoSansCJK-Regular.ttc and NotoSerifCJK-Regular.ttc (Debian's
fonts-noto-cjk, or the release files of https://github.com/notofonts/noto-cjk). Each Simplified
Chinese face is cut down to the characters a disclosure uses — every character of GB 2312 (all
6,763 hanzi), Latin-1, general and CJK punctuation, full-width forms, and every character of the
project's own texts, code tables and examples — and renamed "Juesuan Noto Sans SC" /
"Juesuan Noto Serif SC" (sans in regular and bold, serif in regular), so that it never masks a complete Noto CJK installed on the system (the
renderers fall back to those for characters the subset lacks). The SIL Open Font License 1.1
allows this: the fonts' one Reserved Font Name is "Source", which the new names do not use.
Needs fontTools (installed with matplotlib).
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "src" / "juesuan" / "fonts" / "data"
FACES = (
    # source collection, new family name, style
    ("NotoSansCJK-Regular.ttc", "Juesuan Noto Sans SC", "Regular"),
    ("NotoSansCJK-Bold.ttc", "Juesuan Noto Sans SC", "Bold"),
    ("NotoSerifCJK-Regular.ttc", "Juesuan Noto Serif SC", "Regular"),
)
RANGES = (
    (0x0020, 0x007E),  # ASCII
    (0x00A0, 0x00FF),  # Latin-1
    (0x2000, 0x206F),  # general punctuation: — ‘ ’ “ ” … ‰
    (0x2100, 0x215F),  # letterlike: ℃ №
    (0x2160, 0x217F),  # Roman numerals Ⅰ Ⅱ
    (0x2190, 0x21FF),  # arrows
    (0x2200, 0x22FF),  # mathematical operators: − × ≤ ≥ ≈
    (0x2460, 0x24FF),  # enclosed ① ⑴ ⒈
    (0x2500, 0x257F),  # box drawing
    (0x25A0, 0x25FF),  # geometric shapes ■ □ ○ ●
    (0x3000, 0x303F),  # CJK symbols and punctuation: 、。《》【】
    (0x3200, 0x32FF),  # enclosed CJK ㈠ ㈡
    (0xFE30, 0xFE4F),  # CJK compatibility forms
    (0xFF00, 0xFFEF),  # full-width forms
)
TEXT_SUFFIXES = {".py", ".yaml", ".md", ".csv", ".toml", ".txt", ".html"}


def characters() -> set[int]:
    wanted: set[int] = set()
    for first, last in RANGES:
        wanted.update(range(first, last + 1))
    for code in range(0x4E00, 0xA000):
        try:
            chr(code).encode("gb2312")
        except UnicodeEncodeError:
            continue
        wanted.add(code)
    sources = [ROOT / "src", ROOT / "examples", ROOT.parent / "shared"]
    for folder in sources:
        for path in folder.rglob("*"):
            if path.suffix in TEXT_SUFFIXES and path.is_file():
                text = path.read_text(encoding="utf-8", errors="ignore")
                wanted.update(ord(c) for c in text if ord(c) >= 0x80)
    return wanted


def simplified_face(collection: TTCollection):
    for font in collection.fonts:
        if font["name"].getDebugName(1).endswith(" SC"):
            return font
    raise SystemExit("no Simplified Chinese (SC) face in the collection")


def rename(font, family: str, style: str) -> None:
    postscript = f"{family.replace(' ', '')}-{style}"
    names = {
        1: family,
        4: f"{family} {style}",
        6: postscript,
        16: family,
        3: f"{postscript};subset",
    }
    table = font["name"]
    for record in list(table.names):
        if record.nameID in names:
            table.setName(
                names[record.nameID],
                record.nameID,
                record.platformID,
                record.platEncID,
                record.langID,
            )
    cff = font["CFF "].cff
    cff.fontNames = [postscript]


def main(source_dir: str) -> None:
    wanted = characters()
    OUT.mkdir(parents=True, exist_ok=True)
    for source, family, style in FACES:
        target = f"{family.replace(' ', '')}-{style}.otf"
        font = simplified_face(TTCollection(Path(source_dir) / source))
        options = subset.Options()
        options.layout_features = ["*"]
        options.name_IDs = ["*"]
        options.name_languages = ["*"]
        options.notdef_outline = True
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=wanted)
        subsetter.subset(font)
        rename(font, family, style)
        font.save(OUT / target)
        covered = len(font.getBestCmap())
        print(f"{target}: {covered} characters, {(OUT / target).stat().st_size:,} bytes")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    main(sys.argv[1])
