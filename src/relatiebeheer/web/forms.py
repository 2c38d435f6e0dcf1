"""Forms for the web UI. They validate input shape; the services decide the rest."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from relatiebeheer.relations.models import Account, BuyingGroup, Contact, Interaction, Satisfaction
from relatiebeheer.users.models import Role, User


class BootstrapMixin:
    """Gives every widget Bootstrap's classes (and ``is-invalid`` when it has errors)."""

    def style_fields(self) -> None:
        for name, field in self.fields.items():
            widget = field.widget
            if isinstance(
                widget, (forms.RadioSelect, forms.CheckboxSelectMultiple, forms.CheckboxInput)
            ):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            if self.is_bound and name in self.errors:
                css += " is-invalid"
            widget.attrs["class"] = css

    def full_clean(self):
        super().full_clean()
        self.style_fields()


class VersionedForm(forms.Form):
    """Carries the version the user saw, so a concurrent save becomes a conflict."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


def manager_choices():
    return User.objects.filter(
        is_active=True, role__in=[Role.ACCOUNT_MANAGER, Role.SALES_MANAGER]
    ).order_by("first_name", "last_name", "username")


class AccountForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = Account
        fields = [
            "name",
            "status",
            "manager",
            "kvk_number",
            "vat_number",
            "industry",
            "street",
            "postal_code",
            "city",
            "country",
            "website",
            "parent",
            "buying_group",
            "customer_since",
            "margin",
            "notes",
        ]
        widgets = {
            "customer_since": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    website = forms.URLField(
        label=_("website"), required=False, assume_scheme="https", max_length=200
    )

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["manager"].queryset = manager_choices()
        self.fields["parent"].queryset = (
            Account.objects.visible_to(actor).only("id", "name").order_by("name")
        )
        self.fields["parent"].widget = forms.NumberInput(attrs={"placeholder": _("account number")})
        self.fields["parent"].help_text = _(
            "Number of the head office account, if this is a branch."
        )
        self.fields["buying_group"].queryset = BuyingGroup.objects.all()
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version
        self.style_fields()

    def _post_clean(self):
        # The services validate the model (with the actor's rules); skip ModelForm's copy.
        pass

    def changes(self) -> dict:
        return {
            name: self.cleaned_data[name] for name in self.Meta.fields if name in self.cleaned_data
        }


class ContactForm(BootstrapMixin, forms.ModelForm):
    interests = forms.CharField(
        label=_("Interests"),
        required=False,
        help_text=_("Separate with commas, e.g. golf, tennis, wine."),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Contact
        fields = ["first_name", "last_name", "role", "email", "phone", "language", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version
            self.fields["interests"].initial = ", ".join(
                i.name for i in self.instance.interests.all()
            )
        self.style_fields()

    def _post_clean(self):
        pass

    def changes(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}

    def interest_names(self) -> list[str]:
        return [
            part.strip()
            for part in self.cleaned_data.get("interests", "").split(",")
            if part.strip()
        ]


class InteractionForm(BootstrapMixin, forms.Form):
    """Logging a contact moment in a few clicks: channel, kind, subject, reading."""

    channel = forms.ChoiceField(
        label=_("Channel"), choices=Interaction.Channel.choices, initial="phone"
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=Interaction.Kind.choices, initial="question")
    direction = forms.ChoiceField(
        label=_("Direction"),
        choices=Interaction.Direction.choices,
        initial="outbound",
        required=False,
    )
    subject = forms.CharField(label=_("Subject"), max_length=200)
    satisfaction = forms.TypedChoiceField(
        label=_("How satisfied did the customer seem?"),
        choices=[("", _("not noted")), *Satisfaction.choices],
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
    )
    occurred_at = forms.DateTimeField(
        label=_("When"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    duration_minutes = forms.IntegerField(
        label=_("Minutes"), min_value=0, max_value=24 * 60, initial=10
    )
    contacts = forms.ModelMultipleChoiceField(
        label=_("With"),
        queryset=Contact.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, account, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contacts"].queryset = account.contacts.all()
        self.style_fields()

    def data_for_service(self) -> dict:
        data = {k: v for k, v in self.cleaned_data.items() if k != "contacts"}
        data["occurred_at"] = data.get("occurred_at") or timezone.now()
        data["direction"] = data.get("direction") or "outbound"
        return data


class TaskForm(BootstrapMixin, forms.Form):
    title = forms.CharField(label=_("Task"), max_length=200)
    due_date = forms.DateField(
        label=_("Due date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    assignee = forms.ModelChoiceField(
        label=_("Assigned to"), queryset=User.objects.none(), required=False
    )
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, account, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = manager_choices()
        self.fields["assignee"].initial = account.manager_id
        self.style_fields()


class SelectionForm(forms.Form):
    name = forms.CharField(label=_("Name of this selection"), max_length=100)


class TaskDoneForm(VersionedForm):
    done = forms.BooleanField(required=False)


__all__ = [
    "AccountForm",
    "ContactForm",
    "InteractionForm",
    "SelectionForm",
    "TaskDoneForm",
    "TaskForm",
]
