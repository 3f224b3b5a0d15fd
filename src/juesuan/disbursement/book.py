"""The disbursement state in memory (发放台账): runs, payments, bank result imports, corrections,
cancellations and open recoveries — the same operations the web app offers, on the same rules
(`transitions`). Used for the example year and in tests; the web app keeps this state in its
database instead.

Every operation returns `Done` (what happened, in Chinese, and the value) or a `Refusal`; none
raises for a refused action. Doing the same thing twice changes nothing and says so.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import TYPE_CHECKING

from juesuan.disbursement import transitions as t
from juesuan.disbursement.model import (
    APPROVED,
    CANCELLED,
    PAID,
    PENDING,
    PREPARED,
    REGULAR,
    REISSUED,
    RETURNED,
    REVIEWED,
    SUPPLEMENTARY,
    WITHDRAWN,
    Component,
    Month,
    Payment,
    PaymentKey,
    PaymentLine,
    person_key,
)
from juesuan.disbursement.transitions import Balance, Correction, Refusal, RunState
from juesuan.money import fmt_fen

if TYPE_CHECKING:
    from juesuan.disbursement.compute import Recovery

__all__ = ["Book", "BookHistory", "Done", "ImportReport", "Run", "StepRecord"]


@dataclass(frozen=True)
class Done:
    """An operation that went through (or found nothing to do): a Chinese text and its value."""

    text: str
    value: object = None
    changed: bool = True


@dataclass(frozen=True)
class StepRecord:
    step: str  # PREPARED, REVIEWED, APPROVED or transitions.SENT_BACK
    user: str
    note: str = ""


@dataclass
class Run:
    """A payment run (发放批次): a regular run pays a month for some schemes; a supplementary run
    (补发批次) re-issues corrected returned payments."""

    id: str
    kind: str  # REGULAR or SUPPLEMENTARY
    month: Month
    schemes: tuple[str, ...]
    state: RunState
    keys: list[PaymentKey] = field(default_factory=list)
    steps: list[StepRecord] = field(default_factory=list)
    withdrawn: list[Payment] = field(default_factory=list)  # payments of a sent-back run

    @property
    def approved(self) -> bool:
        return self.state.step == APPROVED

    @property
    def active(self) -> bool:
        return self.state.step != t.SENT_BACK


@dataclass(frozen=True)
class ImportReport:
    """What importing one bank result file did."""

    sha256: str
    already: bool = False  # the same file (same SHA-256) was imported before: nothing changed
    changed: tuple[tuple[PaymentKey, t.Change], ...] = ()
    unchanged: tuple[PaymentKey, ...] = ()
    conflicts: tuple[tuple[str, str], ...] = ()  # (reference, text)

    @property
    def text(self) -> str:
        if self.already:
            return f"该回盘文件（SHA-256 {self.sha256[:12]}…）已经导入过，本次未作任何变更。"
        paid = sum(1 for _, c in self.changed if c.status == PAID)
        returned = sum(1 for _, c in self.changed if c.status == RETURNED)
        parts = [f"成功到账 {paid} 笔", f"失败退回 {returned} 笔"]
        if self.unchanged:
            parts.append(f"{len(self.unchanged)} 笔已导入过，无变化")
        if self.conflicts:
            parts.append(f"{len(self.conflicts)} 笔与已有结果冲突或无法对应，需人工核对")
        return "导入完成：" + "，".join(parts) + "。"


class Book:
    """The state of one unit's disbursements, in memory."""

    def __init__(self) -> None:
        self.runs: dict[str, Run] = {}
        self.payments: dict[PaymentKey, Payment] = {}
        self.lines: dict[PaymentKey, PaymentLine] = {}  # what each payment pays (components)
        self.imports: dict[str, ImportReport] = {}  # by file SHA-256
        self.corrections: dict[PaymentKey, Correction] = {}  # by the returned payment's key
        self.cancel_reasons: dict[PaymentKey, str] = {}
        self.return_reasons: dict[PaymentKey, str] = {}
        self.recoveries: list[Recovery] = []  # open receivables (待追回) from the computations
        self._recovery_seen: set[tuple] = set()  # (scheme, person, months, amount) recorded
        self.person_keys: dict[str, str] = {}  # 公民身份号码 → person key, given on first payment
        self._by_reference: dict[str, PaymentKey] = {}

    def reference(self, key: PaymentKey) -> str:
        """The payment's number in bank files (its person by key, not identity number)."""
        return key.reference(self.person_keys[key.person_id])

    # ---- runs -----------------------------------------------------------------------------------

    def prepare_run(
        self,
        month: Month,
        schemes: str | Iterable[str],
        computed,
        user: str,
        roles: Collection[str],
    ) -> Done | Refusal:
        """经办 prepares the regular run of `month` for `schemes` from `computed` (a
        `compute.Computed`, or PaymentLines). Preparing a month already prepared or approved
        returns the existing run and says so."""
        codes = (schemes,) if isinstance(schemes, str) else tuple(schemes)
        existing = [r for r in self._regular_runs(month) if set(r.schemes) & set(codes)]
        if existing:
            run = existing[0]
            if set(run.schemes) == set(codes):
                state = t.RUN_STATE_NAMES[run.state.step]
                return Done(
                    f"{month.year}年{month.month}月的批次 {run.id} 已生成（{state}），未重复生成。",
                    run,
                    changed=False,
                )
            return Refusal(
                f"{month.year}年{month.month}月已有批次 {run.id} 包含补贴类别"
                f"{'、'.join(sorted(set(run.schemes) & set(codes)))}，不能重复生成。"
            )
        refusal = t.check_step(None, PREPARED, user, roles)
        if refusal:
            return refusal
        lines = _lines_of(computed)
        lines = [ln for ln in lines if ln.key.scheme in codes and ln.key.month == month]
        if not lines:
            return Done(
                f"{month.year}年{month.month}月{'、'.join(codes)}没有应发放的付款，未生成批次。",
                None,
                changed=False,
            )
        taken = [ln.key.label for ln in lines if self._taken(ln.key)]
        if taken:
            return Refusal(f"以下付款已在其他批次中，不能重复生成：{'、'.join(taken[:5])}")
        run = self._open_run(REGULAR, month, codes, lines, user)
        for recovery in getattr(computed, "recoveries", ()):
            # Kept until approval decides; recorded once per (person, months, amount).
            mark = (recovery.scheme, recovery.person_id, recovery.months, recovery.amount)
            if recovery.scheme in codes and mark not in self._recovery_seen:
                self._recovery_seen.add(mark)
                self.recoveries.append(recovery)
        total = sum(line.amount for line in lines)
        return Done(
            f"已生成批次 {run.id}：{len(lines)} 笔，合计 {fmt_fen(total)} 元，待复核。", run
        )

    def review(self, run_id: str, user: str, roles: Collection[str]) -> Done | Refusal:
        """复核 passes the run (not its preparer)."""
        return self._step(run_id, REVIEWED, user, roles)

    def approve(self, run_id: str, user: str, roles: Collection[str]) -> Done | Refusal:
        """审批 approves the run (neither preparer nor reviewer): its payments become SENT."""
        return self._step(run_id, APPROVED, user, roles)

    def send_back(
        self, run_id: str, user: str, roles: Collection[str], note: str = ""
    ) -> Done | Refusal:
        """退回经办 before approval: the run's payments are WITHDRAWN (re-issues give their
        originals back to RETURNED); the month can then be prepared again."""
        return self._step(run_id, t.SENT_BACK, user, roles, note)

    def _step(
        self, run_id: str, step: str, user: str, roles: Collection[str], note: str = ""
    ) -> Done | Refusal:
        run = self.runs.get(run_id)
        if run is None:
            return Refusal(f"找不到批次 {run_id}。")
        refusal = t.check_step(run.state, step, user, roles)
        if refusal:
            return refusal
        run.state = t.take_step(run.state, step, user)
        run.steps.append(StepRecord(step, user, note))
        status = t.status_on_step(step)
        for key in run.keys:
            payment = self.payments[key]
            if status == WITHDRAWN:
                run.withdrawn.append(replace(payment, status=WITHDRAWN))
                original = replace(key, sequence=key.sequence - 1)
                if key.sequence > 1 and original in self.payments:
                    self.payments[original] = replace(self.payments[original], status=RETURNED)
            self.payments[key] = replace(payment, status=status)
        texts = {
            REVIEWED: f"批次 {run.id} 复核通过，待审批。",
            APPROVED: f"批次 {run.id} 审批通过，{len(run.keys)} 笔付款已送银行。",
            t.SENT_BACK: f"批次 {run.id} 已退回经办，{len(run.keys)} 笔付款已撤回。",
        }
        return Done(texts[step], run)

    # ---- bank results -------------------------------------------------------------------------

    def import_results(self, rows: Iterable, sha256: str, day: date | None = None) -> ImportReport:
        """Apply a bank result file's rows (`banks.ResultRow`-like: key or reference, status,
        reason_code, reason_text). `day` is when the bank paid or returned (a row's own
        `paid_on` or `day` wins). The same file (same SHA-256) a second time changes nothing and says so; a row
        already applied by another file is "unchanged"; a contradicting row is a conflict."""
        if sha256 in self.imports:
            return ImportReport(sha256, already=True)
        changed: list[tuple[PaymentKey, t.Change]] = []
        unchanged: list[PaymentKey] = []
        conflicts: list[tuple[str, str]] = []
        for row in rows:
            key = getattr(row, "key", None) or self._by_reference.get(
                getattr(row, "reference", "").strip()
            )
            if key is None:
                ref = getattr(row, "reference", str(row))
                conflicts.append((ref, f"本系统中没有付款编号为“{ref}”的付款，请与银行核对。"))
                continue
            payment = self.payments.get(key)
            if payment is None:
                conflicts.append((key.label, "本系统中没有这笔付款，请与银行核对。"))
                continue
            result = t.Result(
                row.status,
                getattr(row, "reason_code", ""),
                getattr(row, "reason_text", "") or getattr(row, "reason", ""),
                getattr(row, "paid_on", None) or getattr(row, "day", None) or day,
            )
            amount = getattr(row, "amount_fen", None)
            if amount is not None and amount != payment.amount:
                conflicts.append(
                    (
                        key.label,
                        f"回盘金额 {fmt_fen(amount)} 元与付款金额 {fmt_fen(payment.amount)} 元不一致。",
                    )
                )
                continue
            outcome = t.apply_result(payment.status, result, payment.reason_code)
            if isinstance(outcome, t.Unchanged):
                unchanged.append(key)
            elif isinstance(outcome, t.Conflict):
                conflicts.append((key.label, outcome.text))
            else:
                self.payments[key] = replace(
                    payment,
                    status=outcome.status,
                    reason_code=outcome.reason_code,
                    paid_on=outcome.day if outcome.status == PAID else payment.paid_on,
                )
                if outcome.status == RETURNED:
                    self.return_reasons[key] = outcome.reason
                changed.append((key, outcome))
        report = ImportReport(sha256, False, tuple(changed), tuple(unchanged), tuple(conflicts))
        self.imports[sha256] = report
        return report

    # ---- corrections, re-issue, cancellation --------------------------------------------------

    def correct(
        self,
        key: PaymentKey,
        *,
        name: str,
        bank: str,
        account: str,
        account_name: str,
        user: str,
        roles: Collection[str],
        note: str = "",
    ) -> Done | Refusal:
        """经办 enters corrected payee details for a returned payment (replacing an unchecked
        earlier entry)."""
        payment = self.payments.get(key)
        if payment is None:
            return Refusal(f"找不到付款 {key.label}。")
        refusal = t.check_correction_entry(payment.status, user, roles)
        if refusal:
            return refusal
        blank = [
            title
            for title, value in (("姓名", name), ("开户银行", bank), ("银行账号", account))
            if not value.strip()
        ]
        if blank:
            return Refusal(f"更正信息缺少{'、'.join(blank)}，请补全后再提交。")
        earlier = self.corrections.get(key)
        if earlier is not None and earlier.checked:
            return Refusal(f"付款 {key.label} 的更正已复核，不能再改。")
        correction = Correction(
            key,
            name.strip(),
            bank.strip(),
            account.strip(),
            (account_name or name).strip(),
            user,
            note=note,
        )
        self.corrections[key] = correction
        return Done(f"已录入付款 {key.label} 的更正信息，待复核。", correction)

    def check_correction(
        self, key: PaymentKey, user: str, roles: Collection[str]
    ) -> Done | Refusal:
        """复核 checks a correction (not the person who entered it)."""
        correction = self.corrections.get(key)
        if correction is None:
            return Refusal(f"付款 {key.label} 没有待复核的更正信息。")
        refusal = t.check_correction(correction, user, roles)
        if refusal:
            return refusal
        checked = replace(correction, checked_by=user)
        self.corrections[key] = checked
        return Done(f"付款 {key.label} 的更正信息已复核，可以重发。", checked)

    def prepare_supplementary_run(
        self, month: Month, user: str, roles: Collection[str]
    ) -> Done | Refusal:
        """经办 prepares a supplementary run (补发批次) in `month` re-issuing every RETURNED
        payment whose correction is checked; the originals become REISSUED."""
        refusal = t.check_step(None, PREPARED, user, roles)
        if refusal:
            return refusal
        ready = [
            p
            for p in self.payments.values()
            if p.status == RETURNED
            and p.key in self.corrections
            and self.corrections[p.key].checked
        ]
        if not ready:
            return Done("没有已更正并复核、待重发的退回付款，未生成补发批次。", None, changed=False)
        ready.sort(key=lambda p: p.key)
        lines: list[PaymentLine] = []
        for payment in ready:
            line = t.reissue(payment, self.corrections[payment.key], self._components(payment.key))
            if isinstance(line, Refusal):
                return Refusal(f"{payment.key.label}：{line.text}")
            lines.append(line)
        for payment in ready:
            self.payments[payment.key] = replace(payment, status=REISSUED)
        schemes = tuple(sorted({ln.key.scheme for ln in lines}))
        run = self._open_run(SUPPLEMENTARY, month, schemes, lines, user)
        total = sum(ln.amount for ln in lines)
        return Done(
            f"已生成补发批次 {run.id}：重发 {len(lines)} 笔，合计 {fmt_fen(total)} 元，待复核。",
            run,
        )

    def cancel(
        self, key: PaymentKey, reason: str, user: str, roles: Collection[str]
    ) -> Done | Refusal:
        """经办 cancels a returned payment with a reason (e.g. 领取人已死亡): it is not paid."""
        payment = self.payments.get(key)
        if payment is None:
            return Refusal(f"找不到付款 {key.label}。")
        refusal = t.check_cancel(payment.status, reason, user, roles)
        if refusal:
            return refusal
        self.payments[key] = replace(payment, status=CANCELLED)
        self.cancel_reasons[key] = reason.strip()
        return Done(f"付款 {key.label} 已取消：{reason.strip()}。", self.payments[key])

    # ---- views ----------------------------------------------------------------------------------

    def balance(self) -> Balance:
        """The conservation check over every stored payment (see `transitions.balance`)."""
        return t.balance(self.payments.values())

    def history(self) -> BookHistory:
        """What was paid per person and month, for `compute.compute_month`."""
        return BookHistory(self)

    def run_payments(self, run_id: str) -> list[Payment]:
        run = self.runs[run_id]
        if not run.active:
            return list(run.withdrawn)
        return [self.payments[k] for k in run.keys]

    def lines_of_run(self, run_id: str) -> list[PaymentLine]:
        return [self.lines[k] for k in self.runs[run_id].keys]

    def regular_run(self, month: Month, scheme: str) -> Run | None:
        """The active regular run of `month` that pays `scheme`."""
        return next((r for r in self._regular_runs(month) if scheme in r.schemes), None)

    # ---- internals ------------------------------------------------------------------------------

    def _open_run(
        self,
        kind: str,
        month: Month,
        schemes: tuple[str, ...],
        lines: list[PaymentLine],
        user: str,
    ) -> Run:
        """A new run prepared by `user`, holding `lines` as PENDING payments."""
        run = Run(
            self._run_id(month, schemes, kind),
            kind,
            month,
            schemes,
            t.take_step(None, PREPARED, user),
            steps=[StepRecord(PREPARED, user)],
        )
        for line in lines:
            self._store(line, run.id)
            run.keys.append(line.key)
        self.runs[run.id] = run
        return run

    def _regular_runs(self, month: Month) -> list[Run]:
        return [
            r for r in self.runs.values() if r.kind == REGULAR and r.month == month and r.active
        ]

    def _taken(self, key: PaymentKey) -> bool:
        found = self.payments.get(key)
        return found is not None and found.status != WITHDRAWN

    def _store(self, line: PaymentLine, run_id: str) -> None:
        person = self.person_keys.setdefault(
            line.key.person_id, person_key(len(self.person_keys) + 1)
        )
        self._by_reference[line.key.reference(person)] = line.key
        self.lines[line.key] = line
        self.payments[line.key] = Payment(
            line.key,
            line.name,
            line.bank,
            line.account,
            line.account_name,
            line.amount,
            PENDING,
            run=run_id,
        )

    def _components(self, key: PaymentKey) -> tuple[Component, ...]:
        line = self.lines.get(key)
        return line.components if line is not None else ()

    def _run_id(self, month: Month, schemes: tuple[str, ...], kind: str) -> str:
        prefix = f"{month.compact}-{'+'.join(schemes)}-{'B' if kind == SUPPLEMENTARY else 'R'}"
        n = 1 + sum(1 for r in self.runs if r.startswith(prefix))
        return f"{prefix}{n}"


class BookHistory:
    """The book seen as `compute.History`: 分 paid per month per person.

    Counts the components (standard, 补发, 追回 as negative) of regular payments of approved
    runs whose money was not cancelled — a returned payment awaiting re-issue counts as paid,
    since the money is committed to the person; a cancelled one counts as not paid. A re-issue
    carries its original's components and is not counted again.
    """

    def __init__(self, book: Book) -> None:
        paid: dict[tuple[str, str], dict[Month, int]] = defaultdict(lambda: defaultdict(int))
        # An open recovery carried forward is netted later: compare such persons with history.
        flagged = {(r.scheme, r.person_id) for r in book.recoveries if not r.via_bank}
        for key, payment in book.payments.items():
            if key.sequence != 1 or payment.status in (PENDING, WITHDRAWN):
                continue
            end = payment
            while end.status == REISSUED:
                following = book.payments.get(replace(end.key, sequence=end.key.sequence + 1))
                if following is None or following.status in (PENDING, WITHDRAWN):
                    break
                end = following
            if end.status == CANCELLED:
                continue
            for component in book.lines[key].components:
                paid[(key.scheme, key.person_id)][component.month] += component.amount
        self._paid = {k: dict(v) for k, v in paid.items()}
        self._flagged = flagged

    def paid(self, scheme: str, person_id: str) -> Mapping[Month, int]:
        return self._paid.get((scheme, person_id), {})

    def flagged(self) -> Iterable[tuple[str, str]]:
        """Persons with an open recovery to net against later payments."""
        return sorted(self._flagged)


def _lines_of(computed) -> list[PaymentLine]:
    if hasattr(computed, "lines") and callable(computed.lines):
        return list(computed.lines())
    return list(computed)
