"""A contact's privacy page: consent per purpose (grant or withdraw in one click), the
data export (JSON and a readable page/PDF), and erasure."""

from __future__ import annotations

from django.apps import apps
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from relatiebeheer.common.errors import PermissionRefused
from relatiebeheer.relations import selectors
from relatiebeheer.relations.models import ConsentPurpose, ConsentRecord
from relatiebeheer.relations.rules import require_account_writable
from relatiebeheer.relations.services import consent_record
from relatiebeheer.users.access import can_change_data, can_manage_portfolios

from . import selectors as privacy_selectors
from . import services


def _contact(request, pk):
    contact = selectors.contact_get(actor=request.user, pk=pk)
    return contact


@login_required
def contact_privacy(request, pk: int):
    contact = _contact(request, pk)
    history = list(
        ConsentRecord.objects.filter(contact=contact)
        .select_related("recorded_by")
        .order_by("-recorded_at", "-id")
    )
    state = selectors.consent_state([contact.pk])[contact.pk]
    purposes = [
        {"key": key, "label": label, "granted": state.get(key)}
        for key, label in ConsentPurpose.choices
    ]
    return render(
        request,
        "privacy/contact.html",
        {
            "contact": contact,
            "purposes": purposes,
            "history": history,
            "can_edit": can_change_data(request.user),
            "can_erase": can_manage_portfolios(request.user) and contact.erased_at is None,
        },
    )


@login_required
@require_POST
def consent_change(request, pk: int):
    contact = _contact(request, pk)
    require_account_writable(request.user, contact.account)
    purpose = request.POST.get("purpose", "")
    granted = request.POST.get("granted") == "1"
    consent_record(
        actor=request.user, contact=contact, purpose=purpose, granted=granted, source="web_form"
    )
    messages.success(request, _("Consent recorded.") if granted else _("Consent withdrawn."))
    return redirect("privacy:contact", pk=contact.pk)


@login_required
def contact_export(request, pk: int, fmt: str):
    contact = _contact(request, pk)
    name = f"{_('personal-data')}-{contact.pk}"
    if fmt == "json":
        response = HttpResponse(
            privacy_selectors.contact_export_json(actor=request.user, contact=contact),
            content_type="application/json",
        )
        response["Content-Disposition"] = f'attachment; filename="{name}.json"'
        return response
    data = privacy_selectors.contact_export(actor=request.user, contact=contact)
    context = {"contact": contact, "data": data, "rows": _readable(data)}
    if fmt == "pdf":
        from relatiebeheer.reports.pdf import render_pdf

        response = HttpResponse(
            render_pdf("privacy/export_pdf.html", context), content_type="application/pdf"
        )
        response["Content-Disposition"] = f'attachment; filename="{name}.pdf"'
        return response
    return render(request, "privacy/export.html", context)


def _readable(data: dict) -> list[dict]:
    sections = [{"title": _("Contact"), "rows": [data["contact"]]}]
    for key, rows in data["related"].items():
        if rows:
            sections.append({"title": key, "rows": rows})
    # Every registered row that concerns the person: survey answers, tasks and
    # follow-ups that name them, mails sent to them (privacy/registry.py).
    for label, rows in data.get("personal_data", {}).items():
        model = apps.get_model(label)
        title = f"{capfirst(model._meta.verbose_name_plural)} ({label})"
        sections.append({"title": title, "rows": rows})
    return sections


@login_required
@require_POST
def contact_erase(request, pk: int):
    contact = _contact(request, pk)
    if not can_manage_portfolios(request.user):
        raise PermissionRefused(
            _("Only a sales manager or an administrator can erase personal data.")
        )
    if request.POST.get("confirm") != "erase":
        messages.error(request, _("Tick the confirmation to erase this person's data."))
        return redirect("privacy:contact", pk=contact.pk)
    services.contact_erase(actor=request.user, contact=contact)
    messages.success(
        request, _("The personal data were erased; orders and amounts stay with the account.")
    )
    return redirect("web:account", pk=contact.account_id)
