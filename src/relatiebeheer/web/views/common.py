"""Helpers shared by the web views."""

from __future__ import annotations

from django.contrib import messages
from django.utils.translation import gettext as _

from relatiebeheer.common.errors import InvalidInput, VersionConflict
from relatiebeheer.users.access import can_change_data


def add_service_errors(form, exc: InvalidInput) -> None:
    """Show a service's field errors on the form (unknown fields go to the top)."""
    for field, messages_ in exc.errors.items():
        target = field if field in form.fields else None
        for message in messages_:
            form.add_error(target, message)


def conflict_message(request, exc: VersionConflict) -> None:
    messages.error(
        request,
        _(
            "Someone else saved this record while you were editing it. Below are their "
            "values; your changes are shown next to them. Check and save again."
        ),
    )


def can_edit(request) -> bool:
    return can_change_data(request.user)


def conflict_rows(form, current) -> list[dict]:
    """Fields where the saved record differs from what this user submitted."""
    rows = []
    for name, value in form.cleaned_data.items():
        if name == "version" or name not in form.fields or not hasattr(current, name):
            continue
        saved = getattr(current, name)
        if saved != value and not (saved in (None, "") and value in (None, "")):
            rows.append({"label": form.fields[name].label, "theirs": saved, "yours": value})
    return rows
