"""Who may change what in binding (the pages check it before a form is processed; the
services check it again)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from relatiebeheer.common.errors import PermissionRefused
from relatiebeheer.relations.rules import require_can_change
from relatiebeheer.users.access import sees_all_accounts
from relatiebeheer.users.models import User

from .models import Event


def require_event_editable(actor: User, event: Event) -> None:
    """Only the organiser or a sales manager changes an event."""
    require_can_change(actor)
    if event.organiser_id != actor.pk and not sees_all_accounts(actor):
        raise PermissionRefused(_("Only the organiser or a sales manager changes an event."))
