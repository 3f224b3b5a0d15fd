"""Forms of the disbursement pages. Every field says what is accepted, in Chinese."""

from __future__ import annotations

from django import forms

from juesuan.disbursement import recoveries as recovery_rules
from juesuan.disbursement.model import Month
from juesuan.money import AmountError, parse_yuan, to_fen


class UploadForm(forms.Form):
    file = forms.FileField(label="文件")


class ResultsForm(forms.Form):
    file = forms.FileField(label="回盘文件")
    adapter = forms.ChoiceField(label="银行接口")

    def __init__(self, *args, adapters=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["adapter"].choices = list(adapters)


class MonthForm(forms.Form):
    month = forms.CharField(label="发放月份", max_length=10)

    def clean_month(self) -> Month:
        text = self.cleaned_data["month"]
        try:
            month = Month.parse(text)
        except (ValueError, IndexError) as exc:
            raise forms.ValidationError(f"发放月份“{text}”无法识别，请写作 2020-03。") from exc
        if not 1990 <= month.year <= 2100:
            raise forms.ValidationError(f"发放月份“{text}”的年份不在 1990–2100 之间。")
        return month


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
    reason = forms.CharField(label="取消原因", max_length=200)


class SettlementForm(forms.Form):
    """A collection or write-off of a recovery: the amount in 元 (stored as 分)."""

    method = forms.ChoiceField(label="追回方式", choices=list(recovery_rules.METHOD_NAMES.items()))
    amount = forms.CharField(label="金额（元）", max_length=20)
    day = forms.DateField(
        label="日期",
        input_formats=["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d"],
        error_messages={"invalid": "请写作 2020-06-30。"},
    )
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
