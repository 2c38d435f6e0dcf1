"""Writes to the organisation settings (one row).

The hourly cost of contact time, the default margin and the discount rate enter every
account's customer value and CLV, so a change to them fires the "accounts changed"
hook for every account (the metric refresh then recomputes the whole book, as one
pass); the company name and VAT rate change no figure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from relatiebeheer.audit.services import audit_log
from relatiebeheer.common.errors import PermissionRefused
from relatiebeheer.common.services import apply_changes, full_clean_or_raise, versioned_update
from relatiebeheer.common.writers import writer
from relatiebeheer.hooks import accounts_changed
from relatiebeheer.users.access import is_admin
from relatiebeheer.users.models import User

from .models import OrganisationSettings

SETTINGS_FIELDS = ("name", "hourly_cost", "default_margin", "discount_rate", "default_vat_rate")
FIGURE_FIELDS = {"hourly_cost", "default_margin", "discount_rate"}


@writer(version="version")
def organisation_settings_update(
    *, actor: User, version: int, data: Mapping[str, Any]
) -> OrganisationSettings:
    """Change the settings if nobody saved them since ``version``."""
    from relatiebeheer.relations.models import Account

    if not is_admin(actor):
        raise PermissionRefused(_("Only an administrator can change the organisation settings."))
    settings = OrganisationSettings.load()
    changed = apply_changes(settings, dict(data), SETTINGS_FIELDS)
    full_clean_or_raise(settings)
    with transaction.atomic():
        versioned_update(settings, expected_version=version, fields=changed)
        audit_log(actor=actor, action="organisation.update", obj=settings, fields=changed)
        touched = (
            Account.objects.values_list("pk", flat=True) if FIGURE_FIELDS & set(changed) else []
        )
        accounts_changed(touched)
    return settings
