"""Admin pages that write through the domain services, never around them.

The Django admin is for configuration and support. Where it shows customer data, a
save or delete calls the same service as the web app, the API, imports and the CLI —
so an admin edit is audited, checked against the version the user saw, locked where a
rule spans rows, and fires the "accounts changed" hook like any other.

:class:`ServiceAdmin` carries the version the user saw in a hidden form field
(``seen_version``); a save or delete after someone else's change is refused with a
message, and nothing is written. A refusal by the service (an invalid value, a rule
that spans rows, a permission) is shown as a message too, never as a server error.
Records for which no service fits are shown read-only (:class:`ReadOnlyAdmin`).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.translation import gettext as _

from .errors import DomainError, InvalidInput, VersionConflict


def _error_text(exc: DomainError) -> str:
    if isinstance(exc, VersionConflict):
        return _(
            "Someone else changed this record after you opened it; nothing was saved. "
            "The page now shows the record as it is."
        )
    if isinstance(exc, InvalidInput):
        parts = []
        for field, problems in exc.errors.items():
            label = "" if field == "__all__" else f"{field}: "
            parts.append(label + " ".join(str(p) for p in problems))
        return " ".join(parts) or str(exc.detail)
    return str(exc.detail)


class ServiceForm(forms.ModelForm):
    """The admin form with the version of the record as the user opened it."""

    seen_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.initial.setdefault("seen_version", getattr(self.instance, "version", None))

    def clean(self) -> dict[str, Any]:
        """Someone else's save since the form was opened is shown on the form, with the
        user's input kept (the service checks again under its lock when saving)."""
        data = super().clean() or {}
        seen = data.get("seen_version")
        model = type(self.instance)
        if seen is not None and self.instance.pk is not None:
            current = (
                model._base_manager.filter(pk=self.instance.pk)
                .values_list("version", flat=True)
                .first()
            )
            if current is not None and current != seen:
                raise forms.ValidationError(
                    _(
                        "Someone else changed this record after you opened it; nothing was "
                        "saved. Reload the page to see their change, then make yours again."
                    ),
                    code="version_conflict",
                )
        return data


class ServiceAdmin(admin.ModelAdmin):
    """A ModelAdmin whose add, change and delete call domain services.

    Subclasses implement :meth:`service_create`, :meth:`service_update` and
    :meth:`service_delete` (each receives the acting user); many-to-many fields the
    service sets itself are listed in ``service_m2m`` so the admin does not save them a
    second time around the service.
    """

    form = ServiceForm
    service_m2m: tuple[str, ...] = ()

    # --- to implement --------------------------------------------------------------------

    def service_create(self, actor: Any, data: dict[str, Any]) -> models.Model:
        raise NotImplementedError

    def service_update(
        self, actor: Any, obj: models.Model, version: int, data: dict[str, Any]
    ) -> models.Model:
        raise NotImplementedError

    def service_delete(self, actor: Any, obj: models.Model, version: int | None) -> None:
        raise NotImplementedError

    # --- the form carries the version the user saw (ServiceForm.seen_version) ---------

    def get_fieldsets(self, request: HttpRequest, obj: Any = None):
        fieldsets = super().get_fieldsets(request, obj)
        if any("seen_version" in opts.get("fields", ()) for _name, opts in fieldsets):
            return fieldsets
        first_name, first = fieldsets[0]
        return [
            (first_name, {**first, "fields": [*first["fields"], "seen_version"]}),
            *fieldsets[1:],
        ]

    # --- saves and deletes ----------------------------------------------------------------

    def _data(self, form: forms.ModelForm, *, change: bool) -> dict[str, Any]:
        names = form.changed_data if change else list(form.cleaned_data)
        return {
            name: form.cleaned_data[name]
            for name in names
            if name != "seen_version" and name in form.cleaned_data
        }

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        data = self._data(form, change=change)
        if change:
            current = type(obj)._base_manager.get(pk=obj.pk)
            seen = form.cleaned_data.get("seen_version")
            version = getattr(current, "version", None) if seen is None else seen
            saved = self.service_update(request.user, current, version, data)
        else:
            saved = self.service_create(request.user, data)
        obj.pk = saved.pk
        obj.refresh_from_db()

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # The service has set the many-to-many fields it owns; only the rest is saved here.
        for name in self.service_m2m:
            form.cleaned_data.pop(name, None)
        super().save_related(request, form, formsets, change)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        self.service_delete(request.user, obj, getattr(obj, "version", None))

    def delete_queryset(self, request: HttpRequest, queryset: models.QuerySet[Any]) -> None:
        for obj in queryset:
            self.service_delete(request.user, obj, None)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as exc:
            messages.error(request, _error_text(exc))
            return HttpResponseRedirect(request.get_full_path())

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except DomainError as exc:
            messages.error(request, _error_text(exc))
            return HttpResponseRedirect(request.get_full_path())

    def changelist_view(self, request, extra_context=None) -> HttpResponse:
        try:
            return super().changelist_view(request, extra_context)
        except DomainError as exc:  # the "delete selected" action
            messages.error(request, _error_text(exc))
            return HttpResponseRedirect(request.get_full_path())


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown for support, changed only through the app (its services)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
