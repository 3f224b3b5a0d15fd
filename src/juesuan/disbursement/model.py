"""The values of the disbursement system. Money is integer 分 (fen); months are `Month`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

# Payment statuses (付款状态). A payment is created `pending` in a run that is not yet approved;
# approval makes it `sent` (it goes into the bank file). The bank's result makes it `paid` or
# `returned`; a returned payment is either `reissued` (a new payment with sequence + 1 carries
# the money) or `cancelled` (not to be paid, e.g. the person died). `withdrawn` is a payment
# of a run that was sent back before approval — it never counted as approved.
PENDING, SENT, PAID, RETURNED, REISSUED, CANCELLED, WITHDRAWN = (
    "pending",
    "sent",
    "paid",
    "returned",
    "reissued",
    "cancelled",
    "withdrawn",
)
STATUS_NAMES = {
    PENDING: "待审批",
    SENT: "已送银行",
    PAID: "已到账",
    RETURNED: "退回待处理",
    REISSUED: "已重发",
    CANCELLED: "已取消",
    WITHDRAWN: "已撤回",
}

# Run kinds and steps (批次). A regular run pays a month; a supplementary run (补发批次)
# re-issues corrected returned payments.
REGULAR, SUPPLEMENTARY = "regular", "supplementary"
PREPARED, REVIEWED, APPROVED = "prepared", "reviewed", "approved"
STEP_NAMES = {PREPARED: "经办已提交", REVIEWED: "复核通过", APPROVED: "审批通过"}

# Components of a computed payment (构成).
STANDARD, BACK_PAY, RECOVERY = "standard", "back_pay", "recovery"
COMPONENT_NAMES = {STANDARD: "当月标准", BACK_PAY: "补发", RECOVERY: "追回"}

# Life events (人员变动).
DEATH, SUSPEND, RESUME, ACCOUNT_CHANGE, TIER_CHANGE, STOP = (
    "death",
    "suspend",
    "resume",
    "account_change",
    "tier_change",
    "stop",
)
EVENT_NAMES = {
    DEATH: "死亡",
    SUSPEND: "暂停（未资格认证）",
    RESUME: "恢复",
    ACCOUNT_CHANGE: "变更账户",
    TIER_CHANGE: "变更档次",
    STOP: "终止",
}


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12:
            raise ValueError(f"月份应为1–12：{self.month}")

    @classmethod
    def parse(cls, text: str) -> Month:
        """'2020-03', '202003' or '2020年3月'."""
        cleaned = text.strip().replace("年", "-").replace("月", "").replace("/", "-")
        if "-" in cleaned:
            year, month = cleaned.split("-", 1)
        else:
            year, month = cleaned[:4], cleaned[4:]
        return cls(int(year), int(month))

    @classmethod
    def of(cls, day: date) -> Month:
        return cls(day.year, day.month)

    def next(self) -> Month:
        return Month(self.year + 1, 1) if self.month == 12 else Month(self.year, self.month + 1)

    def previous(self) -> Month:
        return Month(self.year - 1, 12) if self.month == 1 else Month(self.year, self.month - 1)

    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def compact(self) -> str:
        return f"{self.year:04d}{self.month:02d}"


@dataclass(frozen=True)
class Standard:
    """From `start` on, a person of `tier` in the scheme gets `amount` 分 a month."""

    start: Month
    amount: int
    tier: str = ""
    # 公布月份: set when the standard was decided after its start (a retroactive standard); the
    # run of this month (and the next two) pays the difference for the months since `start`.
    announced: Month | None = None


@dataclass(frozen=True)
class Scheme:
    """A 补贴类别. `code` is short (≤ 6 ASCII characters): it is part of every payment key."""

    code: str
    name: str
    payment_day: int
    standards: tuple[Standard, ...]
    function_code: str = "2089999"
    economic_code: str = "30305"
    project: str = ""  # the ledger's 项目名称; the scheme's name when empty

    @property
    def project_name(self) -> str:
        return self.project or self.name

    def standard(self, month: Month, tier: str = "") -> int | None:
        """The monthly amount in force for `tier` in `month`, or None if none is set."""
        found = [s for s in self.standards if s.tier == tier and s.start <= month]
        return max(found, key=lambda s: s.start).amount if found else None


@dataclass(frozen=True)
class Beneficiary:
    """One person in one scheme (a person in two schemes is two rows)."""

    person_id: str  # 公民身份号码, 18 characters, upper-case X
    name: str
    scheme: str  # Scheme.code
    start: Month
    bank: str
    account: str
    account_name: str
    tier: str = ""


@dataclass(frozen=True)
class LifeEvent:
    """Something that happened to a beneficiary, effective on `day`, reported on `reported`."""

    person_id: str
    scheme: str
    kind: str
    day: date
    reported: date | None = None
    detail: dict = field(default_factory=dict, compare=False, hash=False)


def masked_id(person_id: str) -> str:
    """5125**********7375: how a 公民身份号码 appears in messages, lists and logs."""
    if len(person_id) <= 8:
        return "*" * len(person_id)
    return person_id[:4] + "*" * (len(person_id) - 8) + person_id[-4:]


# A person's internal key (人员编号): P and nine digits, given in order within a unit and never
# reused. It stands for the person in payment references, so no identity number travels
# through bank files, lists and logs.
PERSON_KEY = r"P\d{9}"


def person_key(number: int) -> str:
    return f"P{number:09d}"


@dataclass(frozen=True, order=True)
class PaymentKey:
    """The idempotency key: one payment per (scheme, person, month, sequence).

    Sequence 1 is the month's regular payment; a re-issue of a returned payment has the
    returned one's sequence + 1.
    """

    scheme: str
    person_id: str
    month: Month
    sequence: int = 1

    def reference(self, person_key: str) -> str:
        """The payment's number as it travels through bank files (≤ 35 characters, ISO 20022
        EndToEndId): the person appears by `person_key`, never by identity number."""
        return Reference(self.scheme, person_key, self.month, self.sequence).text

    @property
    def label(self) -> str:
        """The key in messages: the identity number masked."""
        return f"{self.scheme}-{masked_id(self.person_id)}-{self.month.compact}-{self.sequence}"


@dataclass(frozen=True, order=True)
class Reference:
    """A payment number read back from a bank file: scheme, person key, month, sequence."""

    scheme: str
    person_key: str
    month: Month
    sequence: int = 1

    @property
    def text(self) -> str:
        return f"{self.scheme}-{self.person_key}-{self.month.compact}-{self.sequence}"

    @classmethod
    def parse(cls, text: str) -> Reference:
        scheme, person, month, sequence = text.strip().rsplit("-", 3)
        return cls(scheme, person, Month.parse(month), int(sequence))


@dataclass(frozen=True)
class Component:
    kind: str  # STANDARD, BACK_PAY or RECOVERY (negative amount)
    month: Month  # the month the amount is for
    amount: int


@dataclass(frozen=True)
class PaymentLine:
    """A computed payment before it is stored: what to pay, to whom, and why."""

    key: PaymentKey
    name: str
    bank: str
    account: str
    account_name: str
    components: tuple[Component, ...]

    @property
    def amount(self) -> int:
        return sum(c.amount for c in self.components)


@dataclass(frozen=True)
class Payment:
    """A stored payment and where it stands."""

    key: PaymentKey
    name: str
    bank: str
    account: str
    account_name: str
    amount: int
    status: str
    run: str = ""  # the run's identifier
    reason_code: str = ""  # the bank's reason when returned (AC01, …)
    paid_on: date | None = None
