"""The effect of a loyalty campaign, its cost and extra profit (see the package's
:mod:`~relatiebeheer.loyalty.campaigns` docstring for the design)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from relatiebeheer.core import campaign_stats as stats
from relatiebeheer.core.money import quantize_money
from relatiebeheer.loyalty.programme.models import LedgerEntry
from relatiebeheer.organisation.models import OrganisationSettings
from relatiebeheer.relations.models import Account
from relatiebeheer.sales.models import Order

from .models import Campaign, CampaignMember

BLOCK_DAYS = 30
MIN_BEFORE_BLOCKS = 3
# A user who may not see every account of a campaign sees its figures only when each
# group holds at least this many accounts: below that, a group's mean revenue and the
# user's own accounts' orders give away what other portfolios' accounts bought.
MIN_GROUP_FOR_OTHERS = 10


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
    # "all": every account of the campaign is one the user may see; "book": it also holds
    # other portfolios' accounts and each group is large enough to show (with ``note``);
    # "withheld": it holds others' accounts in groups too small — no figures, a message.
    scope: str = "all"
    note: str = ""


def _scope(campaign: Campaign, actor) -> tuple[str, int, int]:
    """(scope, targeted, control) of ``campaign``'s figures for ``actor``: which accounts
    the result would be computed over, and whether the actor may see that."""
    from relatiebeheer.users.access import sees_all_accounts

    if campaign.single_account:
        members = [(campaign.account_id, CampaignMember.Group.TARGET)]
    else:
        members = list(campaign.members.values_list("account_id", "group"))
    target = sum(1 for _a, g in members if g == CampaignMember.Group.TARGET)
    control = len(members) - target
    if sees_all_accounts(actor):
        return "all", target, control
    ids = {a for a, _g in members}
    visible = Account.objects.visible_to(actor).filter(pk__in=ids).count()
    if visible == len(ids):
        return "all", target, control
    if not campaign.single_account and min(target, control) >= MIN_GROUP_FOR_OTHERS:
        return "book", target, control
    return "withheld", target, control


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


def campaign_result(campaign: Campaign, *, actor, today: date | None = None) -> CampaignResult:
    """The campaign's effect so far (or final), its cost and extra profit, and charts —
    as far as ``actor`` may see them.

    A campaign over accounts the actor does not all see (a book-wide campaign seen by an
    account manager with one account in it) shows its figures only when each group holds
    at least ``MIN_GROUP_FOR_OTHERS`` accounts, with a note that they cover other
    portfolios too; otherwise a message replaces every figure (effect, cost, profit,
    charts), since a small group's mean and one's own accounts' orders would tell what
    the others bought."""
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
    result.scope, targeted, held_back = _scope(campaign, actor)
    if result.scope == "withheld":
        result.message = _(
            "This campaign also covers accounts outside your portfolio, in groups of fewer "
            "than %(minimum)s accounts: its results are not shown to you, because the "
            "revenue of those accounts could be derived from them. A sales manager sees them."
        ) % {"minimum": MIN_GROUP_FOR_OTHERS}
        return result
    if result.scope == "book":
        result.note = _(
            "Figures over the whole campaign — %(target)s targeted and %(control)s control "
            "accounts, also of other portfolios — never per account."
        ) % {"target": targeted, "control": held_back}
    if single:
        return _before_after(campaign, result, end)
    members = list(campaign.members.values_list("account_id", "group"))
    target = [a for a, g in members if g == CampaignMember.Group.TARGET]
    control = [a for a, g in members if g == CampaignMember.Group.CONTROL]
    result.target_n, result.control_n = len(target), len(control)
    t_rows = _per_account(campaign, CampaignMember.Group.TARGET, campaign.starts_on, end)
    c_rows = _per_account(campaign, CampaignMember.Group.CONTROL, campaign.starts_on, end)
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
        (CampaignMember.Group.TARGET, _("Target group"), n_target),
        (CampaignMember.Group.CONTROL, _("Control group"), n_control),
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
