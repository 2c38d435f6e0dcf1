"""Loyalty campaigns: select, launch with a random control group, mail, and measure.

* **Selection** (from the accounts the user may see, not archived): by RFM segment
  (``value.AccountMetrics.segment``), by tier (``TierStatus``), by value (customer value
  this year, CLV or 12-month revenue between two amounts) or one account.
* **Launch** fixes the selection: ``core.campaign_stats.split_control_group`` holds back
  the control share at random, seeded with the campaign id (the same campaign always
  splits the same way), and the members are stored. Campaign mails go through the
  outbox, only to contacts of targeted accounts whose consent allows "campaigns"; the
  control group gets nothing.
* **Effect** (``core.campaign_stats``): over the campaign period (to today while it
  runs), revenue and orders per account of the target group against the control group,
  every member counted (zero when it did not order): the difference with a Welch 95 %
  interval, the lift in percent, and the extra profit = difference × targeted accounts ×
  margin − cost, for the estimate and both ends of the interval. The margin is the mean
  of the targeted accounts' margins (the default margin where an account has none).
* **One account** (the lesson's campaign for de Bijenkorf): no control group; revenue
  per 30 days (shorter campaigns: per campaign length) during the campaign against as
  many periods of that length before it (at least three), flagged as weaker evidence;
  the extra revenue is the difference per period times the periods measured.
* **Cost** = the fixed costs plus the incentive: a bonus discount costs its rate of the
  targeted accounts' revenue in the period; a points multiplier the extra points times
  the point value; a savings gift its value per targeted account that ordered.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from relatiebeheer.audit.services import audit_log
from relatiebeheer.common.errors import InvalidInput, NotFound, PermissionRefused
from relatiebeheer.common.services import apply_changes, full_clean_or_raise, versioned_update
from relatiebeheer.core import campaign_stats as stats
from relatiebeheer.core.money import quantize_money
from relatiebeheer.organisation.models import OrganisationSettings
from relatiebeheer.relations.models import Account, Contact
from relatiebeheer.relations.selectors import contacts_with_consent
from relatiebeheer.relations.services import require_account_writable, require_can_change
from relatiebeheer.sales.models import Order
from relatiebeheer.users.access import sees_all_accounts

from .models import Campaign, CampaignMember, LedgerEntry

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
BLOCK_DAYS = 30
MIN_BEFORE_BLOCKS = 3


# --------------------------------------------------------------------------- selection


def target_accounts(*, actor, campaign: Campaign) -> QuerySet[Account]:
    """The accounts the selection picks, among those ``actor`` may see."""
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


def _check(campaign: Campaign) -> None:
    errors: dict[str, list[str]] = {}
    if campaign.starts_on and campaign.ends_on and campaign.ends_on < campaign.starts_on:
        errors["ends_on"] = [_("The campaign ends after it starts.")]
    selection = campaign.selection
    if selection == Campaign.Selection.ACCOUNT and campaign.account_id is None:
        errors["account"] = [_("Choose the account.")]
    if selection == Campaign.Selection.SEGMENT:
        from relatiebeheer.value.labels import SEGMENT_CHOICES

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


def _normalise(data: Mapping[str, Any]) -> dict[str, Any]:
    data = dict(data)
    for name in ("gift", "mail_subject", "mail_text", "benefits", "goal"):
        if name in data and data[name] is None:
            data[name] = ""
    if "segments" in data and data["segments"] is None:
        data["segments"] = []
    if data.get("tier") is not None and data.get("programme") is None and "programme" not in data:
        data["programme"] = data["tier"].programme
    return data


def _require_editable(actor, campaign: Campaign) -> None:
    require_can_change(actor)
    if not Campaign.objects.visible_to(actor).filter(pk=campaign.pk).exists():
        raise NotFound()
    if campaign.account_id is not None:
        require_account_writable(actor, campaign.account)
    elif campaign.created_by_id != actor.pk and not sees_all_accounts(actor):
        raise PermissionRefused(_("Only its maker or a sales manager changes this campaign."))


def campaign_create(*, actor, data: Mapping[str, Any]) -> Campaign:
    """Create a draft campaign (nothing is sent or fixed until it is launched)."""
    require_can_change(actor)
    data = _normalise(data)
    account = data.get("account")
    if account is not None:
        require_account_writable(actor, account)
    campaign = Campaign(created_by=actor if actor.is_authenticated else None)
    changed = apply_changes(campaign, data, CAMPAIGN_FIELDS)
    full_clean_or_raise(campaign, exclude=["created_by"])
    _check(campaign)
    with transaction.atomic():
        campaign.save()
        audit_log(actor=actor, action="campaign.create", obj=campaign, fields=changed)
    return campaign


def campaign_update(
    *, actor, campaign: Campaign, version: int, data: Mapping[str, Any]
) -> Campaign:
    """Change a draft (a launched campaign keeps its selection and its design)."""
    _require_editable(actor, campaign)
    if campaign.status != Campaign.Status.DRAFT:
        raise InvalidInput({"__all__": [_("A launched campaign cannot be changed.")]})
    data = _normalise(data)
    if data.get("account") is not None and data["account"] != campaign.account:
        require_account_writable(actor, data["account"])
    changed = apply_changes(campaign, data, CAMPAIGN_FIELDS)
    full_clean_or_raise(campaign, exclude=["created_by"])
    _check(campaign)
    with transaction.atomic():
        versioned_update(campaign, expected_version=version, fields=changed)
        audit_log(actor=actor, action="campaign.update", obj=campaign, fields=changed)
    return campaign


def campaign_launch(*, actor, campaign: Campaign, version: int) -> Campaign:
    """Fix the selection, hold out the control group, mail the target group.

    A selection of several accounts needs at least two in each group, else the effect
    cannot be measured.
    """
    _require_editable(actor, campaign)
    if campaign.status != Campaign.Status.DRAFT:
        raise InvalidInput({"__all__": [_("This campaign was launched already.")]})
    _check(campaign)
    if not campaign.benefits.strip():
        raise InvalidInput({"benefits": [_("Describe the benefits for the customer.")]})
    ids = list(target_accounts(actor=actor, campaign=campaign).values_list("pk", flat=True))
    if not ids:
        raise InvalidInput({"selection": [_("The selection holds no accounts.")]})
    if campaign.single_account:
        target, control = ids, []
    else:
        target, control = stats.split_control_group(
            sorted(ids), campaign.control_fraction, seed=f"campaign:{campaign.pk}"
        )
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
        campaign.status = Campaign.Status.LAUNCHED
        campaign.launched_at = timezone.now()
        versioned_update(campaign, expected_version=version, fields=["status", "launched_at"])
        CampaignMember.objects.bulk_create(
            [CampaignMember(campaign=campaign, account_id=a, group="target") for a in target]
            + [CampaignMember(campaign=campaign, account_id=a, group="control") for a in control],
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


def _mail_targets(actor, campaign: Campaign, target_ids: list[int]) -> int:
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
            "campaigns",
        )
        for contact in contacts.order_by("pk"):
            mail_enqueue(
                key=f"campaign:{campaign.pk}:contact:{contact.pk}",
                to=contact.email,
                subject=campaign.mail_subject,
                text=campaign.mail_text.replace("{name}", contact.full_name),
                language=contact.language or "nl",
                purpose="campaigns",
                contact=contact,
                account_id=contact.account_id,
                actor=actor,
            )
            queued += 1
    return queued


# --------------------------------------------------------------------------- results


@dataclass
class CampaignResult:
    phase: str
    design: str  # "control_group" or "before_after"
    measured_from: date
    measured_to: date
    target_n: int = 0
    control_n: int = 0
    revenue: stats.EffectEstimate | None = None
    orders: stats.EffectEstimate | None = None
    profit: stats.CampaignProfit | None = None
    margin: Decimal | None = None
    cost: Decimal = Decimal("0.00")
    cost_parts: dict[str, Decimal] = field(default_factory=dict)
    goal_verdict: str = ""  # "reached", "estimate_only", "not_reached", ""
    message: str = ""
    chart: dict = field(default_factory=dict)


def _margin(account_ids: list[int]) -> Decimal:
    default = OrganisationSettings.load().default_margin
    margins = [
        m if m is not None else default
        for m in Account.objects.filter(pk__in=account_ids).values_list("margin", flat=True)
    ]
    if not margins:
        return default / 100
    return (sum(margins, Decimal(0)) / len(margins) / 100).quantize(Decimal("0.0001"))


def _per_account(campaign: Campaign, group: str, start: date, end: date):
    rows = (
        Order.objects.filter(
            account__campaign_memberships__campaign=campaign,
            account__campaign_memberships__group=group,
            date__gte=start,
            date__lte=end,
        )
        .counting()
        .values("account_id")
        .annotate(revenue=Sum("revenue"), orders=Count("pk", filter=Q(credit_of__isnull=True)))
    )
    return {r["account_id"]: (r["revenue"] or Decimal(0), r["orders"]) for r in rows}


def _cost(campaign: Campaign, target: list[int], revenue: dict, start: date, end: date):
    parts = {"fixed": campaign.fixed_cost}
    if campaign.incentive == Campaign.Incentive.BONUS_DISCOUNT:
        total = sum((max(v[0], Decimal(0)) for v in revenue.values()), Decimal(0))
        parts["incentive"] = quantize_money(total * campaign.incentive_rate / 100)
    elif campaign.incentive == Campaign.Incentive.SAVINGS_GIFT:
        ordered = sum(1 for v in revenue.values() if v[1] > 0)
        parts["incentive"] = quantize_money((campaign.gift_value or Decimal(0)) * ordered)
    elif campaign.programme is not None:
        earned = (
            LedgerEntry.objects.filter(
                points_account__programme=campaign.programme,
                points_account__account_id__in=target,
                kind=LedgerEntry.Kind.EARN,
                on__gte=start,
                on__lte=end,
            ).aggregate(p=Sum("points"))["p"]
            or 0
        )
        factor = campaign.incentive_rate
        extra = Decimal(earned) * (factor - 1) / factor if factor > 0 else Decimal(0)
        parts["incentive"] = quantize_money(extra * campaign.programme.point_value)
    return quantize_money(sum(parts.values(), Decimal(0))), parts


def _goal(campaign: Campaign, estimate: stats.EffectEstimate | None) -> str:
    if estimate is None or estimate.lift_pct is None:
        return ""
    goal = float(campaign.goal_lift)
    if estimate.lift_ci_low is not None and estimate.lift_ci_low >= goal:
        return "reached"
    if estimate.lift_pct >= goal:
        return "estimate_only"
    return "not_reached"


def campaign_result(campaign: Campaign, *, today: date | None = None) -> CampaignResult:
    """The campaign's effect so far (or final), its cost and extra profit, and charts."""
    today = today or timezone.localdate()
    phase = campaign.phase(today)
    end = min(campaign.ends_on, today)
    single = campaign.single_account
    result = CampaignResult(
        phase=phase,
        design="before_after" if single else "control_group",
        measured_from=campaign.starts_on,
        measured_to=end,
    )
    if campaign.status == Campaign.Status.DRAFT or today < campaign.starts_on:
        result.message = _("The campaign has not started: nothing to measure yet.")
        return result
    if single:
        return _before_after(campaign, result, end)
    members = list(campaign.members.values_list("account_id", "group"))
    target = [a for a, g in members if g == CampaignMember.Group.TARGET]
    control = [a for a, g in members if g == CampaignMember.Group.CONTROL]
    result.target_n, result.control_n = len(target), len(control)
    t_rows = _per_account(campaign, "target", campaign.starts_on, end)
    c_rows = _per_account(campaign, "control", campaign.starts_on, end)
    t_rev = [t_rows.get(a, (Decimal(0), 0))[0] for a in target]
    c_rev = [c_rows.get(a, (Decimal(0), 0))[0] for a in control]
    t_ord = [t_rows.get(a, (Decimal(0), 0))[1] for a in target]
    c_ord = [c_rows.get(a, (Decimal(0), 0))[1] for a in control]
    result.cost, result.cost_parts = _cost(campaign, target, t_rows, campaign.starts_on, end)
    try:
        effect = stats.campaign_effect(
            target_revenue=t_rev,
            control_revenue=c_rev,
            target_orders=t_ord,
            control_orders=c_ord,
        )
    except stats.StatsError:
        result.message = _("Each group needs at least two accounts to measure an effect.")
        return result
    result.revenue, result.orders = effect.revenue, effect.orders
    result.margin = _margin(target)
    result.profit = stats.campaign_profit(
        effect.revenue,
        targeted_accounts=len(target),
        margin=result.margin,
        campaign_cost=result.cost,
    )
    chosen = result.revenue if campaign.goal_metric == Campaign.Metric.REVENUE else result.orders
    result.goal_verdict = _goal(campaign, chosen)
    result.chart = {
        "means": {
            "labels": [str(_("Target group")), str(_("Control group"))],
            "datasets": [
                {
                    "label": str(_("Revenue per account")),
                    "values": [
                        round(effect.revenue.target_mean, 2),
                        round(effect.revenue.control_mean, 2),
                    ],
                }
            ],
        },
        "cumulative": _cumulative(campaign, end, len(target), len(control)),
    }
    return result


def _cumulative(campaign: Campaign, end: date, n_target: int, n_control: int) -> dict:
    """Mean cumulative revenue per account, per week of the campaign, for both groups."""
    weeks = max(1, math.ceil(((end - campaign.starts_on).days + 1) / 7))
    labels = [(campaign.starts_on + timedelta(days=7 * w)).isoformat() for w in range(weeks)]
    datasets = []
    for group, label, n in (
        ("target", _("Target group"), n_target),
        ("control", _("Control group"), n_control),
    ):
        per_day = dict(
            Order.objects.filter(
                account__campaign_memberships__campaign=campaign,
                account__campaign_memberships__group=group,
                date__gte=campaign.starts_on,
                date__lte=end,
            )
            .counting()
            .values("date")
            .annotate(total=Sum("revenue"))
            .values_list("date", "total")
        )
        weekly = [Decimal(0)] * weeks
        for day, total in per_day.items():
            weekly[min((day - campaign.starts_on).days // 7, weeks - 1)] += total or 0
        running, values = Decimal(0), []
        for amount in weekly:
            running += amount
            values.append(round(float(running / n), 2) if n else 0)
        datasets.append({"label": str(label), "values": values})
    return {"labels": labels, "datasets": datasets}


def _blocks(
    account_id: int, start: date, count: int, length: int
) -> tuple[list[Decimal], list[int]]:
    """Revenue and orders per block of ``length`` days from ``start`` (``count`` blocks)."""
    end = start + timedelta(days=length * count - 1)
    rows = (
        Order.objects.filter(account_id=account_id, date__gte=start, date__lte=end)
        .counting()
        .values_list("date", "revenue", "credit_of_id")
    )
    revenue = [Decimal(0)] * count
    orders = [0] * count
    for day, amount, credit_of in rows:
        index = (day - start).days // length
        revenue[index] += amount
        orders[index] += 1 if credit_of is None else 0
    return revenue, orders


def _before_after(campaign: Campaign, result: CampaignResult, end: date) -> CampaignResult:
    days = (end - campaign.starts_on).days + 1
    length = min(BLOCK_DAYS, days)  # whole blocks only: the days left over are not measured
    after_n = days // length
    before_n = max(after_n, MIN_BEFORE_BLOCKS)
    before_start = campaign.starts_on - timedelta(days=length * before_n)
    before_rev, before_ord = _blocks(campaign.account_id, before_start, before_n, length)
    after_rev, after_ord = _blocks(campaign.account_id, campaign.starts_on, after_n, length)
    result.measured_to = campaign.starts_on + timedelta(days=length * after_n - 1)
    result.target_n, result.control_n = after_n, before_n
    result.revenue = stats.before_after(before_rev, after_rev, metric="revenue")
    result.orders = stats.before_after(before_ord, after_ord, metric="orders")
    revenue = {campaign.account_id: (sum(after_rev, Decimal(0)), sum(after_ord))}
    result.cost, result.cost_parts = _cost(
        campaign, [campaign.account_id], revenue, campaign.starts_on, result.measured_to
    )
    result.margin = _margin([campaign.account_id])
    result.profit = stats.campaign_profit(
        result.revenue, targeted_accounts=after_n, margin=result.margin, campaign_cost=result.cost
    )
    chosen = result.revenue if campaign.goal_metric == Campaign.Metric.REVENUE else result.orders
    result.goal_verdict = _goal(campaign, chosen)
    labels = [(before_start + timedelta(days=length * i)).isoformat() for i in range(before_n)] + [
        (campaign.starts_on + timedelta(days=length * i)).isoformat() for i in range(after_n)
    ]
    result.chart = {
        "blocks": {
            "labels": labels,
            "datasets": [
                {
                    "label": str(_("Before the campaign")),
                    "values": [float(v) for v in before_rev] + [None] * after_n,
                },
                {
                    "label": str(_("During the campaign")),
                    "values": [None] * before_n + [float(v) for v in after_rev],
                },
            ],
        }
    }
    return result
