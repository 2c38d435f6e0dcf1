"""Admin for the satisfaction settings (saved through the settings service: audited and
versioned) and read-only views of surveys and follow-ups, which are built and closed on
their own pages (audited, versioned, with their rules)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from relatiebeheer.common.admin import ServiceAdmin, ServiceForm
from relatiebeheer.relations.models import Interaction

from .models import FollowUp, Question, SatisfactionSettings, Survey
from .surveys.services import settings_update


class SettingsForm(ServiceForm):
    """The settings, with the kinds of contact moment as choices (and, from ServiceForm,
    the version the administrator saw)."""

    auto_send_kinds = forms.MultipleChoiceField(
        choices=Interaction.Kind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("kinds of contact moment that lead to an invitation"),
    )

    class Meta:
        model = SatisfactionSettings
        exclude: list[str] = []


@admin.register(SatisfactionSettings)
class SatisfactionSettingsAdmin(ServiceAdmin):
    form = SettingsForm
    fieldsets = [
        (
            _("Sending invitations"),
            {
                "fields": [
                    "throttle_contact_days",
                    "throttle_account_days",
                    "auto_send",
                    "auto_send_days",
                    "auto_send_kinds",
                    "auto_survey",
                    "reminder_days",
                    "token_expiry_days",
                ]
            },
        ),
        (
            _("Closing the loop"),
            {
                "fields": [
                    "four_point_unhappy_at_most",
                    "csat_unhappy_at_most",
                    "nps_unhappy_at_most",
                    "grade_unhappy_below",
                    "unhappy_account_below",
                    "followup_due_working_days",
                    "check_back_survey",
                ]
            },
        ),
        (
            _("Answer pages"),
            {"fields": ["rate_limit_per_token", "rate_limit_failures_per_address", "seen_version"]},
        ),
    ]

    def has_add_permission(self, request: Any) -> bool:
        return False  # one row, made with its defaults when first read

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def changelist_view(self, request: Any, extra_context: Any = None) -> Any:
        from django.shortcuts import redirect

        config = SatisfactionSettings.load()
        return redirect("admin:satisfaction_satisfactionsettings_change", config.pk)

    def service_update(self, actor: Any, obj: Any, version: int, data: dict[str, Any]) -> Any:
        return settings_update(actor=actor, version=version, data=data)


class QuestionInline(admin.TabularInline):
    model = Question
    extra = 0
    fields = ["position", "kind", "text_nl", "text_en", "required", "tags_text", "archived"]
    readonly_fields = fields

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Survey)
class SurveyAdmin(admin.ModelAdmin):
    """Read-only: surveys are built on the survey pages and through the API (audited,
    versioned, answered questions keep their type)."""

    list_display = ["name", "key", "active"]
    inlines = [QuestionInline]

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(FollowUp)
class FollowUpAdmin(admin.ModelAdmin):
    """Read-only: a follow-up is closed on its page, which records the outcome and
    closes its task."""

    list_display = ["account", "due_date", "assignee", "outcome", "closed_at"]
    list_filter = ["outcome"]

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False
