"""Forms of the drivers pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from relatiebeheer.loyalty.forms import DATE, ServiceModelForm
from relatiebeheer.web.forms import BootstrapMixin

from .models import Comparison, CompetitorNote, LoyaltySettings, TrustLevel


class CompetitorNoteForm(ServiceModelForm):
    class Meta:
        model = CompetitorNote
        fields = ["competitor", "share", "price", "quality", "service", "noted_on", "notes"]
        widgets = {"noted_on": DATE, "notes": forms.Textarea(attrs={"rows": 2})}

    def setup(self) -> None:
        for name in ("price", "quality", "service"):
            self.fields[name] = forms.TypedChoiceField(
                label=self.fields[name].label,
                choices=[("", "–"), *Comparison.choices],
                coerce=int,
                empty_value=None,
                required=False,
            )


class TrustForm(BootstrapMixin, forms.Form):
    trust = forms.TypedChoiceField(label=_("Trust"), choices=TrustLevel.choices, coerce=int)
    note = forms.CharField(label=_("Note"), required=False, max_length=300)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.style_fields()


class SettingsForm(ServiceModelForm):
    class Meta:
        model = LoyaltySettings
        fields = [
            "weight_trust",
            "weight_satisfaction",
            "weight_alternatives",
            "weight_investment",
            "falling_points",
            "falling_days",
            "gap_months",
            "investment_norm",
        ]
