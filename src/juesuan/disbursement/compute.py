"""One month's payments: what each beneficiary is owed, with back pay (补发) and recovery (追回).

`compute_month(schemes, roster, events, month, history)` answers "what do we pay for `month`?".

What a person is owed for a month m (应发):

- nothing before the roster's 开始发放月份, nor for a scheme/tier without a standard in force;
- death (死亡) on day D: the month of D is paid in full, nothing after it;
- termination (终止) effective on day D: nothing from the month of D on;
- suspension (暂停, missing 资格认证) effective in month S: nothing from S on while it lasts;
  once resumed (恢复) in month R, the suspended months S … R-1 are owed again and are paid as
  back pay (补发) from the run of R on, one component per month;
- a tier change (变更档次) moves the person to the new tier's standard from its month;
- otherwise the standard in force for the person's tier (`Scheme.standard`).

Which months are compared with the history: for a person who has events effective by `month`,
who belongs to a scheme/tier with a retroactive standard (one with `announced` later than its
start, during the run of its announced month and the `RETRO_RUNS - 1` runs after), or whom the
history flags (`History.flagged()`, e.g. an open recovery carried forward or a newly added person
whose start lies in the past), every month from the earliest month the history knows for them
(or their start, when it knows none) up to `month - 1` is compared: owed now minus paid so far.
A positive difference is back pay for that month; a negative one is an overpayment. Overpayments
are netted (追回, oldest month first) against this month's standard and back pay, never below
zero; what is left is an open `Recovery` — carried forward when the person will be paid again,
or to be recovered through the bank (`via_bank`) when they died or were terminated (a death
reported after months beyond it were paid). A person who cannot be paid this month (dead,
terminated, suspended, not started) gets no payment; the reason is in `Computed.skipped`.

Everyone else — the ordinary case — is assumed paid as owed for the months before, is computed
for the whole roster at once with polars, and never touches the history. A newly added person
whose start lies in the past is only paid for those months when the history flags them.

The history is read for months before `month` only. Its amounts are what was given for each
month the money was for — the components of approved payments, 追回 counted negative, net of
cancelled ones — so a recovery netted once is not netted again.

Speed: two million ordinary persons take about a second or two when the roster comes in
(scheme, person_id) order — `roster_frame` gives that order, a query gives it with ORDER BY —
and a little more otherwise (it is sorted first). A roster frame that holds a person twice in a
scheme pays neither row and says so in `skipped`.

Money is integer 分 (Int64) throughout.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

import polars as pl

from .model import (
    ACCOUNT_CHANGE,
    BACK_PAY,
    DEATH,
    RECOVERY,
    RESUME,
    STANDARD,
    STOP,
    SUSPEND,
    TIER_CHANGE,
    Beneficiary,
    Component,
    LifeEvent,
    Month,
    PaymentKey,
    PaymentLine,
    Scheme,
)

__all__ = [
    "PAYMENT_SCHEMA",
    "RETRO_RUNS",
    "ROSTER_SCHEMA",
    "SKIPPED_SCHEMA",
    "Computed",
    "DictHistory",
    "History",
    "Recovery",
    "compute_month",
    "roster_frame",
]

# A retroactive standard is looked at in the run of its announced month and the next two, so a
# run computed before the standard was entered still catches it the month after.
RETRO_RUNS = 3

# The roster as a DataFrame: one row per person and scheme. `start` is "YYYY-MM"; `tier` and
# `account_name` may be null (no tier; the person's name).
ROSTER_SCHEMA = {
    "person_id": pl.String,
    "name": pl.String,
    "scheme": pl.String,
    "tier": pl.String,
    "start": pl.String,
    "bank": pl.String,
    "account": pl.String,
    "account_name": pl.String,
}

# Computed.payments: one row per payment, money in 分 (Int64).
#   standard  当月标准: this month's standard
#   back_pay  补发: owed for earlier months and not paid
#   recovery  追回: overpaid earlier, netted here — a positive number that is deducted
#   amount    实发 = standard + back_pay - recovery, always > 0
PAYMENT_SCHEMA = {
    "scheme": pl.String,
    "person_id": pl.String,
    "month": pl.String,
    "sequence": pl.Int64,
    "name": pl.String,
    "bank": pl.String,
    "account": pl.String,
    "account_name": pl.String,
    "standard": pl.Int64,
    "back_pay": pl.Int64,
    "recovery": pl.Int64,
    "amount": pl.Int64,
}

# Computed.skipped: persons on the roster who get nothing this month, with the reason in Chinese.
SKIPPED_SCHEMA = {
    "scheme": pl.String,
    "person_id": pl.String,
    "name": pl.String,
    "reason": pl.String,
}

NOT_STARTED = "尚未到开始发放月份（{start}）"
BAD_START = "开始发放月份“{start}”无法识别，应为年-月，如 2020-01"
DEAD = "已死亡（{day}），死亡当月之后停发"
STOPPED = "已终止发放（{day}）"
OWED = "；尚有应补发 {yuan} 元未发，请核实后另行处理"
DUPLICATE = "花名册中同一人在同一补贴类别有多行，本月均未计算，请先更正花名册"
SUSPENDED = "暂停发放（{reason}，自 {month} 起）"
SUSPENDED_WITHOUT_REASON = "未资格认证"  # what a 暂停 means when it was recorded without a reason
NO_STANDARD = "本月没有适用的发放标准（档次“{tier}”）"
NO_SCHEME = "补贴类别“{scheme}”未设置"
ALL_RECOVERED = "本月应发金额全部用于抵扣追回"
NOT_ON_ROSTER = "人员变动所涉人员不在花名册中"

ROW = "_row"  # a roster row's position once in order

# Same-day events apply in this order (a resume and a new suspension on one day leave it suspended).
_EVENT_ORDER = {ACCOUNT_CHANGE: 0, TIER_CHANGE: 1, RESUME: 2, SUSPEND: 3, STOP: 4, DEATH: 5}


class History(Protocol):
    """What was paid before `month`. Consulted only for the persons described in the module
    docstring; the ordinary case never touches it.

    An implementation may also offer `flagged() -> Iterable[tuple[scheme, person_id]]`: persons
    to be compared with the history although they have no event (an open recovery carried
    forward, a newly added person whose start month is in the past)."""

    def paid(self, scheme: str, person_id: str) -> Mapping[Month, int]:
        """分 paid for each month the money was for: the sum of the components (当月标准, 补发,
        and 追回 as negative) of approved payments, net of cancelled ones."""
        ...


class DictHistory:
    """A history kept in a dict {(scheme, person_id): {Month: 分}}, for tests and small uses."""

    def __init__(
        self,
        paid: Mapping[tuple[str, str], Mapping[Month, int]] | None = None,
        flagged: Iterable[tuple[str, str]] = (),
    ) -> None:
        self._paid: dict[tuple[str, str], dict[Month, int]] = {
            key: dict(months) for key, months in (paid or {}).items()
        }
        self._flagged = set(flagged)
        self.lookups = 0  # how many persons were looked up: the ordinary case must stay at zero

    def paid(self, scheme: str, person_id: str) -> Mapping[Month, int]:
        self.lookups += 1
        return dict(self._paid.get((scheme, person_id), {}))

    def flagged(self) -> Iterable[tuple[str, str]]:
        return set(self._flagged)

    def as_dict(self) -> dict[tuple[str, str], dict[Month, int]]:
        """A copy of what was paid, in the form the constructor takes."""
        return {key: dict(months) for key, months in self._paid.items()}

    def flag(self, scheme: str, person_id: str) -> None:
        self._flagged.add((scheme, person_id))

    def record(self, computed: Computed) -> None:
        """Add a month's payments as approved and paid (components by the month they are for)."""
        for row in computed.payments.iter_rows(named=True):
            key = PaymentKey(row["scheme"], row["person_id"], Month.parse(row["month"]))
            months = self._paid.setdefault((key.scheme, key.person_id), {})
            for part in computed.components(key, row["standard"]):
                months[part.month] = months.get(part.month, 0) + part.amount


@dataclass(frozen=True)
class Recovery:
    """An open receivable (待追回): paid but not owed, and not netted this month."""

    scheme: str
    person_id: str
    name: str
    amount: int  # 分, > 0
    months: tuple[Month, ...]  # the overpaid months, oldest first
    reason: str
    via_bank: bool  # True: no later payment to net it against (death, termination)


@dataclass(frozen=True)
class Computed:
    """A month's computation. `payments` follows PAYMENT_SCHEMA, sorted by (scheme, person_id);
    `details` holds the components of every payment that is more than its plain standard."""

    month: Month
    payments: pl.DataFrame
    details: Mapping[PaymentKey, tuple[Component, ...]] = field(default_factory=dict)
    recoveries: tuple[Recovery, ...] = ()
    skipped: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=SKIPPED_SCHEMA))

    def totals(self) -> pl.DataFrame:
        """Per scheme: count (人数), standard, back_pay, recovery, amount (分), sorted by scheme."""
        return (
            self.payments.group_by("scheme")
            .agg(
                pl.len().cast(pl.Int64).alias("count"),
                pl.col("standard").sum(),
                pl.col("back_pay").sum(),
                pl.col("recovery").sum(),
                pl.col("amount").sum(),
            )
            .sort("scheme")
        )

    def components(self, key: PaymentKey, standard: int) -> tuple[Component, ...]:
        """The components of a payment: its details, or the plain standard."""
        found = self.details.get(key)
        if found is not None:
            return found
        return (Component(STANDARD, key.month, standard),)

    def lines(self, limit: int | None = None) -> list[PaymentLine]:
        """The payments as `PaymentLine`s (the first `limit` of them) — for small uses."""
        frame = self.payments if limit is None else self.payments.head(limit)
        lines = []
        for row in frame.iter_rows(named=True):
            key = PaymentKey(
                row["scheme"], row["person_id"], Month.parse(row["month"]), row["sequence"]
            )
            lines.append(
                PaymentLine(
                    key=key,
                    name=row["name"],
                    bank=row["bank"],
                    account=row["account"],
                    account_name=row["account_name"],
                    components=self.components(key, row["standard"]),
                )
            )
        return lines


def roster_frame(beneficiaries: Iterable[Beneficiary]) -> pl.DataFrame:
    """Beneficiaries as the DataFrame `compute_month` takes (ROSTER_SCHEMA)."""
    rows = [
        (b.person_id, b.name, b.scheme, b.tier, str(b.start), b.bank, b.account, b.account_name)
        for b in beneficiaries
    ]
    # Kept in (scheme, person_id) order, so the monthly run need not sort it again.
    return _sorted(pl.DataFrame(rows, schema=ROSTER_SCHEMA, orient="row"))


def compute_month(
    schemes: Iterable[Scheme] | Mapping[str, Scheme],
    roster: pl.DataFrame | Iterable[Beneficiary],
    events: Iterable[LifeEvent],
    month: Month,
    history: History | None = None,
    *,
    known_by: date | None = None,
) -> Computed:
    """What to pay for `month`: see the module docstring.

    `schemes`: a `Schemes` result, any iterable of `Scheme`, or {code: Scheme}.
    `roster`: a DataFrame with the ROSTER_SCHEMA columns, or `Beneficiary` values.
    `events`: life events known now; those effective after `month` are not applied yet.
    `known_by`: when given, only events reported (`reported`, else `day`) on or before it are
    applied — to replay a past year as it was known at each run.
    `history`: what was paid before (see `History`); None means nothing is known — persons
    looked at then get back pay from their start.
    Same inputs give the same output, sorted by (scheme, person_id).
    """
    by_code = dict(schemes) if isinstance(schemes, Mapping) else {s.code: s for s in schemes}
    frame, unreadable = _normalise(
        roster if isinstance(roster, pl.DataFrame) else roster_frame(roster)
    )
    # In (scheme, person_id) order from here on (free when the roster comes in order), so the
    # row number is the output order and the two paths merge without sorting again.
    frame = _sorted(frame).with_row_index(ROW).with_columns(pl.col(ROW).cast(pl.Int64))
    history = history if history is not None else DictHistory()

    by_person: dict[tuple[str, str], list[LifeEvent]] = defaultdict(list)
    for event in events:
        if known_by is not None and (event.reported or event.day) > known_by:
            continue
        if Month.of(event.day) <= month:
            by_person[(event.scheme, event.person_id)].append(event)
    special: set[tuple[str, str]] = set(by_person)
    flagged = getattr(history, "flagged", None)
    if flagged is not None:
        special.update((scheme, person) for scheme, person in flagged())

    retro = _retro_groups(by_code, month)
    if retro:
        groups = pl.DataFrame(
            list(retro), schema={"scheme": pl.String, "tier": pl.String}, orient="row"
        )
        hit = frame.join(groups, on=["scheme", "tier"], how="semi").select("scheme", "person_id")
        special.update(hit.iter_rows())

    if special:
        # Filters (not joins) keep the roster's order.
        people = pl.Series(sorted({person for _, person in special}), dtype=pl.String)
        maybe = frame.filter(pl.col("person_id").is_in(people.implode()))
        rows_hit = [
            r
            for r, scheme, person in maybe.select(ROW, "scheme", "person_id").iter_rows()
            if (scheme, person) in special
        ]
        mask = pl.col(ROW).is_in(pl.Series(rows_hit, dtype=pl.Int64).implode())
        looked_at = frame.filter(mask)
        ordinary = frame.filter(~mask)
    else:
        looked_at = frame.clear()
        ordinary = frame

    paid_frame, skipped_frame = _ordinary(ordinary, by_code, month)

    rows: list[tuple] = []
    skipped: list[tuple] = []
    details: dict[PaymentKey, tuple[Component, ...]] = {}
    recoveries: list[Recovery] = []
    on_roster: set[tuple[str, str]] = set()
    looked_up: dict[str, _Cached] = {}
    for person in looked_at.iter_rows(named=True):
        key = (person["scheme"], person["person_id"])
        on_roster.add(key)
        scheme = by_code.get(person["scheme"])
        if scheme is None:
            skipped.append((*key, person["name"], NO_SCHEME.format(scheme=person["scheme"])))
            continue
        cached = looked_up.setdefault(scheme.code, _Cached(scheme))
        outcome = _person(person, cached, by_person.get(key, []), month, history)
        if outcome.row is not None:
            rows.append((*outcome.row, person[ROW]))
            if outcome.components is not None:
                details[PaymentKey(key[0], key[1], month)] = outcome.components
        if outcome.skip is not None:
            skipped.append((*key, person["name"], outcome.skip))
        if outcome.recovery is not None:
            recoveries.append(outcome.recovery)
    for key in sorted(set(by_person) - on_roster):
        skipped.append((*key, "", NOT_ON_ROSTER))

    special_rows = pl.DataFrame(rows, schema={**PAYMENT_SCHEMA, ROW: pl.Int64}, orient="row")
    payments = paid_frame.merge_sorted(special_rows, key=ROW).drop(ROW)
    # One payment per key: a roster frame holding a person twice in a scheme pays neither row.
    same = (pl.col("scheme") == pl.col("scheme").shift(1)) & (
        pl.col("person_id") == pl.col("person_id").shift(1)
    )
    twice = payments.select(same.fill_null(False) | same.shift(-1).fill_null(False)).to_series()
    if twice.any():
        doubled = payments.filter(twice)
        payments = payments.filter(~twice)
        details = {k: v for k, v in details.items() if k.person_id not in set(doubled["person_id"])}
        skipped.extend(
            (r["scheme"], r["person_id"], r["name"], DUPLICATE)
            for r in doubled.select("scheme", "person_id", "name").iter_rows(named=True)
        )
    skipped_all = _sorted(
        pl.concat(
            [
                unreadable,
                skipped_frame,
                pl.DataFrame(skipped, schema=SKIPPED_SCHEMA, orient="row"),
            ],
            how="vertical",
        )
    )
    recoveries.sort(key=lambda r: (r.scheme, r.person_id))
    return Computed(month, payments, details, tuple(recoveries), skipped_all)


# --- the ordinary case, vectorised ------------------------------------------------------------


def _normalise(frame: pl.DataFrame) -> pl.DataFrame:
    missing = [
        c for c in ROSTER_SCHEMA if c not in frame.columns and c not in ("tier", "account_name")
    ]
    if missing:
        raise ValueError(f"roster frame lacks columns {missing}; expected {list(ROSTER_SCHEMA)}")
    columns = []
    for name, dtype in ROSTER_SCHEMA.items():
        if name not in frame.columns:
            column = pl.lit(None, dtype=pl.String)
        elif name == "start" and frame.schema["start"] != pl.String:
            column = _start_text(frame.schema["start"])
        else:
            column = pl.col(name).cast(dtype)
        columns.append(column.alias(name))
    frame = frame.select(columns).with_columns(
        pl.col("tier").fill_null(""),
        pl.col("account_name").fill_null(pl.col("name")),
    )
    good = pl.col("start").str.contains(r"^\d{4}-(0[1-9]|1[0-2])$").fill_null(False)
    if frame.select(good.all()).item():
        return frame, pl.DataFrame(schema=SKIPPED_SCHEMA)
    # '2020-1', '202001', '2020年1月' become '2020-01'; anything else is skipped with its value.
    parts = pl.col("start").str.strip_chars().str.extract_groups(r"^(\d{4})\D?(\d{1,2})\D?$")
    month = parts.struct.field("2").cast(pl.Int64, strict=False)
    fixed = (
        pl.when(month.is_between(1, 12))
        .then(pl.format("{}-{}", parts.struct.field("1"), month.cast(pl.String).str.zfill(2)))
        .otherwise(None)
    )
    frame = frame.with_columns(fixed.alias("_start"))
    bad = frame.filter(pl.col("_start").is_null()).select(
        "scheme",
        "person_id",
        "name",
        pl.format(BAD_START.replace("{start}", "{}"), pl.col("start").fill_null("")).alias(
            "reason"
        ),
    )
    frame = frame.filter(pl.col("_start").is_not_null())
    return frame.with_columns(pl.col("_start").alias("start")).drop("_start"), bad


def _start_text(dtype: pl.DataType) -> pl.Expr:
    """A Date or an integer YYYYMM start column as 'YYYY-MM'."""
    if dtype == pl.Date or dtype == pl.Datetime:
        return pl.col("start").dt.strftime("%Y-%m")
    number = pl.col("start").cast(pl.Int64)
    return pl.format(
        "{}-{}",
        (number // 100).cast(pl.String).str.zfill(4),
        (number % 100).cast(pl.String).str.zfill(2),
    )


def _ordinary(frame: pl.DataFrame, by_code: Mapping[str, Scheme], month: Month):
    # The standard by (scheme, tier) through a small lookup, which keeps the roster's order.
    found = {
        f"{code}\x1f{tier}": amount
        for code, scheme in by_code.items()
        for tier in sorted({s.tier for s in scheme.standards})
        if (amount := scheme.standard(month, tier)) is not None
    }
    known = pl.Series("scheme", sorted(by_code), dtype=pl.String)
    text = str(month)
    joined = frame.with_columns(
        pl.concat_str(["scheme", "tier"], separator="\x1f")
        .replace_strict(list(found), list(found.values()), default=None, return_dtype=pl.Int64)
        .alias("standard")
    )
    started = pl.col("start") <= text
    payable = started & pl.col("standard").is_not_null()
    paid = joined.filter(payable).select(
        "scheme",
        "person_id",
        pl.lit(text).alias("month"),
        pl.lit(1, dtype=pl.Int64).alias("sequence"),
        "name",
        "bank",
        "account",
        "account_name",
        "standard",
        pl.lit(0, dtype=pl.Int64).alias("back_pay"),
        pl.lit(0, dtype=pl.Int64).alias("recovery"),
        pl.col("standard").alias("amount"),
        ROW,
    )
    reason = (
        pl.when(~pl.col("scheme").is_in(known.implode()))
        .then(pl.format(NO_SCHEME.replace("{scheme}", "{}"), pl.col("scheme")))
        .when(~started)
        .then(pl.format(NOT_STARTED.replace("{start}", "{}"), pl.col("start")))
        .otherwise(pl.format(NO_STANDARD.replace("{tier}", "{}"), pl.col("tier")))
    )
    skipped = joined.filter(~payable).select("scheme", "person_id", "name", reason.alias("reason"))
    return paid.cast({**PAYMENT_SCHEMA, ROW: pl.Int64}), skipped.cast(SKIPPED_SCHEMA)


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    """Sorted by (scheme, person_id). Sorting two million strings takes seconds; for 18-character
    公民身份号码 the same order comes from one integer: the scheme's rank in the top bits, then
    the 17 digits × 11 plus the check digit (X as 10), which stays below 2^61."""
    if frame.is_empty():
        return frame
    codes = sorted(frame.get_column("scheme").unique().to_list())
    person = pl.col("person_id")
    digits = person.str.head(17).str.to_integer(strict=False).cast(pl.UInt64)
    check = person.str.tail(1).replace({"X": "10"}).str.to_integer(strict=False).cast(pl.UInt64)
    rank = pl.col("scheme").replace_strict(codes, list(range(len(codes))), return_dtype=pl.UInt64)
    key = frame.select(
        (rank * (1 << 61) + digits * 11 + check).alias("key"),
        (person.str.len_bytes() == 18).alias("fits"),
    )
    if (
        len(codes) > 8
        or not key.select(pl.col("key").is_not_null().all() & pl.col("fits").all()).item()
    ):
        return frame.sort("scheme", "person_id")
    order = key.get_column("key")
    # A roster kept in order (as a database query gives it) needs no sort at all.
    if (order.shift(1) <= order).fill_null(True).all():
        return frame
    return frame[order.arg_sort()]


def _retro_groups(by_code: Mapping[str, Scheme], month: Month) -> set[tuple[str, str]]:
    groups = set()
    for code, scheme in by_code.items():
        for standard in scheme.standards:
            announced = standard.announced
            if announced is None or not standard.start < month:
                continue
            if 0 <= _index(month) - _index(announced) < RETRO_RUNS:
                groups.add((code, standard.tier))
    return groups


# --- a person with events or a history to compare with -----------------------------------------


class _Cached:
    """A scheme whose standards are looked up once per (month, tier): a person walks every month
    since their start, and thousands of persons share the same few answers."""

    def __init__(self, scheme: Scheme) -> None:
        self.code = scheme.code
        self._scheme = scheme
        self._found: dict[tuple[Month, str], int | None] = {}

    def standard(self, month: Month, tier: str = "") -> int | None:
        key = (month, tier)
        if key not in self._found:
            self._found[key] = self._scheme.standard(month, tier)
        return self._found[key]


@dataclass(frozen=True)
class _Outcome:
    row: tuple | None = None
    components: tuple[Component, ...] | None = None  # set when more than the plain standard
    skip: str | None = None
    recovery: Recovery | None = None


@dataclass
class _Life:
    """A person's events, read into the facts the entitlement needs."""

    death: date | None = None
    stop: date | None = None
    suspended_from: Month | None = None  # an open suspension
    suspended_for: str = ""  # the reason recorded with it
    closed: list[tuple[Month, Month]] = field(default_factory=list)  # suspended, then resumed
    tiers: list[tuple[Month, str]] = field(default_factory=list)
    bank: str | None = None
    account: str | None = None
    account_name: str | None = None

    @classmethod
    def read(cls, events: list[LifeEvent]) -> _Life:
        life = cls()
        for event in sorted(events, key=lambda e: (e.day, _EVENT_ORDER.get(e.kind, 9))):
            at = Month.of(event.day)
            if event.kind == DEATH and life.death is None:
                life.death = event.day
            elif event.kind == STOP and life.stop is None:
                life.stop = event.day
            elif event.kind == SUSPEND and life.suspended_from is None:
                life.suspended_from = at
                life.suspended_for = str(event.detail.get("reason") or "").strip()
            elif event.kind == RESUME and life.suspended_from is not None:
                life.closed.append((life.suspended_from, at))
                life.suspended_from = None
            elif event.kind == TIER_CHANGE and "tier" in event.detail:
                life.tiers.append((at, str(event.detail["tier"] or "")))
            elif event.kind == ACCOUNT_CHANGE:
                life.bank = event.detail.get("bank") or life.bank
                life.account = event.detail.get("account") or life.account
                life.account_name = event.detail.get("account_name") or life.account_name
        return life

    def tier(self, month: Month, initial: str) -> str:
        tier = initial
        for at, new in self.tiers:
            if at <= month:
                tier = new
        return tier

    def owed(self, scheme: _Cached, start: Month, tier: str, month: Month) -> int:
        if self.unpaid(scheme, start, tier, month) is not None:
            return 0
        return scheme.standard(month, self.tier(month, tier)) or 0

    def unpaid(self, scheme: _Cached, start: Month, tier: str, month: Month) -> str | None:
        """Why nothing is owed for `month`, in Chinese; None when the standard is owed."""
        if month < start:
            return NOT_STARTED.format(start=start)
        if self.death is not None and month > Month.of(self.death):
            return DEAD.format(day=self.death.isoformat())
        if self.stop is not None and month >= Month.of(self.stop):
            return STOPPED.format(day=self.stop.isoformat())
        if self.suspended_from is not None and month >= self.suspended_from:
            reason = self.suspended_for or SUSPENDED_WITHOUT_REASON
            return SUSPENDED.format(reason=reason, month=self.suspended_from)
        if scheme.standard(month, self.tier(month, tier)) is None:
            return NO_STANDARD.format(tier=self.tier(month, tier))
        return None


def _person(
    person: dict, scheme: _Cached, events: list[LifeEvent], month: Month, history: History
) -> _Outcome:
    life = _Life.read(events)
    start = Month.parse(person["start"])
    tier = person["tier"]
    paid = {m: a for m, a in history.paid(scheme.code, person["person_id"]).items() if m < month}
    first = min(paid) if paid else start

    back: list[Component] = []
    over: list[tuple[Month, int]] = []
    at = first
    while at < month:
        diff = life.owed(scheme, start, tier, at) - paid.get(at, 0)
        if diff > 0:
            back.append(Component(BACK_PAY, at, diff))
        elif diff < 0:
            over.append((at, -diff))
        at = at.next()

    skip = life.unpaid(scheme, start, tier, month)
    current = 0 if skip else life.owed(scheme, start, tier, month)
    gross = current + sum(c.amount for c in back)
    overpaid = sum(amount for _, amount in over)
    ends = (life.death is not None and Month.of(life.death) < month) or (
        life.stop is not None and Month.of(life.stop) <= month
    )

    if skip:
        # Nobody is paid while dead, terminated, suspended or not started; what they were overpaid
        # is still owed back, less what they are owed.
        net = overpaid - sum(c.amount for c in back)
        recovery = _recovery(person, scheme, over, net, via_bank=ends) if net > 0 else None
        if ends and net < 0:
            # Owed to someone who will not be paid again: said, not dropped.
            skip += OWED.format(yuan=_yuan(-net))
        return _Outcome(skip=skip, recovery=recovery)

    netted = min(gross, overpaid)
    recovered: list[Component] = []
    left = netted
    for when, amount in over:
        if left == 0:
            break
        take = min(left, amount)
        recovered.append(Component(RECOVERY, when, -take))
        left -= take
    amount = gross - netted
    remainder = overpaid - gross
    recovery = _recovery(person, scheme, over, remainder, via_bank=False) if remainder > 0 else None
    if amount == 0:
        return _Outcome(skip=ALL_RECOVERED, recovery=recovery)
    parts = tuple(([Component(STANDARD, month, current)] if current else []) + back + recovered)
    row = (
        scheme.code,
        person["person_id"],
        str(month),
        1,
        person["name"],
        life.bank or person["bank"],
        life.account or person["account"],
        life.account_name or person["account_name"],
        current,
        sum(c.amount for c in back),
        netted,
        amount,
    )
    plain = len(parts) == 1 and parts[0].kind == STANDARD
    return _Outcome(row=row, components=None if plain else parts, recovery=recovery)


def _recovery(person: dict, scheme: _Cached, over, amount: int, *, via_bank: bool) -> Recovery:
    months = tuple(m for m, _ in over)
    if via_bank:
        reason = f"多发 {_yuan(amount)} 元（{_span(months)}），已无后续发放可抵扣，需通过银行追回"
    else:
        reason = f"多发 {_yuan(amount)} 元（{_span(months)}），在以后月份的发放中继续抵扣"
    return Recovery(
        scheme.code, person["person_id"], person["name"], amount, months, reason, via_bank
    )


def _span(months: tuple[Month, ...]) -> str:
    if not months:
        return ""
    if len(months) == 1:
        return str(months[0])
    return f"{months[0]} 至 {months[-1]}"


def _yuan(fen: int) -> str:
    """元 as the pages print them: 2,200.00."""
    return f"{fen // 100:,}.{fen % 100:02d}"


def _index(month: Month) -> int:
    return month.year * 12 + month.month - 1
