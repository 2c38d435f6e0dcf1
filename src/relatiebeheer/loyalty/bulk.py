"""The whole loyalty evaluation: every active programme, then the scorecards."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.utils import timezone

from relatiebeheer.common.writers import writer
from relatiebeheer.users.models import User

from . import pending
from .drivers.bulk import store_scorecards
from .programme.bulk import evaluate_programme
from .programme.engine import ProgrammeReport
from .programme.models import Programme


@writer(accounts=False, bulk=True)
def evaluate(
    *,
    as_of: date | None = None,
    account_ids: list[int] | None = None,
    programmes: Iterable[Programme] | None = None,
    actor: User | None = None,
    drivers: bool = True,
) -> list[ProgrammeReport]:
    """Evaluate every active programme (tiers, bonus, points) and store the scorecards.

    ``account_ids``: only the members of these accounts (the "accounts changed" hook);
    without it the whole book, which also settles ended bonus periods. The marks of the
    hook (:mod:`relatiebeheer.loyalty.pending`) are read once for every programme and
    cleared when every active programme and the scorecards have been refreshed — so a
    page stops saying "refresh pending" only when its figures are the new ones.

    Each programme and the scorecards are their own writers (one audit row each when
    they wrote something); like them, this declares ``accounts=False``.
    """
    as_of = as_of or timezone.localdate()
    everything = programmes is None
    if programmes is None:
        programmes = Programme.objects.filter(active=True).order_by("pk")
    dirty, read_at = pending.read(account_ids)
    reports = [
        evaluate_programme(p, as_of=as_of, account_ids=account_ids, actor=actor, dirty=dirty)
        for p in programmes
    ]
    if drivers:
        store_scorecards(as_of=as_of, account_ids=account_ids, actor=actor)
        if everything:
            pending.clear(dirty, read_at)
    return reports
