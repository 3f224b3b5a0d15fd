from __future__ import annotations

from django import forms


class UploadForm(forms.Form):
    file = forms.FileField(label="数据工作簿（.xlsx）")
    year = forms.IntegerField(
        required=False, widget=forms.HiddenInput, min_value=1990, max_value=2100
    )


class BuildForm(forms.Form):
    draft = forms.BooleanField(label="有致命问题也生成（标注“草稿”，不得公开）", required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)


class ConsolidateForm(forms.Form):
    year = forms.IntegerField(label="年度", min_value=1990, max_value=2100)
