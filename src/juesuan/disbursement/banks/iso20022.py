"""ISO 20022: pain.001.001.03 (credit transfer initiation) out, pain.002.001.03 (status report) in.

pain.001 is written with lxml's incremental writer (`etree.xmlfile`): the transactions stream to
a scratch file while count and sum are kept, then the group header (NbOfTxs, CtrlSum, which come
first in the message) and the transactions are put together. The file is checked against the
official pain.001.001.03 XSD shipped by the pinned `sepaxml` package, streamed, so memory stays
flat however many transactions there are. No official pain.002 XSD ships with a package we
use, so pain.002 files are read by structure (see docs.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from pathlib import Path

import polars as pl
from lxml import etree

from juesuan.disbursement.banks.adapter import PAIN002_PAID_DATE, Layout
from juesuan.disbursement.banks.fields import format_amount
from juesuan.disbursement.banks.results import MAX_PROBLEMS, check_rows
from juesuan.disbursement.banks.values import BatchFile, BatchHeader, Problem
from juesuan.disbursement.banks.writing import (
    Abandoned,
    Collector,
    assemble,
    body_file,
    finish,
    row_label,
)

PAIN001 = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"
PAIN002 = "urn:iso:std:iso:20022:tech:xsd:pain.002.001.03"
CURRENCY = "CNY"
_MARK = b"<!--transactions-->"
_OPEN, _CLOSE = b"<Txs>", b"</Txs>"


@cache
def pain001_schema() -> etree.XMLSchema:
    """The official pain.001.001.03 XSD, as shipped inside the `sepaxml` package."""
    source = resources.files("sepaxml") / "schemas" / "pain.001.001.03.xsd"
    with resources.as_file(source) as path:
        return etree.XMLSchema(etree.parse(str(path)))


def validate_pain001(path: str | Path) -> list[Problem]:
    """Check any pain.001.001.03 file against the official XSD; [] when valid.

    Files up to 64 MB are validated as a tree (exact line numbers). Larger ones are validated
    streamed, where libxml2 reports an error a little after it reads it: the line given is
    then that of the transaction being read, close to but not always at the fault.
    """
    path = Path(path)
    schema = pain001_schema()
    parser = etree.XMLParser(huge_tree=True)
    try:
        if path.stat().st_size <= 64 << 20:
            document = etree.parse(str(path), parser)
            if schema.validate(document):
                return []
            error = schema.error_log[0]
            return [_xsd_problem(path.name, error.message, error.line)]
    except etree.XMLSyntaxError as exc:
        return [_xsd_problem(path.name, exc.msg or str(exc), exc.lineno or None)]
    line = None
    try:
        for _, element in etree.iterparse(
            str(path),
            events=("end",),
            tag=f"{{{PAIN001}}}CdtTrfTxInf",
            schema=schema,
            huge_tree=True,
        ):
            line = element.sourceline
            element.clear()
            while element.getprevious() is not None:
                del element.getparent()[0]
    except etree.XMLSyntaxError as exc:
        return [_xsd_problem(path.name, exc.msg or str(exc), exc.lineno or line)]
    return []


def _xsd_problem(file: str, message: str, line: int | None) -> Problem:
    message = message.replace(f"{{{PAIN001}}}", "")
    return Problem(file, f"不符合 ISO 20022 pain.001.001.03 规范（官方 XSD）：{message}", line=line)


_TX_END = b"</CdtTrfTxInf>\n"
_CHUNK = 16 << 20


def _validate_written(file: str, path: Path, prefix: bytes, suffix: bytes) -> list[Problem]:
    """Validate a file we wrote (prefix + transactions + suffix) a slice at a time.

    Each slice of whole transactions between the same header and footer is a complete message;
    validating slices in memory is several times faster than libxml2's streaming validation
    and keeps memory to the slice. Line numbers are those of the whole file.
    """
    schema = pain001_schema()
    parser = etree.XMLParser(huge_tree=True)
    lines_before = 0  # transaction lines already checked
    with open(path, "rb") as handle:
        handle.seek(len(prefix))
        left = path.stat().st_size - len(prefix) - len(suffix)
        pending = b""
        while True:
            block = handle.read(min(_CHUNK, left)) if left > 0 else b""
            left -= len(block)
            pending += block
            cut = len(pending) if left <= 0 else pending.rfind(_TX_END) + len(_TX_END)
            if cut <= 0 and left > 0:
                continue
            chunk, pending = pending[:cut], pending[cut:]
            document = etree.fromstring(prefix + chunk + suffix, parser)
            if not schema.validate(document):
                error = schema.error_log[0]
                return [_xsd_problem(file, error.message, error.line + lines_before)]
            lines_before += chunk.count(b"\n")
            if left <= 0:
                return []


def _text(parent: etree._Element, tag: str, text: str) -> etree._Element:
    child = etree.SubElement(parent, tag)
    child.text = text
    return child


def _account(parent: etree._Element, tag: str, account: str, currency: bool = False) -> None:
    node = etree.SubElement(parent, tag)
    _text(etree.SubElement(etree.SubElement(node, "Id"), "Othr"), "Id", account)
    if currency:
        _text(node, "Ccy", CURRENCY)


def _agent(parent: etree._Element, tag: str, bank: str) -> None:
    _text(etree.SubElement(etree.SubElement(parent, tag), "FinInstnId"), "Nm", bank)


# Max lengths in pain.001.001.03 (Max35Text, Max140Text, Max34Text): checked before writing so
# the problem names the person rather than surfacing as an XSD error on line 1,234,567.
_LIMITS = {
    "reference": 35,
    "name": 140,
    "account_name": 140,
    "account": 34,
    "bank": 140,
    "purpose": 140,
}
_TITLES = {
    "reference": "EndToEndId",
    "name": "UltmtCdtr/Nm",
    "account_name": "Cdtr/Nm",
    "account": "CdtrAcct",
    "bank": "CdtrAgt/Nm",
    "purpose": "RmtInf/Ustrd",
}


def _tx_shape(bank: bool, ultimate: bool, purpose: bool) -> tuple:
    """One CdtTrfTxInf reused for every row of its shape: only the texts change.

    Building a dozen elements per row costs four times as much as filling them in, and a
    2,000,000-row batch would spend minutes on it. Leaves, in order: EndToEndId, InstdAmt,
    CdtrAgt/Nm, Cdtr/Nm, CdtrAcct/Id, UltmtCdtr/Nm, RmtInf/Ustrd (None when left out).
    """
    tx = etree.Element("CdtTrfTxInf")
    reference = _text(etree.SubElement(tx, "PmtId"), "EndToEndId", "")
    amount = etree.SubElement(etree.SubElement(tx, "Amt"), "InstdAmt", Ccy=CURRENCY)
    agent = (
        _text(etree.SubElement(etree.SubElement(tx, "CdtrAgt"), "FinInstnId"), "Nm", "")
        if bank
        else None
    )
    creditor = _text(etree.SubElement(tx, "Cdtr"), "Nm", "")
    node = etree.SubElement(etree.SubElement(etree.SubElement(tx, "CdtrAcct"), "Id"), "Othr")
    account = _text(node, "Id", "")
    final = _text(etree.SubElement(tx, "UltmtCdtr"), "Nm", "") if ultimate else None
    remittance = _text(etree.SubElement(tx, "RmtInf"), "Ustrd", "") if purpose else None
    return tx, (reference, amount, agent, creditor, account, final, remittance)


def write_pain001(
    layout: Layout,
    header: BatchHeader,
    records: Iterable[tuple[dict[str, str], int]],
    out_path: Path,
    problems: Collector,
) -> BatchFile:
    count = total = 0
    shapes: dict[tuple[bool, bool, bool], tuple] = {}
    with body_file(out_path) as body:
        with etree.xmlfile(body, encoding="utf-8", buffered=True) as xf, xf.element("Txs"):
            for values, fen in records:
                for field, limit in _LIMITS.items():
                    if len(values[field]) > limit:
                        problems.add(
                            f"{row_label(values)}的 {_TITLES[field]} "
                            f"“{values[field]}”有 {len(values[field])} 个字符，pain.001 最多 {limit} 个",
                            _TITLES[field],
                            values[field],
                        )
                ultimate = bool(
                    values["name"]
                    and values["account_name"]
                    and values["name"] != values["account_name"]
                )
                shape = (bool(values["bank"]), ultimate, bool(values["purpose"]))
                tx, leaves = shapes.get(shape) or shapes.setdefault(shape, _tx_shape(*shape))
                try:
                    for leaf, text in zip(
                        leaves,
                        (
                            values["reference"],
                            format_amount(fen, "yuan"),
                            values["bank"],
                            values["account_name"] or values["name"],
                            values["account"],
                            values["name"],
                            values["purpose"],
                        ),
                        strict=True,
                    ):
                        if leaf is not None:
                            leaf.text = text
                except ValueError:  # lxml refuses control characters that XML cannot hold
                    problems.add(
                        f"{row_label(values)}含有 XML 不能容纳的控制字符",
                        snippet=repr(values)[:60],
                    )
                    continue
                xf.write(tx)
                xf.write("\n")  # one transaction a line: problems can name the line
                count += 1
                total += fen
        prefix, suffix = _pain001_frame(header, count, total)

        def check(temporary: Path) -> None:
            found = _validate_written(out_path.name, temporary, prefix, suffix)
            if found:
                problems.problems.extend(found)
                raise Abandoned

        try:
            return finish(
                out_path,
                problems,
                count,
                total,
                lambda: _assemble(out_path, prefix, body, suffix, check),
            )
        except Abandoned:
            return BatchFile(None, out_path.name, count, total, "", problems.result())


def _assemble(out_path: Path, prefix: bytes, body, suffix: bytes, check=None) -> str:
    """The message: `prefix`, the transactions streamed into `body` (inside their scratch
    <Txs> element, which is left out), `suffix`."""
    body.flush()
    size = body.tell()
    body.seek(len(_OPEN))
    inner = _Window(body, size - len(_OPEN) - len(_CLOSE))
    return assemble(out_path, prefix, inner, suffix, check)


def _created(header: BatchHeader) -> str:
    created = header.created or datetime.now().replace(microsecond=0)
    return created.isoformat(timespec="seconds")


def _split_at_mark(root: etree._Element) -> tuple[bytes, bytes]:
    """The serialised message before and after its <!--transactions--> comment."""
    # The default namespace is declared on Document only, so the streamed transactions
    # (written without a namespace prefix) fall into it when put inside.
    text = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    before, after = text.replace(b' xmlns=""', b"").split(_MARK)
    return before, after


class _Window:
    """A read-only view of `length` bytes of an open file from its current position."""

    def __init__(self, handle, length: int) -> None:
        self.handle, self.left = handle, length
        self.start = handle.tell()

    def flush(self) -> None:
        pass

    def seek(self, _offset: int) -> None:
        self.handle.seek(self.start)

    def read(self, size: int) -> bytes:
        chunk = self.handle.read(min(size, self.left))
        self.left -= len(chunk)
        return chunk


def _pain001_frame(header: BatchHeader, count: int, total: int) -> tuple[bytes, bytes]:
    amount = format_amount(total, "yuan")
    root = etree.Element("Document", nsmap={None: PAIN001})
    message = etree.SubElement(root, "CstmrCdtTrfInitn")
    group = etree.SubElement(message, "GrpHdr")
    _text(group, "MsgId", header.batch_id)
    _text(group, "CreDtTm", _created(header))
    _text(group, "NbOfTxs", str(count))
    _text(group, "CtrlSum", amount)
    _text(etree.SubElement(group, "InitgPty"), "Nm", header.payer_name)
    info = etree.SubElement(message, "PmtInf")
    _text(info, "PmtInfId", header.batch_id)
    _text(info, "PmtMtd", "TRF")
    _text(info, "NbOfTxs", str(count))
    _text(info, "CtrlSum", amount)
    _text(info, "ReqdExctnDt", header.execution_date.isoformat())
    _text(etree.SubElement(info, "Dbtr"), "Nm", header.payer_name)
    _account(info, "DbtrAcct", header.payer_account, currency=True)
    _agent(info, "DbtrAgt", header.payer_bank or "NOTPROVIDED")
    info.append(etree.Comment("transactions"))
    return _split_at_mark(root)


# ---------------------------------------------------------------- pain.002


def write_pain002(
    header: BatchHeader,
    records: Iterable[tuple[dict[str, str], int]],
    out_path: Path,
    problems: Collector,
) -> BatchFile:
    """The bank simulator's pain.002.001.03 status report for a batch."""
    count = total = 0
    with body_file(out_path) as body:
        with etree.xmlfile(body, encoding="utf-8", buffered=True) as xf, xf.element("Txs"):
            for values, fen in records:
                tx = etree.Element("TxInfAndSts")
                _text(tx, "OrgnlEndToEndId", values["reference"])
                _text(tx, "TxSts", values["status"])
                if values["status"] == "RJCT":
                    info = etree.SubElement(tx, "StsRsnInf")
                    _text(etree.SubElement(info, "Rsn"), "Cd", values["reason_code"] or "NARR")
                    if values["reason"]:
                        _text(info, "AddtlInf", values["reason"][:105])
                if values["paid_on"]:
                    _text(tx, PAIN002_PAID_DATE, f"{values['paid_on']}T00:00:00")
                if values["bank_serial"]:
                    _text(tx, "AcctSvcrRef", values["bank_serial"])
                reference = etree.SubElement(tx, "OrgnlTxRef")
                amount = etree.SubElement(
                    etree.SubElement(reference, "Amt"), "InstdAmt", Ccy=CURRENCY
                )
                amount.text = format_amount(fen, "yuan")
                xf.write(tx)
                xf.write("\n")  # one transaction a line: problems can name the line
                count += 1
                total += fen
        root = etree.Element("Document", nsmap={None: PAIN002})
        report = etree.SubElement(root, "CstmrPmtStsRpt")
        group = etree.SubElement(report, "GrpHdr")
        _text(group, "MsgId", f"STS-{header.batch_id}"[:35])
        _text(group, "CreDtTm", _created(header))
        original = etree.SubElement(report, "OrgnlGrpInfAndSts")
        _text(original, "OrgnlMsgId", header.batch_id)
        _text(original, "OrgnlMsgNmId", "pain.001.001.03")
        _text(original, "OrgnlNbOfTxs", str(count))
        _text(original, "OrgnlCtrlSum", format_amount(total, "yuan"))
        payment = etree.SubElement(report, "OrgnlPmtInfAndSts")
        _text(payment, "OrgnlPmtInfId", header.batch_id)
        payment.append(etree.Comment("transactions"))
        before, after = _split_at_mark(root)
        return finish(
            out_path, problems, count, total, lambda: _assemble(out_path, before, body, after)
        )


_NS2 = f"{{{PAIN002}}}"
_TX = f"{_NS2}TxInfAndSts"
_FIELDS = {  # child of TxInfAndSts (any depth) → column; Cd/Prtry only under Rsn
    f"{_NS2}OrgnlEndToEndId": "reference",
    f"{_NS2}TxSts": "status",
    f"{_NS2}AddtlInf": "reason",
    f"{_NS2}AcctSvcrRef": "bank_serial",
    f"{_NS2}InstdAmt": "amount",
    f"{_NS2}{PAIN002_PAID_DATE}": "paid_on",
}
_REASON = {f"{_NS2}Cd", f"{_NS2}Prtry"}


def read_pain002(layout: Layout, path: Path) -> tuple[pl.DataFrame | None, list[Problem], str]:
    """Rows of a pain.002.001.03 status report, and the original message id (our batch id)."""
    file = path.name
    names = (
        "reference", "status", "reason_code", "reason", "bank_serial", "amount", "paid_on", "line",
    )  # fmt: skip
    columns: dict[str, list] = {k: [] for k in names}
    batch_id = ""
    try:
        for _, element in etree.iterparse(str(path), events=("start",)):
            if element.tag != f"{_NS2}Document":
                found = Problem(
                    file,
                    f"不是 pain.002.001.03 状态报告（根元素为 {element.tag}）；"
                    f"应为 {PAIN002} 的 Document",
                    line=element.sourceline,
                )
                return None, [found], ""
            break
        rsn = f"{_NS2}Rsn"
        message_id = f"{_NS2}OrgnlMsgId"
        for _, element in etree.iterparse(
            str(path), events=("end",), tag=(_TX, message_id), huge_tree=True
        ):
            if element.tag == message_id:
                batch_id = (element.text or "").strip()
                continue
            row = dict.fromkeys(names)
            for child in element.iterdescendants():
                field = _FIELDS.get(child.tag)
                if field is not None:
                    if row[field] is None:
                        row[field] = child.text
                elif child.tag in _REASON and row["reason_code"] is None:
                    if child.getparent().tag == rsn:
                        row["reason_code"] = child.text
            row["amount"] = _amount(row["amount"])
            if row["paid_on"]:  # an ISO date-time: the day is its first ten characters
                row["paid_on"] = row["paid_on"].strip()[:10]
            row["line"] = element.sourceline
            for key in names:
                columns[key].append(row[key])
            element.clear()
            while element.getprevious() is not None:
                del element.getparent()[0]
    except etree.XMLSyntaxError as exc:
        found = Problem(
            file,
            f"XML 不完整或有误（{exc.msg}）；文件可能被截断，请向银行重新索取",
            line=exc.lineno or None,
        )
        return None, [found], ""
    except OSError as exc:
        return None, [Problem(file, f"无法读取（{exc.strerror or exc}）")], ""
    frame = pl.DataFrame(
        {k: pl.Series(v, dtype=pl.Int64 if k == "line" else pl.String) for k, v in columns.items()}
    )
    problems = [
        Problem(
            file,
            "缺少原始金额 OrgnlTxRef/Amt/InstdAmt；无法核对到账金额",
            line=line,
            column="OrgnlTxRef/Amt/InstdAmt",
        )
        for line in frame.filter(pl.col("amount").is_null())["line"].head(MAX_PROBLEMS).to_list()
    ]
    if problems:
        return None, problems, batch_id
    checked, problems = check_rows(frame, layout, file)
    return checked, problems, batch_id


_CENTS = re.compile(r"\d{1,15}\.\d\d")


def _amount(text: str | None) -> str | None:
    """XML decimals may have 0–5 fraction digits; keep the value as "元.分" if it is exact."""
    if text is None:
        return None
    text = text.strip()
    if _CENTS.fullmatch(text):
        return text
    try:
        value = Decimal(text)
    except InvalidOperation:
        return text
    if value != value.quantize(Decimal("0.01")) or value < 0:
        return text
    return f"{value:.2f}"
