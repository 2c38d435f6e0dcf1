"""Survey scales and scores: the mapping to 0–100, the score definitions, unhappy answers."""

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relatiebeheer.core.survey_scores import (
    CSAT,
    FOUR_POINT,
    GRADE,
    NPS,
    OPEN_TEXT,
    YES_NO,
    AnswerError,
    Choice,
    Reading,
    ScaleKind,
    UnhappyThresholds,
    combine_scores,
    csat_percent,
    distribution,
    four_point_mean,
    four_point_top_two,
    grade_mean,
    grade_pass_share,
    is_unhappy,
    mean,
    mean_score,
    nps,
    response_rate,
    round_score,
    score_value,
    single_choice,
    summarize,
)

# --------------------------------------------------------------------------- pinned


def test_nps_of_mixed_answers_is_zero():
    # given two promoters, two passives and two detractors / when / then
    assert nps([10, 9, 8, 7, 6, 0]) == 0


def test_nps_of_all_nines_is_100():
    assert nps([9, 9, 9, 9]) == Decimal("100.0")


def test_nps_without_answers_is_none():
    assert nps([]) is None
    assert nps({}) is None


def test_csat_percent_from_counts_is_69_2():
    # given 42, 32, 10, 9, 14 answers of 5, 4, 3, 2, 1: (42 + 32) / 107 = 69,158…
    counts = {5: 42, 4: 32, 3: 10, 2: 9, 1: 14}
    assert csat_percent(counts) == Decimal("69.2")
    # the same as a list of answers
    answers = [value for value, count in counts.items() for _ in range(count)]
    assert csat_percent(answers) == Decimal("69.2")


# --------------------------------------------------------------------------- mapping


@pytest.mark.parametrize(
    ("scale", "value", "expected"),
    [
        (FOUR_POINT, 1, "0.0"),
        (FOUR_POINT, 2, "33.3"),
        (FOUR_POINT, 3, "66.7"),
        (FOUR_POINT, 4, "100.0"),
        (CSAT, 1, "0.0"),
        (CSAT, 2, "25.0"),
        (CSAT, 3, "50.0"),
        (CSAT, 5, "100.0"),
        (NPS, 0, "0.0"),
        (NPS, 7, "70.0"),
        (NPS, 10, "100.0"),
        (GRADE, 1, "0.0"),
        (GRADE, 6, "55.6"),
        (GRADE, 10, "100.0"),
        (YES_NO, True, "100.0"),
        (YES_NO, False, "0.0"),
    ],
)
def test_every_scale_maps_linearly_to_0_100(scale, value, expected):
    assert score_value(scale, value) == Decimal(expected)


def test_scale_may_be_named_by_its_kind():
    assert score_value("csat", 4) == Decimal("75.0")
    assert score_value(ScaleKind.NPS, 5) == Decimal("50.0")


def test_open_text_and_choice_without_score_have_no_score():
    choice = single_choice(Choice("price"), Choice("service", score=Decimal(80)))
    assert score_value(OPEN_TEXT, "Prima geholpen") is None
    assert score_value(choice, "price") is None
    assert score_value(choice, "service") == Decimal("80.0")


@pytest.mark.parametrize(
    ("scale", "value", "code"),
    [
        (FOUR_POINT, 0, "out_of_range"),
        (FOUR_POINT, 5, "out_of_range"),
        (CSAT, 6, "out_of_range"),
        (NPS, -1, "out_of_range"),
        (NPS, 11, "out_of_range"),
        (GRADE, 0, "out_of_range"),
        (GRADE, Decimal("7.5"), "not_whole"),
        (GRADE, True, "not_a_number"),
        (CSAT, "4", "not_a_number"),
        (YES_NO, 1, "not_yes_no"),
        (OPEN_TEXT, 3, "not_text"),
    ],
)
def test_invalid_answers_are_refused_with_a_code(scale, value, code):
    with pytest.raises(AnswerError) as excinfo:
        score_value(scale, value)
    assert excinfo.value.code == code


def test_unknown_choice_is_refused():
    choice = single_choice(Choice("a"), Choice("b"))
    with pytest.raises(AnswerError, match="not an option"):
        score_value(choice, "c")


def test_duplicate_choice_keys_are_refused():
    with pytest.raises(AnswerError):
        single_choice(Choice("a"), Choice("a"))


@given(st.integers(min_value=1, max_value=4), st.integers(min_value=1, max_value=4))
def test_four_point_mapping_is_monotone(a, b):
    if a < b:
        assert score_value(FOUR_POINT, a) < score_value(FOUR_POINT, b)


@pytest.mark.parametrize(
    ("exact", "rounded"),
    [
        (Fraction(6915, 100), "69.2"),
        (Fraction(6914, 100), "69.1"),
        (Fraction(-3335, 100), "-33.4"),
        (Fraction(-1, 100), "0.0"),
        (Fraction(100, 3), "33.3"),
        (Fraction(200, 3), "66.7"),
    ],
)
def test_round_score_is_half_up_once(exact, rounded):
    assert round_score(exact) == Decimal(rounded)
    assert str(round_score(exact)) == rounded


# --------------------------------------------------------------------------- scores


def test_distribution_lists_every_value_in_scale_order():
    # skipped answers (None) are not counted
    assert distribution(FOUR_POINT, [4, 4, 2, None]) == {1: 0, 2: 1, 3: 0, 4: 2}
    assert list(distribution(NPS, [])) == list(range(11))
    assert distribution(YES_NO, [True, False, True]) == {True: 2, False: 1}
    assert distribution(OPEN_TEXT, ["goed", ""]) == {}


def test_distribution_accepts_counts():
    assert distribution(CSAT, {5: 3, 1: 2}) == {1: 2, 2: 0, 3: 0, 4: 0, 5: 3}


def test_four_point_top_two_and_mean():
    # zeer goed, goed, goed, matig, slecht
    answers = [4, 3, 3, 2, 1]
    assert four_point_top_two(answers) == Decimal("60.0")
    assert four_point_mean(answers) == Decimal("2.6")
    assert mean_score(FOUR_POINT, answers) == Decimal("53.3")


def test_grade_mean_and_pass_share():
    answers = [8, 7, 6, 5, 9, 4]
    assert grade_mean(answers) == Decimal("6.5")
    assert grade_pass_share(answers) == Decimal("66.7")
    assert grade_pass_share(answers, pass_mark=7) == Decimal("50.0")


def test_nps_can_be_negative_and_rounds_half_away_from_zero():
    # 1 promoter, 2 detractors of 3: 33,3 − 66,7 = −33,3…
    assert nps([10, 0, 3]) == Decimal("-33.3")
    assert nps([0] * 5) == Decimal("-100.0")


def test_means_without_answers_are_none():
    assert mean(CSAT, []) is None
    assert mean_score(GRADE, [None, None]) is None
    assert csat_percent([]) is None
    assert four_point_top_two([]) is None
    assert grade_pass_share([]) is None
    assert mean(YES_NO, [True]) is None  # not a numeric scale


def test_response_rate():
    assert response_rate(37, 120) == Decimal("30.8")
    assert response_rate(0, 10) == Decimal("0.0")
    assert response_rate(0, 0) is None
    with pytest.raises(AnswerError):
        response_rate(11, 10)


@pytest.mark.parametrize(
    ("scale", "answers", "name", "headline", "mean_value"),
    [
        (FOUR_POINT, [4, 3, 2], "top_two_share", "66.7", "3.0"),
        (CSAT, {5: 42, 4: 32, 3: 10, 2: 9, 1: 14}, "csat_percent", "69.2", "3.7"),
        (NPS, [10, 9, 8, 7, 6, 0], "nps", "0.0", "6.7"),
        (GRADE, [6, 5], "pass_share", "50.0", "5.5"),
        (YES_NO, [True, True, False], "yes_share", "66.7", None),
    ],
)
def test_summary_has_the_scales_key_figure(scale, answers, name, headline, mean_value):
    summary = summarize(scale, answers)
    assert summary.headline_name == name
    assert summary.headline == Decimal(headline)
    assert summary.mean == (None if mean_value is None else Decimal(mean_value))
    assert summary.count == sum(summary.distribution.values())


def test_summary_of_choice_and_open_text():
    choice = single_choice(Choice("a", score=Decimal(100)), Choice("b"), Choice("c", score=0))
    summary = summarize(choice, ["a", "b", "c", "a"])
    assert summary.distribution == {"a": 2, "b": 1, "c": 1}
    assert summary.mean_score == Decimal("66.7")  # only answers with a score
    assert summary.headline is None
    text = summarize(OPEN_TEXT, ["fijn", "  ", None, "traag"])
    assert text.count == 2
    assert text.mean_score is None


@settings(max_examples=60)
@given(st.lists(st.integers(min_value=0, max_value=10), max_size=60))
def test_nps_equals_its_definition(answers):
    result = nps(answers)
    if not answers:
        assert result is None
        return
    promoters = sum(1 for a in answers if a >= 9)
    detractors = sum(1 for a in answers if a <= 6)
    exact = Fraction(promoters - detractors, len(answers)) * 100
    assert result == round_score(exact)
    assert Decimal(-100) <= result <= Decimal(100)


@settings(max_examples=60)
@given(st.lists(st.integers(min_value=1, max_value=5), min_size=1, max_size=60))
def test_mean_score_is_the_mapped_mean(answers):
    # linear mapping: the mean of the scores is the score of the mean, exactly
    exact_mean = Fraction(sum(answers), len(answers))
    assert mean_score(CSAT, answers) == round_score((exact_mean - 1) / 4 * 100)


# --------------------------------------------------------------------------- unhappy


@pytest.mark.parametrize(
    ("scale", "unhappy", "happy"),
    [
        (FOUR_POINT, [1, 2], [3, 4]),
        (CSAT, [1, 2], [3, 4, 5]),
        (NPS, [0, 3, 6], [7, 8, 9, 10]),
        (GRADE, [1, 5], [6, 7, 10]),
    ],
)
def test_default_unhappy_thresholds(scale, unhappy, happy):
    assert all(is_unhappy(scale, value) for value in unhappy)
    assert not any(is_unhappy(scale, value) for value in happy)


def test_unhappy_thresholds_can_be_changed():
    strict = UnhappyThresholds(csat_at_most=3, nps_at_most=7, grade_below=7, four_point_at_most=1)
    assert is_unhappy(CSAT, 3, strict)
    assert is_unhappy(NPS, 7, strict)
    assert is_unhappy(GRADE, 6, strict)
    assert not is_unhappy(FOUR_POINT, 2, strict)


def test_yes_no_choice_and_text_unhappiness():
    assert not is_unhappy(YES_NO, False)  # depends on the question: not judged by default
    assert is_unhappy(YES_NO, False, UnhappyThresholds(yes_no_unhappy=False))
    assert not is_unhappy(YES_NO, True, UnhappyThresholds(yes_no_unhappy=False))
    choice = single_choice(Choice("on_time"), Choice("late", unhappy=True))
    assert is_unhappy(choice, "late")
    assert not is_unhappy(choice, "on_time")
    assert not is_unhappy(OPEN_TEXT, "slecht geholpen")
    assert not is_unhappy(NPS, None)


def test_unhappy_refuses_invalid_answers():
    with pytest.raises(AnswerError):
        is_unhappy(NPS, 11)


# --------------------------------------------------------------------------- combined


def test_combined_score_weighs_sources_and_keeps_them():
    readings = [
        Reading("survey", Decimal("80"), ref="response:1"),
        Reading("survey", Decimal("60"), ref="response:2"),
        Reading("interaction", score_value(FOUR_POINT, 4), ref="interaction:7"),
    ]
    combined = combine_scores(readings, source_weights={"survey": 3, "interaction": 1})
    # survey mean 70 (weight 3), interaction 100 (weight 1): (210 + 100) / 4 = 77,5
    assert combined.score == Decimal("77.5")
    assert combined.sources == ("interaction", "survey")
    parts = {part.source: part for part in combined.parts}
    assert parts["survey"].mean == Decimal("70.0")
    assert parts["survey"].readings == 2
    assert parts["survey"].share == Decimal("75.0")
    assert parts["interaction"].refs == ("interaction:7",)


def test_combined_score_equal_weights_by_default_and_renormalises():
    readings = [Reading("survey", 40), Reading("survey", 40), Reading("interaction", 100)]
    assert combine_scores(readings).score == Decimal("70.0")
    # a weighted source without readings drops out
    only_survey = combine_scores(
        [Reading("survey", 40)], source_weights={"survey": 1, "interaction": 5}
    )
    assert only_survey.score == Decimal("40.0")
    assert only_survey.sources == ("survey",)


def test_reading_weights_within_a_source():
    readings = [Reading("survey", 100, weight=3), Reading("survey", 0, weight=1)]
    assert combine_scores(readings).score == Decimal("75.0")


def test_combined_score_without_readings_is_none():
    assert combine_scores([]).score is None
    assert combine_scores([Reading("survey", 50)], source_weights={"other": 1}).score is None


def test_readings_must_be_0_to_100():
    with pytest.raises(AnswerError):
        Reading("survey", 101)
    with pytest.raises(AnswerError):
        Reading("survey", 50, weight=-1)


@settings(max_examples=60)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["survey", "interaction", "visit"]),
            st.integers(min_value=0, max_value=100),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_combined_score_lies_between_the_readings(pairs):
    combined = combine_scores([Reading(source, score) for source, score in pairs])
    scores = [score for _, score in pairs]
    assert min(scores) <= combined.score <= max(scores)
    assert sum(part.readings for part in combined.parts) == len(pairs)
