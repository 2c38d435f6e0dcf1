"""Forms of the survey editor, the sending forms and the follow-up outcome."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from . import kinds
from .models import FollowUp, Survey, Tag

INPUT = {"class": "form-control form-control-sm"}
SELECT = {"class": "form-select form-select-sm"}


class SurveyForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Survey
        fields = ["name", "key", "title_nl", "title_en", "intro_nl", "intro_en", "active"]
        widgets = {
            "name": forms.TextInput(attrs=INPUT),
            "key": forms.TextInput(attrs=INPUT),
            "title_nl": forms.TextInput(attrs=INPUT),
            "title_en": forms.TextInput(attrs=INPUT),
            "intro_nl": forms.Textarea(attrs={**INPUT, "rows": 2}),
            "intro_en": forms.Textarea(attrs={**INPUT, "rows": 2}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["title_en"].required = False  # the Dutch title stands in


class QuestionForm(forms.Form):
    """One row of the editor. ``options`` holds single-choice options, one per line:
    ``label nl | label en | score 0–100 (optional) | unhappy (optional: "!")``."""

    id = forms.IntegerField(widget=forms.HiddenInput, required=False)
    position = forms.IntegerField(
        label=_("Order"), required=False, widget=forms.NumberInput(attrs={**INPUT, "min": 1})
    )
    kind = forms.ChoiceField(
        label=_("Type"),
        choices=lambda: [("", "—"), *kinds.choices()],
        required=False,
        widget=forms.Select(attrs=SELECT),
    )
    text_nl = forms.CharField(
        label=_("Question (Dutch)"), max_length=500, required=False, widget=forms.TextInput(INPUT)
    )
    text_en = forms.CharField(
        label=_("Question (English)"), max_length=500, required=False, widget=forms.TextInput(INPUT)
    )
    required = forms.BooleanField(label=_("Required"), required=False)
    tags = forms.MultipleChoiceField(
        label=_("Measures"),
        choices=Tag.choices,
        required=False,
        widget=forms.SelectMultiple(attrs={**SELECT, "size": 3}),
    )
    options = forms.CharField(
        label=_("Options (single choice)"),
        required=False,
        widget=forms.Textarea(attrs={**INPUT, "rows": 2}),
        help_text=_("One per line: label nl | label en | score 0–100 | ! for unhappy"),
    )
    yes_no_unhappy = forms.ChoiceField(
        label=_("Unhappy answer (yes/no)"),
        required=False,
        choices=[("", _("neither")), ("yes", _("yes")), ("no", _("no"))],
        widget=forms.Select(attrs=SELECT),
    )
    delete = forms.BooleanField(label=_("Remove"), required=False)

    def spec(self) -> dict | None:
        """The question as the service takes it; ``None`` for an empty or removed row."""
        data = self.cleaned_data
        if data.get("delete") or not (data.get("kind") and data.get("text_nl")):
            return None
        spec = {
            "kind": data["kind"],
            "text_nl": data["text_nl"],
            "text_en": data.get("text_en") or "",
            "required": bool(data.get("required")),
            "tags": data.get("tags") or [],
        }
        if data.get("id"):
            spec["id"] = data["id"]
        kind = kinds.get(data["kind"])
        if kind.has_options:
            spec["choices"] = parse_options(data.get("options") or "")
        if kind.has_unhappy_answer:
            spec["yes_no_unhappy"] = {"yes": True, "no": False}.get(data.get("yes_no_unhappy"))
        return spec


def parse_options(text: str) -> list[dict]:
    options = []
    for n, line in enumerate(text.splitlines(), start=1):
        parts = [p.strip() for p in line.split("|")]
        if not parts or not parts[0]:
            continue
        label_nl = parts[0]
        label_en = parts[1] if len(parts) > 1 and parts[1] else label_nl
        score = parts[2] if len(parts) > 2 and parts[2] not in ("", "!") else None
        unhappy = "!" in parts[2:]
        options.append(
            {
                "key": str(n),
                "label_nl": label_nl,
                "label_en": label_en,
                "score": score,
                "unhappy": unhappy,
            }
        )
    return options


def format_options(choices: list[dict]) -> str:
    lines = []
    for c in choices:
        parts = [c.get("label_nl", ""), c.get("label_en", "")]
        parts.append("" if c.get("score") is None else f"{c['score']:g}")
        if c.get("unhappy"):
            parts.append("!")
        lines.append(" | ".join(parts).rstrip(" |"))
    return "\n".join(lines)


class FollowUpCloseForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=FollowUp.Outcome.choices, widget=forms.RadioSelect
    )
    notes = forms.CharField(
        label=_("What was done"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={**INPUT, "rows": 3}),
    )
    send_check_back = forms.BooleanField(
        label=_("Send the contact a short check-back survey"), required=False
    )
