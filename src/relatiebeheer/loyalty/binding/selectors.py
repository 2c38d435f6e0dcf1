"""Reads of binding, always starting from what the actor may see; and the two sides of an
account the lesson names: the *personal* side (its contacts, their interests, the latest
rapport judgement, invitations and incentives) and the *business* side (what the orders
say about how and when the account buys; the register of wishes is :func:`wish_list`).
The binding matrix is :mod:`.matrix`."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from django.db import models
from django.db.models import Count, Max, QuerySet, Sum
from django.utils import timezone

from relatiebeheer.common.errors import NotFound
from relatiebeheer.relations.models import Account, Contact
from relatiebeheer.sales.models import Order, OrderLine
from relatiebeheer.users.models import User

from .models import BindingActivity, Event, Invitation, Level, Rapport, Wish

M = TypeVar("M", bound=models.Model)


def _get(qs: QuerySet[M], pk: int) -> M:
    obj = qs.filter(pk=pk).first()
    if obj is None:
        raise NotFound()
    return obj


def binding_list(
    *, actor: User, account_id: int | None = None, level: str | None = None
) -> QuerySet[BindingActivity]:
    qs = BindingActivity.objects.visible_to(actor).select_related("account", "contact", "interest")
    if account_id:
        qs = qs.filter(account_id=account_id)
    if level:
        qs = qs.filter(level=level)
    return qs.order_by("-id")


def binding_get(*, actor: User, pk: int) -> BindingActivity:
    return _get(BindingActivity.objects.visible_to(actor).select_related("account"), pk)


def wish_list(*, actor: User, account_id: int | None = None) -> QuerySet[Wish]:
    qs = Wish.objects.visible_to(actor)
    if account_id:
        qs = qs.filter(account_id=account_id)
    return qs.order_by("account_id", "aspect", "id")


def wish_get(*, actor: User, pk: int) -> Wish:
    return _get(Wish.objects.visible_to(actor).select_related("account"), pk)


def rapport_list(*, actor: User, contact: Contact, limit: int = 100) -> list[Rapport]:
    """The rapport judgements of a contact the actor sees, newest first."""
    return list(
        Rapport.objects.visible_to(actor)
        .filter(contact=contact)
        .order_by("-judged_on", "-id")[:limit]
    )


def event_list(*, actor: User, upcoming: bool | None = None) -> QuerySet[Event]:
    qs = Event.objects.visible_to(actor).select_related("interest", "organiser")
    if upcoming is True:
        qs = qs.filter(starts_at__gte=timezone.now() - timedelta(hours=12))
    return qs.order_by("-starts_at", "-id")


def event_get(*, actor: User, pk: int) -> Event:
    return _get(Event.objects.visible_to(actor).select_related("interest", "organiser"), pk)


def invitations_for(*, actor: User, event: Event) -> QuerySet[Invitation]:
    return (
        Invitation.objects.visible_to(actor)
        .filter(event=event)
        .select_related("contact", "account")
        .order_by("account__name", "contact__last_name", "id")
    )


def invitation_get(*, actor: User, pk: int) -> Invitation:
    return _get(
        Invitation.objects.visible_to(actor).select_related(
            "event", "contact", "account", "activity"
        ),
        pk,
    )


# --------------------------------------------------------------------------- the two sides


def personal_side(account: Account, *, today: date | None = None) -> list[dict[str, Any]]:
    """Per contact: interests, the latest rapport judgement, invitations and incentives."""
    today = today or timezone.localdate()
    contacts = list(account.contacts.prefetch_related("interests").order_by("last_name", "id"))
    ids = [c.pk for c in contacts]
    latest: dict[int, Rapport] = {}
    for rapport in Rapport.objects.filter(contact_id__in=ids).order_by(
        "contact_id", "-judged_on", "-id"
    ):
        latest.setdefault(rapport.contact_id, rapport)
    invitations: dict[int, list[Invitation]] = defaultdict(list)
    for invitation in (
        Invitation.objects.filter(contact_id__in=ids)
        .select_related("event")
        .order_by("-event__starts_at")
    ):
        invitations[invitation.contact_id].append(invitation)
    incentives: dict[int, list[BindingActivity]] = defaultdict(list)
    for activity in (
        BindingActivity.objects.filter(
            contact_id__in=ids, level=Level.SOCIAL, done_on__gte=today - timedelta(days=730)
        )
        .select_related("interest")
        .order_by("-done_on")
    ):
        if activity.contact_id is not None:
            incentives[activity.contact_id].append(activity)
    return [
        {
            "contact": contact,
            "interests": [i.name for i in contact.interests.all()],
            "rapport": latest.get(contact.pk),
            "invitations": invitations.get(contact.pk, [])[:5],
            "social": incentives.get(contact.pk, [])[:5],
        }
        for contact in contacts
    ]


def buying_behaviour(account: Account, *, today: date | None = None) -> dict[str, Any]:
    """What the orders of the last two years say: how often, how much, when, what."""
    today = today or timezone.localdate()
    start = today - timedelta(days=730)
    orders = Order.objects.filter(
        account=account, credit_of__isnull=True, date__gte=start, date__lte=today
    ).counting()
    stats = orders.aggregate(n=Count("pk"), revenue=Sum("revenue"), last=Max("date"))
    months = Counter(orders.values_list("date__month", flat=True))
    categories = list(
        OrderLine.objects.filter(order__in=orders)
        .exclude(category="")
        .values("category")
        .annotate(revenue=Sum("revenue"))
        .order_by("-revenue")[:5]
    )
    n = stats["n"] or 0
    return {
        "orders": n,
        "per_year": Decimal(n) / 2 if n else Decimal(0),
        "average": (stats["revenue"] / n) if n else None,
        "last": stats["last"],
        "busy_months": [date(2000, m, 1) for m, _c in months.most_common(3)],
        "categories": categories,
    }
