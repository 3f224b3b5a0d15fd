"""The disbursement pages (代发): overview, roster, events, runs, bank results, returns,
statistics and the conservation check. Every view names its capability (access.py decides);
every change goes through `services` and every download is logged."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q, Sum
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from juesuan.disbursement import model as core
from juesuan.files import safe_file_name
from juesuan.web.accounts.access import (
    PAY_APPROVE,
    PAY_FILES,
    PAY_PREPARE,
    PAY_REVIEW,
    PAY_STATS,
    PAY_VIEW,
    PERSONAL_DATA,
    UnitAccess,
    requires,
)
from juesuan.web.audit.log import record
from juesuan.web.disbursement import jobs, services
from juesuan.web.disbursement.forms import (
    EVENT_FIELDS,
    EVENT_TITLES,
    CancelForm,
    CorrectionForm,
    EventForm,
    MonthForm,
    PayerForm,
    ResultsForm,
    SchemeForm,
    SendBackForm,
    SettlementForm,
    StandardFormSet,
    SupplementaryForm,
    UploadForm,
    add_scheme_problems,
    scheme_entry,
)
from juesuan.web.disbursement.models import (
    CHECKED,
    ENTERED,
    SENT_BACK,
    BankFile,
    Beneficiary,
    Correction,
    LifeEvent,
    Payment,
    Recovery,
    RecoverySettlement,
    ResultImport,
    Run,
    Scheme,
    WithdrawnPayment,
)
from juesuan.web.disbursement.services import people as people_service
from juesuan.web.disbursement.services.schemes import entry_of as scheme_entry_of
from juesuan.web.disbursement.templatetags.pay import status_names_in
from juesuan.web.workplace.models import Job

PAGE_SIZE = 50


def _context(access: UnitAccess, tab: str, **extra) -> dict:
    caps = access.capabilities
    return {
        "unit": access.unit,
        "access": access,
        "tab": tab,
        "can_prepare": PAY_PREPARE in caps,
        "can_review": PAY_REVIEW in caps,
        "can_approve": PAY_APPROVE in caps,
        "can_files": PAY_FILES in caps,
        "can_view": PAY_VIEW in caps,
        **extra,
    }


def _show(request, outcome: services.Outcome) -> None:
    if not outcome.ok:
        messages.error(request, outcome.message)
    elif outcome.changed:
        messages.success(request, outcome.message)
    else:
        messages.info(request, outcome.message)


def _upload_to_temp(upload) -> Path:
    """An uploaded file on disk (the readers take paths), under MEDIA_ROOT for jobs on other
    machines."""
    folder = settings.MEDIA_ROOT / "disbursement" / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    suffix = Path(upload.name).suffix.lower()[:10]
    path = folder / f"{uuid.uuid4().hex}{suffix}"
    with open(path, "wb") as handle:
        for chunk in upload.chunks():
            handle.write(chunk)
    return path


def _too_big(request, upload) -> bool:
    if upload.size > settings.MAX_UPLOAD_MB * 1024 * 1024:
        messages.error(request, f"文件超过 {settings.MAX_UPLOAD_MB} MB，未导入。")
        return True
    return False


# ---- 代发概览 ---------------------------------------------------------------------------------

NUMERALS = "一二三四五六七八九十"


def _tier_rank(tier: str) -> tuple:
    """档次 in their natural order: 一档, 二档, 三档 … (not 一, 三, 二 as text sorts them)."""
    head = tier[:1]
    return (NUMERALS.index(head) if head and head in NUMERALS else len(NUMERALS), tier)


def _status_counts(by_status: dict, awaiting_review: int) -> list[tuple[str, int]]:
    """(name, count) of payments by status; a payment not yet approved waits for 复核 while
    its run does, for 审批 after (as `status_in` says of one payment)."""
    out = []
    for status, n in by_status.items():
        if status == core.PENDING:
            out += [("待复核", awaiting_review), ("待审批", n - awaiting_review)]
        else:
            out.append((core.STATUS_NAMES.get(status, status), n))
    return [(name, n) for name, n in out if n]


@requires(PAY_VIEW)
def overview(request, access: UnitAccess):
    unit = access.unit
    schemes = list(Scheme.objects.filter(unit=unit).prefetch_related("standards"))
    counts = dict(
        Beneficiary.objects.filter(unit=unit)
        .values_list("scheme_id")
        .annotate(n=Count("id"))
        .values_list("scheme_id", "n")
    )
    for scheme in schemes:
        scheme.people = counts.get(scheme.pk, 0)
        scheme.current = sorted(scheme.standards.all(), key=lambda s: (_tier_rank(s.tier), s.start))
    months = sorted(
        set(Run.objects.filter(unit=unit).values_list("month", flat=True)), reverse=True
    )[:6]
    status = services.month_status(unit, [core.Month.parse(m) for m in months])
    for month in status:
        month["statuses"] = _status_counts(
            month["by_status"],
            Payment.objects.filter(
                unit=unit, month=month["month"], status=core.PENDING, run__step=core.PREPARED
            ).count(),
        )
    return render(
        request,
        "juesuan/disbursement/overview.html",
        _context(
            access,
            "overview",
            schemes=schemes,
            people=sum(counts.values()),
            months=status,
            waiting=services.waiting(unit),
            status_names=core.STATUS_NAMES,
            upload=UploadForm(),
        ),
    )


@requires(PAY_PREPARE)
@require_POST
def schemes_import(request, access: UnitAccess):
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "请选择补贴类别文件（.yaml）。")
        return redirect("pay:overview", access.unit.pk)
    upload = form.cleaned_data["file"]
    if _too_big(request, upload):
        return redirect("pay:overview", access.unit.pk)
    path = _upload_to_temp(upload)
    try:
        outcome = services.import_schemes(access.unit, request.user, path, file_name=upload.name)
    finally:
        path.unlink(missing_ok=True)
    if not outcome.ok:
        return render(
            request,
            "juesuan/disbursement/import_report.html",
            _context(access, "overview", outcome=outcome, what="补贴类别", file_name=upload.name),
        )
    _show(request, outcome)
    return redirect("pay:overview", access.unit.pk)


@requires(PAY_PREPARE)
@require_POST
def scheme_payer(request, access: UnitAccess, code: str):
    form = PayerForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请填写付款账号、开户行和户名。")
    else:
        _show(request, services.set_payer(access.unit, request.user, code, **form.cleaned_data))
    return redirect("pay:overview", access.unit.pk)


@requires(PAY_VIEW)
def scheme_edit(request, access: UnitAccess, code: str | None = None):
    """A 补贴类别: its settings, dated standards, bank adapter and payer account, and who
    changed what. 经办 saves; the others see it."""
    from juesuan.web.disbursement.services import schemes as scheme_service

    unit = access.unit
    row = get_object_or_404(Scheme, unit=unit, code=code) if code else None
    editing = row is not None
    if request.method == "POST":
        if PAY_PREPARE not in access.capabilities:
            raise PermissionDenied
        form = SchemeForm(
            request.POST,
            adapters=_adapter_choices(),
            editing=editing,
            initial={"code": code} if editing else None,
        )
        standards = StandardFormSet(request.POST, prefix="standards")
        if form.is_valid() and standards.is_valid():
            entry, rows = scheme_entry(form, standards)
            data = form.cleaned_data
            outcome = scheme_service.save_scheme(
                unit,
                request.user,
                entry,
                adapter=data["bank_adapter"],
                payer={
                    "account": data["payer_account"],
                    "bank": data["payer_bank"],
                    "name": data["payer_name"],
                },
                creating=not editing,
            )
            if outcome.ok:
                _show(request, outcome)
                return redirect("pay:scheme", unit.pk, entry["code"])
            for text in add_scheme_problems(form, standards, rows, outcome.problems):
                messages.error(request, text)
            if not outcome.problems:
                messages.error(request, outcome.message)
    else:
        initial = {"bank_adapter": "generic-csv", "payer_name": unit.name, "payment_day": 10}
        rows = []
        if editing:
            initial = {
                field: getattr(row, field)
                for field in (
                    "code",
                    "name",
                    "payment_day",
                    "function_code",
                    "economic_code",
                    "project",
                    "bank_adapter",
                    "payer_account",
                    "payer_bank",
                    "payer_name",
                )
            }
            rows = [
                {
                    "tier": s.tier,
                    "start": s.start,
                    "amount": services.yuan(s.amount).replace(",", ""),
                    "announced": s.announced,
                }
                for s in sorted(row.standards.all(), key=lambda s: (_tier_rank(s.tier), s.start))
            ]
        form = SchemeForm(initial=initial, adapters=_adapter_choices(), editing=editing)
        standards = StandardFormSet(initial=rows, prefix="standards")
    return render(
        request,
        "juesuan/disbursement/scheme.html",
        _context(
            access,
            "overview",
            scheme=row,
            form=form,
            standards=standards,
            history=scheme_service.history(unit, row) if editing else [],
        ),
    )


@requires(PAY_VIEW)
def schemes_export(request, access: UnitAccess):
    """The unit's schemes as schemes.yaml, to edit in bulk and import again."""
    import yaml
    from django.http import HttpResponse

    rows = Scheme.objects.filter(unit=access.unit).prefetch_related("standards")
    entries = [scheme_entry_of(row) for row in rows]
    text = yaml.safe_dump({"schemes": entries}, allow_unicode=True, sort_keys=False)
    response = HttpResponse(text, content_type="application/yaml; charset=utf-8")
    response["Content-Disposition"] = "attachment; filename*=UTF-8''schemes.yaml"
    return response


# ---- 花名册 ---------------------------------------------------------------------------------


@requires(PAY_VIEW)
def roster(request, access: UnitAccess):
    unit = access.unit
    people = people_service.with_keys(
        Beneficiary.objects.filter(unit=unit).select_related("scheme")
    )
    search = request.GET.get("q", "").strip()
    if search:
        people = people.filter(
            Q(name__contains=search)
            | Q(person_id__startswith=search)
            | Q(person_id__endswith=search)
            | Q(account__endswith=search)
        )
    scheme = request.GET.get("scheme", "")
    if scheme:
        people = people.filter(scheme__code=scheme)
    page = Paginator(people.order_by("scheme__code", "person_id"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "juesuan/disbursement/roster.html",
        _context(
            access,
            "roster",
            page=page,
            search=search,
            scheme=scheme,
            schemes=Scheme.objects.filter(unit=unit),
            upload=UploadForm(),
        ),
    )


@requires(PAY_PREPARE)
@require_POST
def roster_import(request, access: UnitAccess):
    return _import_file(request, access, "roster", services.import_roster, "花名册")


def _import_file(request, access, tab, service, what):
    form = UploadForm(request.POST, request.FILES)
    back = "pay:roster" if tab == "roster" else "pay:events"
    if not form.is_valid():
        messages.error(request, "请选择要导入的文件（.xlsx 或 .csv）。")
        return redirect(back, access.unit.pk)
    upload = form.cleaned_data["file"]
    if _too_big(request, upload):
        return redirect(back, access.unit.pk)
    path = _upload_to_temp(upload)
    try:
        outcome = service(access.unit, request.user, path, file_name=upload.name)
    finally:
        path.unlink(missing_ok=True)
    if not outcome.ok or outcome.problems:
        return render(
            request,
            "juesuan/disbursement/import_report.html",
            _context(access, tab, outcome=outcome, what=what, file_name=upload.name),
        )
    _show(request, outcome)
    return redirect(back, access.unit.pk)


def _download(folder: Path, path: Path, name: str) -> FileResponse:
    """`path` sent as `name`; its temporary folder goes at once (the open file is read until
    the response is sent), so no download leaves a copy on the server."""
    handle = open(path, "rb")  # closed by the response once sent
    shutil.rmtree(folder)
    return FileResponse(handle, as_attachment=True, filename=name)


@requires(PAY_VIEW)
def roster_template(request, access: UnitAccess):
    return _template(request, access, "roster", "花名册模板.xlsx")


@requires(PAY_VIEW)
def events_template(request, access: UnitAccess):
    return _template(request, access, "events", "人员变动模板.xlsx")


def _template(request, access, kind, name):
    from juesuan.disbursement.roster import write_template

    folder = Path(tempfile.mkdtemp(prefix="juesuan-template-"))
    path = write_template(folder / name, kind, services.core_schemes(access.unit))
    return _download(folder, path, name)


# ---- 人员变动 -------------------------------------------------------------------------------


@requires(PAY_VIEW)
def events(request, access: UnitAccess):
    rows = LifeEvent.objects.filter(unit=access.unit).select_related("scheme", "recorded_by")
    names = dict(
        Beneficiary.objects.filter(
            unit=access.unit, person_id__in=rows.values_list("person_id", flat=True)
        ).values_list("person_id", "name")
    )
    page = Paginator(rows.order_by("-day", "person_id"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    for event in page:
        event.person_name = names.get(event.person_id, "")
    recoveries = Recovery.objects.filter(unit=access.unit).select_related("scheme")[:100]
    return render(
        request,
        "juesuan/disbursement/events.html",
        _context(access, "events", page=page, upload=UploadForm(), recoveries=recoveries),
    )


@requires(PAY_PREPARE)
@require_POST
def events_import(request, access: UnitAccess):
    return _import_file(request, access, "events", services.record_events, "人员变动")


@requires(PAY_PREPARE)
def event_new(request, access: UnitAccess, person: int):
    """One 人员变动 for one person: fill in, see the next payment with it, then save."""
    from juesuan.web.disbursement.services import events as event_service

    unit = access.unit
    row = get_object_or_404(Beneficiary.objects.select_related("scheme"), unit=unit, pk=person)
    kind = request.POST.get("kind") or request.GET.get("kind") or core.SUSPEND
    if kind not in EVENT_FIELDS:
        raise Http404("没有这种人员变动")
    coming, coming_why = services.next_month_and_why(unit)
    tiers = services.core_schemes(unit).tiers(row.scheme.code)
    initial = {"month": str(coming), "reported": timezone.localdate(), "tier": row.tier}
    form = EventForm(
        request.POST if request.method == "POST" else None,
        kind=kind,
        years=services.office_years(unit),
        tiers=tiers,
        initial=initial,
    )
    shown = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        entry = event_service.EventEntry(
            scheme=row.scheme.code,
            person_id=row.person_id,
            kind=kind,
            day=form.effective_day(),
            reported=data.get("reported"),
            bank=data.get("bank", ""),
            account=data.get("account", ""),
            account_name=data.get("account_name", ""),
            tier=data.get("tier", row.tier) if kind == core.TIER_CHANGE else "",
            reason=data.get("reason", ""),
        )
        seen = form.digest()
        if request.POST.get("action") == "save" and data.get("previewed") == seen:
            outcome = event_service.record_event(unit, request.user, entry)
            if outcome.ok:
                _show(request, outcome)
                return redirect("pay:events", unit.pk)
            form.add_problems(outcome.problems)
            if not outcome.problems:
                messages.error(request, outcome.message)
        else:
            event, problems = event_service.check_event(unit, entry)
            if event is None:
                form.add_problems(problems)
            else:
                shown = event_service.preview_event(unit, event)
                form.data = form.data.copy()
                form.data["previewed"] = seen
    return render(
        request,
        "juesuan/disbursement/event_form.html",
        _context(
            access,
            "events",
            person=row,
            kind=kind,
            kinds=EVENT_TITLES,
            form=form,
            preview=shown,
            coming=coming,
            coming_why=coming_why,
            # a scheme without tiers has no tier to change to
            no_tiers=kind == core.TIER_CHANGE and not any(tiers),
        ),
    )


# ---- 月度发放 -------------------------------------------------------------------------------


@requires(PAY_VIEW)
def runs(request, access: UnitAccess):
    unit = access.unit
    form = MonthForm(
        initial={"month": str(services.next_month(unit))}, years=services.office_years(unit)
    )
    return render(
        request,
        "juesuan/disbursement/runs.html",
        _context(
            access,
            "runs",
            runs=Run.objects.filter(unit=unit).select_related(
                "prepared_by", "reviewed_by", "approved_by"
            )[:100],
            form=form,
            schemes=Scheme.objects.filter(unit=unit),
        ),
    )


@requires(PAY_PREPARE)
@require_POST
def run_prepare(request, access: UnitAccess):
    form = MonthForm(request.POST, years=services.office_years(access.unit))
    if not form.is_valid():
        messages.error(request, "；".join(e for errors in form.errors.values() for e in errors))
        return redirect("pay:runs", access.unit.pk)
    month = form.cleaned_data["month"]
    codes = request.POST.getlist("schemes")
    job = jobs.start(
        jobs.PREPARE_JOB,
        access.unit,
        request.user,
        month.year,
        {"month": str(month), "schemes": codes},
    )
    return redirect("pay:job", access.unit.pk, job.pk)


def _run_for(access: UnitAccess, run_id: int) -> Run:
    return get_object_or_404(
        Run.objects.select_related("prepared_by", "reviewed_by", "approved_by", "ended_by"),
        unit=access.unit,
        pk=run_id,
    )


@requires(PAY_VIEW)
def run_detail(request, access: UnitAccess, run_id: int):
    run = _run_for(access, run_id)
    payments = people_service.with_keys(Payment.objects.filter(run=run).select_related("scheme"))
    search = request.GET.get("q", "").strip()
    if search:
        payments = payments.filter(services.payments_q(search))
    status = request.GET.get("status", "")
    if status in core.STATUS_NAMES:
        payments = payments.filter(status=status)
    page = Paginator(payments.order_by("scheme__code", "person_id", "sequence"), PAGE_SIZE)
    by_status = list(
        Payment.objects.filter(run=run)
        .values("status")
        .annotate(n=Count("id"), s=Sum("amount"))
        .order_by("status")
    )
    names = dict(Scheme.objects.filter(unit=access.unit).values_list("code", "name"))
    totals = [
        {"code": code, "name": names.get(code, code), "count": t["count"], "amount": t["amount"]}
        for code, t in sorted(run.totals.items())
    ]
    files = list(run.bank_files.all())
    adapters = dict(_adapter_choices())
    for item in files:
        item.scheme_name = names.get(item.scheme, item.scheme)
        item.adapter_name = adapters.get(item.adapter, item.adapter)
    counts = {r["status"]: r["n"] for r in by_status}
    status_names = status_names_in(run)
    return render(
        request,
        "juesuan/disbursement/run.html",
        _context(
            access,
            "runs",
            run=run,
            page=page.get_page(request.GET.get("page")),
            totals=totals,
            by_status=[
                {**r, "name": status_names.get(r["status"], r["status"])} for r in by_status
            ],
            files=files,
            at_bank=counts.get(core.SENT, 0),
            returned=counts.get(core.RETURNED, 0),
            search=search,
            status=status,
            status_names=status_names,
            send_back=SendBackForm(),
            live=run.step in (core.PREPARED, core.REVIEWED),
            withdrawn=WithdrawnPayment.objects.filter(run_id=run.pk).count()
            if run.step == SENT_BACK
            else 0,
        ),
    )


@requires(PAY_REVIEW)
@require_POST
def run_review(request, access: UnitAccess, run_id: int):
    run = _run_for(access, run_id)
    _show(request, services.review_run(access.unit, request.user, run.pk))
    return redirect("pay:run", access.unit.pk, run.pk)


@requires(PAY_APPROVE)
@require_POST
def run_approve(request, access: UnitAccess, run_id: int):
    run = _run_for(access, run_id)
    job = jobs.start(
        jobs.APPROVE_JOB, access.unit, request.user, int(run.month[:4]), {"run": run.pk}
    )
    return redirect("pay:job", access.unit.pk, job.pk)


@requires(PAY_VIEW)
@require_POST
def run_send_back(request, access: UnitAccess, run_id: int):
    # 复核 or 审批 (transitions.check_step decides; a 经办 is told why not)
    run = _run_for(access, run_id)
    form = SendBackForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    _show(request, services.send_back_run(access.unit, request.user, run.pk, reason))
    return redirect("pay:run", access.unit.pk, run.pk)


@requires(PAY_FILES)
def bank_file(request, access: UnitAccess, run_id: int, file_id: int):
    run = _run_for(access, run_id)
    item = get_object_or_404(BankFile, run=run, pk=file_id)
    path = services.in_place(item.full_path, item.sha256)
    if path is None:
        raise Http404("银行文件不在了，请联系管理员")
    record(
        "pay_download",
        request=request,
        unit=access.unit,
        year=int(run.month[:4]),
        target=item.name,
        summary=f"下载第 {run.number} 批银行文件 {item.name}（SHA-256 {item.sha256}）",
        after={
            "file": item.name,
            "sha256": item.sha256,
            "count": item.count,
            "total_fen": item.total,
        },
    )
    return FileResponse(open(path, "rb"), as_attachment=True, filename=item.name)


# ---- 银行回盘 -------------------------------------------------------------------------------


def _adapter_choices() -> list[tuple[str, str]]:
    from juesuan.disbursement.banks import adapter_ids, get_adapter

    return [(i, get_adapter(i).name) for i in adapter_ids()]


@requires(PAY_VIEW)
def results(request, access: UnitAccess):
    imports = ResultImport.objects.filter(unit=access.unit).select_related("imported_by")[:100]
    default = Scheme.objects.filter(unit=access.unit).values_list("bank_adapter", flat=True).first()
    form = ResultsForm(adapters=_adapter_choices(), initial={"adapter": default or "generic-csv"})
    return render(
        request,
        "juesuan/disbursement/results.html",
        _context(access, "results", imports=imports, form=form),
    )


@requires(PAY_PREPARE)
@require_POST
def results_import(request, access: UnitAccess):
    form = ResultsForm(request.POST, request.FILES, adapters=_adapter_choices())
    if not form.is_valid():
        messages.error(request, "请选择回盘文件和银行接口。")
        return redirect("pay:results", access.unit.pk)
    upload = form.cleaned_data["file"]
    if _too_big(request, upload):
        return redirect("pay:results", access.unit.pk)
    path = _upload_to_temp(upload)
    job = jobs.start(
        jobs.RESULTS_JOB,
        access.unit,
        request.user,
        timezone.localdate().year,
        {
            "path": str(path.relative_to(settings.MEDIA_ROOT)),
            "name": upload.name,
            "adapter": form.cleaned_data["adapter"],
        },
    )
    return redirect("pay:job", access.unit.pk, job.pk)


@requires(PAY_VIEW)
def result_detail(request, access: UnitAccess, import_id: int):
    entry = get_object_or_404(ResultImport, unit=access.unit, pk=import_id)
    returned = (
        Payment.objects.filter(
            result_import=entry, status__in=(core.RETURNED, core.REISSUED, core.CANCELLED)
        )
        .select_related("scheme")
        .order_by("scheme__code", "person_id")
    )
    page = Paginator(returned, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "juesuan/disbursement/result.html",
        _context(
            access,
            "results",
            entry=entry,
            page=page,
            adapter_name=dict(_adapter_choices()).get(entry.adapter, entry.adapter),
        ),
    )


# ---- 退回处理 -------------------------------------------------------------------------------


@requires(PAY_VIEW)
def returns(request, access: UnitAccess):
    return _returns_page(request, access)


def _returns_page(request, access: UnitAccess, revealed: int | None = None):
    """The 退回处理 page; `revealed` is the waiting correction whose account number 复核 asked
    to see in full."""
    unit = access.unit
    returned = (
        Payment.objects.filter(unit=unit, status=core.RETURNED)
        .select_related("scheme", "run")
        .order_by("scheme__code", "person_id", "month")
    )
    live = {
        c.payment_id: c
        for c in Correction.objects.filter(unit=unit, status__in=(ENTERED, CHECKED)).select_related(
            "entered_by", "checked_by"
        )
    }
    page = Paginator(returned, PAGE_SIZE).get_page(request.GET.get("page"))
    for payment in page:
        payment.correction = live.get(payment.pk)
    waiting = Correction.objects.filter(unit=unit, status=ENTERED).select_related(
        "payment__scheme", "entered_by"
    )
    ready = Correction.objects.filter(
        unit=unit, status=CHECKED, payment__status=core.RETURNED
    ).count()
    done = (
        Payment.objects.filter(unit=unit, reissue_of__isnull=False)
        .exclude(status=core.WITHDRAWN)
        .select_related("scheme", "run", "reissue_of")
        .order_by("-pk")[:50]
    )
    return render(
        request,
        "juesuan/disbursement/returns.html",
        _context(
            access,
            "returns",
            page=page,
            waiting=waiting,
            ready=ready,
            done=done,
            revealed=revealed,
            correction_form=CorrectionForm(),
            supplementary_form=SupplementaryForm(months=_supplementary_months(unit)),
        ),
    )


@requires(PAY_PREPARE)
@require_POST
def correction_enter(request, access: UnitAccess, payment_id: int):
    form = CorrectionForm(request.POST)
    if not form.is_valid():
        messages.error(
            request,
            "更正信息不完整："
            + "；".join(
                f"{form.fields[k].label}{e}" for k, errors in form.errors.items() for e in errors
            ),
        )
        return redirect("pay:returns", access.unit.pk)
    _show(
        request,
        services.enter_correction(access.unit, request.user, payment_id, **form.cleaned_data),
    )
    return redirect("pay:returns", access.unit.pk)


@requires(PAY_REVIEW)
@require_POST
def correction_check(request, access: UnitAccess, correction_id: int):
    accept = request.POST.get("decision", "accept") == "accept"
    _show(
        request,
        services.check_correction(access.unit, request.user, correction_id, accept=accept),
    )
    return redirect("pay:returns", access.unit.pk)


@requires(PAY_REVIEW)
@require_POST
def correction_reveal(request, access: UnitAccess, correction_id: int):
    """复核 checks a corrected account number against what the person gave, so sees it in full
    on request; each look is audit-logged, as on the person's page."""
    if PERSONAL_DATA not in access.capabilities:
        raise PermissionDenied("您的角色不能查看完整的银行账号。")
    correction = get_object_or_404(
        Correction.objects.select_related("payment"),
        pk=correction_id,
        unit=access.unit,
        status=ENTERED,
    )
    services.record_correction_reveal(access.unit, request.user, correction, request)
    return _returns_page(request, access, revealed=correction.pk)


@requires(PAY_PREPARE)
@require_POST
def supplementary(request, access: UnitAccess):
    form = SupplementaryForm(request.POST, months=_supplementary_months(access.unit))
    if not form.is_valid():
        messages.error(request, "请从列表中选择补发批次记入的月份。")
        return redirect("pay:returns", access.unit.pk)
    month = core.Month.parse(form.cleaned_data["month"])
    outcome = services.prepare_supplementary_run(access.unit, request.user, month)
    _show(request, outcome)
    if outcome.ok and outcome.changed:
        return redirect("pay:run", access.unit.pk, outcome.data["run"])
    return redirect("pay:returns", access.unit.pk)


def _supplementary_months(unit) -> list[str]:
    """The months a supplementary run may be booked in: those of the payments it re-issues
    (the latest first, the default), then the month the next run pays."""
    ready = Correction.objects.filter(
        unit=unit, status=CHECKED, payment__status=core.RETURNED
    ).values_list("payment__month", flat=True)
    months = sorted(set(ready), reverse=True)
    coming = str(services.next_month(unit))
    return months + ([coming] if coming not in months else [])


@requires(PAY_PREPARE)
def payment_cancel(request, access: UnitAccess, payment_id: int):
    """Cancel a returned payment: the clerk says whether the person's payments stop, and sees
    the next payment either way before saving."""
    from juesuan.web.disbursement.services.corrections import cancel_preview

    unit = access.unit
    payment = get_object_or_404(
        Payment.objects.select_related("scheme", "run"), unit=unit, pk=payment_id
    )
    form = CancelForm(request.POST if request.method == "POST" else None)
    shown = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        then = {"stop": data["then"] == CancelForm.STOP, "died": data["died"]}
        if request.POST.get("action") == "save" and data["previewed"] == form.digest():
            outcome = services.cancel_payment(
                unit, request.user, payment.pk, data["reason"], **then
            )
            if outcome.ok:
                _show(request, outcome)
                return redirect("pay:returns", unit.pk)
            form.add_problems(outcome.problems or [{"message": outcome.message}])
        else:
            shown = cancel_preview(unit, request.user, payment.pk, data["reason"], **then)
            if isinstance(shown, list):
                form.add_problems(shown)
                shown = None
            else:
                form.data = form.data.copy()
                form.data["previewed"] = form.digest()
    # a death entered as a suspension would be paid back on resumption: say so
    death_as_stop = (
        form.is_bound
        and form.data.get("then") == CancelForm.STOP
        and ("死" in form.data.get("reason", ""))
    )
    return render(
        request,
        "juesuan/disbursement/cancel.html",
        _context(
            access,
            "returns",
            payment=payment,
            form=form,
            preview=shown,
            death_as_stop=death_as_stop,
        ),
    )


# ---- 追回 ---------------------------------------------------------------------------------------


@requires(PAY_VIEW)
def recoveries(request, access: UnitAccess):
    from juesuan.disbursement import recoveries as recovery_rules

    unit = access.unit
    found = services.receivables(unit)
    settlements: dict[int, list[RecoverySettlement]] = {}
    for row in (
        RecoverySettlement.objects.filter(recovery__in=[r.pk for r in found])
        .select_related("entered_by", "checked_by", "approved_by")
        .order_by("pk")
    ):
        settlements.setdefault(row.recovery_id, []).append(row)
    for recovery in found:
        recovery.entries = settlements.get(recovery.pk, [])
    waiting = [s for r in found for s in r.entries if s.state == recovery_rules.ENTERED]
    to_approve = [
        s
        for r in found
        for s in r.entries
        if s.method == recovery_rules.WRITE_OFF and s.state == recovery_rules.CHECKED
    ]
    by_pk = {r.pk: r for r in found}
    for entry in (*waiting, *to_approve):
        entry.receivable = by_pk[entry.recovery_id]
    return render(
        request,
        "juesuan/disbursement/recoveries.html",
        _context(
            access,
            "recoveries",
            open_rows=[r for r in found if r.outstanding],
            closed_rows=[r for r in found if not r.outstanding],
            waiting=waiting,
            to_approve=to_approve,
            totals=services.recovery_totals(unit),
            form=SettlementForm(initial={"day": timezone.localdate()}),
            today=timezone.localdate(),
        ),
    )


@requires(PAY_PREPARE)
@require_POST
def recovery_settle(request, access: UnitAccess, recovery_id: int):
    form = SettlementForm(request.POST)
    if not form.is_valid():
        messages.error(request, "追回登记未保存：" + form.error_text())
        return redirect("pay:recoveries", access.unit.pk)
    data = form.cleaned_data
    _show(
        request,
        services.enter_settlement(
            access.unit,
            request.user,
            recovery_id,
            method=data["method"],
            amount=data["amount"],
            day=data["day"],
            note=data["note"],
        ),
    )
    return redirect("pay:recoveries", access.unit.pk)


@requires(PAY_REVIEW)
@require_POST
def recovery_check(request, access: UnitAccess, settlement_id: int):
    accept = request.POST.get("decision", "accept") == "accept"
    _show(
        request, services.check_settlement(access.unit, request.user, settlement_id, accept=accept)
    )
    return redirect("pay:recoveries", access.unit.pk)


@requires(PAY_APPROVE)
@require_POST
def recovery_approve(request, access: UnitAccess, settlement_id: int):
    accept = request.POST.get("decision", "accept") == "accept"
    _show(
        request, services.approve_write_off(access.unit, request.user, settlement_id, accept=accept)
    )
    return redirect("pay:recoveries", access.unit.pk)


# ---- 统计 and 资金守恒 -------------------------------------------------------------------------


def _stats_context(access: UnitAccess, year: int) -> dict:
    unit = access.unit
    schemes = services.unit_schemes(unit)
    months = sorted(
        {core.Month.parse(m) for m in _payment_months(unit) if m.startswith(f"{year:04d}")},
        reverse=True,
    )
    monthly = []
    for month in months:
        figures = services.monthly_figures(unit, month)
        monthly.append(
            {
                "month": str(month),
                "figures": [_figure(f, schemes) for f in figures],
                "total": _total(figures),
            }
        )
    figures = services.yearly_figures(unit, year)
    yearly = [_figure(f, schemes) for f in figures]
    years = sorted(_payment_years(unit) | {year}, reverse=True)
    return {
        "monthly": monthly,
        "yearly": yearly,
        "yearly_total": _total(figures),
        "year": year,
        "years": years,
    }


def _payment_months(unit) -> set[str]:
    """The months that have payments ("2020-03"). A supplementary run made today re-issues an
    earlier month's payment, so the months of runs would offer months without any payment."""
    return set(
        Payment.objects.filter(unit=unit)
        .exclude(status=core.WITHDRAWN)
        .values_list("month", flat=True)
        .distinct()
    )


def _payment_years(unit) -> set[int]:
    return {int(m[:4]) for m in _payment_months(unit)}


def _total(figures) -> dict | None:
    """The 合计 row of several schemes (persons add up per scheme); None for fewer than two."""
    from juesuan.disbursement.statistics import Figures

    if len(figures) < 2:
        return None
    total = Figures(
        scheme="",
        period=figures[0].period,
        **{
            name: sum(getattr(f, name) for f in figures)
            for name in ("persons", "payments", "amount", "returned", "on_time", "undated")
        },
    )
    return {**_figure(total, {}), "name": "合计"}


def _figure(f, schemes) -> dict:
    return {
        "scheme": f.scheme,
        "name": schemes[f.scheme].name if f.scheme in schemes else f.scheme,
        "persons": f.persons,
        "payments": f.payments,
        "amount": f.amount,
        "returned": f.returned,
        "return_rate": f.return_rate,
        "on_time_rate": f.on_time_rate,
        "on_time_unknown": f.on_time_unknown,  # 无银行到账日期: the rate cannot be known
    }


@requires(PAY_STATS)
def stats(request, access: UnitAccess):
    chosen = request.GET.get("year", "")
    if chosen.isdigit():
        year = int(chosen)
    else:  # this year if anything was paid for it, else the latest year with payments
        years = _payment_years(access.unit)
        year = timezone.localdate().year
        if years and year not in years:
            year = max(years)
    return render(
        request,
        "juesuan/disbursement/stats.html",
        _context(access, "stats", **_stats_context(access, year)),
    )


@requires(PAY_STATS)
def fund_request(request, access: UnitAccess, month: str):
    from juesuan.disbursement import statistics

    try:
        chosen = core.Month.parse(month)
    except (ValueError, IndexError) as exc:
        raise Http404("月份应写作 2020-03") from exc
    lines = services.fund_request(access.unit, chosen)
    name = f"{safe_file_name(access.unit.name)}{chosen.year}年{chosen.month}月资金申请表.xlsx"
    folder = Path(tempfile.mkdtemp(prefix="juesuan-fund-"))
    path = statistics.write_fund_request(lines, chosen, folder / "fund.xlsx", access.unit.name)
    record(
        "pay_download",
        request=request,
        unit=access.unit,
        year=chosen.year,
        target=name,
        summary=f"下载 {chosen} 资金申请表：{sum(x.payments for x in lines)} 笔，"
        f"{services.yuan(sum(x.amount for x in lines))} 元",
    )
    return _download(folder, path, name)


@requires(PAY_STATS)
def ledger(request, access: UnitAccess, year: int):
    """The year's ledger lines for paid amounts, in the dataset workbook's 支出 columns."""
    from juesuan.disbursement import statistics

    try:
        rows = services.ledger_postings(access.unit, year)
    except ValueError as exc:  # a year without classification codes (before 2007)
        raise Http404(str(exc)) from exc
    name = f"{safe_file_name(access.unit.name)}{year}年代发记账明细.xlsx"
    folder = Path(tempfile.mkdtemp(prefix="juesuan-ledger-"))
    path = statistics.write_postings(rows, folder / "ledger.xlsx")
    total = sum(Decimal(r["金额"]) for r in rows)
    record(
        "pay_download",
        request=request,
        unit=access.unit,
        year=year,
        target=name,
        summary=f"下载 {year} 年代发记账明细：{len(rows)} 行，{total:,.2f} 元",
    )
    return _download(folder, path, name)


@requires(PAY_STATS)
def balance(request, access: UnitAccess):
    result = services.conservation(access.unit)
    b = result.balance
    parts = [
        ("已到账", b.paid),
        ("已送银行待回盘", b.sent),
        ("退回待处理", b.returned),
        ("已重发待审批", b.reissued),
        ("已取消", b.cancelled),
    ]
    return render(
        request,
        "juesuan/disbursement/balance.html",
        _context(
            access,
            "balance",
            result=result,
            b=b,
            parts=parts,
            recovery=services.recovery_totals(access.unit),
        ),
    )


# ---- jobs ---------------------------------------------------------------------------------


def _job_for(access: UnitAccess, job_id) -> Job:
    return get_object_or_404(Job, pk=job_id, unit=access.unit, kind__in=list(jobs.JOB_NAMES))


def _job_done_url(job: Job) -> str | None:
    if job.status not in ("succeeded", "failed"):
        return None
    data = (job.result or {}).get("data", {})
    if job.status == "succeeded" and data.get("run"):
        return reverse("pay:run", args=[job.unit_id, data["run"]])
    if job.status == "succeeded" and data.get("import"):
        return reverse("pay:result", args=[job.unit_id, data["import"]])
    return None


@requires(PAY_VIEW)
def job_page(request, access: UnitAccess, job_id):
    job = _job_for(access, job_id)
    result = job.result or {}
    done_url = _job_done_url(job)
    if done_url and job.status == "succeeded" and not result.get("problems"):
        # a finished step goes on to what it made; its page says what was done
        _show(
            request, services.Outcome(True, result.get("message", ""), bool(result.get("changed")))
        )
        return redirect(done_url)
    return render(
        request,
        "juesuan/disbursement/job.html",
        _context(
            access,
            "runs" if job.kind != jobs.RESULTS_JOB else "results",
            job=job,
            job_name=jobs.JOB_NAMES.get(job.kind, job.kind),
            outcome=result,
            done_url=done_url,
        ),
    )


@requires(PAY_VIEW)
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
            # a finished job reloads its own page: it goes on to the result, or shows the
            # outcome and the problems
            "done_url": reverse("pay:job", args=[job.unit_id, job.pk]) if job.finished else None,
        }
    )
