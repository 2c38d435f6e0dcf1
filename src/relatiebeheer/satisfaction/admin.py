from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import FollowUp, Question, SatisfactionSettings, Survey


@admin.register(SatisfactionSettings)
class SatisfactionSettingsAdmin(admin.ModelAdmin):
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
            {"fields": ["rate_limit_per_token", "rate_limit_failures_per_address"]},
        ),
    ]

    def has_add_permission(self, request):
        return not SatisfactionSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)

        from django import forms

        from relatiebeheer.relations.models import Interaction

        class Form(form):
            auto_send_kinds = forms.MultipleChoiceField(
                choices=Interaction.Kind.choices,
                required=False,
                widget=forms.CheckboxSelectMultiple,
                label=form.base_fields["auto_send_kinds"].label,
            )

        return Form


class QuestionInline(admin.TabularInline):
    model = Question
    extra = 0
    fields = ["position", "kind", "text_nl", "text_en", "required", "tags_text", "archived"]
    readonly_fields = ["kind"]


@admin.register(Survey)
class SurveyAdmin(admin.ModelAdmin):
    """Read-mostly: surveys are built on the survey pages (audited, versioned)."""

    list_display = ["name", "key", "active"]
    inlines = [QuestionInline]

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(FollowUp)
class FollowUpAdmin(admin.ModelAdmin):
    list_display = ["account", "due_date", "assignee", "outcome", "closed_at"]
    list_filter = ["outcome"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
