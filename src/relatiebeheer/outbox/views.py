"""The outbox page (flagged mails first) and the public one-click unsubscribe page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from relatiebeheer.users.access import can_manage_portfolios

from . import selectors, services
from .models import Purpose, Status
from .rendering import read_unsubscribe_token


@login_required
def message_list(request):
    status = request.GET.get("status") or ""
    status = status if status in Status.values else ""
    purpose = request.GET.get("purpose") or ""
    purpose = purpose if purpose in Purpose.values else ""
    qs = selectors.message_list(actor=request.user, status=status or None, purpose=purpose or None)
    counts = selectors.status_counts(actor=request.user)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "flagged": list(selectors.delivery_unknown(actor=request.user)[:100]),
        "counts": [(key, label, counts[key]) for key, label in Status.choices],
        "statuses": Status.choices,
        "purposes": Purpose.choices,
        "status": status,
        "purpose": purpose,
        "can_resolve": can_manage_portfolios(request.user),
    }
    return render(request, "outbox/messages.html", context)


@login_required
@require_POST
def message_resend(request, pk: int):
    message = selectors.message_get(actor=request.user, pk=pk)
    services.message_resend(actor=request.user, message=message)
    messages.success(request, _("The mail is queued to be sent again."))
    return redirect("outbox:messages")


@login_required
@require_POST
def message_mark_sent(request, pk: int):
    message = selectors.message_get(actor=request.user, pk=pk)
    services.message_mark_sent(actor=request.user, message=message)
    messages.success(request, _("The mail is marked as sent."))
    return redirect("outbox:messages")


@csrf_exempt  # RFC 8058 one-click: the mail client POSTs without a session; the token is the key
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    """One click withdraws the consent for the mail's purpose (no login, no form)."""
    parsed = read_unsubscribe_token(token)
    done = parsed is not None and services.unsubscribe(contact_id=parsed[0], purpose=parsed[1])
    purpose_label = dict(Purpose.choices).get(parsed[1], "") if parsed else ""
    return render(
        request,
        "outbox/unsubscribed.html",
        {"done": done, "purpose": purpose_label},
        status=200 if done else 404,
    )
