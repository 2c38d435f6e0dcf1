"""Reads for imports: jobs, their report and preview, presets — scoped to the actor."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import QuerySet
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from relatiebeheer.common.errors import NotFound
from relatiebeheer.users.models import User

from . import reader
from .engine import Engine
from .fields import fields_for
from .handlers import ImportAborted
from .lookups import user_lookup
from .messages import describe, file_problem
from .models import ImportIssue, ImportJob
from .retention import upload_kept, upload_removed_message

TYPE_LABELS = {
    "text": gettext_lazy("text"),
    "kvk": gettext_lazy("KvK number"),
    "vat": gettext_lazy("VAT number"),
    "email": gettext_lazy("email"),
    "phone": gettext_lazy("phone"),
    "url": gettext_lazy("web address"),
    "user": gettext_lazy("user"),
    "money": gettext_lazy("amount"),
    "decimal": gettext_lazy("number"),
    "percent": gettext_lazy("percentage"),
    "date": gettext_lazy("date"),
    "datetime": gettext_lazy("date and time"),
    "int": gettext_lazy("whole number"),
    "choice": gettext_lazy("choice"),
    "bool": gettext_lazy("yes/no"),
}


def job_list(*, actor: User) -> QuerySet[ImportJob]:
    return ImportJob.objects.visible_to(actor).select_related("created_by")


def job_get(*, actor: User, pk: int) -> ImportJob:
    job = job_list(actor=actor).filter(pk=pk).first()
    if job is None:
        raise NotFound()
    if job.is_stale:
        from .services import mark_stale_jobs

        mark_stale_jobs()
        job.refresh_from_db()
    return job


def job_issues(job: ImportJob) -> QuerySet[ImportIssue]:
    return job.issues.all()


def issue_rows(issues) -> list[dict]:
    """Issues in the reader's language: row, column, value, reason."""
    return [
        {
            "row": i.row,
            "column": i.column,
            "field": i.field,
            "value": i.value,
            "code": i.code,
            "reason": describe(i.code, i.params),
        }
        for i in issues
    ]


def _display(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = timezone.localtime(value)
        return formats.date_format(value, "SHORT_DATETIME_FORMAT")
    if isinstance(value, dt.date):
        return formats.date_format(value, "SHORT_DATE_FORMAT")
    if isinstance(value, Decimal):
        return formats.number_format(value, decimal_pos=2, use_l10n=True, force_grouping=True)
    return str(value)


def job_preview(job: ImportJob, *, rows: int = 20) -> dict:
    """The first rows with each mapped cell as read, as understood and what is wrong.

    Also what the file leaves open: an ambiguous notation or date order (the user is
    asked to choose), mixed notations, and required fields without a column.
    """
    if not upload_kept(job):
        return {
            "columns": [],
            "rows": [],
            "warnings": [upload_removed_message()],
            "detected": {},
            "needs": [],
        }
    info = reader.FileInfo.from_dict(job.file_info)
    specs = fields_for(job.kind)
    warnings: list[str] = []
    try:
        engine = Engine(
            kind=job.kind,
            path=job.path,
            info=info,
            mapping=job.mapping,
            options=job.options,
            actor=job.created_by,
            check_required=False,
        )
    except ImportAborted as exc:
        return {
            "columns": [],
            "rows": [],
            "warnings": [file_problem(exc.code)],
            "detected": {},
            "needs": [],
        }
    if any(specs[f].type == "user" for f in engine.col_of):
        engine.handler.users = user_lookup()
    try:
        sample = reader.head(job.path, info, rows=2000)
    except reader.FileProblem as exc:
        return {
            "columns": [],
            "rows": [],
            "warnings": [file_problem(exc.code)],
            "detected": {},
            "needs": [],
        }
    detected = engine.detect(sample)
    needs = []
    if detected["notation_mixed"]:
        warnings.append(
            _("Amounts are written in both Dutch (1.234,56) and English (1,234.56) notation.")
        )
    elif not detected["notation"] and detected["notation_example"]:
        needs.append("notation")
        warnings.append(
            _(
                "Amounts like %(example)s are ambiguous (thousands or decimals?): choose the notation."
            )
            % {"example": detected["notation_example"]}
        )
    if detected["date_mixed"]:
        warnings.append(_("Dates are written both day-first and month-first."))
    elif not detected["date_order"] and detected["date_example"]:
        needs.append("date_order")
        warnings.append(
            _(
                "Dates like %(example)s are ambiguous (day-month or month-day?): choose the date order."
            )
            % {"example": detected["date_example"]}
        )
    if engine.missing:
        warnings.append(
            file_problem("missing_required")
            % {"fields": ", ".join(str(specs[f].label) for f in engine.missing)}
        )
    engine.notation = engine.notation or detected["notation"]
    engine.date_order = engine.date_order or (
        detected["date_order"] if detected["date_order"] in {"dmy", "mdy"} else None
    )
    head = sample.head(rows)
    typed = engine.parse_preview(head)
    columns = []
    for fname, header in job.mapping.items():
        spec = specs[fname]
        columns.append(
            {"field": fname, "label": spec.label, "header": header, "type": TYPE_LABELS[spec.type]}
        )
    out_rows = []
    raw_names = dict(zip(info.headers, reader.column_names(info.headers), strict=True))
    for index in range(head.height):
        cells = []
        for fname, header in job.mapping.items():
            raw = head[raw_names[header]][index]
            value = typed[f"f_{fname}"][index]
            error = typed[f"e_{fname}"][index] if f"e_{fname}" in typed.columns else None
            spec = specs[fname]
            if spec.type == "money" and value is not None:
                value = Decimal(value).scaleb(-2)
            cells.append(
                {
                    "raw": raw or "",
                    "value": _display(value),
                    "error": describe(error) if error else "",
                }
            )
        out_rows.append({"row": int(head["__row"][index]), "cells": cells})
    return {
        "columns": columns,
        "rows": out_rows,
        "warnings": warnings,
        "detected": detected,
        "needs": needs,
    }
