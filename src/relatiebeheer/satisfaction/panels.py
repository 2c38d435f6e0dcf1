"""The satisfaction panel on the account page, the follow-ups card on the dashboard and
the account plan's satisfaction section."""

from __future__ import annotations

from typing import Any

from relatiebeheer.users.access import can_change_data, sees_all_accounts

from .models import Survey
from .selectors import account_panel, account_satisfaction, followup_list


def satisfaction_panel(request: Any, account: Any) -> dict:
    context = account_panel(account)
    context["can_invite"] = can_change_data(request.user)
    if context["can_invite"]:
        context["surveys"] = list(Survey.objects.filter(active=True).order_by("name")[:50])
    return context


def followups_card(request: Any) -> dict:
    """Open follow-ups: the user's own (everyone's for managers and readers)."""
    qs = followup_list(actor=request.user)
    if not sees_all_accounts(request.user):
        qs = qs.filter(assignee=request.user)
    return {"followups": list(qs[:6]), "count": qs.count()}


def plan_section(account: Any, actor: Any) -> dict | None:
    """The account's satisfaction with its sources; left out without any reading."""
    satisfaction = account_satisfaction([account.pk])[account.pk]
    if not satisfaction.readings and not satisfaction.trust_readings:
        return None
    return {"satisfaction": satisfaction}
