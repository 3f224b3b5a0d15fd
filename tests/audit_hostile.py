"""Hostile documents for the audit, generated small: spans of a million cells, a page of 200,000
text runs, a zip bomb, an encrypted PDF. Used by test_audit_limits.py; run as a script to measure
the memory and time `juesuan audit` takes on each:

    .venv/bin/python tests/audit_hostile.py [FOLDER]

Each document runs in its own process (peak resident memory from getrusage, wall time).
"""

from __future__ import annotations

import hashlib
import struct
import zipfile
import zlib
from pathlib import Path

# ---- HTML ---------------------------------------------------------------------------------------


def html_spans(rows: int = 10, colspan: int = 1_000_000, rowspan: int = 1_000_000) -> bytes:
    """A few hundred bytes whose cells, laid out, would be rows × colspan × rowspan."""
    cell = f'<td colspan="{colspan}" rowspan="{rowspan}">1</td>'
    return ("<table>" + f"<tr>{cell}</tr>" * rows + "</table>").encode()


def html_wide_and_long(rows: int = 2_000) -> bytes:
    """Small spans, but one row as wide as a span may be and many short rows: the laid-out
    grid (rows × the widest row) is large though the spans are not."""
    return (
        '<table><tr><td colspan="1000">总计</td></tr>' + "<tr><td>1</td></tr>" * rows + "</table>"
    ).encode()


# ---- DOCX ---------------------------------------------------------------------------------------


def docx_grid_span(path: Path, span: int = 10_000_000) -> Path:
    """A one-cell table whose cell says it spans `span` grid columns."""
    import docx

    document = docx.Document()
    document.add_paragraph("一、收入支出决算总体情况说明")
    table = document.add_table(rows=2, cols=1)
    table.cell(0, 0)._tc.grid_span = span
    document.save(path)
    return path


def docx_bomb(path: Path, megabytes: int = 60, declared: int | None = None) -> Path:
    """A .docx whose document.xml inflates to `megabytes` MB (blank space inside the body); with
    `declared`, the zip's headers claim that many bytes instead (a lying size)."""
    import docx

    plain = path.with_suffix(".plain.docx")
    docx.Document().save(plain)
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w") as target:
        for entry in source.infolist():
            data = source.read(entry)
            if entry.filename != "word/document.xml":
                target.writestr(entry, data, zipfile.ZIP_DEFLATED)
                continue
            head, tail = data.split(b"<w:body>")
            info = zipfile.ZipInfo(entry.filename, entry.date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            with target.open(info, "w", force_zip64=True) as part:
                part.write(head + b"<w:body>")
                blank = b" " * (1024 * 1024)
                for _ in range(megabytes):
                    part.write(blank)
                part.write(tail)
    plain.unlink()
    if declared is not None:
        _declare_size(path, "word/document.xml", declared)
    return path


def _declare_size(path: Path, name: str, size: int) -> None:
    """Rewrite the sizes the zip's headers declare for one part (the data stays as it is)."""
    data = bytearray(path.read_bytes())
    encoded = name.encode()
    at = data.find(b"PK\x03\x04")
    while at != -1:
        length = struct.unpack_from("<H", data, at + 26)[0]
        if data[at + 30 : at + 30 + length] == encoded:
            extra = struct.unpack_from("<H", data, at + 28)[0]
            struct.pack_into("<I", data, at + 22, size)  # uncompressed size
            if extra:  # zip64: the real sizes are in the extra field
                struct.pack_into("<Q", data, at + 30 + length + 4, size)
        at = data.find(b"PK\x03\x04", at + 4)
    at = data.find(b"PK\x01\x02")
    while at != -1:
        length = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46 : at + 46 + length] == encoded:
            struct.pack_into("<I", data, at + 24, size)
            extra = struct.unpack_from("<H", data, at + 30)[0]
            if extra:
                struct.pack_into("<Q", data, at + 46 + length + 4, size)
        at = data.find(b"PK\x01\x02", at + 4)
    path.write_bytes(bytes(data))


# ---- PDF ----------------------------------------------------------------------------------------

_PAD = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")
_ID = hashlib.md5(b"juesuan").digest()


def _rc4(key: bytes, data: bytes) -> bytes:
    state = list(range(256))
    j = 0
    for i in range(256):
        j = (j + state[i] + key[i % len(key)]) % 256
        state[i], state[j] = state[j], state[i]
    out = bytearray()
    i = j = 0
    for byte in data:
        i = (i + 1) % 256
        j = (j + state[i]) % 256
        state[i], state[j] = state[j], state[i]
        out.append(byte ^ state[(state[i] + state[j]) % 256])
    return bytes(out)


def _encryption(user: str, owner: str) -> tuple[bytes, bytes]:
    """The /Encrypt dictionary and the file key of the standard security handler, revision 2
    (RC4, 40-bit), as the PDF reference's algorithms 3.2–3.4 compute them."""
    permissions = -4
    owner_key = hashlib.md5((owner.encode() + _PAD)[:32]).digest()[:5]
    o_entry = _rc4(owner_key, (user.encode() + _PAD)[:32])
    key = hashlib.md5(
        (user.encode() + _PAD)[:32] + o_entry + struct.pack("<i", permissions) + _ID
    ).digest()[:5]
    u_entry = _rc4(key, _PAD)
    dictionary = b"<< /Filter /Standard /V 1 /R 2 /Length 40 /P %d /O <%s> /U <%s> >>" % (
        permissions,
        o_entry.hex().encode(),
        u_entry.hex().encode(),
    )
    return dictionary, key


def pdf(
    content: bytes,
    user_password: str | None = None,
    owner_password: str = "owner",
    pages: int = 1,
) -> bytes:
    """A PDF of `pages` pages, each drawing `content` (a content stream, Flate-compressed) in
    Helvetica; with `user_password` (may be ""), encrypted with the standard security handler."""
    stream = zlib.compress(content, 9)
    encrypt, key = (
        (None, b"") if user_password is None else _encryption(user_password, owner_password)
    )
    if encrypt:  # the stream is object 4, generation 0
        object_key = hashlib.md5(key + struct.pack("<i", 4)[:3] + b"\0\0").digest()[:10]
        stream = _rc4(object_key, stream)
    kids = b" ".join(b"%d 0 R" % (5 + i) for i in range(pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(stream), stream),
    ]
    objects += [
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 3 0 R >> >> >>"
    ] * pages
    if encrypt:
        objects.append(encrypt)
    trailer = b" /ID [<%s> <%s>]" % (_ID.hex().encode(), _ID.hex().encode())
    if encrypt:
        trailer += b" /Encrypt %d 0 R" % len(objects)
    return _assembled(objects, trailer)


def _assembled(objects: list[bytes], trailer: bytes = b"") -> bytes:
    """The file of `objects`, numbered from 1 (the first is the catalog), with their
    cross-reference table; `trailer` adds entries to the trailer dictionary."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        trailer,
        xref,
    )
    return bytes(out)


# a font whose glyphs have no Unicode: no ToUnicode map, identity CIDs, nothing embedded
GARBLED_FONT = (
    b"<< /Type /Font /Subtype /Type0 /BaseFont /Garbled /Encoding /Identity-H /DescendantFonts"
    b" [<< /Type /Font /Subtype /CIDFontType2 /BaseFont /Garbled /CIDSystemInfo"
    b" << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /DW 1000 >>] >>"
)


def pdf_of_pages(contents: list[bytes]) -> bytes:
    """A PDF with one page per content stream (not compressed); /F1 is Helvetica, /F2 a font
    whose glyphs have no Unicode (a garbled text layer)."""
    count = len(contents)
    kids = b" ".join(b"%d 0 R" % (5 + 2 * i) for i in range(count))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, count),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        GARBLED_FONT,
    ]
    for index, content in enumerate(contents):
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents %d 0 R"
            b" /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> >>" % (6 + 2 * index)
        )
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content))
    return _assembled(objects)


def garbled_content(glyphs: int = 40) -> bytes:
    """A line of `glyphs` characters in the font with no Unicode."""
    codes = b"".join(b"%04X" % (0x100 + i) for i in range(glyphs))
    return b"BT /F2 12 Tf 72 780 Td <%s> Tj ET" % codes


def text_content(lines: list[str]) -> bytes:
    """A content stream printing each line in 12 pt, top down."""
    body = b"".join(
        b"1 0 0 1 72 %d Tm (%s) Tj\n" % (780 - 16 * i, s.encode()) for i, s in enumerate(lines)
    )
    return b"BT /F1 12 Tf\n" + body + b"ET"


def many_runs(runs: int = 200_000) -> bytes:
    """One page showing `runs` separate one-letter text runs."""
    return b"BT /F1 1 Tf\n" + b"(a) Tj\n" * runs + b"ET"


# ---- measuring ----------------------------------------------------------------------------------


def write_all(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "spans.html").write_bytes(html_spans())
    (folder / "wide.html").write_bytes(html_wide_and_long())
    docx_grid_span(folder / "gridspan.docx")
    docx_bomb(folder / "bomb.docx", megabytes=1200)
    docx_bomb(folder / "lying-bomb.docx", megabytes=1200, declared=4096)
    (folder / "runs.pdf").write_bytes(pdf(many_runs()))
    (folder / "encrypted.pdf").write_bytes(pdf(text_content(["Total 100.00"]), "secret"))
    (folder / "forty-digits.txt").write_text(
        "支出总计100.00万元，其中：基本支出" + "1234567890" * 4 + ".12万元，项目支出5.00万元。\n",
        "utf-8",
    )
    return sorted(p for p in folder.iterdir() if p.is_file())


_AUDIT_ONE = """
import resource, sys, time
from juesuan.audit import audit
started = time.monotonic()
report = audit(sys.argv[1])
seconds = time.monotonic() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
reason = report.document.get("error") or ""
print(f"{report.exit_code}\t{seconds:.2f}\t{peak}\t{reason}")
"""


def measure(path: Path) -> tuple[int, float, int, str]:
    """Exit status, seconds and peak resident MB of auditing PATH in a fresh process (the time
    of the audit itself, without the interpreter's start)."""
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", _AUDIT_ONE, str(path)], capture_output=True, text=True
    )
    if result.returncode:
        return result.returncode, 0.0, 0, "crashed: " + result.stderr.strip()[-300:]
    code, seconds, peak, reason = result.stdout.rstrip("\n").split("\t")
    return int(code), float(seconds), int(peak), reason


if __name__ == "__main__":
    import sys
    import tempfile

    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="hostile-"))
    for path in write_all(folder):
        code, seconds, peak, reason = measure(path)
        print(
            f"{path.name:18} {path.stat().st_size:>9} B  exit {code}  {seconds:5.1f} s  {peak:5d} MB  {reason}"
        )
