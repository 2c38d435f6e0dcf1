"""The loyalty overview: gaps per binding level, the tier overview, falling loyalty,
events and campaigns coming up."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.db.models import Exists, OuterRef
from django.shortcuts import render
from django.utils import timezone

from relatiebeheer.relations.models import Account
from relatiebeheer.users.access import can_change_data

from .binding.models import BindingActivity, Level
from .binding.selectors import event_list
from .campaigns.selectors import campaign_list
from .drivers.models import LoyaltySettings
from .drivers.selectors import falling
from .programme.selectors import programmes, tier_overview


@login_required
def index(request):
    actor = request.user
    today = timezone.localdate()
    settings = LoyaltySettings.load()
    since = today - timedelta(days=settings.gap_months * 31)
    customers = (
        Account.objects.visible_to(actor)
        .filter(archived=False)
        .exclude(status=Account.Status.PROSPECT)
    )
    gaps = []
    for level, label in Level.choices:
        recent = BindingActivity.objects.filter(
            account=OuterRef("pk"),
            level=level,
            status=BindingActivity.Status.DONE,
            done_on__gte=since,
        )
        qs = customers.filter(~Exists(recent))
        gaps.append(
            {
                "level": level,
                "label": label,
                "count": qs.count(),
                "accounts": list(qs.order_by("name")[:5]),
            }
        )
    overviews = [
        {"programme": p, **tier_overview(actor=actor, programme=p)}
        for p in programmes().filter(active=True)
    ]
    context = {
        "overviews": overviews,
        "falling": falling(actor=actor, limit=10),
        "events": list(event_list(actor=actor, upcoming=True).order_by("starts_at")[:5]),
        "campaigns": list(campaign_list(actor=actor)[:8]),
        "gaps": gaps,
        "gap_months": settings.gap_months,
        "today": today,
        "can_edit": can_change_data(actor),
    }
    return render(request, "loyalty/index.html", context)
