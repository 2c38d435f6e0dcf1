from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from relatiebeheer.core.money import AmountError, parse_amount
from relatiebeheer.web.forms import BootstrapMixin


class AmountField(forms.CharField):
    """An amount in Dutch or English notation (9.500,00 / 9500.00); 9.500 is refused."""

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        try:
            return parse_amount(value)
        except AmountError as exc:
            if exc.code == "ambiguous":
                raise forms.ValidationError(
                    _(
                        "Is this %(value)s with a thousands separator or with decimals? Write 9.500,00 or 9500."
                    ),
                    params={"value": value},
                ) from exc
            raise forms.ValidationError(_("Enter an amount, e.g. 9.500,00 or 9500.")) from exc


class CalculatorForm(BootstrapMixin, forms.Form):
    order_value = AmountField(label=_("Average order value (€)"), initial="9.500,00")
    margin = forms.DecimalField(
        label=_("Profit margin (%)"), min_value=0, max_value=100, decimal_places=2, initial=15
    )
    orders = forms.IntegerField(
        label=_("Number of orders"), min_value=0, max_value=1_000_000, initial=6
    )
    years = forms.IntegerField(label=_("Period (years)"), min_value=1, max_value=100, initial=2)
    discount_rate = forms.DecimalField(
        label=_("Discount rate (% per year)"),
        min_value=0,
        max_value=100,
        decimal_places=2,
        required=False,
        initial=3,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.style_fields()

    def clean_order_value(self):
        value = self.cleaned_data["order_value"]
        if value is not None and value < 0:
            raise forms.ValidationError(_("The order value cannot be negative."))
        if value is not None and value != value.quantize(Decimal("0.01")):
            raise forms.ValidationError(_("Use whole cents."))
        return value
