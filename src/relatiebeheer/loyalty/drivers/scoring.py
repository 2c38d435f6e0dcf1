"""The four loyalty drivers per account, and the loyalty index.

Every driver is a 0–100 score on the mapping of :mod:`relatiebeheer.core.survey_scores`
and keeps what it is made of (``core.survey_scores.combine_scores``: each source's mean
and its share). Over the 12 months up to the day scored:

* **trust** — answers to survey questions tagged "trust" (source ``survey``) and the
  account manager's latest judgement (``judgement``; the four-point scale, very high =
  100, very low = 0);
* **satisfaction** — survey scores and contact-moment readings (sources ``survey`` and
  ``contact_moment``), read through ``satisfaction.selectors.account_satisfaction``;
* **quality of the alternatives** — the latest note per competitor: how we compare on
  price, quality and service (five points, "we are much better" = 100, "much worse" = 0;
  a high score means the alternatives are weak, which keeps the customer with us);
* **investment in the relationship** — the binding levels with a done activity (each
  level a third: ``binding``) and the costs made for the account against its gross profit
  (``costs``: costs of ``investment_norm`` % of the 12-month profit or more count as 100).

The **loyalty index** combines the drivers with the configured weights (default trust
30, satisfaction 30, alternatives 20, investment 20); a driver without data drops out
and the weights of the others are renormalised, as ``combine_scores`` does. Scorecards
are stored per account and day (:class:`~relatiebeheer.loyalty.models.DriverScore`,
:func:`.bulk.store_scorecards`) when something changed, so the trend shows every change;
every page reads the stored figure (:func:`.selectors.loyalty_index`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from django.db.models import Sum
from django.utils import timezone

from relatiebeheer.core import survey_scores as ss
from relatiebeheer.core.periods import last_12_months
from relatiebeheer.loyalty.binding.models import BindingActivity, Level
from relatiebeheer.relations.models import Account
from relatiebeheer.sales.models import CostEntry, Order
from relatiebeheer.satisfaction import selectors as satisfaction

from .models import DRIVERS, CompetitorNote, Driver, LoyaltySettings, Source, TrustJudgement

CHUNK = 2000
TRUST_TAG = "trust"  # the survey questions the trust driver reads


@dataclass
class Scorecard:
    account_id: int
    as_of: date
    drivers: dict[str, ss.CombinedScore] = field(default_factory=dict)
    index: ss.CombinedScore = field(default_factory=lambda: ss.CombinedScore(score=None))
    weights: dict[str, int] = field(default_factory=dict)

    def score(self, driver: str) -> Decimal | None:
        return self.drivers[driver].score

    def parts(self) -> dict:
        """JSON-ready: per driver its sources (mean, readings, share, refs)."""
        return {
            key: [
                {
                    "source": part.source,
                    "readings": part.readings,
                    "mean": str(part.mean),
                    "share": str(part.share),
                    "refs": list(part.refs[:20]),
                }
                for part in combined.parts
            ]
            for key, combined in self.drivers.items()
        }


def _profit_and_costs(account_ids: list[int], start: date, end: date):
    profit = dict(
        Order.objects.filter(account_id__in=account_ids, date__gte=start, date__lte=end)
        .counting()
        .values("account_id")
        .annotate(p=Sum("revenue") - Sum("cost_of_goods"))
        .values_list("account_id", "p")
    )
    costs = dict(
        CostEntry.objects.filter(account_id__in=account_ids, date__gte=start, date__lte=end)
        .values("account_id")
        .annotate(c=Sum("amount"))
        .values_list("account_id", "c")
    )
    return profit, costs


def scorecards(
    account_ids: list[int], *, as_of: date | None = None, settings: LoyaltySettings | None = None
) -> dict[int, Scorecard]:
    """The scorecard of each account on ``as_of`` (a fixed number of queries per chunk)."""
    as_of = as_of or timezone.localdate()
    settings = settings or LoyaltySettings.load()
    start, end = last_12_months(as_of)
    cards: dict[int, Scorecard] = {}
    for offset in range(0, len(account_ids), CHUNK):
        chunk = list(account_ids[offset : offset + CHUNK])
        cards.update(_chunk_scorecards(chunk, start, end, settings))
    return cards


def _chunk_scorecards(ids: list[int], start: date, end: date, settings) -> dict[int, Scorecard]:
    readings: dict[str, dict[int, list[ss.Reading]]] = {d: defaultdict(list) for d in DRIVERS}

    # The satisfaction driver is the account's satisfaction as every page shows it (the
    # one selector, over the same 12 months); trust answers come with it.
    for account_id, found in satisfaction.account_satisfaction(ids, as_of=end, since=start).items():
        for driver, items in (
            (Driver.TRUST, found.trust_readings),
            (Driver.SATISFACTION, found.readings),
        ):
            for item in items:
                readings[driver][account_id].append(
                    ss.Reading(source=item.source, score=Decimal(item.score), ref=item.ref)
                )
    judged: set[int] = set()
    for account_id, trust, pk in (
        TrustJudgement.objects.filter(account_id__in=ids, judged_on__gte=start, judged_on__lte=end)
        .order_by("account_id", "-judged_on", "-id")
        .values_list("account_id", "trust", "pk")
    ):
        if account_id in judged:
            continue  # the latest judgement counts
        judged.add(account_id)
        readings[Driver.TRUST][account_id].append(
            ss.Reading(
                source=Source.JUDGEMENT,
                score=ss.score_value_exact(ss.FOUR_POINT, trust),
                ref=f"judgement:{pk}",
            )
        )
    seen: set[tuple[int, str]] = set()
    for account_id, competitor, price, quality, service, pk in (
        CompetitorNote.objects.filter(
            account_id__in=ids, noted_on__gte=end - timedelta(days=730), noted_on__lte=end
        )
        .order_by("account_id", "-noted_on", "-id")
        .values_list("account_id", "competitor", "price", "quality", "service", "pk")
    ):
        name = competitor.strip().lower()
        if (account_id, name) in seen:
            continue  # the latest note per competitor counts
        seen.add((account_id, name))
        for source, value in (
            (Source.PRICE, price),
            (Source.QUALITY, quality),
            (Source.SERVICE, service),
        ):
            if value is not None:
                readings[Driver.ALTERNATIVES][account_id].append(
                    ss.Reading(
                        source=source,
                        score=ss.score_value_exact(ss.CSAT, value),
                        ref=f"competitor:{pk}",
                    )
                )
    levels: dict[int, set[str]] = defaultdict(set)
    for account_id, level in (
        BindingActivity.objects.filter(
            account_id__in=ids,
            status=BindingActivity.Status.DONE,
            done_on__gte=start,
            done_on__lte=end,
        )
        .values_list("account_id", "level")
        .distinct()
    ):
        levels[account_id].add(level)
    profit, costs = _profit_and_costs(ids, start, end)
    norm = Fraction(settings.investment_norm) / 100
    for account_id in ids:
        covered = levels.get(account_id, set())
        if covered or costs.get(account_id):
            readings[Driver.INVESTMENT][account_id].append(
                ss.Reading(
                    source=Source.BINDING,
                    score=Fraction(len(covered), len(Level.values)) * 100,
                    ref=",".join(sorted(covered)),
                )
            )
        gross = profit.get(account_id) or Decimal(0)
        spent = costs.get(account_id) or Decimal(0)
        if gross > 0:
            ratio = Fraction(spent) / (Fraction(gross) * norm)
            readings[Driver.INVESTMENT][account_id].append(
                ss.Reading(source=Source.COSTS, score=min(ratio, Fraction(1)) * 100)
            )

    weights = settings.weights
    cards = {}
    for account_id in ids:
        card = Scorecard(account_id=account_id, as_of=end, weights=weights)
        for driver in DRIVERS:
            card.drivers[driver] = ss.combine_scores(readings[driver].get(account_id, ()))
        card.index = ss.combine_scores(
            [
                ss.Reading(source=driver, score=card.drivers[driver].score)
                for driver in DRIVERS
                if card.drivers[driver].score is not None
            ],
            source_weights=weights,
        )
        cards[account_id] = card
    return cards


def scorecard(account: Account, *, as_of: date | None = None) -> Scorecard:
    return scorecards([account.pk], as_of=as_of)[account.pk]


def figures(card: Scorecard) -> tuple[Decimal | None, ...]:
    """The four driver scores and the index, in the order of :data:`FIGURES`."""
    return (*(card.score(d) for d in DRIVERS), card.index.score)


FIGURES: tuple[str, ...] = (*DRIVERS, "index")  # the stored columns of a scorecard
