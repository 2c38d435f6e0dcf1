"""RFM scores and segments (core/rfm.py)."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from relatiebeheer.core import rfm
from relatiebeheer.core.rfm import (
    SEGMENT_GRID,
    SEGMENTS,
    RFMInputError,
    Segment,
    quintile_scores,
    rfm_scores,
    segment_for,
)

values_lists = st.lists(st.integers(min_value=-50, max_value=50), min_size=1, max_size=200)


def reference_scores(values: list[int], *, higher_is_better: bool) -> list[int]:
    """The stated rule, written the slow and obvious way."""
    n = len(values)
    if higher_is_better:
        worse = [sum(1 for other in values if other < v) for v in values]
    else:
        worse = [sum(1 for other in values if other > v) for v in values]
    return [1 + (5 * w) // n for w in worse]


# --- quintile scores -----------------------------------------------------------------


def test_distinct_values_get_exact_quintiles():
    scores = quintile_scores(np.arange(10))

    assert scores.tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert scores.dtype == np.int8


def test_recency_fewer_days_is_better():
    assert quintile_scores([0, 10, 20, 30, 40], higher_is_better=False).tolist() == [5, 4, 3, 2, 1]


def test_equal_values_get_equal_scores():
    scores = quintile_scores([5, 1, 1, 3, 10, 10])

    assert scores.tolist() == [3, 1, 1, 2, 4, 4]
    assert quintile_scores([7, 7, 7]).tolist() == [1, 1, 1]


def test_empty_input_gives_no_scores():
    assert quintile_scores([]).tolist() == []


def test_nan_is_refused():
    with pytest.raises(RFMInputError) as info:
        quintile_scores([1.0, float("nan")])

    assert info.value.code == "not_numeric"


@given(values_lists, st.booleans())
def test_scores_follow_the_stated_rule(values, higher_is_better):
    scores = quintile_scores(values, higher_is_better=higher_is_better)

    assert scores.tolist() == reference_scores(values, higher_is_better=higher_is_better)


@given(values_lists, st.booleans())
def test_scores_are_within_one_to_five_ties_equal_and_monotone(values, higher_is_better):
    scores = quintile_scores(values, higher_is_better=higher_is_better).tolist()

    assert all(1 <= s <= 5 for s in scores)
    for v1, s1 in zip(values, scores, strict=True):
        for v2, s2 in zip(values, scores, strict=True):
            if v1 == v2:
                assert s1 == s2
            elif (v1 < v2) == higher_is_better:
                assert s1 <= s2


@given(values_lists, st.randoms(use_true_random=False))
def test_scores_do_not_depend_on_input_order(values, rnd):
    order = list(range(len(values)))
    rnd.shuffle(order)

    scores = quintile_scores(values)
    shuffled = quintile_scores([values[i] for i in order])

    assert shuffled.tolist() == [int(scores[i]) for i in order]


# --- RFM and segments --------------------------------------------------------------------


def test_rfm_scores_and_segments():
    recency = [3, 10, 200, 400, 30]
    frequency = [12, 6, 1, 2, 1]
    monetary = [9000, 4000, 50, 3000, 100]

    result = rfm_scores(recency, frequency, monetary)

    assert result.recency.tolist() == [5, 4, 2, 1, 3]
    assert result.frequency.tolist() == [5, 4, 1, 3, 1]
    assert result.monetary.tolist() == [5, 4, 1, 3, 2]
    assert result.fm.tolist() == [5, 4, 1, 3, 2]
    assert result.segments().tolist() == [
        "champions",
        "loyal",
        "hibernating",
        "at_risk",
        "about_to_sleep",
    ]
    assert len(result) == 5


def test_customers_without_orders_are_not_scored():
    recency = [5, None, 50, None]
    frequency = [3, 0, 1, 0]
    monetary = [Decimal("300.00"), None, Decimal("20.00"), Decimal("0")]

    result = rfm_scores(recency, frequency, monetary)

    # Two customers with orders: the better one has w = 1, so 1 + floor(5 × 1 / 2) = 3.
    assert result.recency.tolist() == [3, 0, 1, 0]
    assert result.frequency.tolist() == [3, 0, 1, 0]
    assert result.has_orders.tolist() == [True, False, True, False]
    assert result.segments().tolist()[1::2] == ["no_orders", "no_orders"]
    # Scored as if the customers without orders were not there.
    alone = rfm_scores([5, 50], [3, 1], [300, 20])
    assert result.monetary[[0, 2]].tolist() == alone.monetary.tolist()


def test_one_time_buyers_only_all_get_frequency_one():
    result = rfm_scores([1, 20, 40, 80, 160], [1, 1, 1, 1, 1], [10, 20, 30, 40, 50])

    assert result.frequency.tolist() == [1, 1, 1, 1, 1]
    assert result.recency.tolist() == [5, 4, 3, 2, 1]
    assert result.monetary.tolist() == [1, 2, 3, 4, 5]
    assert result.fm.tolist() == [1, 2, 2, 3, 3]
    assert result.segments().tolist() == [
        "new",
        "potential_loyalist",
        "about_to_sleep",
        "at_risk",
        "at_risk",
    ]


def test_segment_counts_cover_everyone():
    rng = np.random.default_rng(7)
    result = rfm_scores(rng.integers(0, 365, 500), rng.poisson(2, 500), rng.gamma(2, 100, 500))

    counts = result.segment_counts()

    assert list(counts) == list(SEGMENTS)
    assert sum(counts.values()) == 500
    assert counts[Segment.NO_ORDERS] == int(np.sum(result.frequency == 0))


def test_results_are_read_only():
    result = rfm_scores([1], [1], [1])

    with pytest.raises(ValueError, match="read-only"):
        result.recency[0] = 3


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (([1, 2], [1], [1]), "length_mismatch"),
        (([1], [-1], [1]), "invalid_frequency"),
        (([float("nan")], [1], [1]), "invalid_recency"),
        (([-1], [1], [1]), "invalid_recency"),
        (([1], [1], [float("inf")]), "invalid_monetary"),
        (([[1]], [[1]], [[1]]), "not_one_dimensional"),
        ((["a"], [1], [1]), "not_numeric"),
        (([object()], [1], [1]), "not_numeric"),
    ],
)
def test_bad_input_is_refused_with_a_code(args, code):
    with pytest.raises(RFMInputError) as info:
        rfm_scores(*args)

    assert info.value.code == code


@given(
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=400),
            st.integers(min_value=0, max_value=8),
            st.integers(min_value=-100, max_value=10_000),
        ),
        max_size=100,
    )
)
def test_rfm_scores_follow_the_rule_per_dimension(rows):
    recency = [r for r, _, _ in rows]
    frequency = [f for _, f, _ in rows]
    monetary = [m for _, _, m in rows]

    result = rfm_scores(recency, frequency, monetary)

    active = [i for i, f in enumerate(frequency) if f > 0]
    expected_r = reference_scores([recency[i] for i in active], higher_is_better=False)
    expected_m = reference_scores([monetary[i] for i in active], higher_is_better=True)
    assert result.recency[active].tolist() == expected_r
    assert result.monetary[active].tolist() == expected_m
    for i, segment in enumerate(result.segments().tolist()):
        r, f, m = int(result.recency[i]), int(result.frequency[i]), int(result.monetary[i])
        assert segment == segment_for(r, f, m)
        assert (segment == Segment.NO_ORDERS) == (frequency[i] == 0)


# --- the segment grid ----------------------------------------------------------------------


def test_grid_covers_every_score_combination():
    assert sorted(SEGMENT_GRID) == [1, 2, 3, 4, 5]
    assert all(len(row) == 5 for row in SEGMENT_GRID.values())
    used = {segment for row in SEGMENT_GRID.values() for segment in row}
    assert used == set(Segment) - {Segment.NO_ORDERS}


def test_docstring_table_matches_the_grid():
    rows = {}
    for line in rfm.__doc__.splitlines():
        cells = line.split()
        if len(cells) == 6 and cells[0].isdigit():
            rows[int(cells[0])] = tuple(Segment(cell) for cell in cells[1:])

    assert rows == dict(SEGMENT_GRID)


@pytest.mark.parametrize(
    ("scores", "segment"),
    [
        ((5, 5, 5), Segment.CHAMPIONS),
        ((5, 1, 1), Segment.NEW),
        ((4, 1, 1), Segment.PROMISING),
        ((4, 5, 4), Segment.LOYAL),
        ((5, 2, 3), Segment.POTENTIAL_LOYALIST),
        ((3, 3, 3), Segment.NEED_ATTENTION),
        ((3, 1, 2), Segment.ABOUT_TO_SLEEP),
        ((2, 4, 3), Segment.AT_RISK),
        ((1, 5, 5), Segment.CANNOT_LOSE),
        ((2, 1, 1), Segment.HIBERNATING),
        ((1, 1, 2), Segment.LOST),
        ((0, 0, 0), Segment.NO_ORDERS),
    ],
)
def test_segment_for(scores, segment):
    assert segment_for(*scores) is segment


def test_fm_is_the_mean_rounded_half_up():
    assert rfm.fm_scores([1, 1, 4, 5, 0], [2, 1, 5, 5, 0]).tolist() == [2, 1, 5, 5, 0]


@pytest.mark.parametrize("scores", [(6, 1, 1), (1, 0, 1), (0, 0, 1)])
def test_segment_for_refuses_scores_outside_the_range(scores):
    with pytest.raises(RFMInputError):
        segment_for(*scores)


# --- scale -------------------------------------------------------------------------------------


def test_a_hundred_thousand_customers_are_scored_at_once():
    """Vectorised over a whole book (its speed is measured in bench/, not asserted here)."""
    rng = np.random.default_rng(2025)
    n = 100_000
    recency = rng.integers(0, 1000, n)
    frequency = rng.poisson(3, n)
    monetary = rng.gamma(2.0, 500.0, n).round(2)
    result = rfm_scores(recency, frequency, monetary)
    assert len(result) == n
    scored = frequency > 0
    assert result.recency[scored].min() == 1 and result.recency[scored].max() == 5
    assert (result.frequency[~scored] == 0).all()
