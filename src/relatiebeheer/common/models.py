"""Abstract bases shared by the domain models."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class VersionedModel(models.Model):
    """A record edited by people: ``version`` grows by one on every saved change.

    Services update with ``WHERE version = <the version the editor saw>``; zero rows
    updated means someone else saved first (see ``common.services.versioned_update``).
    """

    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True
