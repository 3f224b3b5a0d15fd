from __future__ import annotations

from django import forms
from django.contrib.auth import password_validation

from juesuan.web.accounts.models import (
    GRANTABLE_ROLES,
    ROLE_NAMES,
    UNIT_KIND_NAMES,
    Unit,
    User,
)


class LoginForm(forms.Form):
    username = forms.CharField(label="用户名", max_length=150)
    password = forms.CharField(label="密码", widget=forms.PasswordInput, strip=False)


class UserForm(forms.Form):
    username = forms.RegexField(
        label="用户名",
        max_length=150,
        regex=r"^[\w.@+-]+$",
        error_messages={"invalid": "用户名只能包含字母、数字和 @ . + - _"},
    )
    display_name = forms.CharField(label="姓名", max_length=100, required=False)
    password = forms.CharField(
        label="初始密码",
        widget=forms.PasswordInput,
        required=False,
        strip=False,
        help_text="不填则自动生成，创建后显示一次",
    )
    is_admin = forms.BooleanField(label="管理员", required=False)

    def clean_username(self):
        username = self.cleaned_data["username"]
        if User.objects.filter(username=username).exists():
            raise forms.ValidationError("这个用户名已经有人用了")
        return username

    def clean(self):
        data = super().clean()
        password = data.get("password")
        if password:
            candidate = User(username=data.get("username", ""))
            password_validation.validate_password(password, candidate)
        return data


class UnitForm(forms.Form):
    name = forms.CharField(label="名称", max_length=200)
    code = forms.CharField(label="编码", max_length=50, required=False)
    kind = forms.ChoiceField(label="类别", choices=list(UNIT_KIND_NAMES.items()))
    parent = forms.ModelChoiceField(
        label="上级部门",
        queryset=Unit.objects.all(),
        required=False,
        empty_label="（无，顶层）",
    )

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if Unit.objects.filter(name=name).exists():
            raise forms.ValidationError("已有同名单位")
        return name


class GrantForm(forms.Form):
    user = forms.ModelChoiceField(
        label="用户", queryset=User.objects.filter(is_active=True), empty_label="请选择用户"
    )
    unit = forms.ModelChoiceField(
        label="单位", queryset=Unit.objects.all(), empty_label="请选择单位"
    )
    role = forms.ChoiceField(label="角色", choices=[(r, ROLE_NAMES[r]) for r in GRANTABLE_ROLES])
