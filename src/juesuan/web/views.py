"""Error pages in Chinese."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.shortcuts import render


@login_not_required
def forbidden(request, exception=None):
    message = str(exception) if exception and str(exception) else "您没有执行这个操作的权限。"
    return render(
        request, "juesuan/error.html", {"title": "没有权限", "message": message}, status=403
    )


@login_not_required
def not_found(request, exception=None):
    return render(
        request,
        "juesuan/error.html",
        {"title": "找不到页面", "message": "没有这个页面，或您没有查看它的权限。"},
        status=404,
    )


@login_not_required
def server_error(request):
    return render(
        request,
        "juesuan/error.html",
        {"title": "出错了", "message": "服务器处理时出错，已记录。请稍后重试，或联系管理员。"},
        status=500,
    )
