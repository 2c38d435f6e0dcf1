"""Contacts, contact moments and tasks on an account."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from relatiebeheer.common.errors import InvalidInput, VersionConflict
from relatiebeheer.relations import rules, selectors, services
from relatiebeheer.relations.models import Contact
from relatiebeheer.web.forms import ContactForm, InteractionForm, TaskDoneForm, TaskForm

from .accounts import detail_context
from .common import add_service_errors, conflict_message, conflict_rows


@login_required
def contact_create(request, account_pk: int):
    account = selectors.account_get(actor=request.user, pk=account_pk)
    rules.require_account_writable(request.user, account)
    form = ContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.contact_create(
                actor=request.user,
                account=account,
                data=form.changes(),
                interests=form.interest_names(),
            )
        except InvalidInput as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Contact added."))
            return redirect("web:account", pk=account.pk)
    return render(
        request, "web/contacts/form.html", {"form": form, "account": account, "contact": None}
    )


@login_required
def contact_edit(request, pk: int):
    contact = selectors.contact_get(actor=request.user, pk=pk)
    rules.require_account_writable(request.user, contact.account)
    form = ContactForm(request.POST or None, instance=Contact.objects.get(pk=contact.pk))
    theirs = None
    if request.method == "POST" and form.is_valid():
        try:
            services.contact_update(
                actor=request.user,
                contact=contact,
                version=form.cleaned_data.get("version") or 0,
                data=form.changes(),
                interests=form.interest_names(),
            )
        except InvalidInput as exc:
            add_service_errors(form, exc)
        except VersionConflict as exc:
            conflict_message(request, exc)
            theirs = conflict_rows(form, exc.current)
            form = ContactForm(request.POST.copy(), instance=exc.current)
            form.data["version"] = exc.current.version
            form.is_valid()
        else:
            messages.success(request, _("Changes saved."))
            return redirect("web:account", pk=contact.account_id)
    return render(
        request,
        "web/contacts/form.html",
        {"form": form, "account": contact.account, "contact": contact, "theirs": theirs},
    )


@login_required
@require_POST
def interaction_create(request, account_pk: int):
    """Log a contact moment; with htmx only the panel is re-rendered."""
    account = selectors.account_get(actor=request.user, pk=account_pk)
    rules.require_account_writable(request.user, account)
    form = InteractionForm(request.POST, account=account)
    if form.is_valid():
        try:
            services.interaction_log(
                actor=request.user,
                account=account,
                data=form.data_for_service(),
                contacts=form.cleaned_data["contacts"],
            )
        except InvalidInput as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Contact moment logged."))
            return redirect("web:account", pk=account.pk)
    messages.error(request, _("The contact moment was not logged: check the fields."))
    context = detail_context(request, account, interaction_form=form)
    return render(request, "web/accounts/detail.html", context, status=422)


@login_required
@require_POST
def task_create(request, account_pk: int):
    account = selectors.account_get(actor=request.user, pk=account_pk)
    rules.require_account_writable(request.user, account)
    form = TaskForm(request.POST, account=account)
    if form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "assignee" or v is not None}
        try:
            services.task_create(actor=request.user, account=account, data=data)
        except InvalidInput as exc:
            for messages_ in exc.errors.values():
                for message in messages_:
                    messages.error(request, message)
        else:
            messages.success(request, _("Task added."))
    else:
        messages.error(request, _("The task was not added: give it a title."))
    return redirect("web:account", pk=account.pk)


@login_required
@require_POST
def task_done(request, pk: int):
    task = selectors.task_get(actor=request.user, pk=pk)
    rules.require_account_writable(request.user, task.account)
    form = TaskDoneForm(request.POST)
    if form.is_valid():
        try:
            services.task_update(
                actor=request.user,
                task=task,
                version=form.cleaned_data["version"],
                data={"done": form.cleaned_data["done"]},
            )
            messages.success(
                request, _("Task completed.") if form.cleaned_data["done"] else _("Task reopened.")
            )
        except VersionConflict:
            messages.error(
                request, _("Someone else changed this task in the meantime; look again.")
            )
    next_url = request.POST.get("next") or ""
    if next_url.startswith("/") and not next_url.startswith("//"):
        return redirect(next_url)
    return redirect("web:account", pk=task.account_id)
