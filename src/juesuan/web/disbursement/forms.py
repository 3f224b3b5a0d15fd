"""Forms of the disbursement pages. Every field says what is accepted, in Chinese."""

from __future__ import annotations

from typing import ClassVar

from django import forms

from juesuan.disbursement import model as core
from juesuan.disbursement import recoveries as recovery_rules
from juesuan.disbursement.model import Month
from juesuan.money import AmountError, parse_yuan, to_fen
from juesuan.web.disbursement.services.corrections import died_after_today


class UploadForm(forms.Form):
    file = forms.FileField(label="文件")


class ResultsForm(forms.Form):
    file = forms.FileField(label="回盘文件")
    adapter = forms.ChoiceField(label="银行接口")

    def __init__(self, *args, adapters=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["adapter"].choices = list(adapters)


class MonthForm(forms.Form):
    """The month a regular run pays, chosen from the office's years (`office_years`)."""

    month = forms.ChoiceField(
        label="发放月份",
        error_messages={"invalid_choice": "请从列表中选择发放月份（%(value)s 不在可选范围内）。"},
    )

    def __init__(self, *args, years=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["month"].choices = month_choices(years)

    def clean_month(self) -> Month:
        return Month.parse(self.cleaned_data["month"])


# ---- dates and months typed in the Chinese order ----------------------------------------------
# Chromium shows <input type=date> and type=month in the order and words of its own build
# ("02/20/2020", "January 2020") whatever the page's language; text boxes read the same to all.

DAY_FORMATS = ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日"]
# a month typed as 2020-01: the standards' months are checked by the schemes file reader
MONTH_BOX = forms.TextInput(attrs={"placeholder": "如 2020-01", "size": 9})


def day_field(label: str, **kwargs) -> forms.DateField:
    """A date typed as 2020-03-15 (or 2020/3/15, 20200315, 2020年3月15日)."""
    return forms.DateField(
        label=label,
        input_formats=DAY_FORMATS,
        widget=forms.DateInput(
            format="%Y-%m-%d", attrs={"placeholder": "如 2020-03-15", "size": 12}
        ),
        error_messages={
            "invalid": "请写作 2020-03-15（年-月-日）。",
            "required": "请填写日期，如 2020-03-15。",
        },
        **kwargs,
    )


class SendBackForm(forms.Form):
    reason = forms.CharField(label="退回原因", max_length=500, required=False)


class CorrectionForm(forms.Form):
    name = forms.CharField(label="姓名", max_length=100)
    bank = forms.CharField(label="开户银行", max_length=100)
    account = forms.CharField(label="银行账号", max_length=40)
    account_name = forms.CharField(label="账户名", max_length=100, required=False)
    note = forms.CharField(label="说明", max_length=500, required=False)


class PayerForm(forms.Form):
    """The account a scheme's batch files are paid from."""

    account = forms.CharField(label="付款账号", max_length=40)
    bank = forms.CharField(label="开户行", max_length=100)
    name = forms.CharField(label="户名", max_length=100)


class CancelForm(forms.Form):
    """Cancelling a returned payment, and what happens to the person's later payments."""

    STOP, DEATH, CONTINUE = "stop", "death", "continue"
    reason = forms.CharField(
        label="取消原因",
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": "例如：领取人已死亡；未按期资格认证"}),
    )
    then = forms.ChoiceField(
        label="此人以后的发放",
        widget=forms.RadioSelect,
        choices=[
            (DEATH, "领取人已死亡：登记死亡，死亡当月照常发放，次月起停发"),
            (STOP, "暂停发放：自这笔付款的月份起暂停（原因同上），恢复时再补发"),
            (CONTINUE, "继续发放：取消的这笔钱在下一次发放中作为补发再付"),
        ],
        error_messages={"required": "请选择此人以后的发放：登记死亡、暂停还是继续发放。"},
    )
    died = day_field("死亡日期", required=False, help_text="选“领取人已死亡”时填写。")
    previewed = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        if data.get("then") != self.DEATH:
            # the date matters only for a death; a stray one is neither checked nor used
            self.errors.pop("died", None)
            data["died"] = None
        elif "died" not in self.errors:
            died = data.get("died")
            if not died:
                self.add_error("died", "领取人已死亡时须填写死亡日期。")
            elif future := died_after_today(died):
                self.add_error("died", future)
        return data

    def add_problems(self, problems: list[dict]) -> None:
        """The service's refusals: a death's on the date, the rest on the form."""
        for problem in problems:
            text = problem["message"] + (
                f"（可填写：{problem['accepted']}）" if problem.get("accepted") else ""
            )
            on_date = EVENT_COLUMNS.get(problem.get("column") or "") == "day"
            self.add_error("died" if on_date else None, text)

    def digest(self) -> str:
        import hashlib

        data = self.cleaned_data
        values = f"{data['reason']}|{data['then']}|{data.get('died') or ''}"
        return hashlib.sha256(values.encode()).hexdigest()[:32]


class SupplementaryForm(forms.Form):
    """The month a supplementary run is booked in, from the months its payments are for."""

    month = forms.ChoiceField(label="记入月份")

    def __init__(self, *args, months=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["month"].choices = [(m, m) for m in months]


class SettlementForm(forms.Form):
    """A collection or write-off of a recovery: the amount in 元 (stored as 分)."""

    method = forms.ChoiceField(label="追回方式", choices=list(recovery_rules.METHOD_NAMES.items()))
    amount = forms.CharField(label="金额（元）", max_length=20)
    day = day_field("日期")
    note = forms.CharField(label="说明", max_length=500, required=False)

    def clean_amount(self) -> int:
        """分; a positive amount in 元 with at most two decimals."""
        text = self.cleaned_data["amount"]
        try:
            fen = to_fen(parse_yuan(text))
        except AmountError as exc:
            raise forms.ValidationError(str(exc)) from exc
        if fen <= 0:
            raise forms.ValidationError(f"“{text}”应大于 0 元。")
        return fen

    def clean(self):
        data = super().clean()
        if data.get("method") == recovery_rules.WRITE_OFF and not (data.get("note") or "").strip():
            self.add_error("note", "核销须写明原因（如：无财产可供追偿，经集体研究同意核销）。")
        return data

    def error_text(self) -> str:
        return "；".join(
            f"{self.fields[k].label}：{e}" if k in self.fields else e
            for k, errors in self.errors.items()
            for e in errors
        )


# ---- one life event -------------------------------------------------------------------------

# What each event's form asks for, besides the person: a date (死亡, 终止) or a month.
EVENT_FIELDS = {
    core.DEATH: ("day", "reported"),
    core.STOP: ("day", "reported", "reason"),
    core.SUSPEND: ("month", "reason"),
    core.RESUME: ("month",),
    core.ACCOUNT_CHANGE: ("month", "bank", "account", "account_name"),
    core.TIER_CHANGE: ("month", "tier"),
}
EVENT_TITLES = {
    core.DEATH: "死亡",
    core.SUSPEND: "暂停（未资格认证）",
    core.RESUME: "恢复发放",
    core.ACCOUNT_CHANGE: "变更账户",
    core.TIER_CHANGE: "变更档次",
    core.STOP: "终止",
}
# The events file's column titles → the form's fields (errors come back by column).
EVENT_COLUMNS = {
    "生效日期": "day",
    "报告日期": "reported",
    "开户银行": "bank",
    "银行账号": "account",
    "账户名": "account_name",
    "档次": "tier",
}


def month_choices(years) -> list[tuple[str, list[tuple[str, str]]]]:
    """The months of `years`, grouped by year, for a select."""
    return [
        (f"{y} 年", [(f"{y:04d}-{m:02d}", f"{y} 年 {m} 月") for m in range(1, 13)]) for y in years
    ]


class EventForm(forms.Form):
    """One 人员变动 of one kind; the fields the kind does not use are dropped."""

    day = day_field("日期")
    reported = day_field(
        "报告日期",
        required=False,
        help_text="得知此事的日期；晚于已发放的月份时，多发的部分列入追回。",
    )
    month = forms.ChoiceField(
        label="从哪个月起",
        error_messages={"invalid_choice": "请从列表中选择月份（%(value)s 不在可选范围内）。"},
    )
    bank = forms.CharField(label="新的开户银行", max_length=100)
    account = forms.CharField(
        label="新的银行账号", max_length=40, widget=forms.TextInput(attrs={"inputmode": "numeric"})
    )
    account_name = forms.CharField(
        label="新的账户名", max_length=100, required=False, help_text="留空则沿用原户名。"
    )
    tier = forms.ChoiceField(
        label="新的档次",
        error_messages={"invalid_choice": "该补贴类别没有档次“%(value)s”，请从列表中选择。"},
    )
    reason = forms.CharField(label="原因", max_length=200, required=False)
    # a digest of the values last shown in the preview: saving needs the values seen
    previewed = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, kind: str, years=(), tiers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        keep = {*EVENT_FIELDS[kind], "previewed"}
        for name in list(self.fields):
            if name not in keep:
                del self.fields[name]
        if "month" in self.fields:
            self.fields["month"].choices = month_choices(years)
        if "tier" in self.fields:
            self.fields["tier"].choices = [(t, t or "（不分档次）") for t in tiers]
        if kind == core.DEATH:
            self.fields["day"].label = "死亡日期"
            self.fields["day"].help_text = "死亡当月照常发放，次月起停发。"
        elif kind == core.STOP:
            self.fields["day"].label = "终止日期"
            self.fields["day"].help_text = "终止当月起不再发放。"
        if kind == core.SUSPEND:
            self.fields["reason"].initial = "未按期完成资格认证"
        if kind == core.RESUME:
            self.fields["month"].label = "从哪个月起恢复"
            self.fields["month"].help_text = "暂停期间的各月按标准补发，随下一次发放一并发放。"

    def effective_day(self):
        """The event's date: the date asked for, or the first day of the month chosen."""
        data = self.cleaned_data
        if "day" in data:
            return data["day"]
        return Month.parse(data["month"]).first_day()

    def digest(self) -> str:
        import hashlib

        values = {k: str(v) for k, v in self.cleaned_data.items() if k != "previewed"}
        return hashlib.sha256(repr(sorted(values.items())).encode()).hexdigest()[:32]

    def add_problems(self, problems: list[dict]) -> None:
        """The events reader's errors, each on its field (or on the form)."""
        for problem in problems:
            field = EVENT_COLUMNS.get(problem.get("column") or "")
            if field == "day" and "day" not in self.fields:
                field = "month"
            text = problem["message"] + (
                f"（可填写：{problem['accepted']}）" if problem.get("accepted") else ""
            )
            self.add_error(field if field in self.fields else None, text)


# ---- a scheme ---------------------------------------------------------------------------------


class SchemeForm(forms.Form):
    """A 补贴类别's settings; the values are checked by the schemes file reader."""

    code = forms.CharField(
        label="代码", max_length=20, help_text="1–6 位大写英文字母或数字，如 QYJS；保存后不能再改。"
    )
    name = forms.CharField(label="名称", max_length=100)
    payment_day = forms.CharField(label="每月发放日", max_length=5, help_text="1–28 日。")
    function_code = forms.CharField(
        label="功能分类科目",
        max_length=7,
        initial="2089999",
        help_text="如 2089999 其他社会保障和就业支出。",
    )
    economic_code = forms.CharField(
        label="经济分类科目", max_length=5, initial="30305", help_text="如 30305 生活补助。"
    )
    project = forms.CharField(
        label="项目名称",
        max_length=200,
        required=False,
        help_text="记账和绩效用的项目；留空则同名称。",
    )
    bank_adapter = forms.ChoiceField(label="银行接口", help_text="批次文件和回盘文件的格式。")
    payer_account = forms.CharField(label="付款账号", max_length=40, required=False)
    payer_bank = forms.CharField(label="付款开户行", max_length=100, required=False)
    payer_name = forms.CharField(label="付款户名", max_length=100, required=False)

    # the schemes reader's paths → fields
    PATHS: ClassVar[dict[str, str]] = {
        "schemes[0].code": "code",
        "schemes[0].name": "name",
        "schemes[0].payment_day": "payment_day",
        "schemes[0].function_code": "function_code",
        "schemes[0].economic_code": "economic_code",
        "schemes[0].project": "project",
        "bank_adapter": "bank_adapter",
        "payer": "payer_account",
    }

    def __init__(self, *args, adapters=(), editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["bank_adapter"].choices = list(adapters)
        if editing:
            self.fields["code"].disabled = True
            self.fields["code"].help_text = "代码是付款编号的一部分，不能修改。"


class StandardForm(forms.Form):
    """One dated standard (发放标准); a row left empty is no standard."""

    tier = forms.CharField(label="档次", max_length=50, required=False)
    start = forms.CharField(label="执行月份", max_length=10, required=False, widget=MONTH_BOX)
    amount = forms.CharField(
        label="月标准（元）",
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 10}),
    )
    announced = forms.CharField(label="公布月份", max_length=10, required=False, widget=MONTH_BOX)

    def filled(self) -> bool:
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        return any((data.get(k) or "").strip() for k in ("tier", "start", "amount", "announced"))

    def as_entry(self) -> dict:
        data = {k: (self.cleaned_data.get(k) or "").strip() for k in ("tier", "start", "amount")}
        if not data["tier"]:
            del data["tier"]
        if (self.cleaned_data.get("announced") or "").strip():
            data["announced"] = self.cleaned_data["announced"].strip()
        return data


StandardFormSet = forms.formset_factory(StandardForm, extra=3)


def scheme_entry(form: SchemeForm, standards) -> tuple[dict, list[int]]:
    """The form as one entry of schemes.yaml, and which formset row each standard came from."""
    data = form.cleaned_data
    rows = [i for i, f in enumerate(standards.forms) if f.filled()]
    entry = {
        "code": data.get("code", ""),
        "name": data.get("name", ""),
        "payment_day": data.get("payment_day"),
        "function_code": data.get("function_code", ""),
        "economic_code": data.get("economic_code", ""),
        "standards": [standards.forms[i].as_entry() for i in rows],
    }
    if data.get("project"):
        entry["project"] = data["project"]
    return entry, rows


def add_scheme_problems(
    form: SchemeForm, standards, rows: list[int], problems: list[dict]
) -> list[str]:
    """The reader's errors on their fields; those that fit none are returned as text."""
    import re

    left = []
    for problem in problems:
        text = problem["message"] + (
            f"（应为：{problem['accepted']}）" if problem.get("accepted") else ""
        )
        path = problem.get("column") or ""
        found = re.fullmatch(r"schemes\[0\]\.standards\[(\d+)\]\.(\w+)", path)
        if found and int(found[1]) < len(rows):
            row = standards.forms[rows[int(found[1])]]
            row.add_error(found[2] if found[2] in row.fields else None, text)
        elif path in form.PATHS:
            form.add_error(form.PATHS[path], text)
        else:
            left.append(text if "standards" not in path else f"发放标准：{text}")
    return left
