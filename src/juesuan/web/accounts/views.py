"""Sign-in and sign-out, password change, and the administrator's pages (users, units, grants)."""

from __future__ import annotations

import secrets

from django.contrib import messages
from django.contrib.auth import authenticate, login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import PasswordChangeForm
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from juesuan.web.accounts import throttle
from juesuan.web.accounts.access import ROLE_DUTIES, administrator_required
from juesuan.web.accounts.forms import GrantForm, LoginForm, UnitForm, UserForm
from juesuan.web.accounts.models import ROLE_NAMES, Grant, Unit, User
from juesuan.web.accounts.office import create_unit, create_user
from juesuan.web.audit.log import client_ip, record, verify
from juesuan.web.audit.models import AuditEntry


def _locked_message(lock: throttle.Lock) -> str:
    minutes = max(1, int((lock.until - timezone.now()).total_seconds() // 60) + 1)
    if lock.whole_address:
        return (
            f"从本机地址登录失败的次数过多，所有账号在本机已暂时锁定，请 {minutes} 分钟后再试，"
            "或请管理员协助。"
        )
    return f"登录失败次数过多，该账号在本机已暂时锁定，请 {minutes} 分钟后再试，或请管理员协助。"


@login_not_required
def login_view(request):
    if request.user.is_authenticated:
        return redirect("home")
    form = LoginForm(request.POST or None)
    error = ""
    locked = False
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"].strip()
        ip = client_ip(request)
        lock = throttle.locked(username, ip)
        if lock is not None:
            error, locked = _locked_message(lock), True
            record("login_locked", request=request, username=username, summary=error)
        else:
            user = authenticate(request, username=username, password=form.cleaned_data["password"])
            if user is not None:
                throttle.clear(username, ip)
                login(request, user)
                record("login", request=request, user=user, summary="登录成功")
                if not url_has_allowed_host_and_scheme(
                    next_url, allowed_hosts={request.get_host()}
                ):
                    next_url = ""
                return redirect(next_url or "home")
            lock = throttle.register_failure(username, ip)
            if lock is not None:
                error, locked = _locked_message(lock), True
                record("login_locked", request=request, username=username, summary=error)
            else:
                left = throttle.remaining(username, ip)
                error = f"用户名或密码不正确。再错 {left} 次，该账号将在本机暂时锁定。"
                record(
                    "login_failed", request=request, username=username, summary="用户名或密码不正确"
                )
    return render(
        request,
        "juesuan/login.html",
        {"form": form, "error": error, "next": next_url},
        status=429 if locked else 200,
    )


def logout_view(request):
    """Signing out is a POST (a link or an image elsewhere cannot sign anyone out); a GET, such
    as a typed address, gets a page with the button."""
    if request.method != "POST":
        return render(request, "juesuan/logout.html")
    if request.user.is_authenticated:
        record("logout", request=request, summary="退出登录")
    logout(request)
    messages.info(request, "您已退出。")
    return redirect("login")


def password_view(request):
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        update_session_auth_hash(request, user)
        record("password_change", request=request, summary="修改了自己的密码")
        messages.success(request, "密码已修改。")
        return redirect("home")
    return render(request, "juesuan/password.html", {"form": form})


@login_not_required
def csrf_failure(request, reason: str = ""):
    return render(
        request,
        "juesuan/error.html",
        {
            "title": "页面已过期",
            "message": "表单的安全校验没有通过（页面可能已打开太久，或登录已超时）。"
            "请刷新页面后重新提交。",
        },
        status=403,
    )


# ---- administrator ------------------------------------------------------------------------------


@administrator_required
def manage(request):
    return render(request, "juesuan/manage.html", _manage_context())


def _manage_context(**forms) -> dict:
    context = {
        "users": User.objects.order_by("username").prefetch_related("grants__unit"),
        "tree": unit_tree(list(Unit.objects.select_related("parent"))),
        "grants": Grant.objects.select_related("user", "unit").order_by(
            "unit__name", "user__username"
        ),
        "user_form": UserForm(),
        "unit_form": UnitForm(),
        "grant_form": GrantForm(),
        "role_names": ROLE_NAMES,
        "role_duties": [(ROLE_NAMES[role], duty) for role, duty in ROLE_DUTIES.items()],
    }
    context.update(forms)
    return context


def unit_tree(units: list[Unit]) -> list[tuple[Unit, int]]:
    """Units in tree order with their depth."""
    children: dict[int | None, list[Unit]] = {}
    for unit in units:
        children.setdefault(unit.parent_id, []).append(unit)
    ordered: list[tuple[Unit, int]] = []
    seen: set[int] = set()

    def walk(parent: int | None, depth: int) -> None:
        for unit in sorted(children.get(parent, []), key=lambda u: u.name):
            if unit.pk in seen:
                continue
            seen.add(unit.pk)
            ordered.append((unit, depth))
            walk(unit.pk, depth + 1)

    walk(None, 0)
    return ordered


@administrator_required
@require_POST
def user_create(request):
    form = UserForm(request.POST)
    if not form.is_valid():
        return _manage_with_errors(request, user_form=form)
    data = form.cleaned_data
    user, password = create_user(data, request=request)
    if data["password"]:
        messages.success(request, f"已新建用户 {user.username}。")
    else:
        messages.success(
            request, f"已新建用户 {user.username}，初始密码：{password}（只显示这一次）"
        )
    return redirect("manage")


@administrator_required
@require_POST
def user_update(request, user_id: int):
    user = get_object_or_404(User, pk=user_id)
    action = request.POST.get("action")
    if action == "deactivate" and user != request.user:
        user.is_active = False
        user.save(update_fields=["is_active"])
        summary = f"停用用户 {user.username}"
    elif action == "activate":
        user.is_active = True
        user.save(update_fields=["is_active"])
        summary = f"启用用户 {user.username}"
    elif action == "reset":
        password = secrets.token_urlsafe(9)
        user.set_password(password)
        user.save(update_fields=["password"])
        summary = f"重置用户 {user.username} 的密码"
        messages.success(request, f"{user.username} 的新密码：{password}（只显示这一次）")
    else:
        messages.error(request, "不能执行这个操作。")
        return redirect("manage")
    record("user_update", request=request, target=f"用户 {user.username}", summary=summary)
    if action != "reset":
        messages.success(request, summary + "。")
    return redirect("manage")


@administrator_required
@require_POST
def unit_create(request):
    form = UnitForm(request.POST)
    if not form.is_valid():
        return _manage_with_errors(request, unit_form=form)
    unit = create_unit(form.cleaned_data, request=request)
    messages.success(request, f"已新建{unit.kind_name}“{unit.name}”。")
    return redirect("manage")


@administrator_required
@require_POST
def grant_add(request):
    form = GrantForm(request.POST)
    if not form.is_valid():
        return _manage_with_errors(request, grant_form=form)
    data = form.cleaned_data
    grant, created = Grant.objects.get_or_create(
        user=data["user"], unit=data["unit"], role=data["role"]
    )
    if created:
        record(
            "grant_add",
            request=request,
            unit=grant.unit,
            target=f"用户 {grant.user.username}",
            summary=f"授予 {grant.user.username} 在“{grant.unit.name}”的{grant.role_name}角色",
        )
        messages.success(request, f"已授权：{grant}。")
    else:
        messages.info(request, "这项授权已经存在。")
    return redirect("manage")


@administrator_required
@require_POST
def grant_remove(request, grant_id: int):
    grant = get_object_or_404(Grant.objects.select_related("user", "unit"), pk=grant_id)
    with transaction.atomic():
        text = str(grant)
        grant.delete()
        record(
            "grant_remove",
            request=request,
            unit=grant.unit,
            target=f"用户 {grant.user.username}",
            summary=f"取消 {grant.user.username} 在“{grant.unit.name}”的{grant.role_name}角色",
        )
    messages.success(request, f"已取消授权：{text}。")
    return redirect("manage")


def _manage_with_errors(request, **forms):
    messages.error(request, "没有保存：请按提示修改。")
    return render(request, "juesuan/manage.html", _manage_context(**forms), status=400)


@administrator_required
def audit_log(request):
    entries = AuditEntry.objects.order_by("-seq")[:300]
    return render(
        request,
        "juesuan/audit_log.html",
        {"entries": entries, "verification": verify(), "scope": "全部"},
    )
