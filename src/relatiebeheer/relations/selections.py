"""Writes to saved selections: a user's own named account filters.

A selection belongs to its owner and holds only filter parameters (applying it always
goes through ``Account.objects.visible_to``), so saving or deleting one changes no
account's data or figures (``accounts=False``); both are audited like any write.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from relatiebeheer.audit.services import audit_log
from relatiebeheer.common.errors import InvalidInput, NotFound
from relatiebeheer.common.writers import writer
from relatiebeheer.users.models import User

from .models import SavedSelection


@writer(accounts=False)
def selection_save(*, actor: User, name: str, filters: Mapping[str, Any]) -> SavedSelection:
    """Save ``filters`` under ``name``; a selection of the same name is replaced."""
    name = " ".join(str(name).split())
    if not name:
        raise InvalidInput({"name": [_("Give the selection a name.")]})
    with transaction.atomic():
        selection, created = SavedSelection.objects.update_or_create(
            owner=actor, name=name[:100], defaults={"filters": dict(filters)}
        )
        audit_log(
            actor=actor,
            action="selection.create" if created else "selection.update",
            obj=selection,
            fields=["filters"],
        )
    return selection


@writer(accounts=False)
def selection_delete(*, actor: User, selection_id: int) -> None:
    """Delete one of the actor's own selections (someone else's is "not found")."""
    with transaction.atomic():
        selection = SavedSelection.objects.filter(pk=selection_id, owner=actor).first()
        if selection is None:
            raise NotFound()
        audit_log(actor=actor, action="selection.delete", obj=selection)
        selection.delete()
