"""What the loyalty pages of every room share: reading ids from a request, the plain form
page, the account's loyalty tabs and the gate of the configuration pages."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.forms import BaseForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from relatiebeheer.common.errors import PermissionRefused
from relatiebeheer.relations.models import Account
from relatiebeheer.users.access import can_change_data

from .permissions import can_configure


def int_param(value: Any) -> int | None:
    """A positive id from the request, or ``None`` (never an error page)."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**53 else None


def form_page(
    request: HttpRequest,
    *,
    title: str,
    form: BaseForm,
    back: str,
    submit: str | None = None,
    status: int = 200,
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    context = {"title": title, "form": form, "back": back, "submit": submit or _("Save")}
    context.update(extra or {})
    return render(request, "loyalty/form.html", context, status=status)


def account_context(request: HttpRequest, account: Account, tab: str) -> dict[str, Any]:
    """The context of the account's loyalty tabs (binding, drivers, programme)."""
    return {"account": account, "tab": tab, "can_edit": can_change_data(request.user)}


def config_gate(request: HttpRequest) -> HttpResponse | None:
    """Readers are refused; account managers are sent back with a message."""
    if not can_change_data(request.user):
        raise PermissionRefused(_("Your role may look but not change anything."))
    if not can_configure(request.user):
        messages.error(
            request, _("Only a sales manager or an administrator configures the loyalty programme.")
        )
        return redirect("loyalty:programmes")
    return None
