from axes import admin as axes_admin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.models import Group

from relatiebeheer.common.admin import ReadOnlyAdmin
from relatiebeheer.users.services import login_unlock

from .models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor", "channel", "action", "object_type", "object_id", "account_id"]
    list_filter = ["channel", "action", "object_type"]
    search_fields = ["action", "object_id"]
    date_hierarchy = "at"


# Roles decide what a user may do (users/access.py); Django's groups are not used.
if admin.site.is_registered(Group):
    admin.site.unregister(Group)

# django-axes' login records: the logs are read-only; removing failed attempts (to lift a
# lockout) goes through users.services.login_unlock, which audits it.
for model in (AccessAttempt, AccessLog, AccessFailureLog):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


@admin.register(AccessAttempt)
class AccessAttemptAdmin(axes_admin.AccessAttemptAdmin):
    actions = ["delete_selected"]

    def has_change_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        login_unlock(actor=request.user, attempt_ids=[obj.pk])

    def delete_queryset(self, request, queryset):
        login_unlock(actor=request.user, attempt_ids=list(queryset.values_list("pk", flat=True)))


@admin.register(AccessLog)
class AccessLogAdmin(axes_admin.AccessLogAdmin, ReadOnlyAdmin):
    pass


@admin.register(AccessFailureLog)
class AccessFailureLogAdmin(axes_admin.AccessFailureLogAdmin, ReadOnlyAdmin):
    pass
