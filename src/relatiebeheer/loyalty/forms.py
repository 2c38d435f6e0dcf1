"""What the loyalty forms share. The forms check the shape of the input; the services
decide."""

from __future__ import annotations

from django import forms
from django.utils.text import capfirst

from relatiebeheer.common.fields import MoneyField
from relatiebeheer.web.forms import BootstrapMixin

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
