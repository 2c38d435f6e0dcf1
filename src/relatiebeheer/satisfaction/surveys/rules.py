"""Who builds surveys, and which fields a survey and a question take."""

from __future__ import annotations

from django.utils.translation import gettext as _

from relatiebeheer.common.errors import PermissionRefused
from relatiebeheer.users.access import can_manage_portfolios
from relatiebeheer.users.models import User

SURVEY_FIELDS = ("key", "name", "title_nl", "title_en", "intro_nl", "intro_en", "active")
QUESTION_FIELDS = (
    "kind",
    "text_nl",
    "text_en",
    "required",
    "tags",
    "choices",
    "yes_no_unhappy",
)


def require_survey_editor(actor: User) -> None:
    """Surveys are the organisation's: sales managers and administrators build them."""
    if not can_manage_portfolios(actor):
        raise PermissionRefused(_("Only a sales manager or an administrator edits surveys."))
