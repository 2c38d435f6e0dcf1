"""Forms of the loyalty pages. They check the shape of the input; the services decide."""

from __future__ import annotations

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from relatiebeheer.common.fields import MoneyField
from relatiebeheer.relations.models import Account, Contact
from relatiebeheer.value.labels import SEGMENT_CHOICES
from relatiebeheer.web.forms import BootstrapMixin

from .models import (
    Benefit,
    BindingActivity,
    BonusBracket,
    Campaign,
    CategoryRule,
    Comparison,
    CompetitorNote,
    Event,
    IncentiveIdea,
    Invitation,
    LoyaltySettings,
    Programme,
    Reward,
    Tier,
    TrustLevel,
    Wish,
)

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ServiceModelForm(BootstrapMixin, forms.ModelForm):
    """A model form whose model validation is left to the service."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # common.fields.MoneyField.formfield() leaves out the model field's label, help
        # text and blank=True; put them back.
        for name, field in self.fields.items():
            try:
                model_field = self._meta.model._meta.get_field(name)
            except Exception:  # noqa: S112 - a form-only field
                continue
            if isinstance(model_field, MoneyField):
                field.label = capfirst(model_field.verbose_name)
                field.help_text = model_field.help_text
                field.required = not model_field.blank
        self.setup()
        # Styling reads the errors, which cleans a bound form: so after every field change.
        self.style_fields()

    def setup(self) -> None:
        """Adjust the fields (querysets, choices) before the form is styled and cleaned."""

    def _post_clean(self):
        pass

    def changes(self) -> dict:
        return {
            name: self.cleaned_data[name] for name in self.Meta.fields if name in self.cleaned_data
        }


class BindingForm(ServiceModelForm):
    channel = forms.ChoiceField(
        label=_("Logged as"),
        required=False,
        choices=[
            ("", _("automatic")),
            ("phone", _("Phone")),
            ("visit", _("Visit")),
            ("email", _("Email")),
            ("event", _("Event")),
        ],
    )

    class Meta:
        model = BindingActivity
        fields = [
            "level",
            "kind",
            "title",
            "status",
            "planned_on",
            "done_on",
            "contact",
            "cost",
            "notes",
        ]
        widgets = {"planned_on": DATE, "done_on": DATE, "notes": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, account: Account, **kwargs):
        self.account = account
        super().__init__(*args, **kwargs)

    def setup(self) -> None:
        self.fields["contact"].queryset = Contact.objects.filter(account=self.account).order_by(
            "last_name", "first_name"
        )
        self.fields["level"].required = False
        self.fields["status"].choices = (
            [c for c in BindingActivity.Status.choices if c[0] != BindingActivity.Status.CANCELLED]
            if not self.instance.pk
            else BindingActivity.Status.choices
        )
        self.fields["interest_name"] = forms.CharField(
            label=_("Matched interest"), required=False, max_length=60
        )
        if self.instance.pk and self.instance.interest_id:
            self.fields["interest_name"].initial = self.instance.interest.name

    def changes(self) -> dict:
        data = super().changes()
        if not data.get("level"):
            data.pop("level", None)
        return data


class WishForm(ServiceModelForm):
    class Meta:
        model = Wish
        fields = ["aspect", "wish", "how_we_meet", "status", "level"]
        widgets = {"how_we_meet": forms.Textarea(attrs={"rows": 2})}


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


class KlikForm(BootstrapMixin, forms.Form):
    klik = forms.TypedChoiceField(
        label=_("Is there a klik?"),
        choices=[("yes", _("yes")), ("no", _("no"))],
        coerce=lambda v: v == "yes",
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=300)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.style_fields()


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


class EventForm(ServiceModelForm):
    interest_name = forms.CharField(
        label=_("Appeals to the interest"), required=False, max_length=60
    )

    class Meta:
        model = Event
        fields = [
            "name",
            "starts_at",
            "location",
            "description",
            "capacity",
            "cost_per_guest",
            "shared",
        ]
        widgets = {
            "starts_at": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
            "description": forms.Textarea(attrs={"rows": 3}),
        }

    def setup(self) -> None:
        if self.instance.pk and self.instance.interest_id:
            self.fields["interest_name"].initial = self.instance.interest.name

    def changes(self) -> dict:
        data = super().changes()
        data["interest"] = self.cleaned_data.get("interest_name") or None
        return data


class InviteForm(BootstrapMixin, forms.Form):
    contacts = forms.ModelMultipleChoiceField(
        label=_("Contacts"), queryset=Contact.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    mail = forms.BooleanField(
        label=_("Send the invitation by mail (where consent allows)"), required=False, initial=True
    )

    def __init__(self, *args, contacts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contacts"].queryset = contacts
        self.style_fields()


class RsvpForm(BootstrapMixin, forms.Form):
    status = forms.ChoiceField(label=_("Answer"), choices=Invitation.Status.choices)
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class CampaignGoalForm(ServiceModelForm):
    class Meta:
        model = Campaign
        fields = ["name", "goal", "goal_metric", "goal_lift", "starts_on", "ends_on"]
        widgets = {"starts_on": DATE, "ends_on": DATE}


class CampaignTargetForm(ServiceModelForm):
    segments = forms.MultipleChoiceField(
        label=_("Segments"),
        choices=[c for c in SEGMENT_CHOICES if c[0] != "no_orders"],
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
            self.fields["benefit_kinds"].initial = [b.kind for b in benefits if b.kind != "other"]
            self.fields["other_benefits"].initial = "\n".join(
                b.description for b in benefits if b.kind == "other"
            )
        self.style_fields()

    def benefits(self) -> list[dict]:
        items = [
            {"kind": kind, "description": ""} for kind in self.cleaned_data.get("benefit_kinds", [])
        ]
        for line in (self.cleaned_data.get("other_benefits") or "").splitlines():
            if line.strip():
                items.append({"kind": "other", "description": line.strip()[:200]})
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


class IdeaForm(ServiceModelForm):
    interest_name = forms.CharField(label=_("Interest"), max_length=60)

    class Meta:
        model = IncentiveIdea
        fields = ["name", "typical_cost", "active"]

    def setup(self) -> None:
        if self.instance.pk:
            self.fields["interest_name"].initial = self.instance.interest.name

    def changes(self) -> dict:
        data = super().changes()
        data["interest"] = self.cleaned_data.get("interest_name")
        return data
