"""The outbox page (flagged mails first) and the public unsubscribe page (RFC 8058)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import translation
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


# CSRF: RFC 8058's one-click POST comes from the recipient's mail client, which has no
# session and no CSRF token, so the view is exempt. The signed link itself is the
# credential (HMAC over contact and purpose with SECRET_KEY): a cross-site request can
# only unsubscribe someone whose link the attacker already holds, and the holder of the
# link may unsubscribe anyway. A GET never changes anything, so link scanners and
# prefetchers that follow the link in a mail withdraw no consent.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    """GET shows a page in the contact's language with a button; POST (that button, or the
    mail client's one-click ``List-Unsubscribe=One-Click``) withdraws the consent."""
    parsed = read_unsubscribe_token(token)
    target = (
        selectors.unsubscribe_target(contact_id=parsed[0], purpose=parsed[1]) if parsed else None
    )
    if target is None or parsed is None:
        return _unsubscribe_page(request, {"valid": False}, 404, None)
    done = target["withdrawn"]
    if request.method == "POST":
        done = services.unsubscribe(contact_id=parsed[0], purpose=parsed[1]) or done
    context = {"valid": True, "done": done, "purpose": dict(Purpose.choices)[parsed[1]]}
    return _unsubscribe_page(request, context, 200, target["language"])


def _unsubscribe_page(request, context: dict, status: int, language: str | None):
    language = language or translation.get_language() or "nl"
    with translation.override(language):
        response = render(
            request,
            "outbox/unsubscribed.html",
            {**context, "public_language": language},
            status=status,
        )
    response["Content-Language"] = language
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"  # the link is a credential
    response["Cache-Control"] = "no-store"
    return response
