"""Settings of the installation that users change in the admin (one row)."""

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from relatiebeheer.common.fields import MoneyField


class OrganisationSettings(models.Model):
    """The company using Relatiebeheer. There is exactly one row (``pk=1``)."""

    name = models.CharField(_("company name"), max_length=200, default="Mijn bedrijf")
    hourly_cost = MoneyField(
        _("hourly cost of contact time"),
        db_column="hourly_cost_cents",
        default=Decimal("60.00"),
        help_text=_("Contact moments count as cost to serve at this rate (excl. VAT)."),
    )
    default_margin = models.DecimalField(
        _("default profit margin (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("30.00"),
        help_text=_(
            "Used for the CLV (W = average order value × margin) when an account has no margin of its own."
        ),
    )
    discount_rate = models.DecimalField(
        _("discount rate (% per year)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("3.00"),
        help_text=_("Inflation or cost of capital, for present values and the predicted CLV."),
    )
    default_vat_rate = models.DecimalField(
        _("default VAT rate (%)"), max_digits=5, decimal_places=2, default=Decimal("21.00")
    )
    # Grows with every saved change (services.organisation_settings_update checks it).
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    class Meta:
        verbose_name = _("organisation settings")
        verbose_name_plural = _("organisation settings")
        constraints = [
            models.CheckConstraint(condition=models.Q(pk=1), name="organisation_single_row")
        ]

    def __str__(self) -> str:
        return str(self.name)

    @classmethod
    def load(cls) -> "OrganisationSettings":
        """The one row; made with the defaults the first time it is read (not a change
        anybody made, so no writer is involved)."""
        from relatiebeheer.common.writers import derived_writes

        obj = cls.objects.filter(pk=1).first()
        if obj is None:
            with derived_writes():
                obj, _created = cls.objects.get_or_create(pk=1)
        return obj
