"""Writes to loyalty campaigns: the draft, its changes, and the launch.

Every public function is a declared writer. A campaign and its members are the
organisation's campaign data, not an account's: no figure of an account is computed from
them (the campaign's effect is computed from the orders whenever its result is read), so
they declare ``accounts=False``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from relatiebeheer.audit.services import audit_log
from relatiebeheer.common import writers
from relatiebeheer.common.errors import InvalidInput
from relatiebeheer.common.services import apply_changes, full_clean_or_raise, versioned_update
from relatiebeheer.common.writers import writer
from relatiebeheer.core import campaign_stats as stats
from relatiebeheer.relations.models import ConsentPurpose, Contact
from relatiebeheer.relations.rules import require_account_writable, require_can_change
from relatiebeheer.relations.selectors import contacts_with_consent
from relatiebeheer.users.models import User

from .models import Campaign, CampaignMember
from .rules import check, normalise, require_editable
from .selectors import target_accounts

CAMPAIGN_FIELDS = (
    "name",
    "goal",
    "goal_metric",
    "goal_lift",
    "starts_on",
    "ends_on",
    "selection",
    "segments",
    "tier",
    "value_field",
    "value_min",
    "value_max",
    "account",
    "incentive",
    "incentive_rate",
    "gift",
    "gift_value",
    "programme",
    "benefits",
    "budget",
    "fixed_cost",
    "control_fraction",
    "mail_subject",
    "mail_text",
)
NAME_PLACEHOLDER = "{name}"  # in the mail text: the contact's name


@writer(accounts=False)
def campaign_create(*, actor: User, data: Mapping[str, Any]) -> Campaign:
    """Create a draft campaign (nothing is sent or fixed until it is launched)."""
    require_can_change(actor)
    data = normalise(data)
    account = data.get("account")
    if account is not None:
        require_account_writable(actor, account)
    campaign = Campaign(created_by=actor if actor.is_authenticated else None)
    changed = apply_changes(campaign, data, CAMPAIGN_FIELDS)
    full_clean_or_raise(campaign, exclude=["created_by"])
    check(campaign)
    with transaction.atomic():
        campaign.save()
        audit_log(actor=actor, action="campaign.create", obj=campaign, fields=changed)
    return campaign


@writer(accounts=False, version="version")
def campaign_update(
    *, actor: User, campaign: Campaign, version: int, data: Mapping[str, Any]
) -> Campaign:
    """Change a draft (a launched campaign keeps its selection and its design)."""
    require_editable(actor, campaign)
    if campaign.status != Campaign.Status.DRAFT:
        raise InvalidInput({"__all__": [_("A launched campaign cannot be changed.")]})
    data = normalise(data)
    if data.get("account") is not None and data["account"] != campaign.account:
        require_account_writable(actor, data["account"])
    changed = apply_changes(campaign, data, CAMPAIGN_FIELDS)
    full_clean_or_raise(campaign, exclude=["created_by"])
    check(campaign)
    with transaction.atomic():
        versioned_update(campaign, expected_version=version, fields=changed)
        audit_log(actor=actor, action="campaign.update", obj=campaign, fields=changed)
    return campaign


@writer(accounts=False, version="version", locks=("loyalty.campaign",))
def campaign_launch(*, actor: User, campaign: Campaign, version: int) -> Campaign:
    """Fix the selection, hold out the control group, mail the target group.

    A selection of several accounts needs at least two in each group, else the effect
    cannot be measured. The campaign's row is locked and its status read again before
    the members are stored, so it is launched once.
    """
    require_editable(actor, campaign)
    if campaign.status != Campaign.Status.DRAFT:
        raise InvalidInput({"__all__": [_("This campaign was launched already.")]})
    check(campaign)
    if not campaign.benefits.strip():
        raise InvalidInput({"benefits": [_("Describe the benefits for the customer.")]})
    ids = list(target_accounts(actor=actor, campaign=campaign).values_list("pk", flat=True))
    if not ids:
        raise InvalidInput({"selection": [_("The selection holds no accounts.")]})
    target: list[int] = ids
    control: list[int] = []
    if not campaign.single_account:
        held_in, held_out = stats.split_control_group(
            sorted(ids), campaign.control_fraction, seed=f"campaign:{campaign.pk}"
        )
        # The ids go in as ints and come out as they went in.
        target, control = cast(list[int], held_in), cast(list[int], held_out)
        if len(target) < 2 or len(control) < 2:
            raise InvalidInput(
                {
                    "control_fraction": [
                        _(
                            "Target and control group need at least two accounts each "
                            "(the selection holds %(n)s); choose more accounts or a "
                            "campaign for one account."
                        )
                        % {"n": len(ids)}
                    ]
                }
            )
    with transaction.atomic():
        locked = writers.lock(Campaign.objects.filter(pk=campaign.pk))
        if not locked or locked[0].status != Campaign.Status.DRAFT:
            raise InvalidInput({"__all__": [_("This campaign was launched already.")]})
        campaign.status = Campaign.Status.LAUNCHED
        campaign.launched_at = timezone.now()
        versioned_update(campaign, expected_version=version, fields=["status", "launched_at"])
        target_group, control_group = CampaignMember.Group.TARGET, CampaignMember.Group.CONTROL
        CampaignMember.objects.bulk_create(
            [CampaignMember(campaign=campaign, account_id=a, group=target_group) for a in target]
            + [
                CampaignMember(campaign=campaign, account_id=a, group=control_group)
                for a in control
            ],
            batch_size=2000,
        )
        queued = _mail_targets(actor, campaign, target)
        Campaign.objects.filter(pk=campaign.pk).update(mails_queued=queued)
        campaign.mails_queued = queued
        audit_log(
            actor=actor,
            action="campaign.launch",
            obj=campaign,
            extra={"target": len(target), "control": len(control), "mails": queued},
        )
    return campaign


def _mail_targets(actor: User, campaign: Campaign, target_ids: list[int]) -> int:
    """Queue the campaign mail for the targeted accounts' contacts who allow campaigns."""
    if not campaign.mail_subject or not campaign.mail_text:
        return 0
    from relatiebeheer.outbox.services import mail_enqueue

    queued = 0
    for start in range(0, len(target_ids), 500):
        contacts = contacts_with_consent(
            Contact.objects.filter(account_id__in=target_ids[start : start + 500]).exclude(
                email=""
            ),
            ConsentPurpose.CAMPAIGNS,
        )
        for contact in contacts.order_by("pk"):
            mail_enqueue(
                key=f"campaign:{campaign.pk}:contact:{contact.pk}",
                to=contact.email,
                subject=campaign.mail_subject,
                text=campaign.mail_text.replace(NAME_PLACEHOLDER, contact.full_name),
                language=contact.language or "nl",
                purpose=ConsentPurpose.CAMPAIGNS,
                contact=contact,
                account_id=contact.account_id,
                actor=actor,
            )
            queued += 1
    return queued
