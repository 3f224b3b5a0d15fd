"""The disbursement state of a unit, kept in the database (PostgreSQL or SQLite).

Nothing here decides a rule: which step a user may take, what a bank result does to a payment,
re-issue and the conservation balance come from `juesuan.disbursement.transitions`; this module
stores what those rules decided. Money is integer 分 (fen) in BigIntegerFields; months are
'YYYY-MM' strings (`Month.__str__`), so they sort and compare as text.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from juesuan.disbursement import model as core
from juesuan.disbursement import recoveries as recovery_rules
from juesuan.web.accounts.models import Unit

USER = settings.AUTH_USER_MODEL

# A run's step: the three steps of the core, plus two ends a run can reach before approval.
SENT_BACK, CANCELLED_RUN = "sent_back", "cancelled"
RUN_STEP_NAMES = {
    **core.STEP_NAMES,
    SENT_BACK: "已退回经办",
    CANCELLED_RUN: "已作废",
}
RUN_KIND_NAMES = {core.REGULAR: "月度发放", core.SUPPLEMENTARY: "补发批次"}

ENTERED, CHECKED, REJECTED = "entered", "checked", "rejected"
CORRECTION_STATUS_NAMES = {ENTERED: "待复核", CHECKED: "已复核", REJECTED: "复核未通过"}

# A recovery's status and its settlements' states are the rules' (`disbursement.recoveries`).
OPEN, PARTLY, SETTLED, WRITTEN_OFF = (
    recovery_rules.OPEN,
    recovery_rules.PARTLY,
    recovery_rules.RECOVERED,
    recovery_rules.WRITTEN_OFF,
)
RECOVERY_STATUS_NAMES = recovery_rules.STATUS_NAMES


class Scheme(models.Model):
    """A 补贴类别 of a unit. `code` is part of every payment key (≤ 6 ASCII characters)."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="schemes")
    code = models.CharField("代码", max_length=6)
    name = models.CharField("名称", max_length=100)
    payment_day = models.PositiveSmallIntegerField("发放日", default=10)
    function_code = models.CharField("功能分类", max_length=7, default="2089999")
    economic_code = models.CharField("经济分类", max_length=5, default="30305")
    project = models.CharField("项目", max_length=200, blank=True)
    bank_adapter = models.CharField("银行接口", max_length=50, default="generic-csv")
    # The account the bank debits (付款账户): every batch file carries it; a run of a scheme
    # without it cannot be approved (`services.set_payer` sets it).
    payer_account = models.CharField("付款账号", max_length=40, blank=True)
    payer_bank = models.CharField("付款开户行", max_length=100, blank=True)
    payer_name = models.CharField("付款户名", max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("unit", "code")
        constraints = (models.UniqueConstraint(fields=("unit", "code"), name="dis_scheme_unique"),)

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    @property
    def payer_missing(self) -> list[str]:
        """The parts of the payer account not set yet, by their Chinese names."""
        parts = (
            ("付款账号", self.payer_account),
            ("开户行", self.payer_bank),
            ("户名", self.payer_name),
        )
        return [title for title, value in parts if not value]

    def as_core(self) -> core.Scheme:
        return core.Scheme(
            code=self.code,
            name=self.name,
            payment_day=self.payment_day,
            standards=tuple(
                core.Standard(
                    core.Month.parse(s.start),
                    s.amount,
                    s.tier,
                    core.Month.parse(s.announced) if s.announced else None,
                )
                for s in self.standards.all()
            ),
            function_code=self.function_code,
            economic_code=self.economic_code,
            project=self.project,
        )


class Standard(models.Model):
    """From `start` on, a person of `tier` in the scheme gets `amount` 分 a month."""

    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="standards")
    tier = models.CharField("档次", max_length=50, blank=True)
    start = models.CharField("起始月份", max_length=7)
    amount = models.BigIntegerField("月标准（分）")
    announced = models.CharField("公布月份", max_length=7, blank=True)  # retroactive standards

    class Meta:
        ordering = ("scheme", "tier", "start")
        constraints = (
            models.UniqueConstraint(fields=("scheme", "tier", "start"), name="dis_standard_unique"),
        )


class Beneficiary(models.Model):
    """One person in one scheme (花名册 row). `person_id` is the full 公民身份号码; pages mask it
    for roles that do not work with it. Indexes are few on purpose (millions of rows are
    written at once): the unique key (unit, scheme, person_id) serves the lookups."""

    # No database foreign-key constraints on the bulk tables (beneficiaries, payments): a
    # deferred constraint fires one check per row at commit — minutes for 2,000,000 rows. The
    # rows are written only by the services package with ids it has just read; PROTECT still holds in
    # the ORM, and conservation() checks the stored state.
    unit = models.ForeignKey(
        Unit,
        on_delete=models.PROTECT,
        related_name="beneficiaries",
        db_index=False,
        db_constraint=False,
    )
    scheme = models.ForeignKey(
        Scheme,
        on_delete=models.PROTECT,
        related_name="beneficiaries",
        db_index=False,
        db_constraint=False,
    )
    person_id = models.CharField("公民身份号码", max_length=18)
    name = models.CharField("姓名", max_length=100)
    tier = models.CharField("档次", max_length=50, blank=True)
    start = models.CharField("开始发放月份", max_length=7)
    bank = models.CharField("开户银行", max_length=100)
    account = models.CharField("银行账号", max_length=40)
    account_name = models.CharField("账户名", max_length=100)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("unit", "scheme", "person_id")
        constraints = (
            models.UniqueConstraint(
                fields=("unit", "scheme", "person_id"), name="dis_beneficiary_unique"
            ),
        )

    def as_core(self) -> core.Beneficiary:
        return core.Beneficiary(
            person_id=self.person_id,
            name=self.name,
            scheme=self.scheme.code,
            start=core.Month.parse(self.start),
            bank=self.bank,
            account=self.account,
            account_name=self.account_name,
            tier=self.tier,
        )


class PersonKey(models.Model):
    """人员编号: a person's internal key within a unit (P and nine digits, in order, never
    reused). Payment numbers carry it instead of the 公民身份号码, so the identity number does
    not travel through bank files, lists and logs; the same person in two schemes has one key.
    """

    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    person_id = models.CharField("公民身份号码", max_length=18)
    key = models.CharField("人员编号", max_length=10)

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=("unit", "person_id"), name="dis_person_key_person"),
            models.UniqueConstraint(fields=("unit", "key"), name="dis_person_key_unique"),
        )


class LifeEvent(models.Model):
    """人员变动: something that happened to a beneficiary. Recording the same event twice (same
    person, scheme, kind and day) stores it once."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="life_events")
    scheme = models.ForeignKey(Scheme, on_delete=models.PROTECT, related_name="life_events")
    person_id = models.CharField(max_length=18)
    kind = models.CharField(max_length=20, choices=list(core.EVENT_NAMES.items()))
    day = models.DateField("生效日期")
    reported = models.DateField("报告日期", null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    recorded_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("unit", "day", "person_id")
        constraints = (
            models.UniqueConstraint(
                fields=("unit", "scheme", "person_id", "kind", "day"), name="dis_event_unique"
            ),
        )

    @property
    def kind_name(self) -> str:
        return core.EVENT_NAMES.get(self.kind, self.kind)

    def as_core(self) -> core.LifeEvent:
        return core.LifeEvent(
            person_id=self.person_id,
            scheme=self.scheme.code,
            kind=self.kind,
            day=self.day,
            reported=self.reported,
            detail=dict(self.detail or {}),
        )


class Run(models.Model):
    """A payment batch (批次): a month's regular payments of some schemes, or a supplementary
    batch re-issuing corrected returns. Once approved it is frozen: its bank file is written and
    its payments are SENT."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="runs")
    kind = models.CharField(max_length=20, choices=list(RUN_KIND_NAMES.items()))
    month = models.CharField("月份", max_length=7)
    number = models.PositiveIntegerField("批次号")  # per unit, 1, 2, 3 …
    schemes = models.JSONField("补贴类别", default=list)  # scheme codes
    step = models.CharField(max_length=20, choices=list(RUN_STEP_NAMES.items()))
    count = models.BigIntegerField("笔数", default=0)
    total = models.BigIntegerField("金额（分）", default=0)
    totals = models.JSONField(default=dict)  # {scheme: {"count": n, "amount": fen}}
    prepared_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    prepared_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.TextField(blank=True)  # why it was sent back or cancelled
    bank_adapter = models.CharField("银行接口", max_length=50, blank=True)
    skipped = models.JSONField(default=list)  # who got nothing and why (from compute)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("unit", "-number")
        constraints = (models.UniqueConstraint(fields=("unit", "number"), name="dis_run_unique"),)
        indexes = (models.Index(fields=("unit", "month", "kind")),)

    def __str__(self) -> str:
        return f"{self.month} {self.kind_name} 第{self.number}批"

    @property
    def kind_name(self) -> str:
        return RUN_KIND_NAMES.get(self.kind, self.kind)

    @property
    def step_name(self) -> str:
        return RUN_STEP_NAMES.get(self.step, self.step)

    @property
    def live(self) -> bool:
        return self.step in (core.PREPARED, core.REVIEWED, core.APPROVED)


class BankFile(models.Model):
    """A bank batch file written on approval: one per scheme of the run (a batch file names
    one scheme). The file is under MEDIA_ROOT; its SHA-256 is logged."""

    run = models.ForeignKey(Run, on_delete=models.PROTECT, related_name="bank_files")
    scheme = models.CharField(max_length=6)
    adapter = models.CharField(max_length=50)
    name = models.CharField(max_length=255)
    path = models.CharField(max_length=500)  # relative to MEDIA_ROOT
    sha256 = models.CharField(max_length=64)
    count = models.BigIntegerField()
    total = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("run", "scheme")
        constraints = (
            models.UniqueConstraint(fields=("run", "scheme"), name="dis_bank_file_unique"),
        )

    @property
    def full_path(self):
        return settings.MEDIA_ROOT / self.path


class ResultImport(models.Model):
    """A bank result file (回盘) as imported; the same file (by SHA-256) is imported once."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="result_imports")
    sha256 = models.CharField(max_length=64)
    file_name = models.CharField(max_length=255)
    file_path = models.CharField(max_length=500)  # relative to MEDIA_ROOT
    adapter = models.CharField(max_length=50)
    rows = models.BigIntegerField(default=0)
    paid = models.BigIntegerField(default=0)
    returned = models.BigIntegerField(default=0)
    unchanged = models.BigIntegerField(default=0)
    conflicts = models.JSONField(default=list)
    report = models.JSONField(default=dict)
    imported_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    imported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("unit", "-imported_at")
        constraints = (
            models.UniqueConstraint(fields=("unit", "sha256"), name="dis_result_import_unique"),
        )


class Payment(models.Model):
    """One payment. (unit, scheme, person_id, month, sequence) is the idempotency key, a unique
    constraint. The payments of a run sent back before approval are WITHDRAWN: they never
    counted, they move to `WithdrawnPayment`, and the month is prepared again.

    No index covers `status` and the table leaves room in each page (fillfactor, PostgreSQL):
    approval and the bank's result change the status of millions of rows, and PostgreSQL can
    then update them in place (HOT) without touching any index.
    """

    # Few indexes and no database foreign-key constraints on purpose (see Beneficiary): a
    # month writes millions of rows, and approval and the bank's result update them.
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="payments", db_index=False, db_constraint=False
    )
    run = models.ForeignKey(
        Run, on_delete=models.PROTECT, related_name="payments", db_constraint=False
    )
    scheme = models.ForeignKey(
        Scheme,
        on_delete=models.PROTECT,
        related_name="payments",
        db_index=False,
        db_constraint=False,
    )
    person_id = models.CharField(max_length=18)
    month = models.CharField(max_length=7)
    sequence = models.PositiveSmallIntegerField(default=1)
    name = models.CharField(max_length=100)
    bank = models.CharField(max_length=100)
    account = models.CharField(max_length=40)
    account_name = models.CharField(max_length=100)
    standard = models.BigIntegerField(default=0)
    back_pay = models.BigIntegerField(default=0)
    recovery = models.BigIntegerField(default=0)  # 追回 netted: deducted, ≥ 0
    amount = models.BigIntegerField()
    status = models.CharField(max_length=20, choices=list(core.STATUS_NAMES.items()))
    reason_code = models.CharField(max_length=10, blank=True)
    reason_text = models.CharField(max_length=200, blank=True)
    paid_on = models.DateField(null=True, blank=True)  # the bank's day (到账日期), if it gave one
    result_import = models.ForeignKey(
        ResultImport,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    # The payment this one re-issues: each is re-issued once, by a partial unique index that
    # the millions of payments that re-issue nothing add no entry to; no database foreign key
    # (see Beneficiary), whose deferred check would visit every row a month writes at commit.
    reissue_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reissued_as",
        db_index=False,
        db_constraint=False,
    )
    # [{kind, month, amount}] when the payment is more than the month's standard (补发, 追回)
    components = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ("run", "scheme", "person_id")
        constraints = (
            models.UniqueConstraint(
                fields=("unit", "scheme", "person_id", "month", "sequence"),
                name="dis_payment_key_unique",
            ),
            models.UniqueConstraint(
                fields=("reissue_of",),
                condition=Q(reissue_of__isnull=False),
                name="dis_payment_reissued_once",
            ),
        )

    @property
    def key(self) -> core.PaymentKey:
        return core.PaymentKey(
            self.scheme.code, self.person_id, core.Month.parse(self.month), self.sequence
        )

    @property
    def reference(self) -> str:
        """The payment's number as its bank file carries it (the person by key); the key with
        the identity number masked when the person has no key yet."""
        person = PersonKey.objects.filter(unit_id=self.unit_id, person_id=self.person_id)
        found = person.values_list("key", flat=True).first()
        return self.key.reference(found) if found else self.key.label

    @property
    def status_name(self) -> str:
        return core.STATUS_NAMES.get(self.status, self.status)

    def as_core(self, scheme_code: str | None = None) -> core.Payment:
        code = scheme_code or self.scheme.code
        return core.Payment(
            key=core.PaymentKey(code, self.person_id, core.Month.parse(self.month), self.sequence),
            name=self.name,
            bank=self.bank,
            account=self.account,
            account_name=self.account_name,
            amount=self.amount,
            status=self.status,
            run=str(self.run_id),
            reason_code=self.reason_code,
            paid_on=self.paid_on,
        )


class WithdrawnPayment(models.Model):
    """A payment of a run sent back before approval (已撤回), kept as it was: it never counted
    as approved, and its key is free for the run prepared after."""

    payment_id = models.BigIntegerField()
    unit_id = models.BigIntegerField()
    run_id = models.BigIntegerField(db_index=True)
    scheme_id = models.BigIntegerField()
    person_id = models.CharField(max_length=18)
    month = models.CharField(max_length=7)
    sequence = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=100)
    bank = models.CharField(max_length=100)
    account = models.CharField(max_length=40)
    account_name = models.CharField(max_length=100)
    standard = models.BigIntegerField()
    back_pay = models.BigIntegerField()
    recovery = models.BigIntegerField()
    amount = models.BigIntegerField()
    status = models.CharField(max_length=20, default=core.WITHDRAWN)
    reissue_of_id = models.BigIntegerField(null=True)
    components = models.JSONField(null=True)


class Correction(models.Model):
    """New account details for a returned payment: entered by 经办, checked by 复核 (another
    person). A checked correction is re-issued once, in a supplementary run."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="corrections")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="corrections")
    name = models.CharField(max_length=100)
    bank = models.CharField(max_length=100)
    account = models.CharField(max_length=40)
    account_name = models.CharField(max_length=100)
    note = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=list(CORRECTION_STATUS_NAMES.items()))
    entered_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    entered_at = models.DateTimeField(auto_now_add=True)
    checked_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("unit", "-entered_at")
        constraints = (
            # At most one correction waiting or accepted per payment; rejected ones stay as history.
            models.UniqueConstraint(
                fields=("payment",),
                condition=~Q(status=REJECTED),
                name="dis_correction_one_live",
            ),
        )

    @property
    def status_name(self) -> str:
        return CORRECTION_STATUS_NAMES.get(self.status, self.status)


class Recovery(models.Model):
    """追回: money paid that was not owed (a death reported late, a retroactive cut not yet
    netted), to be recovered. Created from the computation's open receivables; settled by
    `RecoverySettlement` rows. `collected` and `written_off` are the sums of the settlements
    that count (kept by the services in the same transaction, for lists and totals), so
    outstanding = amount − collected − written_off."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="recoveries")
    scheme = models.ForeignKey(Scheme, on_delete=models.PROTECT, related_name="recoveries")
    person_id = models.CharField(max_length=18)
    month = models.CharField("发现月份", max_length=7)
    amount = models.BigIntegerField("金额（分）")
    reason = models.CharField(max_length=200, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=20, choices=list(RECOVERY_STATUS_NAMES.items()), default=OPEN
    )
    collected = models.BigIntegerField("已追回（分）", default=0)
    written_off = models.BigIntegerField("已核销（分）", default=0)
    run = models.ForeignKey(Run, null=True, on_delete=models.PROTECT, related_name="recoveries")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("unit", "-created_at")
        constraints = (
            models.UniqueConstraint(
                fields=("unit", "scheme", "person_id", "month"), name="dis_recovery_unique"
            ),
            models.CheckConstraint(
                condition=Q(collected__gte=0)
                & Q(written_off__gte=0)
                & Q(amount__gte=models.F("collected") + models.F("written_off")),
                name="dis_recovery_not_overcollected",
            ),
        )

    @property
    def status_name(self) -> str:
        return RECOVERY_STATUS_NAMES.get(self.status, self.status)

    @property
    def outstanding(self) -> int:
        return self.amount - self.collected - self.written_off

    @property
    def via_bank(self) -> bool:
        """No later payment to net it against (death, termination): collected by hand."""
        return bool((self.detail or {}).get("via_bank"))


class RecoverySettlement(models.Model):
    """A collection (家属退回, 银行退回, 从后续发放中扣回) or a write-off (核销) of a recovery:
    entered by 经办, checked by 复核 (another person); a write-off also approved by 审批."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    recovery = models.ForeignKey(Recovery, on_delete=models.PROTECT, related_name="settlements")
    method = models.CharField(
        "追回方式", max_length=20, choices=list(recovery_rules.METHOD_NAMES.items())
    )
    amount = models.BigIntegerField("金额（分）")
    day = models.DateField("日期")
    note = models.CharField("说明", max_length=500, blank=True)
    state = models.CharField(
        max_length=20,
        choices=list(recovery_rules.SETTLEMENT_STATE_NAMES.items()),
        default=recovery_rules.ENTERED,
    )
    entered_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    entered_at = models.DateTimeField(auto_now_add=True)
    checked_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    checked_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("recovery", "pk")
        constraints = (
            models.CheckConstraint(condition=Q(amount__gt=0), name="dis_settlement_positive"),
        )

    @property
    def method_name(self) -> str:
        return recovery_rules.METHOD_NAMES.get(self.method, self.method)

    def as_rule(self) -> recovery_rules.Settlement:
        return recovery_rules.Settlement(
            method=self.method,
            amount=self.amount,
            day=self.day,
            entered_by=self.entered_by.username if self.entered_by else "",
            note=self.note,
            state=self.state,
            checked_by=self.checked_by.username if self.checked_by else "",
            approved_by=self.approved_by.username if self.approved_by else "",
        )

    @property
    def state_name(self) -> str:
        return self.as_rule().state_name
