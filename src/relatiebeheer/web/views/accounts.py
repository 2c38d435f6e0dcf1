"""Account list (search, filters, saved selections, export) and the account 360° page."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import IntegrityError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from relatiebeheer.audit.services import audit_log
from relatiebeheer.common.counting import COUNT_CAP, capped_count
from relatiebeheer.common.errors import InvalidInput, VersionConflict
from relatiebeheer.relations import rules, selectors, services
from relatiebeheer.relations import selections as saved_selections
from relatiebeheer.relations.exports import account_columns
from relatiebeheer.relations.models import Account, BuyingGroup, SavedSelection
from relatiebeheer.users.access import can_change_data, sees_all_accounts
from relatiebeheer.web.forms import (
    AccountForm,
    InteractionForm,
    SelectionForm,
    TaskForm,
    manager_choices,
)
from relatiebeheer.web.panels import panels

from .common import add_service_errors, conflict_message, conflict_rows

PAGE_SIZE = 25


class CappedPaginator(Paginator):
    """Counts at most 10 000 rows: an exact count of a large search costs a full scan."""

    @cached_property
    def count(self) -> int:
        return min(capped_count(self.object_list), COUNT_CAP + 1)

    @property
    def capped(self) -> bool:
        return self.count > COUNT_CAP


def _filters(request) -> selectors.AccountFilters:
    return selectors.AccountFilters.from_mapping(request.GET)


@login_required
def account_list(request):
    filters = _filters(request)
    qs = selectors.account_list(actor=request.user, filters=filters)
    page = CappedPaginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "filters": filters,
        "managers": manager_choices() if sees_all_accounts(request.user) else [],
        "statuses": Account.Status.choices,
        "industries": Account.objects.visible_to(request.user)
        .exclude(industry="")
        .order_by("industry")
        .values_list("industry", flat=True)
        .distinct()[:100],
        "buying_groups": BuyingGroup.objects.order_by("name")[:200],
        "selections": SavedSelection.objects.filter(owner=request.user),
        "selection_form": SelectionForm(),
        "can_edit": can_change_data(request.user),
        "orderings": selectors.ACCOUNT_ORDERINGS,
    }
    template = (
        "web/accounts/_table.html"
        if request.htmx and request.htmx.target == "account-table"
        else "web/accounts/list.html"
    )
    return render(request, template, context)


@login_required
def account_export(request, fmt: str):
    from relatiebeheer.exports import ExportTooLarge, export_response

    if fmt not in {"csv", "xlsx"}:
        raise Http404
    filters = _filters(request)
    rows = selectors.account_list(actor=request.user, filters=filters).iterator(chunk_size=2000)
    audit_log(
        actor=request.user,
        action="export.accounts",
        extra={"format": fmt, "filters": filters.as_dict()},
    )
    try:
        return export_response(
            account_columns(), rows, fmt=fmt, lang=get_language()[:2], filename=_("accounts")
        )
    except ExportTooLarge as exc:
        messages.error(request, str(exc))
        return redirect("web:accounts")


@login_required
@require_POST
def selection_save(request):
    form = SelectionForm(request.POST)
    filters = selectors.AccountFilters.from_mapping(request.POST)
    if form.is_valid():
        try:
            saved_selections.selection_save(
                actor=request.user, name=form.cleaned_data["name"], filters=filters.as_dict()
            )
            messages.success(request, _("Selection saved."))
        except IntegrityError:  # saved under the same name at the same moment
            messages.error(request, _("That name is taken."))
    else:
        messages.error(request, _("Give the selection a name."))
    return redirect(f"{reverse('web:accounts')}?{urlencode(filters.as_dict())}")


@login_required
@require_POST
def selection_delete(request, pk: int):
    saved_selections.selection_delete(
        actor=request.user, selection_id=pk
    )  # someone else's: "not found"
    messages.success(request, _("Selection deleted."))
    return redirect("web:accounts")


def _timeline(account, limit=30):
    """Contact moments, orders and credit notes of one account, newest first."""
    from relatiebeheer.sales.models import Order

    interactions = list(
        account.interactions.select_related("user")
        .prefetch_related("contacts")
        .order_by("-occurred_at", "-id")[:limit]
    )
    orders = list(Order.objects.filter(account=account).order_by("-date", "-id")[:limit])
    items = [
        {
            "kind": "interaction",
            "date": timezone.localtime(i.occurred_at).date(),
            "obj": i,
            "sort": (
                timezone.localtime(i.occurred_at).date(),
                1,
                timezone.localtime(i.occurred_at).time(),
            ),
        }
        for i in interactions
    ] + [
        {
            "kind": "credit_note" if o.credit_of_id else "order",
            "date": o.date,
            "obj": o,
            "sort": (o.date, 0, o.pk),
        }
        for o in orders
    ]
    # Same day: contact moments (by time) above that day's orders.
    items.sort(key=lambda item: (item["sort"][0], item["sort"][1]), reverse=True)
    return items[:limit]


@login_required
def account_detail(request, pk: int):
    account = selectors.account_get(actor=request.user, pk=pk)
    return render(request, "web/accounts/detail.html", detail_context(request, account))


def detail_context(request, account, *, interaction_form=None, task_form=None) -> dict:
    """Everything the 360° page shows; a fixed number of queries whatever the account holds."""
    today = timezone.localdate()
    from relatiebeheer.sales import selectors as sales

    months = sales.revenue_by_month(actor=request.user, account_ids=[account.pk], today=today)
    context = {
        "account": account,
        "branches": list(account.branches.visible_to(request.user).only("id", "name", "city")),
        "contacts": list(
            account.contacts.prefetch_related("interests").order_by("last_name", "first_name")
        ),
        "open_tasks": list(
            account.tasks.filter(done=False).select_related("assignee").order_by("due_date", "id")
        ),
        "timeline": _timeline(account),
        "revenue_12m": selectors.revenue_last_12_months([account.pk], today=today)[account.pk],
        "chart": {
            "labels": [m.isoformat() for m, _t in months],
            "values": [str(t) for _m, t in months],
        },
        "can_edit": can_change_data(request.user),
        "interaction_form": interaction_form or InteractionForm(account=account),
        "task_form": task_form or TaskForm(account=account),
        "today": today,
    }
    context["main_panels"] = [(p, p.load(request, account)) for p in panels("main")]
    context["side_panels"] = [(p, p.load(request, account)) for p in panels("side")]
    return context


@login_required
def account_create(request):
    rules.require_can_change(request.user)
    form = AccountForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.changes()
        if not data.get("manager") and not sees_all_accounts(request.user):
            data.pop("manager", None)
        try:
            account = services.account_create(actor=request.user, data=data)
        except InvalidInput as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Account created."))
            return redirect("web:account", pk=account.pk)
    return render(request, "web/accounts/form.html", {"form": form, "account": None})


@login_required
def account_edit(request, pk: int):
    account = selectors.account_get(actor=request.user, pk=pk)
    rules.require_account_writable(request.user, account)
    form = AccountForm(
        request.POST or None, instance=Account.objects.get(pk=account.pk), actor=request.user
    )
    theirs = None
    if request.method == "POST" and form.is_valid():
        try:
            services.account_update(
                actor=request.user,
                account=account,
                version=form.cleaned_data.get("version") or 0,
                data=form.changes(),
            )
        except InvalidInput as exc:
            add_service_errors(form, exc)
        except VersionConflict as exc:
            conflict_message(request, exc)
            theirs = conflict_rows(form, exc.current)
            # Re-show the user's input, now based on the version that is saved.
            form = AccountForm(request.POST.copy(), instance=exc.current, actor=request.user)
            form.data["version"] = exc.current.version
            form.is_valid()
        else:
            messages.success(request, _("Changes saved."))
            return redirect("web:account", pk=account.pk)
    return render(
        request, "web/accounts/form.html", {"form": form, "account": account, "theirs": theirs}
    )
