"""The binding matrix of an account: activities per level over the last 12 months, the
gaps ("no social binding for 9 months") and suggestions that use the contacts' interests,
the events coming up, the incentive ideas, the wishes not met yet and the programme.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from relatiebeheer.core.loyalty_rules import add_months
from relatiebeheer.core.money import format_money
from relatiebeheer.loyalty.drivers.models import LoyaltySettings
from relatiebeheer.loyalty.programme.models import TierStatus
from relatiebeheer.relations.models import Account

from .models import BindingActivity, Event, IncentiveIdea, Level, Wish


def months_between(earlier: date, later: date) -> int:
    """Whole calendar months from ``earlier`` to ``later`` (31 Jan → 30 Apr is 2)."""
    months = (later.year - earlier.year) * 12 + later.month - earlier.month
    if later.day < earlier.day:
        months -= 1
    return max(months, 0)


def month_starts(today: date, count: int = 12) -> list[date]:
    first = date(today.year, today.month, 1)
    return [add_months(first, -i) for i in range(count - 1, -1, -1)]


LEVEL_LABELS = dict(Level.choices)


@dataclass
class Gap:
    level: str
    label: str
    last_done: date | None
    months: int | None  # months without a done activity (None: never)
    message: str


@dataclass
class Suggestion:
    level: str
    text: str
    contact_id: int | None = None
    event_id: int | None = None
    kind: str = ""

    @property
    def label(self) -> str:
        return str(LEVEL_LABELS[self.level])


@dataclass
class Matrix:
    months: list[date]
    rows: list[dict]  # per level: label, cells (count per month), total, last_done, planned
    gaps: list[Gap] = field(default_factory=list)
    suggestions: list[Suggestion] = field(default_factory=list)


def _gap_message(level: str, months: int | None) -> str:
    if months is None:
        return {
            Level.FINANCIAL: _("No financial binding yet."),
            Level.SOCIAL: _("No social binding yet."),
            Level.STRUCTURAL: _("No structural binding yet."),
        }[level]
    return {
        Level.FINANCIAL: _("No financial binding for %(months)s months."),
        Level.SOCIAL: _("No social binding for %(months)s months."),
        Level.STRUCTURAL: _("No structural binding for %(months)s months."),
    }[level] % {"months": months}


def binding_matrix(
    account: Account, *, today: date | None = None, with_suggestions: bool = True
) -> Matrix:
    """Activities per level and month (done), planned ones, gaps and suggestions.

    A fixed number of queries, whatever the account holds.
    """
    today = today or timezone.localdate()
    settings = LoyaltySettings.load()
    months = month_starts(today)
    start = months[0]
    activities = list(
        BindingActivity.objects.filter(account=account)
        .filter(
            Q(status=BindingActivity.Status.DONE, done_on__gte=start, done_on__lte=today)
            | Q(status=BindingActivity.Status.PLANNED, planned_on__gte=today - timedelta(days=30))
        )
        .select_related("contact", "interest")
        .order_by("done_on", "planned_on", "id")
    )
    last_done = dict(
        BindingActivity.objects.filter(
            account=account, status=BindingActivity.Status.DONE, done_on__lte=today
        )
        .values("level")
        .annotate(last=Max("done_on"))
        .values_list("level", "last")
    )
    rows = []
    index = {m: i for i, m in enumerate(months)}
    gaps = []
    for level, label in Level.choices:
        cells: list[list[BindingActivity]] = [[] for _m in months]
        planned = []
        for activity in activities:
            if activity.level != level:
                continue
            if activity.status == BindingActivity.Status.DONE:
                cells[index[date(activity.done_on.year, activity.done_on.month, 1)]].append(
                    activity
                )
            else:
                planned.append(activity)
        last = last_done.get(level)
        gap_months = None if last is None else months_between(last, today)
        rows.append(
            {
                "level": level,
                "label": label,
                "cells": cells,
                "counts": [len(c) for c in cells],
                "total": sum(len(c) for c in cells),
                "last_done": last,
                "planned": planned,
            }
        )
        if last is None or gap_months >= settings.gap_months:
            gaps.append(Gap(level, label, last, gap_months, _gap_message(level, gap_months)))
    matrix = Matrix(months=months, rows=rows, gaps=gaps)
    if with_suggestions:
        matrix.suggestions = suggestions(account, gaps, today=today)
    return matrix


def suggestions(account: Account, gaps: list[Gap], *, today: date) -> list[Suggestion]:
    """What to do about each gap, using the contacts' interests, the events coming up,
    the incentive ideas, the wishes not yet met and the programme status."""
    result: list[Suggestion] = []
    levels = {gap.level for gap in gaps}
    if Level.SOCIAL in levels:
        contacts = list(account.contacts.prefetch_related("interests").order_by("last_name", "id"))
        interests = {c.pk: {i.pk: i.name for i in c.interests.all()} for c in contacts}
        wanted = {pk for names in interests.values() for pk in names}
        events = list(
            Event.objects.filter(starts_at__date__gte=today, interest_id__in=wanted)
            .order_by("starts_at")
            .select_related("interest")[:20]
        )
        ideas = list(
            IncentiveIdea.objects.filter(active=True, interest_id__in=wanted).select_related(
                "interest"
            )[:50]
        )
        for contact in contacts:
            mine = interests[contact.pk]
            for event in events:
                if event.interest_id in mine:
                    result.append(
                        Suggestion(
                            Level.SOCIAL,
                            _("Invite %(contact)s (%(interest)s) to %(event)s on %(day)s.")
                            % {
                                "contact": contact.full_name,
                                "interest": event.interest.name,
                                "event": event.name,
                                "day": timezone.localtime(event.starts_at).date().isoformat(),
                            },
                            contact_id=contact.pk,
                            event_id=event.pk,
                            kind="event",
                        )
                    )
                    break
            else:
                for idea in ideas:
                    if idea.interest_id in mine:
                        result.append(
                            Suggestion(
                                Level.SOCIAL,
                                _("Give %(contact)s an incentive that fits %(interest)s: %(idea)s.")
                                % {
                                    "contact": contact.full_name,
                                    "interest": idea.interest.name,
                                    "idea": idea.name,
                                },
                                contact_id=contact.pk,
                                kind="incentive",
                            )
                        )
                        break
                else:
                    if mine:
                        result.append(
                            Suggestion(
                                Level.SOCIAL,
                                _(
                                    "Plan personal attention for %(contact)s; "
                                    "interests: %(interests)s."
                                )
                                % {
                                    "contact": contact.full_name,
                                    "interests": ", ".join(sorted(mine.values())),
                                },
                                contact_id=contact.pk,
                                kind="attention",
                            )
                        )
        if not any(s.level == Level.SOCIAL for s in result):
            result.append(
                Suggestion(
                    Level.SOCIAL,
                    _("Visit or call the buyer for a personal conversation; note their interests."),
                    kind="attention",
                )
            )
    if Level.FINANCIAL in levels:
        status = (
            TierStatus.objects.filter(account=account)
            .select_related("tier", "programme")
            .order_by("-tier__rank")
            .first()
        )
        if status is not None and status.needed_for_next:
            result.append(
                Suggestion(
                    Level.FINANCIAL,
                    _(
                        "%(amount)s more reaches the next tier of %(programme)s: offer a bonus on the next order."
                    )
                    % {
                        "amount": format_money(status.needed_for_next),
                        "programme": status.programme.name,
                    },
                    kind="bonus",
                )
            )
        else:
            result.append(
                Suggestion(
                    Level.FINANCIAL,
                    _("Offer a discount for early ordering or better payment terms."),
                    kind="discount",
                )
            )
    if Level.STRUCTURAL in levels:
        open_wishes = list(
            Wish.objects.filter(account=account)
            .exclude(status=Wish.Status.MET)
            .order_by("status", "id")[:3]
        )
        for wish in open_wishes:
            result.append(
                Suggestion(
                    Level.STRUCTURAL,
                    _("Meet the wish: %(wish)s") % {"wish": wish.wish},
                    kind="wish",
                )
            )
        if not open_wishes:
            result.append(
                Suggestion(
                    Level.STRUCTURAL,
                    _(
                        "Ask how the account wants to order and be delivered; offer "
                        "tailor-made delivery, an EDI link or reserved stock."
                    ),
                    kind="delivery",
                )
            )
    return result
