"""Storing the loyalty scorecards: the figure every page reads (see :mod:`.selectors`)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone

from relatiebeheer.audit.services import audit_log
from relatiebeheer.common import writers
from relatiebeheer.common.writers import writer
from relatiebeheer.relations.models import Account
from relatiebeheer.users.models import User

from .models import CompetitorNote, DriverScore, LoyaltySettings, TrustJudgement
from .scoring import CHUNK, FIGURES, figures, scorecards

STORED_FIELDS = [*FIGURES, "parts", "weights"]


def _scored_accounts() -> list[int]:
    """Every customer (not prospects, not archived) and every account with a judgement or
    competitor note."""
    ids = set(
        Account.objects.filter(archived=False)
        .exclude(status=Account.Status.PROSPECT)
        .values_list("pk", flat=True)
    )
    ids |= set(TrustJudgement.objects.values_list("account_id", flat=True))
    ids |= set(CompetitorNote.objects.values_list("account_id", flat=True))
    return sorted(ids)


def _latest(account_ids: list[int], as_of: date) -> dict[int, DriverScore]:
    latest: dict[int, DriverScore] = {}
    for row in DriverScore.objects.filter(account_id__in=account_ids, as_of__lte=as_of).order_by(
        "account_id", "-as_of"
    ):
        latest.setdefault(row.account_id, row)
    return latest


@writer(accounts=False, bulk=True, locks=("loyalty.loyaltysettings",))
def store_scorecards(
    *,
    as_of: date | None = None,
    account_ids: list[int] | None = None,
    actor: User | None = None,
) -> int:
    """Store the scorecard of ``as_of`` for each account whose figures changed; return how
    many rows were written. Idempotent for the same day.

    Without ``account_ids`` every scored account (and afterwards the settings record
    that the stored scorecards follow their current version, ``scored_version``). The
    scorecards are computed outside the transaction; each chunk is then written under
    the settings row's lock, compared with the stored rows as they are then, so two
    refreshes at once write each account's row once.
    """
    as_of = as_of or timezone.localdate()
    full = account_ids is None
    ids = _scored_accounts() if account_ids is None else sorted(set(account_ids))
    settings = LoyaltySettings.load()
    written = 0
    for offset in range(0, len(ids), CHUNK):
        chunk = ids[offset : offset + CHUNK]
        cards = scorecards(chunk, as_of=as_of, settings=settings)
        with transaction.atomic():
            writers.lock(LoyaltySettings.objects.filter(pk=settings.pk))
            latest = _latest(chunk, as_of)
            new, changed = [], []
            for account_id, card in cards.items():
                values = figures(card)
                previous = latest.get(account_id)
                if previous is None and all(v is None for v in values):
                    continue
                if previous is not None and tuple(getattr(previous, f) for f in FIGURES) == values:
                    continue
                fields: dict[str, Any] = dict(zip(FIGURES, values, strict=True))
                fields.update(parts=card.parts(), weights=card.weights)
                if previous is not None and previous.as_of == as_of:
                    for name, value in fields.items():
                        setattr(previous, name, value)
                    changed.append(previous)
                else:
                    new.append(DriverScore(account_id=account_id, as_of=as_of, **fields))
            DriverScore.objects.bulk_create(new, batch_size=1000)
            if changed:
                DriverScore.objects.bulk_update(changed, STORED_FIELDS, batch_size=500)
        written += len(new) + len(changed)
    with transaction.atomic():
        locked = writers.lock(LoyaltySettings.objects.filter(pk=settings.pk))
        if full and locked and locked[0].version == settings.version:
            LoyaltySettings.objects.filter(pk=settings.pk).update(scored_version=settings.version)
        if written:
            audit_log(
                actor=actor,
                action="loyalty.scorecards.store",
                extra={"as_of": as_of.isoformat(), "accounts": len(ids), "written": written},
            )
        else:
            writers.nothing_to_write()
    return written
