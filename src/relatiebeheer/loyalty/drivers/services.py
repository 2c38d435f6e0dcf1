"""Writes to the loyalty drivers' inputs and settings: competitor notes, trust judgements,
the index weights and thresholds.

Every public function is a declared writer. Competitor notes and trust judgements are
data the drivers of an account are computed from: their writers fire the "accounts
changed" hook, whose listener refreshes the account's stored scorecard (and until then
the pages say a refresh is pending). The settings are configuration
(``accounts=False``): a change of weights or norm alters every account's index, so after
the commit every scorecard is refreshed in the background and, until that refresh has
finished, every page showing the index says so (``LoyaltySettings.refresh_pending``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from relatiebeheer.audit.services import audit_log
from relatiebeheer.common import writers
from relatiebeheer.common.errors import InvalidInput, VersionConflict
from relatiebeheer.common.services import apply_changes, full_clean_or_raise, versioned_delete
from relatiebeheer.common.writers import writer
from relatiebeheer.hooks import accounts_changed
from relatiebeheer.loyalty.permissions import require_can_configure
from relatiebeheer.relations.models import Account
from relatiebeheer.relations.rules import require_account_writable
from relatiebeheer.users.models import User

from .models import CompetitorNote, LoyaltySettings, TrustJudgement

NOTE_FIELDS = ("competitor", "share", "price", "quality", "service", "notes", "noted_on")
SETTINGS_FIELDS = (
    "weight_trust",
    "weight_satisfaction",
    "weight_alternatives",
    "weight_investment",
    "falling_points",
    "falling_days",
    "gap_months",
    "investment_norm",
)
# The settings the loyalty index is computed with (the others only flag falls and gaps).
INDEX_INPUTS = {
    "weight_trust",
    "weight_satisfaction",
    "weight_alternatives",
    "weight_investment",
    "investment_norm",
}


@writer()
def competitor_note_create(
    *, actor: User, account: Account, data: Mapping[str, Any]
) -> CompetitorNote:
    """Note a competitor the account also buys from and how we compare with it."""
    require_account_writable(actor, account)
    note = CompetitorNote(account=account)
    data = dict(data)
    if isinstance(data.get("competitor"), str):
        data["competitor"] = " ".join(data["competitor"].split())
    if data.get("noted_on") is None:
        data.pop("noted_on", None)
    changed = apply_changes(note, data, NOTE_FIELDS)
    full_clean_or_raise(note)
    if note.price is None and note.quality is None and note.service is None:
        raise InvalidInput({"price": [_("Compare at least one of price, quality and service.")]})
    with transaction.atomic():
        note.save()
        audit_log(actor=actor, action="competitor_note.create", obj=note, fields=changed)
        accounts_changed([account.pk])
    return note


@writer(version="version")
def competitor_note_delete(
    *, actor: User, note: CompetitorNote, version: int | None = None
) -> None:
    """Remove a competitor note; given ``version``, only as it was then."""
    require_account_writable(actor, note.account)
    with transaction.atomic():
        audit_log(actor=actor, action="competitor_note.delete", obj=note)
        versioned_delete(note, expected_version=version)
        accounts_changed([note.account_id])


@writer()
def trust_judge(
    *,
    actor: User,
    account: Account,
    trust: int,
    note: str = "",
    judged_on: date | None = None,
) -> TrustJudgement:
    """The account manager's judgement of the account's trust (appended; latest counts)."""
    require_account_writable(actor, account)
    judgement = TrustJudgement(
        account=account,
        trust=trust,
        note=note or "",
        judged_on=judged_on or timezone.localdate(),
        judged_by=actor if actor.is_authenticated else None,
    )
    full_clean_or_raise(judgement, exclude=["judged_by"])
    with transaction.atomic():
        judgement.save()
        audit_log(actor=actor, action="trust.judge", obj=judgement, fields=["trust"])
        accounts_changed([account.pk])
    return judgement


def _refresh_scorecards_after_commit() -> None:
    from relatiebeheer.loyalty.tasks import store_all_scorecards

    transaction.on_commit(lambda: store_all_scorecards.enqueue())


@writer(accounts=False, version="version", locks=("loyalty.loyaltysettings",))
def settings_update(
    *, actor: User, data: Mapping[str, Any], version: int | None = None
) -> LoyaltySettings:
    """Change the index weights and the thresholds (sales managers and administrators).

    ``version`` is the settings' version the editor saw; when given and someone saved in
    between, nothing is written and :class:`VersionConflict` carries the saved settings.
    """
    require_can_configure(actor)
    settings = LoyaltySettings.load()
    changed = apply_changes(settings, dict(data), SETTINGS_FIELDS)
    full_clean_or_raise(settings, exclude=["version"])
    if sum(settings.weights.values()) <= 0:
        raise InvalidInput({"weight_trust": [_("At least one weight must be above zero.")]})
    with transaction.atomic():
        saved = writers.lock(LoyaltySettings.objects.filter(pk=settings.pk))[0]
        if version is not None:
            writers.version_checked()
            if saved.version != version:
                raise VersionConflict(current=saved)
        settings.version = saved.version + 1
        if INDEX_INPUTS & set(changed):
            # The stored scorecards now lag behind: refreshed after the commit.
            settings.scored_version = (
                saved.version if saved.scored_version is None else saved.scored_version
            )
            _refresh_scorecards_after_commit()
        elif saved.scored_version == saved.version:
            settings.scored_version = settings.version  # the stored index still holds
        else:
            settings.scored_version = saved.scored_version
        settings.save()
        audit_log(actor=actor, action="loyalty_settings.update", obj=settings, fields=changed)
    return settings
