"""Forms of the disbursement pages. Every field says what is accepted, in Chinese."""

from __future__ import annotations

from django import forms

from juesuan.disbursement.model import Month


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


class CancelForm(forms.Form):
    reason = forms.CharField(label="取消原因", max_length=200)
