"""Settling a recovery (追回): money paid that was not owed, collected or written off.

A receivable (`Receivable`) has an amount (分) and the settlements entered against it. 经办
enters a settlement: a collection (家属退回, 银行退回, 从后续发放中扣回) or a write-off (核销);
复核 — someone other than who entered it — checks it; a write-off also needs 审批 by someone
who neither entered nor checked it. Only a checked collection and an approved write-off count:

    outstanding = amount − collected − written off ≥ 0

so a settlement that would take the outstanding amount below zero is refused when entered
(counting the ones still waiting) and again when it would count. The receivable's status follows:
待追回 (nothing counted), 部分追回, 已追回 (nothing outstanding, collected in full) or 已核销
(nothing outstanding, the rest written off).

Pure functions over values, like `transitions`: the web app calls them inside its
transactions. A refusal is a `transitions.Refusal` with a Chinese text.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import date

from juesuan.disbursement.transitions import APPROVER, CLERK, REVIEWER, Refusal
from juesuan.money import fmt_fen

# Where a receivable stands.
OPEN, PARTLY, RECOVERED, WRITTEN_OFF = "open", "partly", "settled", "written_off"
STATUS_NAMES = {OPEN: "待追回", PARTLY: "部分追回", RECOVERED: "已追回", WRITTEN_OFF: "已核销"}

# How money came back, or that it will not.
FAMILY, BANK, OFFSET, WRITE_OFF = "family", "bank", "offset", "write_off"
METHOD_NAMES = {
    FAMILY: "家属退回",
    BANK: "银行退回",
    OFFSET: "从后续发放中扣回",
    WRITE_OFF: "核销",
}

# Where a settlement stands. A collection counts once CHECKED, a write-off once APPROVED.
ENTERED, CHECKED, APPROVED, REJECTED = "entered", "checked", "approved", "rejected"
SETTLEMENT_STATE_NAMES = {
    ENTERED: "待复核",
    CHECKED: "已复核",
    APPROVED: "已审批",
    REJECTED: "未通过",
}


@dataclass(frozen=True)
class Settlement:
    """One collection or write-off against a receivable (amount in 分, > 0)."""

    method: str
    amount: int
    day: date
    entered_by: str
    note: str = ""
    state: str = ENTERED
    checked_by: str = ""
    approved_by: str = ""

    @property
    def write_off(self) -> bool:
        return self.method == WRITE_OFF

    @property
    def counts(self) -> bool:
        """Whether it takes money off the outstanding amount."""
        return self.state == (APPROVED if self.write_off else CHECKED)

    @property
    def waiting(self) -> bool:
        """Entered and not yet decided (a checked write-off still waits for 审批)."""
        return self.state == ENTERED or (self.write_off and self.state == CHECKED)

    @property
    def state_name(self) -> str:
        if self.write_off and self.state == CHECKED:
            return "已复核，待审批"
        return SETTLEMENT_STATE_NAMES.get(self.state, self.state)


@dataclass(frozen=True)
class Receivable:
    """A recovery's amount (分) and its settlements, in the order they were entered."""

    amount: int
    settlements: tuple[Settlement, ...] = field(default=())

    @property
    def collected(self) -> int:
        return sum(s.amount for s in self.settlements if s.counts and not s.write_off)

    @property
    def written_off(self) -> int:
        return sum(s.amount for s in self.settlements if s.counts and s.write_off)

    @property
    def outstanding(self) -> int:
        return self.amount - self.collected - self.written_off

    @property
    def waiting(self) -> int:
        """What the settlements not yet decided would take off."""
        return sum(s.amount for s in self.settlements if s.waiting)

    @property
    def status(self) -> str:
        return status_of(self.amount, self.collected, self.written_off)


def status_of(amount: int, collected: int, written_off: int) -> str:
    if collected + written_off == 0:
        return OPEN
    if collected + written_off < amount:
        return PARTLY
    return WRITTEN_OFF if written_off else RECOVERED


def _yuan(fen: int) -> str:
    return fmt_fen(fen)


def check_entry(
    receivable: Receivable, entry: Settlement, user: str, roles: Collection[str]
) -> Refusal | None:
    """May `user` enter `entry`? 经办 only; a known method; a positive amount no larger than
    what is outstanding once the settlements still waiting are counted."""
    if CLERK not in roles:
        return Refusal(f"{user}没有经办权限，不能登记追回。")
    if entry.method not in METHOD_NAMES:
        return Refusal(
            f"追回方式“{entry.method}”无法识别，可选：{'、'.join(METHOD_NAMES.values())}。"
        )
    if entry.amount <= 0:
        return Refusal("金额应大于 0 元。")
    if receivable.outstanding == 0:
        return Refusal(f"这笔追回已{STATUS_NAMES[receivable.status]}，没有待追回金额，不能再登记。")
    room = receivable.outstanding - receivable.waiting
    if entry.amount > room:
        waiting = (
            f"（其中 {_yuan(receivable.waiting)} 元已登记、尚待复核或审批）"
            if receivable.waiting
            else ""
        )
        return Refusal(
            f"登记金额 {_yuan(entry.amount)} 元超过尚可登记的 {_yuan(max(room, 0))} 元："
            f"待追回 {_yuan(receivable.outstanding)} 元{waiting}。多收的款项不能记作追回。"
        )
    return None


def check_review(
    receivable: Receivable, index: int, user: str, roles: Collection[str], *, accept: bool = True
) -> Refusal | None:
    """May `user` check (复核) settlement `index`? A 复核 who did not enter it, once; accepted
    only while it fits in the outstanding amount (a write-off is measured again at 审批)."""
    entry = receivable.settlements[index]
    if entry.state == REJECTED:
        return Refusal("这条登记已复核未通过，无需再次复核。")
    if entry.state != ENTERED:
        return Refusal(f"这条登记已由{entry.checked_by}复核，无需再次复核。")
    if REVIEWER not in roles:
        return Refusal(f"{user}没有复核权限，不能复核追回登记。")
    if user == entry.entered_by:
        return Refusal("追回登记须由登记人以外的复核人复核，不能复核自己登记的款项。")
    return _fits(receivable, entry) if accept and not entry.write_off else None


def check_approval(
    receivable: Receivable, index: int, user: str, roles: Collection[str], *, accept: bool = True
) -> Refusal | None:
    """May `user` approve (审批) write-off `index`? Checked first; by 审批, who neither entered
    nor checked it; approved only while it fits in the outstanding amount."""
    entry = receivable.settlements[index]
    if not entry.write_off:
        return Refusal("只有核销需要审批；追回款项经复核即入账。")
    if entry.state == APPROVED:
        return Refusal(f"这笔核销已由{entry.approved_by}审批，无需再次审批。")
    if entry.state == REJECTED:
        return Refusal("这笔核销未获通过，无需再次审批。")
    if entry.state != CHECKED:
        return Refusal("核销须先经复核，复核通过后才能审批。")
    if APPROVER not in roles:
        return Refusal(f"{user}没有审批权限，不能审批核销。")
    if user in (entry.entered_by, entry.checked_by):
        return Refusal("审批人不能是这笔核销的登记人或复核人。")
    return _fits(receivable, entry) if accept else None


def _fits(receivable: Receivable, entry: Settlement) -> Refusal | None:
    if entry.amount > receivable.outstanding:
        return Refusal(
            f"这条登记 {_yuan(entry.amount)} 元超过待追回的 {_yuan(receivable.outstanding)} 元，"
            "不能入账；请退回后按实际金额重新登记。"
        )
    return None


def enter(receivable: Receivable, entry: Settlement) -> Receivable:
    """The receivable with `entry` added (call `check_entry` first)."""
    return replace(receivable, settlements=(*receivable.settlements, replace(entry, state=ENTERED)))


def review(receivable: Receivable, index: int, user: str, *, accept: bool) -> Receivable:
    """Settlement `index` checked by `user`: CHECKED when accepted, else REJECTED (call
    `check_review` first)."""
    return _replace_at(receivable, index, state=CHECKED if accept else REJECTED, checked_by=user)


def approve(receivable: Receivable, index: int, user: str, *, accept: bool) -> Receivable:
    """Write-off `index` decided by 审批 `user` (call `check_approval` first)."""
    return _replace_at(receivable, index, state=APPROVED if accept else REJECTED, approved_by=user)


def _replace_at(receivable: Receivable, index: int, **changes) -> Receivable:
    settlements = list(receivable.settlements)
    settlements[index] = replace(settlements[index], **changes)
    return replace(receivable, settlements=tuple(settlements))


__all__ = [
    "APPROVED",
    "BANK",
    "CHECKED",
    "ENTERED",
    "FAMILY",
    "METHOD_NAMES",
    "OFFSET",
    "OPEN",
    "PARTLY",
    "RECOVERED",
    "REJECTED",
    "SETTLEMENT_STATE_NAMES",
    "STATUS_NAMES",
    "WRITE_OFF",
    "WRITTEN_OFF",
    "Receivable",
    "Settlement",
    "approve",
    "check_approval",
    "check_entry",
    "check_review",
    "enter",
    "review",
    "status_of",
]
