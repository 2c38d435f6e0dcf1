"""The rules of a loyalty campaign: what makes a design valid, and who may change it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _

from relatiebeheer.common.errors import InvalidInput, NotFound, PermissionRefused
from relatiebeheer.relations.rules import require_account_writable, require_can_change
from relatiebeheer.users.access import sees_all_accounts
from relatiebeheer.users.models import User
from relatiebeheer.value.labels import SEGMENT_CHOICES

from .models import Campaign

NO_ORDERS = "no_orders"  # the RFM segment of accounts without orders (value.labels)
TARGETABLE_SEGMENTS = [choice for choice in SEGMENT_CHOICES if choice[0] != NO_ORDERS]


def check(campaign: Campaign) -> None:
    errors: dict[str, list[str]] = {}
    if campaign.starts_on and campaign.ends_on and campaign.ends_on < campaign.starts_on:
        errors["ends_on"] = [_("The campaign ends after it starts.")]
    selection = campaign.selection
    if selection == Campaign.Selection.ACCOUNT and campaign.account_id is None:
        errors["account"] = [_("Choose the account.")]
    if selection == Campaign.Selection.SEGMENT:
        known = {key for key, _label in SEGMENT_CHOICES}
        segments = campaign.segments or []
        if not isinstance(segments, list) or not segments or not set(segments) <= known:
            errors["segments"] = [_("Choose one or more segments.")]
    if selection == Campaign.Selection.TIER and campaign.tier_id is None:
        errors["tier"] = [_("Choose the tier.")]
    if (
        selection == Campaign.Selection.VALUE
        and campaign.value_min is not None
        and campaign.value_max is not None
        and campaign.value_max < campaign.value_min
    ):
        errors["value_max"] = [_("The upper bound is below the lower bound.")]
    if campaign.incentive == Campaign.Incentive.POINTS_MULTIPLIER:
        if campaign.programme is None or not campaign.programme.points_enabled:
            errors["programme"] = [_("A points multiplier needs a programme with points.")]
        if campaign.incentive_rate <= 1:
            errors["incentive_rate"] = [_("A multiplier is above 1 (2 doubles the points).")]
    if campaign.incentive == Campaign.Incentive.SAVINGS_GIFT and not campaign.gift:
        errors["gift"] = [_("Describe the savings gift.")]
    if (
        campaign.tier_id
        and campaign.programme_id
        and campaign.tier.programme_id != campaign.programme_id
    ):
        errors["tier"] = [_("The tier belongs to another programme.")]
    if errors:
        raise InvalidInput(errors)


def normalise(data: Mapping[str, Any]) -> dict[str, Any]:
    data = dict(data)
    for name in ("gift", "mail_subject", "mail_text", "benefits", "goal"):
        if name in data and data[name] is None:
            data[name] = ""
    if "segments" in data and data["segments"] is None:
        data["segments"] = []
    if data.get("tier") is not None and data.get("programme") is None and "programme" not in data:
        data["programme"] = data["tier"].programme
    return data


def require_editable(actor: User, campaign: Campaign) -> None:
    require_can_change(actor)
    if not Campaign.objects.visible_to(actor).filter(pk=campaign.pk).exists():
        raise NotFound()
    if campaign.account_id is not None:
        require_account_writable(actor, campaign.account)
    elif campaign.created_by_id != actor.pk and not sees_all_accounts(actor):
        raise PermissionRefused(_("Only its maker or a sales manager changes this campaign."))
