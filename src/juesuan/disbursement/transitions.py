"""The state rules of a payment run (批次) and of a payment (付款): pure functions, no storage.

The web app calls these inside its database transactions and `book.py` calls them in memory, so
both keep exactly the same rules. Every function takes values and returns a value: a refusal is a
`Refusal` with a Chinese text, never an exception.

Run steps: 经办 prepares (PREPARED) → 复核 reviews (REVIEWED) → 审批 approves (APPROVED). The
reviewer is not the preparer; the approver is neither. An approved run is frozen. Before approval
a run can be sent back to 经办 (退回经办, SENT_BACK): its payments are withdrawn and the month is
prepared again as a new run.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field, replace
from datetime import date

from juesuan.disbursement.model import (
    APPROVED,
    CANCELLED,
    PAID,
    PENDING,
    PREPARED,
    REISSUED,
    RETURNED,
    REVIEWED,
    SENT,
    STANDARD,
    STATUS_NAMES,
    STEP_NAMES,
    WITHDRAWN,
    Component,
    Payment,
    PaymentKey,
    PaymentLine,
)

# Roles, as the web app's accounts name them (角色).
CLERK, REVIEWER, APPROVER = "clerk", "reviewer", "approver"
ROLE_NAMES = {CLERK: "经办", REVIEWER: "复核", APPROVER: "审批"}

# A run sent back to 经办 before approval (退回经办). Its payments are WITHDRAWN.
SENT_BACK = "sent_back"
RUN_STATE_NAMES = {**STEP_NAMES, SENT_BACK: "已退回经办"}

# Bank results (银行回盘结果).
RESULT_PAID, RESULT_RETURNED = "paid", "returned"
RESULT_NAMES = {RESULT_PAID: "成功", RESULT_RETURNED: "失败退回"}

UNCHANGED_TEXT = "已导入，无变化"


@dataclass(frozen=True)
class Refusal:
    """Why an operation is not allowed, in Chinese, ready to show."""

    text: str


@dataclass(frozen=True)
class RunState:
    """Where a run stands and who took each step (user names; empty when not yet taken)."""

    step: str  # PREPARED, REVIEWED, APPROVED or SENT_BACK
    prepared_by: str
    reviewed_by: str = ""
    approved_by: str = ""
    sent_back_by: str = ""


def check_step(
    run_state: RunState | None, step: str, user: str, roles: Collection[str]
) -> Refusal | None:
    """May `user` (holding `roles`) take `step` on a run in `run_state`? None means yes.

    `step` is PREPARED (a new run; `run_state` is None), REVIEWED, APPROVED or SENT_BACK.
    Rules: steps in order (prepared → reviewed → approved); the reviewer is not the preparer;
    the approver is neither the preparer nor the reviewer; an approved run is frozen; a run
    can be sent back (by its reviewer or approver roles) only before approval; a sent-back run
    takes no further step (the month is prepared again as a new run).
    """
    if step == PREPARED:
        if run_state is not None:
            return Refusal("该批次已经提交过，不能重复提交；如需修改，请先退回经办后重新生成批次。")
        if CLERK not in roles:
            return Refusal(f"{user}没有经办权限，不能提交发放批次。")
        return None
    if run_state is None:
        return Refusal("批次尚未提交，不能进行这一步。")
    if run_state.step == APPROVED:
        return Refusal("该批次已审批通过，已锁定，不能再做任何修改或操作。")
    if run_state.step == SENT_BACK:
        return Refusal("该批次已退回经办，不能再操作；请重新生成该月批次。")
    if step == REVIEWED:
        if run_state.step != PREPARED:
            return Refusal(f"批次当前状态为“{RUN_STATE_NAMES[run_state.step]}”，不能复核。")
        if REVIEWER not in roles:
            return Refusal(f"{user}没有复核权限。")
        if user == run_state.prepared_by:
            return Refusal("复核人不能是经办人本人，请由另一位复核人复核。")
        return None
    if step == APPROVED:
        if run_state.step != REVIEWED:
            return Refusal("批次须先经复核通过，才能审批。")
        if APPROVER not in roles:
            return Refusal(f"{user}没有审批权限。")
        if user in (run_state.prepared_by, run_state.reviewed_by):
            return Refusal("审批人不能是本批次的经办人或复核人，不能审批自己经手的批次。")
        return None
    if step == SENT_BACK:
        if not (REVIEWER in roles or APPROVER in roles):
            return Refusal(f"{user}没有复核或审批权限，不能退回批次。")
        return None
    return Refusal(f"未知的批次操作：{step}。")


def take_step(run_state: RunState | None, step: str, user: str) -> RunState:
    """The run state after `step` by `user`; call `check_step` first (this does not check)."""
    if step == PREPARED:
        return RunState(PREPARED, prepared_by=user)
    assert run_state is not None
    if step == REVIEWED:
        return replace(run_state, step=REVIEWED, reviewed_by=user)
    if step == APPROVED:
        return replace(run_state, step=APPROVED, approved_by=user)
    return replace(run_state, step=SENT_BACK, sent_back_by=user)


def status_on_step(step: str) -> str:
    """The status the run's payments take after `step`: SENT on approval, WITHDRAWN when sent
    back, PENDING otherwise."""
    return {APPROVED: SENT, SENT_BACK: WITHDRAWN}.get(step, PENDING)


# ---- bank results -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    """One row of a bank result file as the rules need it."""

    outcome: str  # RESULT_PAID or RESULT_RETURNED
    reason_code: str = ""  # AC01, AC04, AC06, BE01, … when returned
    reason: str = ""  # the reason in Chinese
    day: date | None = None  # the day the bank paid or returned


@dataclass(frozen=True)
class Change:
    """The result changes the payment: to `status`, with the reason and day."""

    status: str
    reason_code: str = ""
    reason: str = ""
    day: date | None = None

    @property
    def text(self) -> str:
        why = " ".join(x for x in (self.reason_code, self.reason) if x)
        return f"{STATUS_NAMES[self.status]}（{why}）" if why else STATUS_NAMES[self.status]


@dataclass(frozen=True)
class Unchanged:
    text: str = UNCHANGED_TEXT


@dataclass(frozen=True)
class Conflict:
    text: str


def apply_result(
    payment_status: str, result: Result, recorded_reason_code: str = ""
) -> Change | Unchanged | Conflict:
    """What a bank result does to a payment in `payment_status`.

    SENT + paid → PAID; SENT + returned → RETURNED with the reason. The same result again on a
    settled payment (a re-imported file) → Unchanged (已导入，无变化); a returned payment that
    has since been re-issued or cancelled still counts as "returned" for this comparison. A
    different result on a settled payment (paid then returned, or returned for another reason
    code than `recorded_reason_code`) → Conflict. A payment not sent to the bank (待审批,
    已撤回) takes no result.
    """
    if result.outcome not in RESULT_NAMES:
        return Conflict(f"无法识别的银行处理结果“{result.outcome}”，应为成功或失败退回。")
    if payment_status in (PENDING, WITHDRAWN):
        return Conflict(
            f"该笔付款状态为“{STATUS_NAMES[payment_status]}”，未送银行，不能导入银行结果。"
        )
    if payment_status == SENT:
        if result.outcome == RESULT_PAID:
            return Change(PAID, day=result.day)
        if not result.reason_code and not result.reason:
            return Conflict("银行退回结果缺少退回原因，请核对回盘文件。")
        return Change(RETURNED, result.reason_code, result.reason, result.day)
    settled_as = RESULT_PAID if payment_status == PAID else RESULT_RETURNED
    if result.outcome != settled_as:
        return Conflict(
            f"该笔付款已记为“{STATUS_NAMES[payment_status]}”，本次回盘结果为"
            f"“{RESULT_NAMES[result.outcome]}”，与已导入结果不一致，请与银行核对。"
        )
    if settled_as == RESULT_RETURNED and result.reason_code != recorded_reason_code:
        return Conflict(
            f"该笔付款已按退回原因 {recorded_reason_code or '（空）'} 记为退回，本次回盘的原因为 "
            f"{result.reason_code or '（空）'}，与已导入结果不一致，请与银行核对。"
        )
    return Unchanged()


# ---- correction, re-issue and cancellation -----------------------------------------------------


@dataclass(frozen=True)
class Correction:
    """New payee details for a returned payment (更正): entered by 经办, checked by 复核."""

    key: PaymentKey  # the returned payment
    name: str
    bank: str
    account: str
    account_name: str
    entered_by: str
    checked_by: str = ""
    note: str = ""

    @property
    def checked(self) -> bool:
        return bool(self.checked_by)


def check_correction_entry(
    payment_status: str, user: str, roles: Collection[str]
) -> Refusal | None:
    """May `user` enter a correction for a payment in `payment_status`? Only 经办, only RETURNED."""
    if CLERK not in roles:
        return Refusal(f"{user}没有经办权限，不能录入更正信息。")
    if payment_status != RETURNED:
        return _not_returned(payment_status, "更正")
    return None


def _not_returned(status: str, action: str) -> Refusal:
    return Refusal(f"只有“退回待处理”的付款可以{action}，该笔付款状态为“{STATUS_NAMES[status]}”。")


def check_correction(correction: Correction, user: str, roles: Collection[str]) -> Refusal | None:
    """May `user` check (复核) `correction`? A 复核 who did not enter it, once."""
    if correction.checked:
        return Refusal(f"该更正已由{correction.checked_by}复核，无需再次复核。")
    if REVIEWER not in roles:
        return Refusal(f"{user}没有复核权限，不能复核更正信息。")
    if user == correction.entered_by:
        return Refusal("更正信息须由录入人以外的复核人复核，不能复核自己录入的更正。")
    return None


def reissue(
    payment: Payment, correction: Correction, components: tuple[Component, ...] = ()
) -> PaymentLine | Refusal:
    """The re-issue (重发) of a returned `payment` with the checked `correction`.

    Key sequence + 1, same amount; `components` are the original's (so the months it pays stay
    known), else one standard component of the payment's month. Refused unless the payment is
    RETURNED (a REISSUED payment is never re-issued twice) and the correction is checked and
    belongs to it. The caller marks the original REISSUED.
    """
    if payment.status == REISSUED:
        return Refusal("该笔退回付款已经重发过一次，不能再次重发。")
    if payment.status != RETURNED:
        return _not_returned(payment.status, "重发")
    if correction.key != payment.key:
        return Refusal("更正信息与该笔付款不对应。")
    if not correction.checked:
        return Refusal("更正信息尚未复核，复核通过后才能重发。")
    parts = components or (Component(STANDARD, payment.key.month, payment.amount),)
    if sum(c.amount for c in parts) != payment.amount:
        return Refusal("重发金额须与原退回付款金额一致。")
    key = replace(payment.key, sequence=payment.key.sequence + 1)
    return PaymentLine(
        key, correction.name, correction.bank, correction.account, correction.account_name, parts
    )


def check_cancel(
    payment_status: str, reason: str, user: str, roles: Collection[str]
) -> Refusal | None:
    """May a returned payment be cancelled (取消, e.g. the person died)? 经办, with a reason."""
    if CLERK not in roles:
        return Refusal(f"{user}没有经办权限，不能取消付款。")
    if payment_status != RETURNED:
        return _not_returned(payment_status, "取消")
    if not reason.strip():
        return Refusal("取消付款须填写原因（例如：领取人已死亡）。")
    return None


# ---- conservation -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Balance:
    """Where the approved money is (分). See `balance` for exactly what each figure counts."""

    approved: int = 0
    paid: int = 0
    sent: int = 0
    returned: int = 0
    reissued: int = 0
    cancelled: int = 0
    problems: tuple[str, ...] = field(default=())

    @property
    def accounted(self) -> int:
        return self.paid + self.sent + self.returned + self.reissued + self.cancelled

    @property
    def ok(self) -> bool:
        return not self.problems and self.approved == self.accounted


def balance(payments: Iterable[Payment]) -> Balance:
    """The conservation check: approved = paid + sent + returned + reissued + cancelled.

    Pass every stored payment (any status); PENDING and WITHDRAWN ones are not approved money.

    - approved: Σ amount of the regular payments (sequence 1) of approved runs, that is with a
      status other than PENDING/WITHDRAWN. An amount is net: recoveries (追回) are negative
      components of the same payment.
    - Each approved regular payment starts a chain: while a payment is REISSUED and its re-issue
      (sequence + 1) is in an approved run, follow the re-issue. The chain's money is where the
      chain ends:
      paid = Σ chain ends PAID (regular and re-issued payments the bank paid);
      sent = Σ chain ends SENT (approved, awaiting the bank's result);
      returned = Σ chain ends RETURNED (returned, awaiting correction or cancellation);
      reissued = Σ chain ends REISSUED whose re-issue is not yet approved (in a supplementary
      run awaiting 复核/审批);
      cancelled = Σ chain ends CANCELLED.
    - Problems (each naming the payment key): a REISSUED payment without exactly one re-issue;
      a re-issue whose amount differs from its original; a re-issue whose original is not
      REISSUED. With every re-issue equal to its original the equation holds; an amount
      changed on the way breaks it.
    """
    by_key = {p.key: p for p in payments}
    problems: list[str] = []
    approved_states = (SENT, PAID, RETURNED, REISSUED, CANCELLED)
    totals = dict.fromkeys((PAID, SENT, RETURNED, REISSUED, CANCELLED), 0)
    approved = 0
    for payment in sorted(by_key.values(), key=lambda p: p.key):
        if payment.key.sequence > 1:
            original = by_key.get(replace(payment.key, sequence=payment.key.sequence - 1))
            if payment.status != WITHDRAWN and (original is None or original.status != REISSUED):
                problems.append(f"{payment.key.label}：是重发付款，但原付款不是“已重发”状态。")
            continue
        if payment.status not in approved_states:
            continue
        approved += payment.amount
        current = payment
        while current.status == REISSUED:
            following = by_key.get(replace(current.key, sequence=current.key.sequence + 1))
            if following is None or following.status == WITHDRAWN:
                problems.append(f"{current.key.label}：已标记重发，但没有对应的重发付款。")
                break
            if following.amount != current.amount:
                problems.append(
                    f"{following.key.label}：重发金额 {following.amount} 分与原付款 "
                    f"{current.amount} 分不一致。"
                )
            if following.status == PENDING:
                break
            current = following
        totals[current.status] += current.amount
    return Balance(
        approved=approved,
        paid=totals[PAID],
        sent=totals[SENT],
        returned=totals[RETURNED],
        reissued=totals[REISSUED],
        cancelled=totals[CANCELLED],
        problems=tuple(problems),
    )
