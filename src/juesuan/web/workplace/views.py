"""The unit-year workplace pages. Every view names the capability it needs (accounts.access)."""

from __future__ import annotations

import dataclasses
import re
import shutil
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max
from django.http import FileResponse, Http404, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from juesuan.files import safe_file_name
from juesuan.ledger.issues import ERROR
from juesuan.web import sql
from juesuan.web.accounts.access import (
    APPROVE,
    CONSOLIDATE,
    DOWNLOAD,
    VIEW,
    UnitAccess,
    requires,
    visible_units,
)
from juesuan.web.accounts.models import Unit
from juesuan.web.accounts.views import unit_tree
from juesuan.web.audit.log import client_ip, record
from juesuan.web.audit.models import AuditEntry
from juesuan.web.workplace import analysis, freshness, jobs, pages
from juesuan.web.workplace.forms import BuildForm, ConsolidateForm, UploadForm
from juesuan.web.workplace.models import (
    BUILD_JOB,
    CONSOLIDATE_JOB,
    IMPORT_JOB,
    TEXTS,
    Build,
    DatasetVersion,
    Job,
)
from juesuan.web.workplace.versions import (
    Outcome,
    StaleVersion,
    accept_workbook,
    current_version,
    latest_versions,
    save_upload,
    workspace,
)

# ---- home and unit ---------------------------------------------------------------------------


def home(request):
    units = visible_units(request.user)
    latest: dict[int, dict[int, DatasetVersion]] = {}
    for version in latest_versions([unit.pk for unit in units]):
        latest.setdefault(version.unit_id, {})[version.year] = version
    rows = []
    for unit, depth in unit_tree(units):
        years = sorted(latest.get(unit.pk, {}).items(), reverse=True)
        rows.append({"unit": unit, "depth": depth, "years": years})
    # A unit whose parent the user cannot see still shows, at the top level.
    shown = {r["unit"].pk for r in rows}
    for unit in units:
        if unit.pk not in shown:
            years = sorted(latest.get(unit.pk, {}).items(), reverse=True)
            rows.append({"unit": unit, "depth": 0, "years": years})
    return render(request, "juesuan/home.html", {"rows": rows})


@requires(VIEW)
def unit_page(request, access: UnitAccess):
    unit = access.unit
    years = (
        DatasetVersion.objects.filter(unit=unit)
        .values("year")
        .annotate(versions=Count("id"), last=Max("number"))
        .order_by("-year")
    )
    current = {y["year"]: current_version(unit, y["year"]) for y in years}
    children = list(unit.children.order_by("name"))
    return render(
        request,
        "juesuan/unit.html",
        {
            "unit": unit,
            "years": [(y, current[y["year"]]) for y in years],
            "children": children,
            "consolidate_form": ConsolidateForm(initial={"year": timezone.now().year - 1}),
        },
    )


def template_download(request):
    from juesuan.ledger.export import write_workbook

    folder = workspace()
    path = folder / "部门决算数据模板.xlsx"
    write_workbook(None, path)
    record("download", request=request, target="空白数据模板", summary="下载空白数据模板")
    return _send(path, "部门决算数据模板.xlsx", cleanup=folder)


# ---- upload and import report ------------------------------------------------------------------


@requires(VIEW)
def upload(request, access: UnitAccess):
    if request.method != "POST":
        return redirect("unit", unit_id=access.unit.pk)
    if not access.can_edit:
        raise PermissionDenied("您的角色不能导入数据")
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "请选择要上传的 .xlsx 工作簿。")
        return redirect(request.POST.get("back") or reverse("unit", args=[access.unit.pk]))
    uploaded = form.cleaned_data["file"]  # within MAX_UPLOAD_MB (uploads.py)
    folder = workspace()
    path, digest, size = save_upload(uploaded, folder)
    expected = form.cleaned_data.get("year")
    # Read in the background (jobs.py): the request ends as soon as the file is saved.
    job = Job.objects.create(
        kind=IMPORT_JOB,
        unit=access.unit,
        year=expected,
        params={
            "folder": str(folder.relative_to(settings.MEDIA_ROOT)),
            "name": path.name,
            "year": expected,
            "size": size,
            "sha256": digest,
            "ip": client_ip(request),
        },
        created_by=request.user,
        message="排队中",
    )
    jobs.submit(job)
    return redirect("job", unit_id=access.unit.pk, job_id=job.pk)


def _import_report(request, access: UnitAccess, job: Job):
    """The finished import job's outcome: the new version's report, or every reason the
    workbook was refused."""
    result = job.result
    if result.get("accepted"):
        return redirect(
            "version_report", unit_id=access.unit.pk, year=result["year"], number=result["version"]
        )
    year = result.get("year")
    outcome = Outcome(
        None,
        issues=result.get("issues", []),
        file_name=result.get("file_name", ""),
        sha256=result.get("sha256", ""),
        year=year,
    )
    return render(
        request,
        "juesuan/import_report.html",
        {
            "unit": access.unit,
            "year": year,
            "outcome": outcome,
            "groups": _issue_groups(outcome.issues),
            "rejected": True,
            "error_count": result.get("error_count", len(outcome.errors)),
            "unlisted": result.get("issue_count", 0) - len(outcome.issues),
            "previous": current_version(access.unit, year) if year else None,
        },
    )


def _issue_groups(issues: list[dict]) -> list[dict]:
    """Issues by sheet, errors first, in row order."""
    groups: dict[str, list[dict]] = {}
    for issue in issues:
        groups.setdefault(issue.get("sheet") or "（整个文件）", []).append(issue)
    result = []
    for sheet, items in groups.items():
        items.sort(key=lambda i: (i["severity"] != ERROR, i.get("row") or 0, i.get("column") or ""))
        result.append(
            {
                "sheet": sheet,
                "issues": items,
                "errors": sum(1 for i in items if i["severity"] == ERROR),
            }
        )
    result.sort(key=lambda g: -g["errors"])
    return result


# ---- year pages --------------------------------------------------------------------------------


def _year_context(access: UnitAccess, year: int, tab: str, *, with_author: bool = False) -> dict:
    version = current_version(access.unit, year, with_author=with_author)
    return {"unit": access.unit, "year": year, "version": version, "tab": tab}


def _prepared_or_none(version):
    if version is None:
        return None, None, ""
    try:
        dataset, prepared = analysis.prepared_for(version)
    except analysis.VersionUnreadable as exc:
        return None, None, str(exc)
    return dataset, prepared, ""


@requires(VIEW)
def dashboard(request, access: UnitAccess, year: int):
    """The unit-year at a glance. Its body is drawn once per state (pages.dashboard_key): a
    reload reads the version and one stamp of what was logged since, and nothing else."""
    context = _year_context(access, year, "dashboard", with_author=True)
    version = context["version"]
    logged, running, pays = _activity_stamp(access.unit, year)
    payments = analysis.payments_stamp(access.unit.pk, year) if pays else ""
    # while a job runs its progress is read afresh on every load, so nothing is kept then
    key = None if running else pages.dashboard_key(access, year, version, logged, payments)

    def draw() -> tuple[dict, bool]:
        return _dashboard_context(access, year, version, logged, payments)

    context["body"] = pages.with_csrf(pages.dashboard_body(key, draw), request)
    return render(request, "juesuan/dashboard.html", context)


def _activity_stamp(unit: Unit, year: int) -> tuple:
    """(the hash of the unit-year's latest audit entry, how many of its jobs are queued or
    running, whether the unit has disbursement runs) in one query.

    The last build, the activity and the readiness the dashboard shows change only when
    something is logged: a build, approval, upload, texts edit or failure each writes the audit
    log, and the hash is unique (a restored database cannot meet an old entry)."""
    return sql.rows(
        "SELECT (SELECT hash FROM audit_auditentry WHERE unit_id = %s AND year = %s"
        " ORDER BY seq DESC LIMIT 1),"
        " (SELECT COUNT(*) FROM workplace_job WHERE unit_id = %s AND year = %s"
        " AND status IN ('queued', 'running')),"
        " EXISTS (SELECT 1 FROM disbursement_run WHERE unit_id = %s)",
        [unit.pk, year, unit.pk, year, unit.pk],
    )[0]


def _dashboard_context(access, year: int, version, logged: str, payments: str) -> tuple[dict, bool]:
    """What the dashboard's body shows, and whether it may be kept under the stamp `logged`:
    not when an entry was logged, or a job started, since the stamp was read."""
    unit = access.unit
    # Only the columns the page shows: the JSON columns (manifests, before/after) are the costly
    # part of reading these rows.
    last_build = (
        Build.objects.filter(unit=unit, year=year)
        .select_related("version")
        .only(*BUILD_SHOWN)
        .order_by("-number")
        .first()
    )
    running = list(
        Job.objects.filter(unit=unit, year=year, status__in=("queued", "running")).only(
            "id", "kind", "unit_id", "status", "progress"
        )
    )
    activity = list(
        AuditEntry.objects.filter(unit_id=unit.pk, year=year)
        .only("seq", "at", "username", "action", "summary", "hash")
        .order_by("-seq")[:8]
    )
    summary = version.summary if version else {}
    if version is not None and payments:
        summary = _summary_with_payments(version, summary, payments)
    context = {
        "unit": unit,
        "year": year,
        "tab": "dashboard",
        "access": access,
        "version": version,
        "stale": freshness.stale_builds(unit, year) if payments else None,
        "summary": summary,
        "last_build": last_build,
        "running": running,
        "activity": activity,
        "steps": _next_steps(access, version, summary, last_build),
    }
    keep = not running and (activity[0].hash if activity else None) == logged
    return context, keep


def _summary_with_payments(version, stored: dict, stamp: str) -> dict:
    """The readiness figures with the unit's payments taken in, as the 审核 page counts them:
    the figures stored at upload knew nothing of payments imported since (analysis.py)."""
    try:
        found = analysis.analysed(version, stamp)
    except analysis.VersionUnreadable:
        return stored
    return analysis.summary_of(found.dataset, found.prepared)


BUILD_SHOWN = (
    "unit_id",
    "year",
    "number",
    "draft",
    "approved_at",
    "created_at",
    "version__id",
    "version__number",
)


def _next_steps(access, version, summary, last_build) -> list[str]:
    if version is None:
        return ["下载空白模板，填好本年度数据后上传。"]
    steps = []
    if summary.get("fatal"):
        steps.append(f"改正 {summary['fatal']} 项致命问题（见“审核”），改好后重新上传。")
    if summary.get("missing_texts"):
        steps.append("填写文字说明：" + "、".join(summary["missing_texts"]) + "。")
    if summary.get("missing_reasons"):
        steps.append(f"补写 {len(summary['missing_reasons'])} 处变动原因（见“文字说明”）。")
    if not steps:
        if last_build is None or last_build.version_id != version.pk:
            steps.append("数据已可发布：生成公开包。")
        elif last_build.approved_at is None:
            steps.append("公开包已生成，等待审批。")
        else:
            steps.append("公开包已审批，可以下载发布。")
    return steps


@requires(VIEW)
def versions(request, access: UnitAccess, year: int):
    context = _year_context(access, year, "versions")
    context["versions"] = (
        DatasetVersion.objects.filter(unit=access.unit, year=year)
        .select_related("created_by")
        .order_by("-number")
    )
    return render(request, "juesuan/versions.html", context)


@requires(VIEW)
def version_report(request, access: UnitAccess, year: int, number: int):
    version = get_object_or_404(DatasetVersion, unit=access.unit, year=year, number=number)
    context = _year_context(access, year, "versions")
    context.update(
        {
            "shown": version,
            "groups": _issue_groups(list(version.issues)),
            "rejected": False,
            "outcome": None,
        }
    )
    return render(request, "juesuan/import_report.html", context)


@requires(DOWNLOAD)
def version_download(request, access: UnitAccess, year: int, number: int):
    version = get_object_or_404(DatasetVersion, unit=access.unit, year=year, number=number)
    return _download(
        request, access, year, Path(version.path), version.original_name,
        target=f"数据第 {number} 版",
        summary=f"下载数据第 {number} 版“{version.original_name}”",
    )  # fmt: skip


# ---- tables -------------------------------------------------------------------------------------


@requires(VIEW)
def tables(request, access: UnitAccess, year: int):
    """The format's tables; the body comes drawn from the cache (pages.py) after the first time."""
    context = _year_context(access, year, "tables")
    version = context["version"]
    context["problem"] = ""
    if version is not None:
        try:
            ids = [t["id"] for t in pages.table_index(version)["tables"]]
            wanted = request.GET.get("t") or (ids[0] if ids else "")
            if wanted not in ids:
                raise Http404("没有这张表")
            context["body"] = pages.table_body(version, wanted)
        except analysis.VersionUnreadable as exc:
            context["problem"] = str(exc)
    return render(request, "juesuan/tables.html", context)


@requires(VIEW)
def cell(
    request, access: UnitAccess, year: int, table_id: str, section: int, row: int, column: int
):
    context = _year_context(access, year, "tables")
    dataset, prepared, problem = _prepared_or_none(context["version"])
    if prepared is None:
        raise Http404(problem or "还没有数据")
    table = prepared.statements.table(table_id)
    if table is None:
        raise Http404("没有这张表")
    try:
        found = analysis.drill(dataset, table, section, row, column)
    except LookupError as exc:
        raise Http404(str(exc)) from exc
    context.update({"table": table, "found": found})
    return render(request, "juesuan/cell.html", context)


# ---- checks -------------------------------------------------------------------------------------


@requires(VIEW)
def checks(request, access: UnitAccess, year: int):
    context = _year_context(access, year, "checks")
    version = context["version"]
    context["problem"] = ""
    if version is not None:
        try:
            context.update(pages.checks(version))
        except analysis.VersionUnreadable as exc:
            context["problem"] = str(exc)
    return render(request, "juesuan/checks.html", context)


# ---- texts --------------------------------------------------------------------------------------


@requires(VIEW)
def texts(request, access: UnitAccess, year: int):
    if request.method == "POST" and not access.can_edit:
        raise PermissionDenied("您的角色不能修改文字说明")
    context = _year_context(access, year, "texts")
    version = context["version"]
    dataset, prepared, problem = _prepared_or_none(version)
    context["problem"] = problem
    if prepared is None:
        return render(request, "juesuan/texts.html", context)
    if request.method == "POST":
        return _save_texts(request, access, year, version, dataset)
    missing = analysis.missing_reasons(prepared)
    missing_keys = {(m["kind"], m["topic"]) for m in missing}
    standard = dict(analysis.STANDARD_TEXTS)
    fields = [
        {"key": key, "help": help_text, "body": dataset.texts.get(key, ""),
         "required": key in analysis.REQUIRED_TEXTS}
        for key, help_text in analysis.STANDARD_TEXTS
    ]  # fmt: skip
    fields += [
        {"key": key, "help": "附件或其他文字", "body": body, "required": False}
        for key, body in dataset.texts.items()
        if key not in standard
    ]
    reasons = [
        {"kind": kind, "topic": topic, "text": text, "n": n}
        for n, ((kind, topic), text) in enumerate(sorted(dataset.reasons.items()))
        if (kind, topic) not in missing_keys
    ]
    for n, item in enumerate(missing):
        item["n"] = n
    context.update(
        {
            "fields": fields,
            "missing": missing,
            "reasons": reasons,
            "explanation": pages.explanation(version),
        }
    )
    return render(request, "juesuan/texts.html", context)


def _save_texts(request, access, year, version, dataset):
    post = request.POST
    try:
        base = int(post.get("base_version", ""))
    except ValueError:
        return HttpResponseBadRequest("缺少版本号")
    # Each section of the page is a form of its own: only what it posts changes. A text or a
    # reason is deleted only when its 删除 box is ticked; one merely emptied is refused.
    section = post.get("section", "")
    back = reverse("texts", args=[access.unit.pk, year])
    if re.fullmatch(r"[a-z]+(-\d+)?", section):
        back += f"#{section}"
    deleting, deleting_reasons = set(post.getlist("delete")), set(post.getlist("delete_reason"))
    emptied = []
    new_texts = dict(dataset.texts)
    for key in post.getlist("text_key"):
        body = post.get(f"text::{key}", "").replace("\r\n", "\n").strip()
        if key in deleting:
            new_texts.pop(key, None)
        elif body:
            new_texts[key] = body
        elif key in dataset.texts:
            emptied.append(key)
    new_key = post.get("new_key", "").strip()
    new_body = post.get("new_body", "").replace("\r\n", "\n").strip()
    if new_key and new_body:
        new_texts[new_key] = new_body
    new_reasons = dict(dataset.reasons)
    for item in post.getlist("reason"):
        kind, _, topic = item.partition("::")
        text = post.get(f"reason::{item}", "").replace("\r\n", "\n").strip()
        if item in deleting_reasons:
            new_reasons.pop((kind, topic), None)
        elif text:
            new_reasons[(kind, topic)] = text
        elif (kind, topic) in dataset.reasons:
            emptied.append(f"{kind}：{topic}")
    if emptied:
        messages.error(
            request,
            f"没有保存：“{'”“'.join(emptied)}”被清空了。要删除，请勾选“删除”后再保存；"
            "不删除请刷新页面。",
        )
        return redirect(back)
    changed_texts = sorted(
        k for k in set(new_texts) | set(dataset.texts) if new_texts.get(k) != dataset.texts.get(k)
    )
    changed_reasons = sorted(
        f"{k}：{t}"
        for (k, t) in set(new_reasons) | set(dataset.reasons)
        if new_reasons.get((k, t)) != dataset.reasons.get((k, t))
    )
    if not changed_texts and not changed_reasons:
        messages.info(request, "没有修改，未生成新版本。")
        return redirect(back)
    from juesuan.ledger.export import write_workbook

    edited = dataclasses.replace(dataset, texts=new_texts, reasons=new_reasons)
    folder = workspace()
    path = folder / f"{safe_file_name(access.unit.name)}{year}年决算数据.xlsx"
    write_workbook(edited, path)
    note = "修改文字说明：" + "、".join(changed_texts + changed_reasons)
    try:
        outcome = accept_workbook(
            access.unit,
            path,
            kind=TEXTS,
            user=request.user,
            expected_year=year,
            note=note[:2000],
            base_number=base,
        )
    except StaleVersion as exc:
        messages.error(
            request,
            f"没有保存：数据在您编辑期间已更新为第 {exc.current} 版。请复制您的修改，刷新后重新填写。",
        )
        return redirect(back)
    if not outcome.accepted:
        messages.error(request, "没有保存：" + "；".join(i["message"] for i in outcome.errors[:3]))
        return redirect(back)
    new = outcome.version
    record(
        "texts_save",
        request=request,
        unit=access.unit,
        year=year,
        target=f"数据第 {new.number} 版",
        summary=f"{note}（由第 {version.number} 版生成第 {new.number} 版）",
        before={
            "version": version.number,
            "texts": {k: len(dataset.texts.get(k, "")) for k in changed_texts},
            "reasons": len(dataset.reasons),
        },
        after={
            "version": new.number,
            "texts": {k: len(new_texts.get(k, "")) for k in changed_texts},
            "reasons": len(new_reasons),
            "sha256": new.sha256,
        },
    )
    messages.success(request, f"已保存为第 {new.number} 版。")
    return redirect(back)


# ---- builds -------------------------------------------------------------------------------------


@requires(VIEW)
def builds(request, access: UnitAccess, year: int):
    if request.method == "POST" and not access.can_build:
        raise PermissionDenied("您的角色不能生成公开包")
    context = _year_context(access, year, "builds")
    version = context["version"]
    if request.method == "POST":
        form = BuildForm(request.POST)
        if not form.is_valid() or version is None:
            messages.error(request, "请先导入数据。")
            return redirect("builds", unit_id=access.unit.pk, year=year)
        chosen = get_object_or_404(
            DatasetVersion, unit=access.unit, year=year, number=form.cleaned_data["version"]
        )
        job = Job.objects.create(
            kind=BUILD_JOB,
            unit=access.unit,
            year=year,
            params={"version": chosen.pk, "draft": form.cleaned_data["draft"]},
            created_by=request.user,
            message="排队中",
        )
        record(
            "build_start",
            request=request,
            unit=access.unit,
            year=year,
            target=f"任务 {job.pk}",
            summary=f"由数据第 {chosen.number} 版生成公开包"
            + ("（允许草稿）" if form.cleaned_data["draft"] else ""),
        )
        jobs.submit(job)
        return redirect("job", unit_id=access.unit.pk, job_id=job.pk)
    context["builds"] = (
        Build.objects.filter(unit=access.unit, year=year)
        .select_related("version", "created_by", "approved_by")
        .order_by("-number")
    )
    context["jobs"] = Job.objects.filter(unit=access.unit, year=year, kind=BUILD_JOB).order_by(
        "-created_at"
    )[:5]
    stale = freshness.stale_builds(access.unit, year)
    context["stale"] = stale
    context["stale_numbers"] = stale.numbers if stale else []
    if version is not None:
        context["build_form"] = BuildForm(initial={"version": version.number})
        context["built_from_current"] = (
            Build.objects.filter(version=version).order_by("-number").first()
        )
    return render(request, "juesuan/builds.html", context)


@requires(VIEW)
def build_detail(request, access: UnitAccess, year: int, number: int):
    build = get_object_or_404(
        Build.objects.select_related("version", "created_by", "approved_by"),
        unit=access.unit,
        year=year,
        number=number,
    )
    previous = (
        Build.objects.filter(unit=access.unit, year=year, number__lt=number)
        .order_by("-number")
        .first()
    )
    context = _year_context(access, year, "builds")
    outputs = [
        {**o, "index": n, "size": _size(build.path / o["path"])}
        for n, o in enumerate(build.outputs)
    ]
    context.update(
        {
            "build": build,
            "outputs": outputs,
            "main_outputs": [o for o in outputs if o["role"] != "figures"],
            "figures": [o for o in outputs if o["role"] == "figures"],
            "zip_size": _size(build.path / build.zip_name),
            "previous": previous,
            "comparison": compare(previous, build) if previous else None,
        }
    )
    return render(request, "juesuan/build.html", context)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def compare(old: Build, new: Build) -> dict:
    """What changed from `old` to `new`: inputs, outputs (by path and hash), check counts."""
    before = {o["path"]: o for o in old.outputs}
    after = {o["path"]: o for o in new.outputs}
    changed = [p for p in after if p in before and before[p]["sha256"] != after[p]["sha256"]]
    same = [p for p in after if p in before and before[p]["sha256"] == after[p]["sha256"]]
    checks = []
    old_failed = old.checks.get("failed_by_tier", {})
    new_failed = new.checks.get("failed_by_tier", {})
    for key, label in (("FATAL", "致命"), ("WARNING", "警告"), ("SUGGEST", "建议")):
        checks.append((label, old_failed.get(key, 0), new_failed.get(key, 0)))
    for key, label in (("pass", "通过"), ("insufficient_data", "数据不足"), ("total", "规则总数")):
        checks.append((label, old.checks.get(key, 0), new.checks.get(key, 0)))
    old_inputs = {i["path"]: i["sha256"] for i in old.manifest.get("inputs", [])}
    new_inputs = {i["path"]: i["sha256"] for i in new.manifest.get("inputs", [])}
    return {
        "same_version": old.version_id == new.version_id,
        "old_version": old.version.number,
        "new_version": new.version.number,
        "inputs_changed": old_inputs != new_inputs,
        "added": sorted(p for p in after if p not in before),
        "removed": sorted(p for p in before if p not in after),
        "changed": sorted(changed),
        "same": sorted(same),
        "checks": [(label, a, b, b - a) for label, a, b in checks],
        "draft": (old.draft, new.draft),
    }


@requires(DOWNLOAD)
def build_file(request, access: UnitAccess, year: int, number: int, index: int):
    build = get_object_or_404(Build, unit=access.unit, year=year, number=number)
    outputs = build.outputs
    if not 0 <= index < len(outputs):
        raise Http404("没有这个文件")
    output = outputs[index]
    path = (build.path / output["path"]).resolve()
    if build.path.resolve() not in path.parents:
        raise Http404("没有这个文件")
    return _download(
        request, access, year, path, Path(output["path"]).name,
        target=f"公开包第 {number} 版：{output['path']}",
        summary=f"下载公开包第 {number} 版的“{output['path']}”（SHA-256 {output['sha256']}）",
    )  # fmt: skip


@requires(DOWNLOAD)
def build_zip(request, access: UnitAccess, year: int, number: int):
    build = get_object_or_404(Build, unit=access.unit, year=year, number=number)
    return _download(
        request, access, year, build.path / build.zip_name, build.zip_name,
        target=f"公开包第 {number} 版：{build.zip_name}",
        summary=f"下载公开包第 {number} 版压缩包（SHA-256 {build.zip_sha256}）",
    )  # fmt: skip


@requires(APPROVE)
@require_POST
def build_approve(request, access: UnitAccess, year: int, number: int):
    build = get_object_or_404(Build, unit=access.unit, year=year, number=number)
    if build.draft:
        messages.error(request, "草稿不能审批发布。")
    elif build.created_by_id == request.user.pk:
        messages.error(request, "不能审批自己发起生成的公开包，请由另一位审批人审批。")
    elif build.approved_at is not None:
        messages.info(request, "这个公开包已经审批过了。")
    else:
        build.approved_by = request.user
        build.approved_at = timezone.now()
        build.save(update_fields=["approved_by", "approved_at"])
        record(
            "build_approve",
            request=request,
            unit=access.unit,
            year=year,
            target=f"公开包第 {number} 版",
            summary=f"审批通过公开包第 {number} 版（压缩包 SHA-256 {build.zip_sha256}）",
            before={"approved": False},
            after={"approved": True, "zip_sha256": build.zip_sha256},
        )
        messages.success(request, f"已审批公开包第 {number} 版。")
    return redirect("build", unit_id=access.unit.pk, year=year, number=number)


# ---- consolidation ------------------------------------------------------------------------------


@requires(CONSOLIDATE)
@require_POST
def consolidate(request, access: UnitAccess):
    if not access.unit.is_department or not access.unit.children.exists():
        messages.error(request, "只有有下属单位的部门才能汇总。")
        return redirect("unit", unit_id=access.unit.pk)
    form = ConsolidateForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请填写要汇总的年度。")
        return redirect("unit", unit_id=access.unit.pk)
    year = form.cleaned_data["year"]
    job = Job.objects.create(
        kind=CONSOLIDATE_JOB,
        unit=access.unit,
        year=year,
        created_by=request.user,
        message="排队中",
    )
    jobs.submit(job)
    return redirect("job", unit_id=access.unit.pk, job_id=job.pk)


# ---- jobs ---------------------------------------------------------------------------------------


def _job_for(access: UnitAccess, job_id) -> Job:
    return get_object_or_404(Job, pk=job_id, unit=access.unit)


def _job_done_url(job: Job) -> str | None:
    if job.status != "succeeded":
        return None
    if job.kind == BUILD_JOB and job.result.get("build"):
        return reverse("build", args=[job.unit_id, job.year, job.result["build"]])
    if job.kind == CONSOLIDATE_JOB and job.result.get("version"):
        return reverse("dashboard", args=[job.unit_id, job.year])
    if job.kind == IMPORT_JOB:  # this page again, which then shows the import report
        return reverse("job", args=[job.unit_id, job.pk])
    return None


@requires(VIEW)
def job_page(request, access: UnitAccess, job_id):
    job = _job_for(access, job_id)
    if job.kind == IMPORT_JOB and job.status == "succeeded":
        return _import_report(request, access, job)
    done_url = _job_done_url(job)
    if done_url:  # a finished build or consolidation goes on to what it made
        return redirect(done_url)
    tab = "versions" if job.kind == IMPORT_JOB else "builds"
    context = {"unit": access.unit, "year": job.year, "job": job, "tab": tab}
    context["version"] = current_version(access.unit, job.year) if job.year else None
    return render(request, "juesuan/job.html", context)


@requires(VIEW)
def job_status(request, access: UnitAccess, job_id):
    job = _job_for(access, job_id)
    return JsonResponse(
        {
            "status": job.status,
            "status_name": job.status_name,
            "progress": job.progress,
            "message": job.message,
            "error": job.error,
            "finished": job.finished,
            "done_url": _job_done_url(job),
        }
    )


# ---- the unit's audit log ----------------------------------------------------------------------


@requires(VIEW)
def unit_log(request, access: UnitAccess):
    entries = AuditEntry.objects.filter(unit_id=access.unit.pk)
    year = request.GET.get("year", "")
    year = int(year) if year.isdigit() else None
    scope = access.unit.name
    if year is not None:
        entries = entries.filter(year=year)
        scope += f" {year} 年度"
    return render(
        request,
        "juesuan/audit_log.html",
        {
            "entries": entries.order_by("-seq")[:300],
            "unit": access.unit,
            "year": year,
            "tab": "log",
            "scope": scope,
        },
    )


# ---- files ---------------------------------------------------------------------------------------


def _download(
    request, access: UnitAccess, year: int, path: Path, name: str, *, target: str, summary: str
) -> FileResponse:
    """A stored file of the unit-year, logged as a download; 404 when the file is gone."""
    if not path.is_file():
        raise Http404("文件不见了")
    record("download", request=request, unit=access.unit, year=year, target=target, summary=summary)
    return _send(path, name)


def _send(path: Path, name: str, cleanup: Path | None = None) -> FileResponse:
    handle = path.open("rb")
    response = FileResponse(handle, as_attachment=True, filename=name)
    if cleanup is not None:
        original_close = response.close

        def close() -> None:
            original_close()
            shutil.rmtree(cleanup, ignore_errors=True)

        response.close = close
    return response
