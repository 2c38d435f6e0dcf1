"""Survey scales and satisfaction scores: the one place where every scale maps to 0–100.

Scales and how an answer is stored
----------------------------------
============  ======================================  ===================================
scale         stored answer                           0–100 mapping
============  ======================================  ===================================
four_point    4 zeer goed, 3 goed, 2 matig, 1 slecht  1 → 0, 2 → 33,3, 3 → 66,7, 4 → 100
csat          1 … 5                                   1 → 0, 2 → 25, … 5 → 100
nps           0 … 10                                  0 → 0, 1 → 10, … 10 → 100
grade         Dutch school grade, whole 1 … 10        1 → 0, 6 → 55,6, … 10 → 100
yes_no        ``True`` (yes) / ``False`` (no)         yes → 100, no → 0
single_choice the chosen option's key                 the option's own 0–100 score, if it
                                                      carries one; otherwise no score
open_text     the text                                no score
============  ======================================  ===================================

Every numeric scale maps **linearly from its minimum to its maximum**:
``score = (answer − minimum) / (maximum − minimum) × 100``.

Exactness and rounding
----------------------
Calculations run on exact :class:`~fractions.Fraction` values and are rounded **once**, at
the end, to one decimal, half away from zero (``ROUND_HALF_UP`` as :mod:`decimal` defines
it: 69,15 → 69,2 and −33,35 → −33,4). Every public result is a :class:`~decimal.Decimal`
with one decimal, or ``None`` when there is nothing to measure (no answers). Functions
whose name ends in ``_exact`` return the unrounded :class:`Fraction` for callers that
combine further. (Money rounding lives in :mod:`relatiebeheer.core.money`; scores are
not money and are rounded here, by :func:`round_score` only.)

Score definitions
-----------------
* **distribution** — count per scale value, every value of the scale listed (zeros
  included), in scale order; **mean** — the arithmetic mean on the scale's own units
  (1–4, 1–5, 0–10, 1–10), and **mean_score** the same mean on 0–100.
* **CSAT %** — share of answers 4 and 5 among all CSAT answers, in percent.
* **NPS** — % promoters (9–10) minus % detractors (0–6) over all answers (passives 7–8
  count in the denominator), from −100 to +100; ``None`` when there are no answers.
* **4-point top-two share** — share of "zeer goed" + "goed" (4 and 3), in percent, and the
  mean on 1–4.
* **grade** — mean on 1–10 and the pass share: the share of grades ≥ 6 (a "voldoende").
* **response rate** — completed / invited in percent; ``None`` when nobody was invited.

Answers may be given as an iterable of answers (``None`` = question skipped, ignored) or
as a mapping ``{answer: count}``, the shape a ``GROUP BY`` query returns.

"Unhappy" answers (closing the loop)
------------------------------------
:func:`is_unhappy` flags an answer that should lead to a follow-up. Defaults (see
:class:`UnhappyThresholds`): four_point matig or slecht (≤ 2); csat 1–2; nps 0–6
(detractors); grade below 6 (grades are whole numbers, so 1–5). Yes/no answers are not
judged unless the thresholds say which answer is the unhappy one (it depends on the
question); a single-choice option is unhappy when it is configured so
(``Choice.unhappy``); open text is never judged.

Combined satisfaction
---------------------
:func:`combine_scores` combines 0–100 readings from several sources (survey answers,
contact-moment readings, …) into one satisfaction score that keeps what it is made of.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Any

__all__ = [
    "CSAT",
    "FOUR_POINT",
    "FOUR_POINT_LABELS",
    "GRADE",
    "NPS",
    "OPEN_TEXT",
    "YES_NO",
    "AnswerError",
    "Choice",
    "CombinedScore",
    "QuestionSummary",
    "Reading",
    "Scale",
    "ScaleKind",
    "SourcePart",
    "UnhappyThresholds",
    "as_scale",
    "combine_scores",
    "csat_percent",
    "distribution",
    "four_point_mean",
    "four_point_top_two",
    "grade_mean",
    "grade_pass_share",
    "headline",
    "is_unhappy",
    "mean",
    "mean_score",
    "nps",
    "nps_exact",
    "response_rate",
    "round_score",
    "score_value",
    "score_value_exact",
    "single_choice",
    "summarize",
    "validate_answer",
]

HUNDRED = Fraction(100)


class ScaleKind(StrEnum):
    FOUR_POINT = "four_point"
    CSAT = "csat"
    NPS = "nps"
    GRADE = "grade"
    YES_NO = "yes_no"
    SINGLE_CHOICE = "single_choice"
    OPEN_TEXT = "open_text"


class AnswerError(ValueError):
    """An answer that does not fit its scale; ``code`` is a stable machine name."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Choice:
    """One option of a single-choice question.

    ``score`` (0–100) is optional: a choice carries a numeric score only when it is
    configured with one. ``unhappy`` marks an option that should lead to a follow-up.
    """

    key: str
    label: str = ""
    score: Decimal | None = None
    unhappy: bool = False

    def __post_init__(self) -> None:
        if self.score is not None and not 0 <= Decimal(self.score) <= 100:
            raise AnswerError("score_out_of_range", f"choice score must be 0–100: {self.score}")


@dataclass(frozen=True)
class Scale:
    """A question scale. Use the module constants, or :func:`single_choice`."""

    kind: ScaleKind
    minimum: int | None = None
    maximum: int | None = None
    labels: tuple[tuple[int, str], ...] = ()
    choices: tuple[Choice, ...] = ()

    def __post_init__(self) -> None:
        if (self.minimum is None) != (self.maximum is None) or (
            self.minimum is not None and self.maximum is not None and self.minimum >= self.maximum
        ):
            raise AnswerError("bad_scale", "a numeric scale needs minimum < maximum")

    @property
    def numeric(self) -> bool:
        """Whether answers are numbers on a linear scale (four_point, csat, nps, grade)."""
        return self.minimum is not None

    @property
    def bounds(self) -> tuple[int, int]:
        """``(minimum, maximum)`` of a numeric scale."""
        if self.minimum is None or self.maximum is None:
            raise AnswerError("not_numeric", f"{self.kind} is not a numeric scale")
        return self.minimum, self.maximum

    def values(self) -> tuple[Any, ...]:
        """Every possible answer in scale order (empty for open text)."""
        if self.minimum is not None and self.maximum is not None:
            return tuple(range(self.minimum, self.maximum + 1))
        if self.kind is ScaleKind.YES_NO:
            return (True, False)
        if self.kind is ScaleKind.SINGLE_CHOICE:
            return tuple(choice.key for choice in self.choices)
        return ()

    def choice(self, key: str) -> Choice:
        for option in self.choices:
            if option.key == key:
                return option
        raise AnswerError("unknown_choice", f"{key!r} is not an option of this question")


FOUR_POINT_LABELS: dict[int, tuple[str, str]] = {
    4: ("zeer goed", "very good"),
    3: ("goed", "good"),
    2: ("matig", "fair"),
    1: ("slecht", "poor"),
}

FOUR_POINT = Scale(
    ScaleKind.FOUR_POINT,
    1,
    4,
    labels=tuple((value, names[0]) for value, names in sorted(FOUR_POINT_LABELS.items())),
)
CSAT = Scale(ScaleKind.CSAT, 1, 5)
NPS = Scale(ScaleKind.NPS, 0, 10)
GRADE = Scale(ScaleKind.GRADE, 1, 10)
YES_NO = Scale(ScaleKind.YES_NO)
OPEN_TEXT = Scale(ScaleKind.OPEN_TEXT)

_STANDARD = {scale.kind: scale for scale in (FOUR_POINT, CSAT, NPS, GRADE, YES_NO, OPEN_TEXT)}


def single_choice(*choices: Choice) -> Scale:
    """A single-choice scale with the given options (keys must be unique)."""
    keys = [choice.key for choice in choices]
    if len(set(keys)) != len(keys):
        raise AnswerError("duplicate_choice", "choice keys must be unique")
    if not choices:
        raise AnswerError("no_choices", "a single-choice question needs options")
    return Scale(ScaleKind.SINGLE_CHOICE, choices=tuple(choices))


def as_scale(scale: Scale | ScaleKind | str) -> Scale:
    """Resolve a kind name to its standard scale (single choice needs a :class:`Scale`)."""
    if isinstance(scale, Scale):
        return scale
    kind = ScaleKind(scale)
    if kind is ScaleKind.SINGLE_CHOICE:
        raise AnswerError("choices_needed", "pass a Scale made with single_choice(...)")
    return _STANDARD[kind]


def round_score(value: Fraction | int | Decimal) -> Decimal:
    """Round exactly to one decimal, half away from zero (ROUND_HALF_UP): 69,15 → 69,2."""
    exact = Fraction(value)
    magnitude = abs(exact) * 10
    tenths = int(magnitude + Fraction(1, 2))  # floor, since magnitude ≥ 0
    if tenths == 0:
        return Decimal("0.0")
    result = Decimal(tenths).scaleb(-1)
    return -result if exact < 0 else result


def _round(value: Fraction | None) -> Decimal | None:
    return None if value is None else round_score(value)


def validate_answer(scale: Scale | ScaleKind | str, value: Any) -> Any:
    """Return ``value`` if it is a valid answer on ``scale``; raise :class:`AnswerError`."""
    scale = as_scale(scale)
    if scale.numeric:
        if isinstance(value, bool) or not isinstance(value, int | Decimal | Fraction):
            raise AnswerError("not_a_number", f"{scale.kind} answers are whole numbers: {value!r}")
        if value != int(value):
            raise AnswerError("not_whole", f"{scale.kind} answers are whole numbers: {value!r}")
        low, high = scale.bounds
        if not low <= value <= high:
            raise AnswerError(
                "out_of_range", f"{scale.kind} answers run from {low} to {high}: {value!r}"
            )
        return int(value)
    if scale.kind is ScaleKind.YES_NO:
        if not isinstance(value, bool):
            raise AnswerError("not_yes_no", f"yes/no answers are True or False: {value!r}")
        return value
    if scale.kind is ScaleKind.SINGLE_CHOICE:
        scale.choice(value)
        return value
    if not isinstance(value, str):
        raise AnswerError("not_text", f"open answers are text: {value!r}")
    return value


def score_value_exact(scale: Scale | ScaleKind | str, value: Any) -> Fraction | None:
    """The exact 0–100 score of one answer; ``None`` for open text or a choice without score."""
    scale = as_scale(scale)
    value = validate_answer(scale, value)
    if scale.numeric:
        low, high = scale.bounds
        return Fraction(value - low, high - low) * HUNDRED
    if scale.kind is ScaleKind.YES_NO:
        return HUNDRED if value else Fraction(0)
    if scale.kind is ScaleKind.SINGLE_CHOICE:
        score = scale.choice(value).score
        return None if score is None else Fraction(Decimal(score))
    return None


def score_value(scale: Scale | ScaleKind | str, value: Any) -> Decimal | None:
    """The 0–100 score of one answer, one decimal (4-point 2 → 33,3)."""
    return _round(score_value_exact(scale, value))


def _counts(scale: Scale, answers: Iterable[Any] | Mapping[Any, int]) -> dict[Any, int]:
    """Validated ``{answer: count}`` from answers or a distribution; skipped answers dropped."""
    pairs: Iterable[tuple[Any, int]]
    if isinstance(answers, Mapping):
        pairs = answers.items()
    else:
        pairs = ((answer, 1) for answer in answers)
    counts: dict[Any, int] = {}
    for answer, count in pairs:
        if answer is None or (scale.kind is ScaleKind.OPEN_TEXT and not str(answer).strip()):
            continue
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise AnswerError("bad_count", f"counts are whole numbers ≥ 0: {count!r}")
        value = validate_answer(scale, answer)
        counts[value] = counts.get(value, 0) + count
    return counts


def distribution(
    scale: Scale | ScaleKind | str, answers: Iterable[Any] | Mapping[Any, int]
) -> dict[Any, int]:
    """Count per scale value, every value listed (zeros included), in scale order.

    Open text has no values to count: its distribution is empty.
    """
    scale = as_scale(scale)
    counts = _counts(scale, answers)
    return {value: counts.get(value, 0) for value in scale.values()}


def _share(counts: Mapping[Any, int], selected: Iterable[Any]) -> Fraction | None:
    total = sum(counts.values())
    if total == 0:
        return None
    return Fraction(sum(counts.get(value, 0) for value in selected), total) * HUNDRED


def _mean_exact(counts: Mapping[Any, int]) -> Fraction | None:
    total = sum(counts.values())
    if total == 0:
        return None
    return Fraction(sum(value * count for value, count in counts.items()), total)


def mean(
    scale: Scale | ScaleKind | str, answers: Iterable[Any] | Mapping[Any, int]
) -> Decimal | None:
    """Mean on the scale's own units (e.g. 1–4); ``None`` for non-numeric scales or no answers."""
    scale = as_scale(scale)
    if not scale.numeric:
        return None
    return _round(_mean_exact(_counts(scale, answers)))


def _mean_score_exact(scale: Scale, counts: Mapping[Any, int]) -> Fraction | None:
    total = Fraction(0)
    n = 0
    for value, count in counts.items():
        score = score_value_exact(scale, value)
        if score is None or count == 0:
            continue
        total += score * count
        n += count
    return total / n if n else None


def mean_score(
    scale: Scale | ScaleKind | str, answers: Iterable[Any] | Mapping[Any, int]
) -> Decimal | None:
    """Mean of the answers' 0–100 scores (answers without a score are left out)."""
    scale = as_scale(scale)
    return _round(_mean_score_exact(scale, _counts(scale, answers)))


def csat_percent(answers: Iterable[int] | Mapping[int, int]) -> Decimal | None:
    """CSAT %: share of 4 and 5 among all CSAT (1–5) answers; ``None`` without answers."""
    return _round(_share(_counts(CSAT, answers), (4, 5)))


def nps_exact(answers: Iterable[int] | Mapping[int, int]) -> Fraction | None:
    counts = _counts(NPS, answers)
    promoters = _share(counts, (9, 10))
    detractors = _share(counts, range(7))
    if promoters is None or detractors is None:
        return None
    return promoters - detractors


def nps(answers: Iterable[int] | Mapping[int, int]) -> Decimal | None:
    """NPS: % promoters (9–10) minus % detractors (0–6) of all answers; ``None`` without any."""
    return _round(nps_exact(answers))


def four_point_top_two(answers: Iterable[int] | Mapping[int, int]) -> Decimal | None:
    """Share of "zeer goed" (4) and "goed" (3) among all 4-point answers, in percent."""
    return _round(_share(_counts(FOUR_POINT, answers), (3, 4)))


def four_point_mean(answers: Iterable[int] | Mapping[int, int]) -> Decimal | None:
    """Mean of 4-point answers on 1–4 (4 = zeer goed)."""
    return mean(FOUR_POINT, answers)


def grade_mean(answers: Iterable[int] | Mapping[int, int]) -> Decimal | None:
    """Mean school grade on 1–10."""
    return mean(GRADE, answers)


def grade_pass_share(
    answers: Iterable[int] | Mapping[int, int], *, pass_mark: int = 6
) -> Decimal | None:
    """Share of grades ≥ ``pass_mark`` (default 6, a "voldoende"), in percent."""
    return _round(_share(_counts(GRADE, answers), range(pass_mark, 11)))


def response_rate(completed: int, invited: int) -> Decimal | None:
    """Completed / invited in percent; ``None`` when nobody was invited.

    More completed than invited is refused: it means the counts come from different sets.
    """
    if completed < 0 or invited < 0:
        raise AnswerError("bad_count", "counts are whole numbers ≥ 0")
    if invited == 0:
        return None
    if completed > invited:
        raise AnswerError(
            "more_completed_than_invited", f"{completed} completed > {invited} invited"
        )
    return round_score(Fraction(completed, invited) * HUNDRED)


@dataclass(frozen=True)
class QuestionSummary:
    """Everything shown for one question.

    ``headline`` is the scale's key figure, named by ``headline_name``: four_point
    ``top_two_share``, csat ``csat_percent``, nps ``nps``, grade ``pass_share``, yes_no
    ``yes_share``; ``None`` for single choice and open text.
    """

    kind: ScaleKind
    count: int
    distribution: dict[Any, int]
    mean: Decimal | None
    mean_score: Decimal | None
    headline: Decimal | None
    headline_name: str | None


_HEADLINES = {
    ScaleKind.FOUR_POINT: ("top_two_share", (3, 4)),
    ScaleKind.CSAT: ("csat_percent", (4, 5)),
    ScaleKind.GRADE: ("pass_share", range(6, 11)),
    ScaleKind.YES_NO: ("yes_share", (True,)),
}


def _headline_exact(scale: Scale, counts: Mapping[Any, int]) -> tuple[str | None, Fraction | None]:
    if scale.kind is ScaleKind.NPS:
        return "nps", nps_exact(counts)
    if scale.kind in _HEADLINES:
        name, selected = _HEADLINES[scale.kind]
        return name, _share(counts, selected)
    return None, None


def headline(
    scale: Scale | ScaleKind | str, answers: Iterable[Any] | Mapping[Any, int]
) -> Decimal | None:
    """The scale's key figure alone (see :class:`QuestionSummary`), e.g. for a trend."""
    scale = as_scale(scale)
    return _round(_headline_exact(scale, _counts(scale, answers))[1])


def summarize(
    scale: Scale | ScaleKind | str, answers: Iterable[Any] | Mapping[Any, int]
) -> QuestionSummary:
    """Distribution, mean, mean on 0–100 and the scale's key figure for one question."""
    scale = as_scale(scale)
    counts = _counts(scale, answers)
    headline_name, headline_value = _headline_exact(scale, counts)
    return QuestionSummary(
        kind=scale.kind,
        count=sum(counts.values()),
        distribution={value: counts.get(value, 0) for value in scale.values()},
        mean=_round(_mean_exact(counts)) if scale.numeric else None,
        mean_score=_round(_mean_score_exact(scale, counts)),
        headline=_round(headline_value),
        headline_name=headline_name,
    )


@dataclass(frozen=True)
class UnhappyThresholds:
    """When an answer counts as unhappy. Answers at or below ``*_at_most`` are unhappy.

    ``grade_below``: a grade strictly below it is unhappy (6: grades 1–5).
    ``yes_no_unhappy``: which yes/no answer is unhappy for the question (``None``: neither,
    because whether "yes" is good depends on the question).
    """

    four_point_at_most: int = 2
    csat_at_most: int = 2
    nps_at_most: int = 6
    grade_below: int = 6
    yes_no_unhappy: bool | None = None


DEFAULT_THRESHOLDS = UnhappyThresholds()


def is_unhappy(
    scale: Scale | ScaleKind | str, value: Any, thresholds: UnhappyThresholds | None = None
) -> bool:
    """Whether an answer should lead to a follow-up (see the module docstring for defaults).

    A skipped answer (``None``) is not unhappy; an invalid one raises :class:`AnswerError`.
    """
    scale = as_scale(scale)
    if value is None:
        return False
    value = validate_answer(scale, value)
    limits = thresholds or DEFAULT_THRESHOLDS
    match scale.kind:
        case ScaleKind.FOUR_POINT:
            return value <= limits.four_point_at_most
        case ScaleKind.CSAT:
            return value <= limits.csat_at_most
        case ScaleKind.NPS:
            return value <= limits.nps_at_most
        case ScaleKind.GRADE:
            return value < limits.grade_below
        case ScaleKind.YES_NO:
            return limits.yes_no_unhappy is not None and value is limits.yes_no_unhappy
        case ScaleKind.SINGLE_CHOICE:
            return scale.choice(value).unhappy
    return False


@dataclass(frozen=True)
class Reading:
    """One 0–100 satisfaction reading from a source.

    ``source`` groups readings ("survey", "interaction", …); ``weight`` weighs a reading
    within its source (default 1); ``ref`` says where it came from (e.g. "response:12").
    """

    source: str
    score: Decimal | Fraction | int
    weight: Decimal | Fraction | int = 1
    ref: str = ""

    def __post_init__(self) -> None:
        if not 0 <= Fraction(self.score) <= 100:
            raise AnswerError("score_out_of_range", f"a reading is 0–100: {self.score}")
        if Fraction(self.weight) < 0:
            raise AnswerError("negative_weight", f"weights are ≥ 0: {self.weight}")


@dataclass(frozen=True)
class SourcePart:
    """One source's part in a combined score: its mean, its weight and its share in percent."""

    source: str
    readings: int
    mean: Decimal
    weight: Decimal | Fraction | int
    share: Decimal
    refs: tuple[str, ...] = ()


@dataclass(frozen=True)
class CombinedScore:
    """A combined 0–100 satisfaction score and what it is made of (``None``: no readings)."""

    score: Decimal | None
    parts: tuple[SourcePart, ...] = field(default_factory=tuple)

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(part.source for part in self.parts)


def combine_scores(
    readings: Iterable[Reading],
    *,
    source_weights: Mapping[str, Decimal | Fraction | int] | None = None,
) -> CombinedScore:
    """Combine 0–100 readings into one satisfaction score, keeping its sources.

    Two steps, so that a source with many readings does not drown one with few:
    first each source's weighted mean (reading weights), then the weighted mean of the
    source means with ``source_weights`` (default: every source weight 1; a source
    missing from a given mapping gets weight 0). Sources without readings drop out and
    the weights of the others are renormalised. The score, each part's mean and each
    part's ``share`` (its percentage of the total weight) are rounded once to one decimal
    from exact values.
    """
    groups: dict[str, list[Reading]] = {}
    for reading in readings:
        groups.setdefault(reading.source, []).append(reading)

    source_means: list[tuple[str, list[Reading], Fraction, Fraction]] = []
    for source in sorted(groups):
        items = groups[source]
        weight_sum = sum((Fraction(r.weight) for r in items), Fraction(0))
        if weight_sum == 0:
            continue
        source_mean = sum(Fraction(r.score) * Fraction(r.weight) for r in items) / weight_sum
        if source_weights is None:
            source_weight = Fraction(1)
        else:
            source_weight = Fraction(source_weights.get(source, 0))
        if source_weight < 0:
            raise AnswerError("negative_weight", f"weights are ≥ 0: {source}")
        if source_weight == 0:
            continue
        source_means.append((source, items, source_mean, source_weight))

    total_weight = sum((weight for *_, weight in source_means), Fraction(0))
    if total_weight == 0:
        return CombinedScore(score=None, parts=())
    combined = sum(m * w for _, _, m, w in source_means) / total_weight
    parts = tuple(
        SourcePart(
            source=source,
            readings=len(items),
            mean=round_score(source_mean),
            weight=source_weights[source] if source_weights is not None else 1,
            share=round_score(weight / total_weight * HUNDRED),
            refs=tuple(r.ref for r in items if r.ref),
        )
        for source, items, source_mean, weight in source_means
    )
    return CombinedScore(score=round_score(combined), parts=parts)
