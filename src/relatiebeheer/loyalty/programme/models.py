"""The loyalty programme: tiers and their entitlements, bonus brackets and settlements,
earn rules and rewards, tier statuses, the points ledger and customer cards."""

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
from relatiebeheer.relations.models import VisibleQuerySet


class Programme(VersionedModel):
    """A loyalty programme: tiers on net spend, a bonus scheme, points and customer cards.

    Spend is counted per account, or per head office (with its branches) or per buying
    group when ``level`` says so. ``starts_on``: spend before it counts for qualifying,
    but no tier is held before it and only bonus periods ending on or after it are settled.
    """

    class MemberLevel(models.TextChoices):
        ACCOUNT = "account", _("Per account")
        HEAD_OFFICE = "head_office", _("Per head office (with its branches)")
        BUYING_GROUP = "buying_group", _("Per buying group")

    class Period(models.TextChoices):
        CALENDAR_YEAR = "calendar_year", _("Calendar year")
        ROLLING_12_MONTHS = "rolling_12_months", _("Rolling 12 months")

    class BonusMode(models.TextChoices):
        WHOLE = "whole", _("The rate applies to the whole spend")
        MARGINAL = "marginal", _("Each rate applies to the part within its bracket")

    class BonusPeriod(models.TextChoices):
        YEAR = "year", _("Per calendar year")
        QUARTER = "quarter", _("Per quarter")

    class ConfirmOn(models.TextChoices):
        DELIVERED = "delivered", _("When delivered or paid")
        PAID = "paid", _("When paid")

    class CardScheme(models.TextChoices):
        EAN13 = "ean13", _("EAN-13")
        LUHN = "luhn", _("Luhn")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    active = models.BooleanField(_("active"), default=True)
    starts_on = models.DateField(_("starts on"), default=timezone.localdate)
    level = models.CharField(
        _("spend counted"), max_length=15, choices=MemberLevel.choices, default=MemberLevel.ACCOUNT
    )
    period = models.CharField(
        _("qualification period"),
        max_length=20,
        choices=Period.choices,
        default=Period.CALENDAR_YEAR,
    )
    grace_days = models.PositiveSmallIntegerField(
        _("grace period before a downgrade (days)"),
        default=90,
        validators=[MaxValueValidator(730)],
        help_text=_("Rolling-12-month programmes only."),
    )
    bonus_enabled = models.BooleanField(_("bonus scheme"), default=False)
    bonus_mode = models.CharField(
        _("bonus mode"), max_length=10, choices=BonusMode.choices, default=BonusMode.WHOLE
    )
    bonus_period = models.CharField(
        _("bonus settled"), max_length=10, choices=BonusPeriod.choices, default=BonusPeriod.YEAR
    )
    bonus_max_rate = models.DecimalField(
        _("highest bonus rate"),
        max_digits=7,
        decimal_places=6,
        default=Decimal("0.035000"),
        validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text=_("A fraction: 0.035 is 3,5 %."),
    )
    bonus_max_amount = MoneyField(
        _("highest bonus per period"), db_column="bonus_max_amount_cents", null=True, blank=True
    )
    points_enabled = models.BooleanField(_("points (savings action)"), default=False)
    points_per_euro = models.DecimalField(
        _("points per euro"),
        max_digits=8,
        decimal_places=4,
        default=Decimal("1"),
        validators=[MinValueValidator(0)],
    )
    points_per_order = models.PositiveIntegerField(_("points per order"), default=0)
    points_expiry_months = models.PositiveSmallIntegerField(
        _("points expire after (months)"),
        null=True,
        blank=True,
        default=24,
        validators=[MinValueValidator(1), MaxValueValidator(240)],
    )
    points_confirm_on = models.CharField(
        _("points usable"), max_length=10, choices=ConfirmOn.choices, default=ConfirmOn.DELIVERED
    )
    point_value = MoneyField(
        _("value of one point"), db_column="point_value_cents", default=Decimal("0.01")
    )
    card_scheme = models.CharField(
        _("card numbers"), max_length=5, choices=CardScheme.choices, default=CardScheme.EAN13
    )
    card_prefix = models.CharField(_("card number prefix"), max_length=6, default="29")
    next_card_sequence = models.PositiveBigIntegerField(default=1, editable=False)
    evaluated_through = models.DateField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("loyalty programme")
        verbose_name_plural = _("loyalty programmes")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class Tier(models.Model):
    """A tier, reached at a net spend of ``threshold`` or more (inclusive)."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="tiers")
    name = models.CharField(_("name"), max_length=60)
    rank = models.PositiveSmallIntegerField(_("rank"), help_text=_("Higher is better."))
    threshold = MoneyField(_("from a net spend of"), db_column="threshold_cents")

    class Meta:
        verbose_name = _("tier")
        verbose_name_plural = _("tiers")
        ordering = ["programme", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "rank"], name="tier_rank_unique"),
            models.UniqueConstraint(fields=["programme", "name"], name="tier_name_unique"),
            models.CheckConstraint(condition=Q(threshold__gte=0), name="tier_threshold_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class Benefit(models.Model):
    """An entitlement of a tier: held while the tier is held, ended when it ends."""

    class Kind(models.TextChoices):
        ACCOUNT_MANAGER = "account_manager", _("Own account manager")
        SERVICE_DESK = "service_desk", _("Separate service desk")
        PARKING = "parking", _("Parking place")
        ON_ACCOUNT = "on_account", _("Buying on account")
        BONUS = "bonus", _("Automatic bonus")
        OTHER = "other", _("Other")

    tier = models.ForeignKey(Tier, on_delete=models.CASCADE, related_name="benefits")
    kind = models.CharField(_("entitlement"), max_length=20, choices=Kind.choices)
    description = models.CharField(_("description"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("entitlement")
        verbose_name_plural = _("entitlements")
        ordering = ["tier", "id"]

    def __str__(self) -> str:
        return self.description or self.get_kind_display()

    @property
    def label(self) -> str:
        return self.description or str(self.get_kind_display())


class BonusBracket(models.Model):
    """From a net spend of ``lower_bound`` (inclusive) the bonus ``rate`` applies."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="brackets")
    lower_bound = MoneyField(_("from a net spend of"), db_column="lower_bound_cents")
    rate = models.DecimalField(
        _("bonus rate"),
        max_digits=7,
        decimal_places=6,
        validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text=_("A fraction: 0.02 is 2 %."),
    )

    class Meta:
        verbose_name = _("bonus bracket")
        verbose_name_plural = _("bonus brackets")
        ordering = ["programme", "lower_bound"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "lower_bound"], name="bracket_unique"),
            models.CheckConstraint(condition=Q(lower_bound__gte=0), name="bracket_bound_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.lower_bound}: {self.rate}"


class CategoryRule(models.Model):
    """An earn rule for one product category: points per euro on its order lines."""

    programme = models.ForeignKey(
        Programme, on_delete=models.CASCADE, related_name="category_rules"
    )
    category = models.CharField(_("product category"), max_length=100)
    points_per_euro = models.DecimalField(
        _("points per euro"), max_digits=8, decimal_places=4, validators=[MinValueValidator(0)]
    )

    class Meta:
        verbose_name = _("earn rule")
        verbose_name_plural = _("earn rules")
        ordering = ["programme", "category"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "category"], name="category_rule_unique")
        ]

    def __str__(self) -> str:
        return f"{self.category}: {self.points_per_euro}"


class Reward(models.Model):
    """Something to redeem points for."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="rewards")
    name = models.CharField(_("reward"), max_length=200)
    points = models.PositiveIntegerField(_("points"), validators=[MinValueValidator(1)])
    description = models.TextField(_("description"), blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("reward")
        verbose_name_plural = _("rewards")
        ordering = ["programme", "points", "name"]

    def __str__(self) -> str:
        return self.name


class TierStatus(models.Model):
    """The tier an account holds in a programme, as the last evaluation found it.

    Written by the evaluation only (set-based, only the rows that changed); for a
    head-office or buying-group programme every account of the member carries the
    member's status. Accounts without a tier have no row.
    """

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="statuses")
    account = models.ForeignKey(
        "relations.Account", on_delete=models.CASCADE, related_name="tier_statuses"
    )
    member = models.CharField(max_length=30)  # "account:12", "head_office:7", "group:3"
    tier = models.ForeignKey(Tier, on_delete=models.CASCADE, related_name="statuses")
    since = models.DateField(_("since"), null=True)
    valid_until = models.DateField(_("valid until"), null=True)
    qualifying_spend = MoneyField(_("qualifying spend"), db_column="qualifying_spend_cents")
    needed_to_keep = MoneyField(db_column="needed_to_keep_cents", null=True)
    needed_for_next = MoneyField(db_column="needed_for_next_cents", null=True)
    in_grace = models.BooleanField(default=False)
    bonus_so_far = MoneyField(db_column="bonus_so_far_cents", default=Decimal("0.00"))
    bonus_rate = models.DecimalField(max_digits=9, decimal_places=6, default=Decimal("0"))
    config_version = models.PositiveIntegerField(default=0)

    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("tier status")
        verbose_name_plural = _("tier statuses")
        ordering = ["programme", "account"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "account"], name="tier_status_unique")
        ]
        indexes = [models.Index(fields=["programme", "tier"], name="tier_status_tier")]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.tier_id}"


class TierChange(models.Model):
    """History: an account's tier in a programme changed (and with it its entitlements)."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="changes")
    account = models.ForeignKey("relations.Account", on_delete=models.CASCADE, related_name="+")
    from_tier = models.ForeignKey(
        Tier, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_tier = models.ForeignKey(
        Tier, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    on = models.DateField()
    recorded_at = models.DateTimeField(auto_now_add=True)

    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("tier change")
        verbose_name_plural = _("tier changes")
        ordering = ["-on", "-id"]
        indexes = [models.Index(fields=["account", "-on"], name="tier_change_account")]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.from_tier_id} → {self.to_tier_id} on {self.on}"


class BonusSettlement(models.Model):
    """A settled bonus: one account, one period, one cost entry ("incentive or bonus")."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="settlements")
    account = models.ForeignKey("relations.Account", on_delete=models.CASCADE, related_name="+")
    period_start = models.DateField()
    period_end = models.DateField()
    spend = MoneyField(db_column="spend_cents")
    bonus = MoneyField(db_column="bonus_cents")
    rate = models.DecimalField(max_digits=9, decimal_places=6)
    cost_entry = models.ForeignKey(
        "sales.CostEntry", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    settled_at = models.DateTimeField(auto_now_add=True)

    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("bonus settlement")
        verbose_name_plural = _("bonus settlements")
        ordering = ["-period_end", "account"]
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "account", "period_start"], name="bonus_settled_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.period_start}: {self.bonus}"


class BonusRun(models.Model):
    """A bonus period of a programme that has been settled (for every member)."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="+")
    period_start = models.DateField()
    period_end = models.DateField()
    members = models.PositiveIntegerField(default=0)
    total = MoneyField(db_column="total_cents", default=Decimal("0.00"))
    settled_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["programme", "period_start"], name="bonus_run_once")
        ]

    def __str__(self) -> str:
        return f"{self.programme_id} {self.period_start}"


class PointsAccount(models.Model):
    """An account's points in a programme. ``balance`` and ``pending`` cache the ledger
    (the truth); :func:`relatiebeheer.loyalty.points.points_rebuild` recomputes them."""

    programme = models.ForeignKey(
        Programme, on_delete=models.CASCADE, related_name="points_accounts"
    )
    account = models.ForeignKey(
        "relations.Account", on_delete=models.CASCADE, related_name="points_accounts"
    )
    balance = models.BigIntegerField(default=0)
    pending = models.BigIntegerField(default=0)

    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("points account")
        verbose_name_plural = _("points accounts")
        constraints = [
            models.UniqueConstraint(fields=["programme", "account"], name="points_account_unique")
        ]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.balance}"


class LedgerEntry(models.Model):
    """One row of the append-only points ledger (see ``core.loyalty_rules``)."""

    class Kind(models.TextChoices):
        EARN = "earn", _("Earned")
        CONFIRM = "confirm", _("Confirmed")
        REDEEM = "redeem", _("Redeemed")
        EXPIRE = "expire", _("Expired")
        REVERSE = "reverse", _("Reversed")

    points_account = models.ForeignKey(
        PointsAccount, on_delete=models.CASCADE, related_name="entries"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    key = models.CharField(max_length=80)
    points = models.BigIntegerField()
    on = models.DateField()
    source = models.CharField(max_length=80, blank=True)
    expires_on = models.DateField(null=True, blank=True)
    pending = models.BooleanField(default=False)
    amount = MoneyField(db_column="amount_cents", null=True, blank=True)
    order_id = models.BigIntegerField(null=True, blank=True)  # no FK: the ledger outlives orders
    reward = models.ForeignKey(
        Reward, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("points ledger entry")
        verbose_name_plural = _("points ledger")
        ordering = ["points_account", "id"]
        constraints = [
            models.UniqueConstraint(fields=["points_account", "key"], name="ledger_key_once"),
            models.CheckConstraint(
                condition=Q(kind="earn", points__gte=0)
                | Q(kind="confirm", points=0)
                | Q(kind__in=["redeem", "expire"], points__lt=0)
                | Q(kind="reverse", points__lte=0),
                name="ledger_sign",
            ),
        ]
        indexes = [
            models.Index(fields=["order_id"], name="ledger_order"),
            models.Index(fields=["kind", "expires_on"], name="ledger_expiry"),
        ]

    def __str__(self) -> str:
        return f"{self.key}: {self.points}"


# --------------------------------------------------------------------------- cards


class Card(models.Model):
    """A customer card: a number with a check digit, held by an account (and a contact)."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        BLOCKED = "blocked", _("Blocked")
        REPLACED = "replaced", _("Replaced")

    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="cards")
    account = models.ForeignKey("relations.Account", on_delete=models.CASCADE, related_name="cards")
    contact = models.ForeignKey(
        "relations.Contact",
        verbose_name=_("card holder"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    number = models.CharField(_("card number"), max_length=32, unique=True)
    sequence = models.PositiveBigIntegerField()
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    issued_on = models.DateField(_("issued on"), default=timezone.localdate)
    blocked_on = models.DateField(_("blocked on"), null=True, blank=True)
    block_reason = models.CharField(_("reason"), max_length=200, blank=True)
    replaces = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replaced_by"
    )

    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("customer card")
        verbose_name_plural = _("customer cards")
        ordering = ["-issued_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "sequence"], name="card_sequence_unique")
        ]

    def __str__(self) -> str:
        return self.number
