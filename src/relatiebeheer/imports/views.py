"""The import wizard (upload → mapping → preview → check → import), exports, duplicates."""

from __future__ import annotations

import csv
import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from relatiebeheer.audit.services import audit_log
from relatiebeheer.common.errors import Conflict, InvalidInput, VersionConflict
from relatiebeheer.exports import Column, ExportTooLarge, export_response
from relatiebeheer.exports_registry import export_lists, get_export
from relatiebeheer.relations import selectors as relations
from relatiebeheer.relations.models import Account
from relatiebeheer.relations.rules import require_can_change
from relatiebeheer.relations.selectors import merge_preview
from relatiebeheer.relations.services import account_merge
from relatiebeheer.users.access import can_change_data

from . import selectors, services
from .duplicates import duplicate_pairs, reason_label, similar_to
from .fields import KIND_LABELS
from .forms import MappingForm, UploadForm
from .jobs import rejected_path, require_own_job
from .messages import describe
from .models import ImportJob, ImportPreset
from .presets import SHIPPED


def _preset_choices(user):
    shipped = [(p.key, f"{KIND_LABELS[p.kind]}: {p.label}") for p in SHIPPED]
    saved = [
        (str(p.pk), f"{KIND_LABELS[p.kind]}: {p.name}")
        for p in ImportPreset.objects.visible_to(user).order_by("kind", "name")
    ]
    return shipped + saved


def _errors_to_form(form, exc: InvalidInput) -> None:
    for field, msgs in exc.errors.items():
        target = field if field in form.fields else None
        for message in msgs:
            form.add_error(target, str(message))


@login_required
def index(request):
    jobs = list(selectors.job_list(actor=request.user)[:25])
    context = {
        "jobs": jobs,
        "form": UploadForm(presets=_preset_choices(request.user)),
        "can_import": can_change_data(request.user),
        "presets": ImportPreset.objects.visible_to(request.user).select_related("owner"),
    }
    return render(request, "imports/index.html", context)


@login_required
def import_create(request):
    require_can_change(request.user)
    form = UploadForm(
        request.POST or None, request.FILES or None, presets=_preset_choices(request.user)
    )
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = services.import_job_create(
                actor=request.user,
                kind=form.cleaned_data["kind"],
                source=upload,
                filename=upload.name,
                preset=form.cleaned_data.get("preset") or None,
            )
        except InvalidInput as exc:
            _errors_to_form(form, exc)
        else:
            return redirect("imports:import_mapping_edit", pk=job.pk)
    status = 422 if request.method == "POST" and form.errors else 200
    return render(request, "imports/upload.html", {"form": form}, status=status)


def _own_job(request, pk: int) -> ImportJob:
    require_can_change(request.user)
    job = selectors.job_get(actor=request.user, pk=pk)
    require_own_job(request.user, job)
    return job


@login_required
def import_mapping_edit(request, pk: int):
    job = _own_job(request, pk)
    form = MappingForm(request.POST or None, job=job)
    if request.method == "POST" and form.is_valid():
        try:
            job = services.import_job_configure(
                actor=request.user, job=job, mapping=form.mapping(), options=form.options()
            )
            if form.cleaned_data.get("preset_name"):
                services.preset_save(
                    actor=request.user, job=job, name=form.cleaned_data["preset_name"]
                )
                messages.success(request, _("Mapping saved as a preset."))
        except InvalidInput as exc:
            _errors_to_form(form, exc)
        except Conflict as exc:
            messages.error(request, str(exc.detail))
        else:
            return redirect("imports:import_preview", pk=job.pk)
    preview = selectors.job_preview(job, rows=5)
    return render(
        request,
        "imports/mapping.html",
        {"job": job, "form": form, "preview": preview, "step": 2},
        status=422 if request.method == "POST" and form.errors else 200,
    )


@login_required
def import_preview(request, pk: int):
    job = selectors.job_get(actor=request.user, pk=pk)
    preview = selectors.job_preview(job, rows=20)
    return render(
        request,
        "imports/preview.html",
        {"job": job, "preview": preview, "step": 3, "can_run": _can_run(request.user, job)},
    )


def _can_run(user, job) -> bool:
    return (
        can_change_data(user)
        and job.created_by_id == user.pk
        and not (job.is_active and not job.is_stale)
    )


def _start(request, pk: int, *, commit: bool):
    job = _own_job(request, pk)
    try:
        services.import_job_start(actor=request.user, job=job, commit=commit)
    except InvalidInput as exc:
        for msgs in exc.errors.values():
            for message in msgs:
                messages.error(request, str(message))
        return redirect("imports:import_mapping_edit", pk=job.pk)
    except Conflict as exc:
        messages.error(request, str(exc.detail))
    return redirect("imports:import_detail", pk=job.pk)


@login_required
@require_POST
def import_validate(request, pk: int):
    return _start(request, pk, commit=False)


@login_required
@require_POST
def import_run(request, pk: int):
    return _start(request, pk, commit=True)


def _detail_context(request, job: ImportJob) -> dict:
    issues = selectors.issue_rows(selectors.job_issues(job)[:200])
    return {
        "job": job,
        "issues": issues,
        "more_issues": max(0, job.rows_invalid - len({i["row"] for i in issues})),
        "can_run": _can_run(request.user, job),
        "has_rejected": rejected_path(job).exists(),
        "step": 4 if job.status != ImportJob.Status.DONE else 5,
        "summary": [
            {"field": key.split(":")[0], "reason": describe(key.split(":")[1]), "count": count}
            for key, count in sorted((job.summary or {}).items(), key=lambda kv: -kv[1])
        ],
    }


@login_required
def import_detail(request, pk: int):
    job = selectors.job_get(actor=request.user, pk=pk)
    return render(request, "imports/detail.html", _detail_context(request, job))


@login_required
def import_progress(request, pk: int):
    """The progress bar, polled by htmx; when the job is over the page reloads."""
    job = selectors.job_get(actor=request.user, pk=pk)
    response = render(request, "imports/_progress.html", {"job": job})
    if not job.is_active and request.htmx:
        response["HX-Refresh"] = "true"
    return response


@login_required
def import_report(request, pk: int):
    job = selectors.job_get(actor=request.user, pk=pk)
    # Through the shared exporter: the values come from the uploaded file, so a cell like
    # "=HYPERLINK(…)" must be neutralised before a spreadsheet opens the report.
    columns = [
        Column(_("Row"), lambda issue: issue["row"], "int"),
        Column(_("Column"), lambda issue: issue["column"] or issue["field"]),
        Column(_("Value"), lambda issue: issue["value"]),
        Column(_("Reason"), lambda issue: issue["reason"]),
    ]
    return export_response(
        columns,
        selectors.issue_rows(selectors.job_issues(job)),
        fmt="csv",
        lang=get_language()[:2],
        filename=f"import-{job.pk}-report",
    )


@login_required
def import_rejected(request, pk: int):
    """The rejected rows in the file's own layout, with a reason column, to fix and re-import."""
    job = selectors.job_get(actor=request.user, pk=pk)
    path = rejected_path(job)
    name = f"import-{job.pk}-rejected.csv"
    if path.exists():
        return FileResponse(
            open(path, "rb"), as_attachment=True, filename=name, content_type="text/csv"
        )
    headers = job.file_info.get("headers", [])
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=job.file_info.get("delimiter", ";")).writerow(
        [*headers, _("Reason")]
    )
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_POST
def preset_delete(request, pk: int):
    require_can_change(request.user)
    preset = get_object_or_404(ImportPreset, pk=pk, owner=request.user)
    services.preset_delete(actor=request.user, preset=preset)
    messages.success(request, _("Preset deleted."))
    return redirect("imports:index")


# --- exports --------------------------------------------------------------------------------


@login_required
def exports(request):
    filters = relations.AccountFilters.from_mapping(request.GET)
    return render(
        request,
        "imports/exports.html",
        {
            "lists": export_lists(),
            "filters": filters,
            "statuses": Account.Status.choices,
            "query": request.GET.urlencode(),
        },
    )


@login_required
def export_download(request, fmt: str):
    """Any registered list as CSV or XLSX, with the filters of the query string."""
    if fmt not in {"csv", "xlsx"}:
        raise Http404
    item = get_export(request.GET.get("list") or "accounts")
    if item is None:
        raise Http404
    params = {k: v for k, v in request.GET.items() if k in item.filters}
    rows = item.rows(request.user, params)
    if hasattr(rows, "iterator"):
        rows = rows.iterator(chunk_size=2000)
    audit_log(
        actor=request.user, action=f"export.{item.key}", extra={"format": fmt, "filters": params}
    )
    try:
        return export_response(
            item.columns(),
            rows,
            fmt=fmt,
            lang=get_language()[:2],
            filename=str(item.filename or item.key),
        )
    except ExportTooLarge as exc:
        messages.error(request, str(exc))
        return redirect(f"{reverse('imports:exports')}?{request.GET.urlencode()}")


# --- duplicates --------------------------------------------------------------------------------


@login_required
def duplicates(request):
    pairs, truncated = duplicate_pairs(actor=request.user, limit=300)
    ids = {p.a for p in pairs} | {p.b for p in pairs}
    accounts = {a.pk: a for a in Account.objects.filter(pk__in=ids).select_related("manager")}
    rows = [
        {"a": accounts[p.a], "b": accounts[p.b], "reason": reason_label(p.reason)}
        for p in pairs
        if p.a in accounts and p.b in accounts
    ]
    return render(
        request,
        "imports/duplicates.html",
        {"pairs": rows, "truncated": truncated, "can_merge": can_change_data(request.user)},
    )


@login_required
def merge_edit(request, pk: int):
    """Compare an account with a look-alike and merge the look-alike into it."""
    require_can_change(request.user)
    keep = relations.account_get(actor=request.user, pk=pk)
    require_can_change(request.user)
    other_id = request.POST.get("other_id") or request.GET.get("with")
    other = None
    if other_id and str(other_id).isdigit():
        other = (
            Account.objects.visible_to(request.user)
            .filter(pk=int(other_id))
            .exclude(pk=keep.pk)
            .first()
        )
    if request.method == "POST":
        if other is None:
            messages.error(request, _("Choose the account to merge into this one."))
            return redirect("imports:merge_edit", pk=keep.pk)
        try:
            versions = (
                int(request.POST.get("version", 0)),
                int(request.POST.get("other_version", 0)),
            )
        except ValueError:
            versions = (0, 0)
        try:
            account_merge(
                actor=request.user,
                keep=keep,
                keep_version=versions[0],
                other=other,
                other_version=versions[1],
            )
        except VersionConflict:
            messages.error(
                request,
                _("One of the accounts was changed after you opened this page. Check again."),
            )
            return redirect(f"{reverse('imports:merge_edit', args=[keep.pk])}?with={other.pk}")
        except InvalidInput as exc:
            for msgs in exc.errors.values():
                for message in msgs:
                    messages.error(request, str(message))
            return redirect("imports:merge_edit", pk=keep.pk)
        messages.success(request, _("Accounts merged."))
        return redirect("web:account", pk=keep.pk)
    context = {
        "keep": keep,
        "other": other,
        "candidates": similar_to(actor=request.user, account=keep),
        "preview": merge_preview(keep=keep, other=other) if other else None,
        "fields": [
            (
                Account._meta.get_field(name).verbose_name,
                getattr(keep, name),
                getattr(other, name) if other else "",
            )
            for name in (
                "name",
                "kvk_number",
                "vat_number",
                "street",
                "postal_code",
                "city",
                "status",
                "external_id",
            )
        ],
    }
    return render(request, "imports/merge.html", context)
