"""Loyalty campaigns and the accounts they target (or hold out as control)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from relatiebeheer.common.fields import MoneyField
from relatiebeheer.common.models import VersionedModel
from relatiebeheer.loyalty.programme.models import Programme, Tier
from relatiebeheer.users.access import sees_all_accounts


class CampaignQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Campaigns a user sees: managers all; others their own and those aimed at an
        account they see."""
        if not user or not user.is_authenticated or not user.is_active:
            return self.none()
        if sees_all_accounts(user):
            return self
        from relatiebeheer.relations.models import Account

        accounts = Account.objects.visible_to(user).values("pk")
        aimed = CampaignMember.objects.filter(account__in=accounts).values("campaign_id")
        return self.filter(Q(created_by=user) | Q(account__in=accounts) | Q(pk__in=aimed))


class Campaign(VersionedModel):
    """A loyalty campaign: goal, duration, target selection, incentive, benefits, budget.

    At launch the selection is fixed and a random control group is held out (seeded with
    the campaign id, ``core.campaign_stats.split_control_group``). A campaign for one
    account has no control group and is measured before against after.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        LAUNCHED = "launched", _("Launched")

    class Selection(models.TextChoices):
        SEGMENT = "segment", _("By RFM segment")
        TIER = "tier", _("By tier")
        VALUE = "value", _("By value")
        ACCOUNT = "account", _("One account")

    class ValueField(models.TextChoices):
        VALUE_THIS_YEAR = "value_this_year", _("Customer value this year")
        CLV = "clv", _("CLV")
        REVENUE_12M = "revenue_12m", _("Revenue, last 12 months")

    class Incentive(models.TextChoices):
        BONUS_DISCOUNT = "bonus_discount", _("Bonus discount")
        POINTS_MULTIPLIER = "points_multiplier", _("Points multiplier")
        SAVINGS_GIFT = "savings_gift", _("Savings gift")

    class Metric(models.TextChoices):
        REVENUE = "revenue", _("Revenue")
        ORDERS = "orders", _("Number of orders")

    name = models.CharField(_("name"), max_length=200)
    goal = models.CharField(_("goal"), max_length=300)
    goal_metric = models.CharField(
        _("goal measured in"), max_length=10, choices=Metric.choices, default=Metric.REVENUE
    )
    goal_lift = models.DecimalField(
        _("goal: lift (%)"),
        max_digits=6,
        decimal_places=2,
        default=Decimal("10.00"),
        validators=[MinValueValidator(Decimal("-100")), MaxValueValidator(1000)],
    )
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    selection = models.CharField(
        _("target selection"), max_length=10, choices=Selection.choices, default=Selection.SEGMENT
    )
    segments = models.JSONField(_("segments"), default=list, blank=True)
    tier = models.ForeignKey(
        Tier,
        verbose_name=_("tier"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    value_field = models.CharField(
        _("value measure"),
        max_length=20,
        choices=ValueField.choices,
        default=ValueField.VALUE_THIS_YEAR,
    )
    value_min = MoneyField(_("value from"), db_column="value_min_cents", null=True, blank=True)
    value_max = MoneyField(_("value up to"), db_column="value_max_cents", null=True, blank=True)
    account = models.ForeignKey(
        "relations.Account",
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="campaigns",
    )
    incentive = models.CharField(
        _("incentive"), max_length=20, choices=Incentive.choices, default=Incentive.BONUS_DISCOUNT
    )
    incentive_rate = models.DecimalField(
        _("discount (%) or multiplier"),
        max_digits=6,
        decimal_places=2,
        default=Decimal("2.00"),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    gift = models.CharField(_("savings gift"), max_length=200, blank=True)
    gift_value = MoneyField(
        _("value of the gift"), db_column="gift_value_cents", null=True, blank=True
    )
    programme = models.ForeignKey(
        Programme,
        verbose_name=_("programme"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="campaigns",
    )
    benefits = models.TextField(_("benefits for the customer"), blank=True)
    budget = MoneyField(_("budget"), db_column="budget_cents", default=Decimal("0.00"))
    fixed_cost = MoneyField(
        _("fixed costs (mailing, material)"), db_column="fixed_cost_cents", default=Decimal("0.00")
    )
    control_fraction = models.DecimalField(
        _("control group share"),
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.200"),
        validators=[MinValueValidator(0), MaxValueValidator(Decimal("0.9"))],
    )
    mail_subject = models.CharField(_("mail subject"), max_length=200, blank=True)
    mail_text = models.TextField(_("mail text"), blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    launched_at = models.DateTimeField(null=True, blank=True)
    mails_queued = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = CampaignQuerySet.as_manager()

    class Meta:
        verbose_name = _("loyalty campaign")
        verbose_name_plural = _("loyalty campaigns")
        ordering = ["-starts_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="campaign_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def single_account(self) -> bool:
        return self.selection == self.Selection.ACCOUNT

    def phase(self, today=None) -> str:
        today = today or timezone.localdate()
        if self.status == self.Status.DRAFT:
            return "draft"
        if today < self.starts_on:
            return "planned"
        if today <= self.ends_on:
            return "running"
        return "finished"


class CampaignMember(models.Model):
    """An account in a launched campaign: targeted, or held out as control."""

    class Group(models.TextChoices):
        TARGET = "target", _("Target group")
        CONTROL = "control", _("Control group")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="members")
    account = models.ForeignKey(
        "relations.Account", on_delete=models.CASCADE, related_name="campaign_memberships"
    )
    group = models.CharField(max_length=7, choices=Group.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "account"], name="campaign_member_once")
        ]
        indexes = [models.Index(fields=["account"], name="campaign_member_account")]

    def __str__(self) -> str:
        return f"{self.campaign_id}:{self.account_id} {self.group}"
