"""Forms of the binding pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from relatiebeheer.loyalty.forms import DATE, ServiceModelForm
from relatiebeheer.relations.models import Account, Contact
from relatiebeheer.web.forms import BootstrapMixin

from .models import BindingActivity, Event, IncentiveIdea, Wish


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


class RapportForm(BootstrapMixin, forms.Form):
    rapport = forms.TypedChoiceField(
        label=_("Is there rapport?"),
        choices=[("yes", _("yes")), ("no", _("no"))],
        coerce=lambda v: v == "yes",
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=300)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.style_fields()


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
