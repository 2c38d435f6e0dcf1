"""Reads of loyalty campaigns, always starting from what the actor may see."""

from __future__ import annotations

from django.db.models import QuerySet

from relatiebeheer.common.errors import NotFound
from relatiebeheer.relations.models import Account
from relatiebeheer.users.models import User

from .models import Campaign


def campaign_list(*, actor: User) -> QuerySet[Campaign]:
    return (
        Campaign.objects.visible_to(actor).select_related("account").order_by("-starts_on", "-id")
    )


def campaign_get(*, actor: User, pk: int) -> Campaign:
    campaign = (
        Campaign.objects.visible_to(actor)
        .select_related("account", "tier", "programme")
        .filter(pk=pk)
        .first()
    )
    if campaign is None:
        raise NotFound()
    return campaign


def target_accounts(*, actor: User, campaign: Campaign) -> QuerySet[Account]:
    """The accounts the selection picks, among those ``actor`` may see (not archived):
    by RFM segment, by tier, by value between two amounts, or one account."""
    qs = Account.objects.visible_to(actor).filter(archived=False)
    if campaign.selection == Campaign.Selection.ACCOUNT:
        return qs.filter(pk=campaign.account_id)
    if campaign.selection == Campaign.Selection.SEGMENT:
        return qs.filter(metrics__segment__in=list(campaign.segments or []))
    if campaign.selection == Campaign.Selection.TIER:
        return qs.filter(tier_statuses__tier=campaign.tier).distinct()
    field_name = f"metrics__{campaign.value_field}"
    qs = qs.filter(**{f"{field_name}__isnull": False})
    if campaign.value_min is not None:
        qs = qs.filter(**{f"{field_name}__gte": campaign.value_min})
    if campaign.value_max is not None:
        qs = qs.filter(**{f"{field_name}__lte": campaign.value_max})
    return qs
