"""API: start an import job, read its status and report; look-alike accounts and merging."""

import base64
import binascii
import json
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from django.http import HttpRequest
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError, ValidationError
from ninja.pagination import paginate
from pydantic import ValidationError as PydanticError

from relatiebeheer.api.core import ERRORS, READ_ERRORS, Pagination, Problem, document_schema
from relatiebeheer.api.types import Id, In, Text, Version
from relatiebeheer.common.bodylimit import LimitedBody, import_limit, too_large
from relatiebeheer.common.errors import InvalidInput
from relatiebeheer.relations import selectors as relations
from relatiebeheer.relations.api import AccountOut
from relatiebeheer.relations.rules import require_can_change
from relatiebeheer.relations.services import account_merge

from . import selectors, services
from .duplicates import duplicate_pairs, reason_label, similar_to
from .messages import describe
from .models import ImportJob

router = Router(tags=["imports"])

Kind = Literal["accounts", "contacts", "orders", "costs", "interactions"]
# The inline JSON forms are bounded by the schema too; larger files go as an upload or body.
MAX_INLINE_BYTES = 20 * 1024 * 1024


class ImportOptions(In):
    notation: Literal["nl", "en"] | None = Field(
        None, description="Amounts: nl 1.234,56 or en 1,234.56"
    )
    date_order: Literal["dmy", "mdy"] | None = Field(
        None, description="05-11-2026: dmy = 5 November"
    )
    partial: bool = Field(False, description="Import the valid rows and reject the others")
    dry_run: bool = Field(False, description="Check and count only")


@document_schema
class ImportIn(In):
    kind: Kind
    filename: Text(255) = "import.csv"
    text: str | None = Field(None, max_length=MAX_INLINE_BYTES, description="The CSV itself")
    content_base64: str | None = Field(
        None, max_length=MAX_INLINE_BYTES * 4 // 3 + 4, description="The file (CSV or XLSX), base64"
    )
    mapping: dict[Text(40), Text(255)] | None = Field(None, description="field → column header")
    preset: Text(60) | None = Field(None, description="A shipped preset key or a saved preset's id")
    account_id: Id | None = Field(
        None, description="Rows without an account column belong to this account"
    )
    options: ImportOptions = ImportOptions()
    commit: bool = Field(True, description="false: check only (same as options.dry_run)")


class StartIn(In):
    commit: bool = True
    mapping: dict[Text(40), Text(255)] | None = None
    options: ImportOptions | None = None


class JobOut(Schema):
    id: int
    kind: str
    status: str
    status_label: str
    phase: str
    filename: str
    created_at: datetime
    finished_at: datetime | None
    rows_total: int | None
    rows_done: int
    percent: int
    rows_valid: int
    rows_invalid: int
    created: int
    updated: int
    unchanged: int
    partial: bool
    dry_run: bool
    mapping: dict[str, str]
    headers: list[str]
    options: dict[str, Any]
    problems: dict[str, int] = Field(description="field:reason → number of rows")
    message: str
    seconds: float
    report_url: str

    @staticmethod
    def resolve_status_label(obj: ImportJob) -> str:
        return str(obj.get_status_display())

    @staticmethod
    def resolve_percent(obj: ImportJob) -> int:
        return obj.percent

    @staticmethod
    def resolve_partial(obj: ImportJob) -> bool:
        return obj.partial

    @staticmethod
    def resolve_dry_run(obj: ImportJob) -> bool:
        return obj.dry_run

    @staticmethod
    def resolve_headers(obj: ImportJob) -> list[str]:
        return list(obj.file_info.get("headers", []))

    @staticmethod
    def resolve_options(obj: ImportJob) -> dict[str, Any]:
        return {k: v for k, v in obj.options.items() if k != "preset"}

    @staticmethod
    def resolve_problems(obj: ImportJob) -> dict[str, int]:
        return obj.summary or {}

    @staticmethod
    def resolve_report_url(obj: ImportJob) -> str:
        return f"/api/v1/imports/{obj.pk}/report"


class IssueOut(Schema):
    row: int
    column: str
    field: str
    value: str
    code: str
    reason: str

    @staticmethod
    def resolve_reason(obj) -> str:
        return describe(obj.code, obj.params)


def _payload(data: Any) -> ImportIn:
    """``data`` checked by :class:`ImportIn`; errors in the API's one shape (422)."""
    try:
        return ImportIn.model_validate(data)
    except PydanticError as exc:
        raise ValidationError(exc.errors(include_url=False, include_context=False)) from exc


def _form_fields(fields, *, filename: str | None = None) -> dict[str, Any]:
    """Flat form or query fields (a multipart upload, a streamed CSV) as :class:`ImportIn`.

    ``notation``, ``date_order``, ``partial`` and ``dry_run`` are the options; ``mapping``
    is a JSON object. Unknown fields are refused like unknown JSON keys."""
    data: dict[str, Any] = {}
    options: dict[str, Any] = {}
    for key in fields:
        value = fields.get(key)
        if key in OPTION_FIELDS:
            options[key] = value
        elif key == "mapping":
            try:
                data[key] = json.loads(value)
            except ValueError as exc:
                raise InvalidInput({"mapping": [_("Send the mapping as a JSON object.")]}) from exc
        else:
            data[key] = value
    if options:
        data["options"] = options
    if filename and "filename" not in data:
        data["filename"] = Path(filename).name[:255]
    return data


OPTION_FIELDS = set(ImportOptions.model_fields)
CSV_TYPES = {"text/csv", "text/plain", "application/octet-stream"}


@router.post(
    "/imports",
    response={202: JobOut, 413: Problem, **ERRORS},
    summary="Start an import job (JSON, a multipart upload or a streamed CSV body)",
    description=(
        "Three ways to send the file, each up to `IMPORT_UPLOAD_MAX_MB` (default 50 MB; "
        "larger is a 413 problem): **JSON** as below (`text` or `content_base64`, at most "
        "20 MB inline); "
        "**multipart/form-data** with the file in the field `file` and the other fields "
        "(`kind`, `mapping` as a JSON object, `notation`, `partial`, …) as form fields; or "
        "the **CSV itself as the body** (`Content-Type: text/csv`) with those fields in "
        "the query string, e.g. `POST /api/v1/imports?kind=orders`."
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ImportIn"}}},
        }
    },
)
def start_import(request: HttpRequest):
    require_can_change(request.user)
    limit = import_limit()
    content_type = request.content_type or ""
    if content_type == "multipart/form-data":
        try:
            upload = request.FILES.get("file")
        except MultiPartParserError as exc:
            raise HttpError(400, "malformed body") from exc
        if upload is None:
            raise InvalidInput({"file": [_("Send the file in the form field “file”.")]})
        if upload.size > limit:
            raise too_large(limit)
        fields = request.POST.copy()
        fields.pop("csrfmiddlewaretoken", None)
        payload = _payload(_form_fields(fields, filename=upload.name))
        source: Any = upload
    elif content_type in CSV_TYPES:
        payload = _payload(_form_fields(request.GET))
        source = LimitedBody(request, limit)
    else:
        body = LimitedBody(request, limit).read_all()
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise HttpError(400, "malformed body") from exc
        payload = _payload(data)
        if (payload.text is None) == (payload.content_base64 is None):
            raise InvalidInput(
                {"text": [_("Send the file as text or as content_base64 (one of them).")]}
            )
        if payload.text is not None:
            source = payload.text.encode("utf-8")
        else:
            try:
                source = base64.b64decode(payload.content_base64 or "", validate=True)
            except (binascii.Error, ValueError) as exc:
                raise InvalidInput({"content_base64": [_("This is not base64.")]}) from exc
    if content_type != "application/json" and (payload.text or payload.content_base64):
        raise InvalidInput({"text": [_("Send the file once: as the body or upload, not as text.")]})
    options = payload.options.model_dump(exclude_none=True)
    if payload.account_id is not None:
        options["account_id"] = payload.account_id
    if not payload.commit:
        options["dry_run"] = True
    job = services.import_job_create(
        actor=request.user,
        kind=payload.kind,
        source=source,
        filename=payload.filename,
        mapping=payload.mapping,
        preset=payload.preset,
        options=options,
    )
    job = services.import_job_start(actor=request.user, job=job, commit=not job.dry_run)
    return Status(202, job)


@router.get("/imports", response={200: list[JobOut], **READ_ERRORS}, summary="Import jobs")
@paginate(Pagination)
def list_imports(request: HttpRequest):
    return selectors.job_list(actor=request.user)


@router.get(
    "/imports/{job_id}", response={200: JobOut, **READ_ERRORS}, summary="An import job's status"
)
def get_import(request: HttpRequest, job_id: Id):
    return selectors.job_get(actor=request.user, pk=job_id)


@router.get(
    "/imports/{job_id}/report",
    response={200: list[IssueOut], **READ_ERRORS},
    summary="An import job's report: row, column, value and reason",
)
@paginate(Pagination)
def import_report(request: HttpRequest, job_id: Id):
    job = selectors.job_get(actor=request.user, pk=job_id)
    return selectors.job_issues(job)


@router.post(
    "/imports/{job_id}/start",
    response={202: JobOut, **ERRORS},
    summary="Run a job again (after changing its mapping or options)",
)
def restart_import(request: HttpRequest, job_id: Id, payload: StartIn):
    require_can_change(request.user)
    job = selectors.job_get(actor=request.user, pk=job_id)
    if payload.mapping is not None or payload.options is not None:
        job = services.import_job_configure(
            actor=request.user,
            job=job,
            mapping=payload.mapping,
            options=payload.options.model_dump(exclude_none=True) if payload.options else None,
        )
    job = services.import_job_start(actor=request.user, job=job, commit=payload.commit)
    return Status(202, job)


class LookAlikeOut(Schema):
    id: int
    name: str
    city: str
    kvk_number: str
    reason: str
    reason_label: str


class PairOut(Schema):
    a: LookAlikeOut
    b: LookAlikeOut


class PairsOut(Schema):
    items: list[PairOut]
    truncated: bool


def _look(account, reason: str) -> dict:
    return {
        "id": account.pk,
        "name": account.name,
        "city": account.city,
        "kvk_number": account.kvk_number,
        "reason": reason,
        "reason_label": reason_label(reason),
    }


@router.get(
    "/account-duplicates",
    response={200: PairsOut, **READ_ERRORS},
    summary="Accounts that look alike (same KvK number, or nearly the same name and city)",
)
def list_duplicates(request: HttpRequest, limit: int = 200):
    limit = max(1, min(limit, 1000))
    pairs, truncated = duplicate_pairs(actor=request.user, limit=limit)
    ids = {p.a for p in pairs} | {p.b for p in pairs}
    accounts = {a.pk: a for a in relations.Account.objects.filter(pk__in=ids)}
    items = [
        {"a": _look(accounts[p.a], p.reason), "b": _look(accounts[p.b], p.reason)}
        for p in pairs
        if p.a in accounts and p.b in accounts
    ]
    return {"items": items, "truncated": truncated}


@router.get(
    "/accounts/{account_id}/duplicates",
    response={200: list[LookAlikeOut], **READ_ERRORS},
    summary="Accounts that look like this one",
)
def account_duplicates(request: HttpRequest, account_id: Id):
    account = relations.account_get(actor=request.user, pk=account_id)
    return [_look(a, reason) for a, reason in similar_to(actor=request.user, account=account)]


class MergeIn(In):
    version: Version = Field(description="The version of this account (the one kept)")
    other_id: Id = Field(description="The account merged into this one and then deleted")
    other_version: Version


@router.post(
    "/accounts/{account_id}/merge",
    response={200: AccountOut, **ERRORS},
    summary="Merge another account into this one (contacts, orders, costs, … move here)",
)
def merge_accounts(request: HttpRequest, account_id: Id, payload: MergeIn):
    require_can_change(request.user)
    keep = relations.account_get(actor=request.user, pk=account_id)
    other = relations.Account.objects.visible_to(request.user).filter(pk=payload.other_id).first()
    if other is None:
        raise InvalidInput({"other_id": [_("Unknown account.")]})
    return account_merge(
        actor=request.user,
        keep=keep,
        keep_version=payload.version,
        other=other,
        other_version=payload.other_version,
    )
