"""Forms of the campaign wizard."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from relatiebeheer.loyalty.forms import DATE, ServiceModelForm
from relatiebeheer.loyalty.programme.models import Tier
from relatiebeheer.relations.models import Account

from .models import Campaign
from .rules import TARGETABLE_SEGMENTS


class CampaignGoalForm(ServiceModelForm):
    class Meta:
        model = Campaign
        fields = ["name", "goal", "goal_metric", "goal_lift", "starts_on", "ends_on"]
        widgets = {"starts_on": DATE, "ends_on": DATE}


class CampaignTargetForm(ServiceModelForm):
    segments = forms.MultipleChoiceField(
        label=_("Segments"),
        choices=TARGETABLE_SEGMENTS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Campaign
        fields = [
            "selection",
            "segments",
            "tier",
            "value_field",
            "value_min",
            "value_max",
            "account",
            "control_fraction",
        ]

    def __init__(self, *args, actor, **kwargs):
        self.actor = actor
        super().__init__(*args, **kwargs)

    def setup(self) -> None:
        actor = self.actor
        self.fields["tier"].queryset = Tier.objects.select_related("programme").order_by(
            "programme__name", "rank"
        )
        self.fields["account"].queryset = (
            Account.objects.visible_to(actor).filter(archived=False).order_by("name")
        )
        self.style_fields()


class CampaignIncentiveForm(ServiceModelForm):
    class Meta:
        model = Campaign
        fields = [
            "incentive",
            "incentive_rate",
            "gift",
            "gift_value",
            "programme",
            "benefits",
            "budget",
            "fixed_cost",
            "mail_subject",
            "mail_text",
        ]
        widgets = {
            "benefits": forms.Textarea(attrs={"rows": 3}),
            "mail_text": forms.Textarea(attrs={"rows": 5}),
        }
