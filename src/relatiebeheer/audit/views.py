"""The audit log page (administrators and sales managers) and its CSV export."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from relatiebeheer.common.errors import InvalidInput

from . import selectors
from .services import audit_log


class AuditFilterForm(forms.Form):
    user = forms.CharField(label=gettext_lazy("User"), required=False, max_length=150)
    account = forms.IntegerField(
        label=gettext_lazy("Account id"), required=False, min_value=1, max_value=2**53
    )
    action = forms.CharField(label=gettext_lazy("Action"), required=False, max_length=60)
    date_from = forms.DateField(label=gettext_lazy("From"), required=False)
    date_to = forms.DateField(label=gettext_lazy("Up to and including"), required=False)


def _filters(request) -> tuple[AuditFilterForm, selectors.AuditFilters | None]:
    form = AuditFilterForm(request.GET)
    if not form.is_valid():
        return form, None
    data = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
    return form, selectors.AuditFilters(**data)


def _entries(request, form, filters):
    """The entries, or None with the selector's errors put on the form."""
    if filters is None:
        return None
    try:
        return selectors.audit_entry_list(actor=request.user, filters=filters)
    except InvalidInput as exc:
        for field, messages in exc.errors.items():
            for message in messages:
                form.add_error(field if field in form.fields else None, str(message))
        return None


@login_required
@require_GET
def entry_list(request):
    selectors.audit_require_reader(actor=request.user)
    form, filters = _filters(request)
    entries = _entries(request, form, filters)
    page = Paginator(entries, 50).get_page(request.GET.get("page")) if entries is not None else None
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request, "audit/entries.html", {"form": form, "page": page, "query": query.urlencode()}
    )


@login_required
@require_GET
def entry_export(request):
    from relatiebeheer.exports import export_response

    selectors.audit_require_reader(actor=request.user)
    form, filters = _filters(request)
    entries = _entries(request, form, filters)
    if entries is None or filters is None:
        return render(request, "audit/entries.html", {"form": form, "page": None}, status=422)
    audit_log(actor=request.user, action="export.audit", extra={"filters": filters.as_dict()})
    return export_response(
        selectors.audit_columns(),
        entries.iterator(chunk_size=2000),
        fmt="csv",
        lang=(get_language() or "nl")[:2],
        filename=_("audit-log"),
    )
