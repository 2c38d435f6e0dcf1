"""The satisfaction panel on the account page and the follow-ups card on the dashboard."""

from relatiebeheer.users.access import can_change_data, sees_all_accounts

from .models import Survey
from .selectors import account_panel, followup_list


def satisfaction_panel(request, account) -> dict:
    context = account_panel(account)
    context["can_invite"] = can_change_data(request.user)
    if context["can_invite"]:
        context["surveys"] = list(Survey.objects.filter(active=True).order_by("name")[:50])
    return context


def followups_card(request) -> dict:
    """Open follow-ups: the user's own (everyone's for managers and readers)."""
    qs = followup_list(actor=request.user)
    if not sees_all_accounts(request.user):
        qs = qs.filter(assignee=request.user)
    return {"followups": list(qs[:6]), "count": qs.count()}
