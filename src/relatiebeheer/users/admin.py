from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import ApiToken, User
from .services import token_revoke, user_saved_in_admin


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = [
        "username",
        "first_name",
        "last_name",
        "email",
        "role",
        "is_active",
        "last_login",
    ]
    list_filter = ["role", "is_active", "is_staff"]
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("Role in Relatiebeheer"), {"fields": ("role", "language")}),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        (
            _("Role in Relatiebeheer"),
            {"fields": ("role", "language", "first_name", "last_name", "email")},
        ),
    )

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate instead: their audit rows and accounts keep a name

    def save_model(self, request, obj, form, change):
        # Django's user forms set the password and permissions; the save and its audit
        # row go through the users service, in one transaction.
        user_saved_in_admin(
            actor=request.user, user=obj, fields=list(form.changed_data), created=not change
        )


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "hint", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    readonly_fields = ["hint", "created_at", "last_used_at"]
    fields = ["user", "name", "hint", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def has_add_permission(self, request):
        # Tokens are made with `relatiebeheer token create` (the raw token is shown once).
        return False

    def has_change_permission(self, request, obj=None):
        return False  # revoke with the action; nothing else about a token changes

    def has_delete_permission(self, request, obj=None):
        return False  # revoked tokens stay, so the audit log can name them

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request, queryset):
        for token in queryset.filter(revoked_at__isnull=True):
            token_revoke(actor=request.user, token=token)
