"""Forms of the programme pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from relatiebeheer.loyalty.forms import DATE, ServiceModelForm
from relatiebeheer.relations.models import Account, Contact
from relatiebeheer.web.forms import BootstrapMixin

from .models import Benefit, BonusBracket, CategoryRule, Programme, Reward, Tier


class RedeemForm(BootstrapMixin, forms.Form):
    programme = forms.ModelChoiceField(label=_("Programme"), queryset=Programme.objects.none())
    reward = forms.ModelChoiceField(
        label=_("Reward"), queryset=Reward.objects.none(), required=False
    )
    points = forms.IntegerField(label=_("or points"), min_value=1, max_value=10**12, required=False)
    key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=60)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["programme"].queryset = Programme.objects.filter(
            active=True, points_enabled=True
        )
        self.fields["reward"].queryset = Reward.objects.filter(
            active=True, programme__points_enabled=True
        )
        self.style_fields()

    def clean(self):
        data = super().clean()
        if not data.get("reward") and not data.get("points"):
            raise forms.ValidationError(_("Choose a reward or a number of points."))
        return data


class CardForm(BootstrapMixin, forms.Form):
    programme = forms.ModelChoiceField(label=_("Programme"), queryset=Programme.objects.none())
    contact = forms.ModelChoiceField(
        label=_("Card holder"), queryset=Contact.objects.none(), required=False
    )

    def __init__(self, *args, account: Account, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["programme"].queryset = Programme.objects.filter(active=True)
        self.fields["contact"].queryset = Contact.objects.filter(account=account)
        self.style_fields()


class ReasonForm(BootstrapMixin, forms.Form):
    reason = forms.CharField(label=_("Reason"), required=False, max_length=200)


class ProgrammeForm(ServiceModelForm):
    class Meta:
        model = Programme
        fields = [
            "code",
            "name",
            "description",
            "active",
            "starts_on",
            "level",
            "period",
            "grace_days",
            "bonus_enabled",
            "bonus_mode",
            "bonus_period",
            "bonus_max_rate",
            "bonus_max_amount",
            "points_enabled",
            "points_per_euro",
            "points_per_order",
            "points_expiry_months",
            "points_confirm_on",
            "point_value",
            "card_scheme",
            "card_prefix",
        ]
        widgets = {"starts_on": DATE, "description": forms.Textarea(attrs={"rows": 2})}


class TierForm(ServiceModelForm):
    benefit_kinds = forms.MultipleChoiceField(
        label=_("Entitlements"),
        choices=[c for c in Benefit.Kind.choices if c[0] != Benefit.Kind.OTHER],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    other_benefits = forms.CharField(
        label=_("Other entitlements (one per line)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    class Meta:
        model = Tier
        fields = ["name", "rank", "threshold"]

    def setup(self) -> None:
        if self.instance.pk:
            benefits = list(self.instance.benefits.all())
            self.fields["benefit_kinds"].initial = [
                b.kind for b in benefits if b.kind != Benefit.Kind.OTHER
            ]
            self.fields["other_benefits"].initial = "\n".join(
                b.description for b in benefits if b.kind == Benefit.Kind.OTHER
            )
        self.style_fields()

    def benefits(self) -> list[dict]:
        items = [
            {"kind": kind, "description": ""} for kind in self.cleaned_data.get("benefit_kinds", [])
        ]
        for line in (self.cleaned_data.get("other_benefits") or "").splitlines():
            if line.strip():
                items.append({"kind": Benefit.Kind.OTHER, "description": line.strip()[:200]})
        return items


class BracketForm(ServiceModelForm):
    class Meta:
        model = BonusBracket
        fields = ["lower_bound", "rate"]


class RuleForm(ServiceModelForm):
    class Meta:
        model = CategoryRule
        fields = ["category", "points_per_euro"]


class RewardForm(ServiceModelForm):
    class Meta:
        model = Reward
        fields = ["name", "points", "description", "active"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}
