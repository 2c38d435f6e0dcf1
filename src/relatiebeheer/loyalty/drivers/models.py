"""The inputs of the loyalty drivers (competitor notes, trust judgements), the index
settings and the stored scorecards."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from relatiebeheer.common.models import VersionedModel
from relatiebeheer.relations.models import VisibleQuerySet


class Driver(models.TextChoices):
    """The four loyalty drivers (the keys of scorecards, weights and stored columns)."""

    TRUST = "trust", _("Trust")
    SATISFACTION = "satisfaction", _("Satisfaction")
    ALTERNATIVES = "alternatives", _("Quality of the alternatives")
    INVESTMENT = "investment", _("Investment in the relationship")


DRIVERS: tuple[str, ...] = tuple(Driver.values)


class Source(models.TextChoices):
    """Where a driver's readings come from (``survey`` and ``contact_moment`` are the
    sources ``satisfaction.selectors.account_scores`` names)."""

    SURVEY = "survey", _("surveys")
    CONTACT_MOMENT = "contact_moment", _("contact moments")
    JUDGEMENT = "judgement", _("account manager's judgement")
    PRICE = "price", _("price")
    QUALITY = "quality", _("quality")
    SERVICE = "service", _("service")
    BINDING = "binding", _("binding levels with activity")
    COSTS = "costs", _("costs against the 12-month profit")


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
    # cannot overwrite each other (see drivers.services.settings_update).
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    # The version the stored scorecards were last all computed with (a full refresh sets
    # it); while it lags behind ``version`` the stored index waits for a refresh.
    scored_version = models.PositiveIntegerField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("loyalty settings")
        verbose_name_plural = _("loyalty settings")
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="loyalty_settings_one")]

    def __str__(self) -> str:
        return "loyalty settings"

    @classmethod
    def load(cls) -> LoyaltySettings:
        """The one row; made with the defaults the first time it is read (not a change
        anybody made, so no writer is involved)."""
        from relatiebeheer.common.writers import derived_writes

        obj = cls.objects.filter(pk=1).first()
        if obj is None:
            with derived_writes():
                obj, _created = cls.objects.get_or_create(pk=1)
        return obj

    @property
    def refresh_pending(self) -> bool:
        """The weights or the norm changed and the scorecards are not yet all refreshed."""
        return self.scored_version is not None and self.scored_version != self.version

    @property
    def weights(self) -> dict[str, int]:
        return {
            Driver.TRUST.value: self.weight_trust,
            Driver.SATISFACTION.value: self.weight_satisfaction,
            Driver.ALTERNATIVES.value: self.weight_alternatives,
            Driver.INVESTMENT.value: self.weight_investment,
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
