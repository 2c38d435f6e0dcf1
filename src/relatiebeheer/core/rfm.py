"""RFM scores (recency, frequency, monetary) and named customer segments, vectorised.

Inputs are aligned sequences or NumPy arrays, one element per customer, in any order;
the outputs are NumPy arrays in the same order. Computed with one NumPy argsort per
dimension, so 100,000 customers take a few tens of milliseconds at most.

**Scores 1–5 (quintiles, ties equal).** Among the n customers with orders, a customer's
score on one dimension is::

    score = 1 + floor(5 × w / n)

where ``w`` is the number of customers that are *strictly worse* on that dimension:
for frequency and monetary those with a strictly lower value, for recency (days since
the last order, fewer is better) those with strictly more days. Customers with equal
values therefore get equal scores, whatever order the database returned them in; a
better value never gets a lower score; with distinct values the scores are exact
quintiles (20 % each when 5 divides n). The best customer need not reach 5 when many
share a value: if 60 % bought exactly once, they all get F = 1 and the next value
starts at F = 4. If everyone is equal, everyone scores 1 (no one is better).

**Customers without orders** (frequency 0) are not scored: their scores are 0, they do
not count in n, and their segment is ``no_orders``. Their recency and monetary values
are ignored (NaN or ``None`` is fine there).

**Segments** come from R and ``FM = floor((F + M + 1) / 2)``, the mean of F and M
rounded half up:

=====  ==============  ==================  ==================  =========  ===========
R \\ FM  1               2                   3                   4          5
=====  ==============  ==================  ==================  =========  ===========
5      new             potential_loyalist  potential_loyalist  champions  champions
4      promising       potential_loyalist  potential_loyalist  loyal      loyal
3      about_to_sleep  about_to_sleep      need_attention      loyal      loyal
2      hibernating     hibernating         at_risk             at_risk    cannot_lose
1      lost            lost                at_risk             at_risk    cannot_lose
=====  ==============  ==================  ==================  =========  ===========

Monetary is usually the net revenue (orders minus credit notes) in the period and may
be negative; frequency counts orders only, never credit notes. Values are compared as
float64: pass integer cents or ``Decimal`` amounts (converted exactly enough to keep
their order for any amount up to 15 significant digits).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

__all__ = [
    "SEGMENTS",
    "SEGMENT_GRID",
    "RFMInputError",
    "RFMResult",
    "Segment",
    "fm_scores",
    "quintile_scores",
    "rfm_scores",
    "segment_for",
]


class RFMInputError(ValueError):
    """Input the RFM scoring cannot use; ``code`` is stable, ``field`` names the argument.

    Codes: ``not_one_dimensional``, ``not_numeric``, ``length_mismatch``,
    ``invalid_frequency``, ``invalid_recency``, ``invalid_monetary``, ``score_out_of_range``.
    """

    def __init__(self, code: str, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


class Segment(StrEnum):
    """The named RFM segments; a segment's code is its index in :data:`SEGMENTS`."""

    CHAMPIONS = "champions"
    LOYAL = "loyal"
    POTENTIAL_LOYALIST = "potential_loyalist"
    NEW = "new"
    PROMISING = "promising"
    NEED_ATTENTION = "need_attention"
    ABOUT_TO_SLEEP = "about_to_sleep"
    AT_RISK = "at_risk"
    CANNOT_LOSE = "cannot_lose"
    HIBERNATING = "hibernating"
    LOST = "lost"
    NO_ORDERS = "no_orders"


SEGMENTS: tuple[Segment, ...] = tuple(Segment)

_S = Segment
#: R score → the segments for FM = 1..5 (the table in the module docstring).
SEGMENT_GRID: Mapping[int, tuple[Segment, ...]] = {
    5: (_S.NEW, _S.POTENTIAL_LOYALIST, _S.POTENTIAL_LOYALIST, _S.CHAMPIONS, _S.CHAMPIONS),
    4: (_S.PROMISING, _S.POTENTIAL_LOYALIST, _S.POTENTIAL_LOYALIST, _S.LOYAL, _S.LOYAL),
    3: (_S.ABOUT_TO_SLEEP, _S.ABOUT_TO_SLEEP, _S.NEED_ATTENTION, _S.LOYAL, _S.LOYAL),
    2: (_S.HIBERNATING, _S.HIBERNATING, _S.AT_RISK, _S.AT_RISK, _S.CANNOT_LOSE),
    1: (_S.LOST, _S.LOST, _S.AT_RISK, _S.AT_RISK, _S.CANNOT_LOSE),
}

# [R, FM] → segment code; row 0 / column 0 (not scored) is "no_orders".
_CODE_GRID = np.full((6, 6), SEGMENTS.index(Segment.NO_ORDERS), dtype=np.int8)
for _r, _row in SEGMENT_GRID.items():
    for _fm, _segment in enumerate(_row, start=1):
        _CODE_GRID[_r, _fm] = SEGMENTS.index(_segment)
_CODE_GRID.flags.writeable = False
_SEGMENT_VALUES = np.array([segment.value for segment in SEGMENTS])


@dataclass(frozen=True, slots=True, eq=False)
class RFMResult:
    """Scores per customer, aligned with the input (read-only ``int8`` arrays).

    ``recency``, ``frequency``, ``monetary`` and ``fm`` are 1..5, or 0 for a customer
    without orders; ``segment_codes`` index :data:`SEGMENTS`.
    """

    recency: np.ndarray
    frequency: np.ndarray
    monetary: np.ndarray
    fm: np.ndarray
    segment_codes: np.ndarray

    def __len__(self) -> int:
        return int(self.segment_codes.size)

    @property
    def has_orders(self) -> np.ndarray:
        return self.frequency > 0

    def segments(self) -> np.ndarray:
        """The segment name (a :class:`Segment` value) of each customer, as a str array."""
        return _SEGMENT_VALUES[self.segment_codes]

    def segment_counts(self) -> dict[Segment, int]:
        """How many customers each segment has (every segment listed, in order)."""
        counts = np.bincount(self.segment_codes, minlength=len(SEGMENTS))
        return {segment: int(counts[i]) for i, segment in enumerate(SEGMENTS)}


def quintile_scores(values: npt.ArrayLike, *, higher_is_better: bool = True) -> np.ndarray:
    """Scores 1..5 by the rule ``1 + floor(5 × w / n)``, ``w`` = number strictly worse.

    ``higher_is_better=False`` is for recency in days. Equal values get equal scores.
    Returns an ``int8`` array aligned with ``values``; NaN is refused.
    """
    array = _as_array(values, "values")
    if not np.all(np.isfinite(array)):
        raise RFMInputError("not_numeric", "values must be finite numbers", field="values")
    return _scores(array, higher_is_better=higher_is_better)


def fm_scores(frequency: npt.ArrayLike, monetary: npt.ArrayLike) -> np.ndarray:
    """The combined FM score: the mean of F and M rounded half up (0 stays 0)."""
    f = np.asarray(frequency, dtype=np.int16)
    m = np.asarray(monetary, dtype=np.int16)
    return ((f + m + 1) // 2).astype(np.int8)


def segment_for(recency: int, frequency: int, monetary: int) -> Segment:
    """The segment of one customer's R, F and M scores (all 0 for no orders)."""
    scores = (recency, frequency, monetary)
    if scores == (0, 0, 0):
        return Segment.NO_ORDERS
    if not all(isinstance(s, int | np.integer) and 1 <= s <= 5 for s in scores):
        raise RFMInputError("score_out_of_range", f"RFM scores must be 1..5, got {scores}")
    return SEGMENT_GRID[int(recency)][(int(frequency) + int(monetary) + 1) // 2 - 1]


def rfm_scores(
    recency_days: npt.ArrayLike, frequency: npt.ArrayLike, monetary: npt.ArrayLike
) -> RFMResult:
    """Score every customer on R, F and M and name its segment (module docstring).

    ``recency_days`` is the number of days since the customer's last order (≥ 0),
    ``frequency`` the number of orders in the period (≥ 0; 0 = not scored) and
    ``monetary`` the amount bought in the period. Only customers with orders are
    ranked, against each other.
    """
    f_raw = _as_array(frequency, "frequency")
    r_raw = _as_array(recency_days, "recency_days")
    m_raw = _as_array(monetary, "monetary")
    if not f_raw.size == r_raw.size == m_raw.size:
        raise RFMInputError("length_mismatch", "recency, frequency and monetary differ in length")
    if not np.all(np.isfinite(f_raw) & (f_raw >= 0)):
        raise RFMInputError(
            "invalid_frequency",
            "frequency must be a number of orders, 0 or more",
            field="frequency",
        )
    active = f_raw > 0
    r_active, f_active, m_active = r_raw[active], f_raw[active], m_raw[active]
    if not np.all(np.isfinite(r_active) & (r_active >= 0)):
        raise RFMInputError(
            "invalid_recency",
            "days since the last order must be 0 or more for every customer with orders",
            field="recency_days",
        )
    if not np.all(np.isfinite(m_active)):
        raise RFMInputError(
            "invalid_monetary",
            "monetary must be a finite amount for every customer with orders",
            field="monetary",
        )

    r = np.zeros(f_raw.size, dtype=np.int8)
    f = np.zeros(f_raw.size, dtype=np.int8)
    m = np.zeros(f_raw.size, dtype=np.int8)
    r[active] = _scores(r_active, higher_is_better=False)
    f[active] = _scores(f_active, higher_is_better=True)
    m[active] = _scores(m_active, higher_is_better=True)
    fm = fm_scores(f, m)
    codes = _CODE_GRID[r, fm]
    for array in (r, f, m, fm, codes):
        array.flags.writeable = False
    return RFMResult(recency=r, frequency=f, monetary=m, fm=fm, segment_codes=codes)


def _scores(values: np.ndarray, *, higher_is_better: bool) -> np.ndarray:
    """``1 + floor(5 × w / n)`` per element, ``w`` = how many are strictly worse.

    One argsort; in sorted order a run of equal values is a group, and the number of
    values strictly below a group is the index where the group starts (strictly
    above: n minus the index where it ends). Four times faster than ``searchsorted``
    with unsorted queries, and the sort's own tie order cannot leak into the result.
    """
    n = values.size
    if n == 0:
        return np.zeros(0, dtype=np.int8)
    order = np.argsort(values)
    ordered = values[order]
    group_starts_here = np.empty(n, dtype=bool)
    group_starts_here[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=group_starts_here[1:])
    starts = np.flatnonzero(group_starts_here)
    group = np.cumsum(group_starts_here) - 1
    if higher_is_better:
        worse_sorted = starts[group]  # strictly lower
    else:
        ends = np.append(starts[1:], n)
        worse_sorted = n - ends[group]  # strictly higher
    worse = np.empty(n, dtype=np.int64)
    worse[order] = worse_sorted
    return (1 + (5 * worse) // n).astype(np.int8)


def _as_array(values: npt.ArrayLike, field: str) -> np.ndarray:
    """A 1-D numeric array; ``Decimal`` and ``None`` (→ NaN) in object arrays are converted."""
    array = np.asarray(values)
    if array.ndim != 1:
        raise RFMInputError("not_one_dimensional", f"{field} must be one-dimensional", field=field)
    if array.dtype == object:
        try:
            array = array.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise RFMInputError("not_numeric", f"{field} must hold numbers", field=field) from exc
    if array.dtype.kind not in "iuf":
        raise RFMInputError("not_numeric", f"{field} must hold numbers", field=field)
    return array
