"""Model fields for money: integer cents in the database, ``Decimal`` euros in Python."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from relatiebeheer.core.money import AmountError, from_cents, to_cents


class MoneyField(models.BigIntegerField):
    """Euros as integer cents (exact sums in every database, fast aggregates).

    The attribute is a ``Decimal`` with two decimals; the column holds cents, so name
    columns ``<name>_cents`` with ``db_column`` to make that plain to SQL readers.
    ``Sum()`` over this field comes back as ``Decimal`` euros as well.
    """

    description = _("Amount in euros, stored as cents")

    def from_db_value(self, value, expression, connection):
        return None if value is None else from_cents(value)

    def to_python(self, value):
        if value is None or isinstance(value, Decimal):
            return value
        try:
            return Decimal(str(value))
        except ArithmeticError as exc:
            raise ValidationError(_("Enter an amount."), code="invalid") from exc

    def get_prep_value(self, value):
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            # Integers are euros, like every other value handed to this field.
            value = Decimal(value)
        try:
            return to_cents(value)
        except AmountError as exc:
            raise ValidationError(
                _("Amounts have at most two decimals (whole cents)."), code="cents"
            ) from exc

    def formfield(self, **kwargs):
        from django import forms

        return forms.DecimalField(max_digits=15, decimal_places=2, **kwargs)

    def validate(self, value, model_instance):
        super().validate(value, model_instance)
        if value is not None:
            self.get_prep_value(value)

    def run_validators(self, value):
        # BigIntegerField's range validators compare against cents, not euros.
        if value is None:
            return
        cents = self.get_prep_value(value)
        if not (-(2**63) <= cents < 2**63):
            raise ValidationError(_("Amount out of range."), code="range")
