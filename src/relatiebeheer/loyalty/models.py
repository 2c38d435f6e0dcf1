"""Loyalty: binding activities, the personal and business side, the four loyalty drivers,
the loyalty programme (tiers, bonus, points, cards) and loyalty campaigns.

Amounts are integer cents (``MoneyField``), ``Decimal`` euros in code. The points ledger
(:class:`LedgerEntry`) is append-only and is the truth; :class:`PointsAccount` caches its
balance and can be rebuilt from it. The rules themselves live in
:mod:`relatiebeheer.core.loyalty_rules` and :mod:`relatiebeheer.core.campaign_stats`.
"""

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
from relatiebeheer.users.access import account_visibility_q, sees_all_accounts

# --------------------------------------------------------------------------- binding


class Level(models.TextChoices):
    """The three binding levels of the lesson."""

    FINANCIAL = "financial", _("Financial")
    SOCIAL = "social", _("Social")
    STRUCTURAL = "structural", _("Structural")


class ActivityKind(models.TextChoices):
    DISCOUNT = "discount", _("Discount")
    BONUS = "bonus", _("Bonus")
    TERMS = "terms", _("Better terms")
    ATTENTION = "attention", _("Personal attention")
    EVENT = "event", _("Event")
    INCENTIVE = "incentive", _("Incentive matched to an interest")
    DELIVERY = "delivery", _("Tailor-made delivery")
    ACCOUNT_MANAGER = "account_manager", _("Fixed account manager")
    EDI = "edi", _("EDI link")
    STOCK = "stock", _("Reserved stock")
    OTHER = "other", _("Other")


# The level each kind belongs to ("other" fits any level).
KIND_LEVEL = {
    ActivityKind.DISCOUNT: Level.FINANCIAL,
    ActivityKind.BONUS: Level.FINANCIAL,
    ActivityKind.TERMS: Level.FINANCIAL,
    ActivityKind.ATTENTION: Level.SOCIAL,
    ActivityKind.EVENT: Level.SOCIAL,
    ActivityKind.INCENTIVE: Level.SOCIAL,
    ActivityKind.DELIVERY: Level.STRUCTURAL,
    ActivityKind.ACCOUNT_MANAGER: Level.STRUCTURAL,
    ActivityKind.EDI: Level.STRUCTURAL,
    ActivityKind.STOCK: Level.STRUCTURAL,
}


class BindingActivity(VersionedModel):
    """Something done (or planned) to bind an account, on one of the three levels.

    Done activities may point at the contact moment that logged them; planned ones carry
    the day they are planned for.
    """

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    account = models.ForeignKey(
        "relations.Account",
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        related_name="binding_activities",
    )
    level = models.CharField(_("binding level"), max_length=12, choices=Level.choices)
    kind = models.CharField(_("kind"), max_length=20, choices=ActivityKind.choices)
    title = models.CharField(_("what"), max_length=200)
    notes = models.TextField(_("notes"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PLANNED
    )
    planned_on = models.DateField(_("planned for"), null=True, blank=True)
    done_on = models.DateField(_("done on"), null=True, blank=True)
    contact = models.ForeignKey(
        "relations.Contact",
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="binding_activities",
    )
    interest = models.ForeignKey(
        "relations.Interest",
        verbose_name=_("matched interest"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    interaction = models.ForeignKey(
        "relations.Interaction",
        verbose_name=_("contact moment"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="binding_activities",
    )
    event = models.ForeignKey(
        "loyalty.Event",
        verbose_name=_("event"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="activities",
    )
    cost = MoneyField(_("cost (excl. VAT)"), db_column="cost_cents", null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("binding activity")
        verbose_name_plural = _("binding activities")
        ordering = ["-done_on", "-planned_on", "-id"]
        indexes = [models.Index(fields=["account", "level", "done_on"], name="binding_acc_lvl")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="done") | Q(done_on__isnull=False), name="binding_done_has_date"
            ),
            models.CheckConstraint(
                condition=~Q(status="planned") | Q(planned_on__isnull=False),
                name="binding_planned_has_date",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def day(self):
        return self.done_on or self.planned_on


# --------------------------------------------------------------------------- personal side


class EventQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Events a user sees: managers all; others their own, shared ones, and events
        with an invitation for an account they see."""
        if not user or not user.is_authenticated or not user.is_active:
            return self.none()
        if sees_all_accounts(user):
            return self
        q = account_visibility_q(user, "invitations__account__")
        mine = Q(organiser=user) | Q(shared=True)
        ids = self.filter(q).values("pk") if q is not None else self.values("pk")
        return self.filter(mine | Q(pk__in=ids))


class Event(VersionedModel):
    """An event to invite contacts to (the lesson: the final of the tennis tournament a
    bank sponsors). ``shared`` events are open to every account manager's invitations."""

    name = models.CharField(_("name"), max_length=200)
    starts_at = models.DateTimeField(_("starts at"))
    location = models.CharField(_("location"), max_length=200, blank=True)
    description = models.TextField(_("description"), blank=True)
    interest = models.ForeignKey(
        "relations.Interest",
        verbose_name=_("appeals to the interest"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    capacity = models.PositiveIntegerField(_("places"), null=True, blank=True)
    cost_per_guest = MoneyField(
        _("cost per guest"), db_column="cost_per_guest_cents", null=True, blank=True
    )
    shared = models.BooleanField(
        _("open to colleagues"),
        default=False,
        help_text=_("Every account manager may invite their contacts."),
    )
    organiser = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("organiser"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = EventQuerySet.as_manager()

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["-starts_at", "-id"]

    def __str__(self) -> str:
        return self.name


class Invitation(VersionedModel):
    """A contact invited to an event, and their answer (RSVP)."""

    class Status(models.TextChoices):
        INVITED = "invited", _("Invited")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        ATTENDED = "attended", _("Attended")
        NO_SHOW = "no_show", _("Did not come")

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="invitations")
    contact = models.ForeignKey(
        "relations.Contact", on_delete=models.CASCADE, related_name="invitations"
    )
    account = models.ForeignKey(
        "relations.Account", on_delete=models.CASCADE, related_name="invitations"
    )
    status = models.CharField(
        _("answer"), max_length=10, choices=Status.choices, default=Status.INVITED
    )
    responded_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    mailed = models.BooleanField(_("invitation mailed"), default=False)
    activity = models.ForeignKey(
        BindingActivity, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["event", "contact__last_name", "id"]
        constraints = [models.UniqueConstraint(fields=["event", "contact"], name="invitation_once")]

    def __str__(self) -> str:
        return f"{self.event_id}:{self.contact_id}"


class IncentiveIdea(models.Model):
    """A gift or treat matched to a personal interest (tennis → tickets for the final)."""

    name = models.CharField(_("incentive"), max_length=200)
    interest = models.ForeignKey(
        "relations.Interest", verbose_name=_("interest"), on_delete=models.CASCADE, related_name="+"
    )
    typical_cost = MoneyField(
        _("typical cost"), db_column="typical_cost_cents", default=Decimal("0.00")
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("incentive idea")
        verbose_name_plural = _("incentive ideas")
        ordering = ["interest__name", "name"]

    def __str__(self) -> str:
        return self.name


class Rapport(models.Model):
    """The account manager's judgement of the personal relationship with a contact: is
    there a klik? Append-only; the latest judgement counts (yes/no on the 0–100 scale of
    ``core.survey_scores``: yes 100, no 0)."""

    contact = models.ForeignKey(
        "relations.Contact", on_delete=models.CASCADE, related_name="rapports"
    )
    account = models.ForeignKey("relations.Account", on_delete=models.CASCADE, related_name="+")
    klik = models.BooleanField(_("is there a klik?"))
    note = models.CharField(_("note"), max_length=300, blank=True)
    judged_on = models.DateField(_("judged on"), default=timezone.localdate)
    judged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("klik judgement")
        verbose_name_plural = _("klik judgements")
        ordering = ["-judged_on", "-id"]
        indexes = [models.Index(fields=["contact", "-judged_on"], name="rapport_contact")]

    def __str__(self) -> str:
        return f"{self.contact_id} {'+' if self.klik else '-'}"


# --------------------------------------------------------------------------- business side


class Wish(VersionedModel):
    """What the account needs, how and when it orders, and how we meet each wish."""

    class Aspect(models.TextChoices):
        ASSORTMENT = "assortment", _("What they need")
        ORDERING = "ordering", _("How they order")
        TIMING = "timing", _("When they order")
        DELIVERY = "delivery", _("Delivery")
        PAYMENT = "payment", _("Payment and terms")
        SERVICE = "service", _("Service")
        COMMUNICATION = "communication", _("Communication")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        MET = "met", _("Met")
        PARTLY = "partly", _("Partly met")
        PLANNED = "planned", _("Planned")
        NOT_MET = "not_met", _("Not met yet")

    account = models.ForeignKey(
        "relations.Account",
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        related_name="wishes",
    )
    aspect = models.CharField(_("aspect"), max_length=15, choices=Aspect.choices)
    wish = models.CharField(_("wish or buying behaviour"), max_length=300)
    how_we_meet = models.TextField(_("how we meet it"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.NOT_MET
    )
    level = models.CharField(
        _("binding level"), max_length=12, choices=Level.choices, default=Level.STRUCTURAL
    )

    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("wish")
        verbose_name_plural = _("wishes")
        ordering = ["aspect", "id"]

    def __str__(self) -> str:
        return self.wish


# --------------------------------------------------------------------------- drivers


class Comparison(models.IntegerChoices):
    """How we compare with a competitor on one aspect (5 = we are much better)."""

    MUCH_BETTER = 5, _("we are much better")
    BETTER = 4, _("we are better")
    SAME = 3, _("about the same")
    WORSE = 2, _("we are worse")
    MUCH_WORSE = 1, _("we are much worse")


class CompetitorNote(VersionedModel):
    """A competitor the account also buys from, and how we compare on price, quality and
    service (entered by the user). The latest note per competitor counts."""

    account = models.ForeignKey(
        "relations.Account",
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        related_name="competitor_notes",
    )
    competitor = models.CharField(_("competitor"), max_length=120)
    share = models.PositiveSmallIntegerField(
        _("their share of the account's purchases (%)"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(100)],
    )
    price = models.PositiveSmallIntegerField(
        _("price"), choices=Comparison.choices, null=True, blank=True
    )
    quality = models.PositiveSmallIntegerField(
        _("quality"), choices=Comparison.choices, null=True, blank=True
    )
    service = models.PositiveSmallIntegerField(
        _("service"), choices=Comparison.choices, null=True, blank=True
    )
    notes = models.TextField(_("notes"), blank=True)
    noted_on = models.DateField(_("noted on"), default=timezone.localdate)

    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("competitor note")
        verbose_name_plural = _("competitor notes")
        ordering = ["-noted_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(price__isnull=True) | Q(price__gte=1, price__lte=5),
                name="competitor_price_range",
            ),
            models.CheckConstraint(
                condition=Q(quality__isnull=True) | Q(quality__gte=1, quality__lte=5),
                name="competitor_quality_range",
            ),
            models.CheckConstraint(
                condition=Q(service__isnull=True) | Q(service__gte=1, service__lte=5),
                name="competitor_service_range",
            ),
        ]

    def __str__(self) -> str:
        return self.competitor


class TrustLevel(models.IntegerChoices):
    """The account manager's judgement of trust, on the lesson's four-point scale."""

    VERY_HIGH = 4, _("very high")
    HIGH = 3, _("high")
    LOW = 2, _("low")
    VERY_LOW = 1, _("very low")


class TrustJudgement(models.Model):
    """The account manager's judgement of the account's trust in us. Append-only."""

    account = models.ForeignKey(
        "relations.Account", on_delete=models.CASCADE, related_name="trust_judgements"
    )
    trust = models.PositiveSmallIntegerField(_("trust"), choices=TrustLevel.choices)
    note = models.CharField(_("note"), max_length=300, blank=True)
    judged_on = models.DateField(_("judged on"), default=timezone.localdate)
    judged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("trust judgement")
        verbose_name_plural = _("trust judgements")
        ordering = ["-judged_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(trust__gte=1, trust__lte=4), name="trust_range")
        ]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.trust}"


class LoyaltySettings(models.Model):
    """How the loyalty index is weighed and when a gap or a fall is flagged (one row)."""

    weight_trust = models.PositiveSmallIntegerField(_("weight of trust"), default=30)
    weight_satisfaction = models.PositiveSmallIntegerField(_("weight of satisfaction"), default=30)
    weight_alternatives = models.PositiveSmallIntegerField(
        _("weight of the quality of the alternatives"), default=20
    )
    weight_investment = models.PositiveSmallIntegerField(
        _("weight of the investment in the relationship"), default=20
    )
    falling_points = models.DecimalField(
        _("a fall of at least (points)"),
        max_digits=4,
        decimal_places=1,
        default=Decimal("10.0"),
        validators=[MinValueValidator(Decimal("0.1")), MaxValueValidator(100)],
    )
    falling_days = models.PositiveSmallIntegerField(
        _("compared with the index of (days ago)"),
        default=90,
        validators=[MinValueValidator(7), MaxValueValidator(730)],
    )
    gap_months = models.PositiveSmallIntegerField(
        _("a level without activity for (months) is a gap"),
        default=6,
        validators=[MinValueValidator(1), MaxValueValidator(12)],
    )
    investment_norm = models.DecimalField(
        _("costs counting as full investment (percent of the 12-month profit)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("10.00"),
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(100)],
    )
    # Grows by one on every saved change: two managers editing the weights at once
    # cannot overwrite each other (see services.settings_update).
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    class Meta:
        verbose_name = _("loyalty settings")
        verbose_name_plural = _("loyalty settings")
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="loyalty_settings_one")]

    def __str__(self) -> str:
        return "loyalty settings"

    @classmethod
    def load(cls) -> LoyaltySettings:
        obj, _created = cls.objects.get_or_create(pk=1)
        return obj

    @property
    def weights(self) -> dict[str, int]:
        return {
            "trust": self.weight_trust,
            "satisfaction": self.weight_satisfaction,
            "alternatives": self.weight_alternatives,
            "investment": self.weight_investment,
        }


class DriverScore(models.Model):
    """The four loyalty drivers and the index of one account on one day (0–100 each;
    ``None``: nothing to measure). ``parts`` says what each driver is made of."""

    account = models.ForeignKey(
        "relations.Account", on_delete=models.CASCADE, related_name="driver_scores"
    )
    as_of = models.DateField(_("as of"))
    trust = models.DecimalField(max_digits=4, decimal_places=1, null=True)
    satisfaction = models.DecimalField(max_digits=4, decimal_places=1, null=True)
    alternatives = models.DecimalField(max_digits=4, decimal_places=1, null=True)
    investment = models.DecimalField(max_digits=4, decimal_places=1, null=True)
    index = models.DecimalField(max_digits=4, decimal_places=1, null=True)
    parts = models.JSONField(default=dict)
    weights = models.JSONField(default=dict)

    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("loyalty scorecard")
        verbose_name_plural = _("loyalty scorecards")
        ordering = ["account", "-as_of"]
        constraints = [
            models.UniqueConstraint(fields=["account", "as_of"], name="driver_score_once_a_day")
        ]
        indexes = [models.Index(fields=["as_of"], name="driver_score_day")]

    def __str__(self) -> str:
        return f"{self.account_id} {self.as_of}: {self.index}"


# --------------------------------------------------------------------------- programme


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


class PendingEvaluation(models.Model):
    """Accounts whose orders changed since their status was computed ("dirty")."""

    account_id = models.BigIntegerField(primary_key=True)
    since = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return str(self.account_id)


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


# --------------------------------------------------------------------------- points


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


# --------------------------------------------------------------------------- campaigns


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
