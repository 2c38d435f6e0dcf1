"""Forms of the import wizard (shape only; the services decide the rest)."""

from __future__ import annotations

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from relatiebeheer.web.forms import BootstrapMixin

from .fields import KIND_LABELS, fields_for

NOTATIONS = [
    ("", _("Detect from the file")),
    ("nl", _("Dutch: 1.234,56")),
    ("en", _("English: 1,234.56")),
]
DATE_ORDERS = [
    ("", _("Detect from the file")),
    ("dmy", _("Day first: 05-11-2026 is 5 November")),
    ("mdy", _("Month first: 05-11-2026 is 11 May")),
]


class UploadForm(BootstrapMixin, forms.Form):
    kind = forms.ChoiceField(label=_("What does the file hold?"), choices=list(KIND_LABELS.items()))
    file = forms.FileField(label=_("CSV or Excel (XLSX) file"))
    preset = forms.ChoiceField(label=_("Column mapping"), required=False)

    def __init__(self, *args, presets=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["preset"].choices = [("", _("Detect from the column names")), *presets]
        self.style_fields()


class MappingForm(BootstrapMixin, forms.Form):
    """One select per field (which column fills it) plus the reading options."""

    notation = forms.ChoiceField(label=_("Amounts"), choices=NOTATIONS, required=False)
    date_order = forms.ChoiceField(label=_("Dates"), choices=DATE_ORDERS, required=False)
    partial = forms.BooleanField(
        label=_("Import the valid rows and let me download the rejected ones"), required=False
    )
    preset_name = forms.CharField(label=_("Save this mapping as"), max_length=100, required=False)

    def __init__(self, *args, job, **kwargs):
        super().__init__(*args, **kwargs)
        headers = job.file_info.get("headers", [])
        choices = [("", "—"), *[(h, h) for h in headers]]
        self.field_names = []
        for name, spec in fields_for(job.kind).items():
            key = f"map_{name}"
            label = format_lazy("{} *", spec.label) if spec.required else spec.label
            self.fields[key] = forms.ChoiceField(
                label=label, choices=choices, required=False, help_text=spec.help
            )
            self.fields[key].spec = spec
            self.field_names.append(key)
            if not self.is_bound:
                self.initial[key] = job.mapping.get(name, "")
        if not self.is_bound:
            for key in ("notation", "date_order", "partial"):
                self.initial[key] = job.options.get(key, "")
        self.style_fields()

    def mapping_fields(self):
        return [self[name] for name in self.field_names]

    def mapping(self) -> dict[str, str]:
        return {
            name.removeprefix("map_"): self.cleaned_data[name]
            for name in self.field_names
            if self.cleaned_data.get(name)
        }

    def options(self) -> dict:
        return {
            "notation": self.cleaned_data.get("notation") or None,
            "date_order": self.cleaned_data.get("date_order") or None,
            "partial": bool(self.cleaned_data.get("partial")),
        }
