"""Question kinds: the one registry that every part of the satisfaction domain reads.

A kind says how a question is asked and how its answer is kept and scored:

* the **survey builder** (web form, API schema, service validation) offers and accepts
  exactly the registered kinds (:func:`choices`, :func:`keys`);
* the **answer page** renders each question with its kind's template
  (``satisfaction/kinds/<key>.html``) from :meth:`Kind.option_labels`;
* a submitted value is parsed by the kind (:meth:`Kind.parse`), stored in the kind's
  ``Answer`` column (:attr:`Kind.column`) and scored on the kind's scale from
  :mod:`relatiebeheer.core.survey_scores` (:meth:`Kind.scale_for`), which maps it to 0–100;
* the **monthly counts** key a value with :meth:`Kind.count_key` and read it back with
  :meth:`Kind.from_count_key`;
* the **exports** give each question a value column of type :attr:`Kind.export_type`
  (labels instead of values where :attr:`Kind.export_labels`) and, for scored kinds, a
  0–100 column.

Adding a kind is one :func:`register_kind` entry here plus its template. A kind on an
existing scale (say, five stars scored like CSAT) needs nothing else; a kind with a new
way of scoring needs that scale in ``core/survey_scores.py`` first, because scores are
computed only there. ``tests/satisfaction/test_kinds.py`` checks that every consumer
follows the registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import translation
from django.utils.translation import gettext_lazy as _

from relatiebeheer.core import survey_scores as scores

MAX_TEXT = 5000

# The ``Answer`` columns a value can live in.
INT, BOOL, CHOICE, TEXT = "value_int", "value_bool", "value_choice", "value_text"
COLUMNS = (INT, BOOL, CHOICE, TEXT)

OptionLabels = Callable[[Any, str], list[tuple[Any, str]]]


def _parse_int(raw: Any) -> int:
    if isinstance(raw, bool):
        raise ValueError(raw)
    return int(str(raw).strip())


def _parse_bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in {"yes", "ja", "true", "1"}:
        return True
    if text in {"no", "nee", "false", "0"}:
        return False
    raise ValueError(raw)


def _parse_choice(raw: Any) -> str:
    return str(raw).strip()


def _parse_text(raw: Any) -> str:
    return str(raw).replace("\x00", "").strip()[:MAX_TEXT]


_PARSERS: dict[str, Callable[[Any], Any]] = {
    INT: _parse_int,
    BOOL: _parse_bool,
    CHOICE: _parse_choice,
    TEXT: _parse_text,
}


@dataclass(frozen=True)
class Kind:
    """One question kind. ``scale`` is its scale in ``core.survey_scores`` (``None``:
    built from the question's own options, see :attr:`has_options`)."""

    key: str
    label: Any  # a lazy translation
    column: str
    scale: scores.Scale | None
    option_labels_for: OptionLabels
    export_labels: bool = False
    has_options: bool = False  # the builder gives the options (single choice)
    has_unhappy_answer: bool = False  # the builder says which answer is unhappy (yes/no)

    def __post_init__(self) -> None:
        if self.column not in COLUMNS:
            raise ValueError(f"{self.key}: unknown answer column {self.column!r}")
        if (self.scale is None) != self.has_options:
            raise ValueError(f"{self.key}: a scale, or options given by the builder")

    @property
    def template(self) -> str:
        """The answer page's template for a question of this kind."""
        return f"satisfaction/kinds/{self.key}.html"

    @property
    def free_text(self) -> bool:
        """Open answers: neither counted per value nor scored."""
        return self.column == TEXT

    @property
    def numeric(self) -> bool:
        return self.column == INT

    @property
    def export_type(self) -> str:
        """The exporter's column kind for the answer's value."""
        return "int" if self.numeric and not self.export_labels else "text"

    def scale_for(self, question: Any) -> scores.Scale:
        """The question's scale: the kind's own, or one made of the question's options."""
        if self.scale is not None:
            return self.scale
        return scores.single_choice(
            *(
                scores.Choice(
                    key=str(c["key"]),
                    label=str(c.get("label_nl", "")),
                    score=None if c.get("score") in (None, "") else Decimal(str(c["score"])),
                    unhappy=bool(c.get("unhappy")),
                )
                for c in question.choices
            )
        )

    def parse(self, raw: Any) -> Any:
        """A typed value from a form field or JSON (``ValueError``/``TypeError`` if not)."""
        return _PARSERS[self.column](raw)

    def option_labels(self, question: Any, language: str) -> list[tuple[Any, str]]:
        """``(value, label)`` for every answer option, in display order (none for text)."""
        with translation.override(language):
            return self.option_labels_for(question, language)

    def count_key(self, value: Any) -> str:
        """How a value is keyed in ``AnswerCount`` (open text: "")."""
        if self.column == BOOL:
            return "yes" if value else "no"
        if self.column == TEXT:
            return ""
        return str(value)

    def from_count_key(self, key: str) -> Any:
        """The value an ``AnswerCount.value_key`` stands for (``None`` for open text)."""
        if self.column == BOOL:
            return key == "yes"
        if self.column == INT:
            return int(key)
        if self.column == CHOICE:
            return key or None
        return None

    def stored_value(self, row: Any) -> Any:
        """The value in an ``Answer`` (or a mapping with its columns; open text is
        ``None`` when the mapping leaves its column out, as grouped counts do)."""
        value = row.get(self.column) if isinstance(row, dict) else getattr(row, self.column)
        if self.column in (CHOICE, TEXT):
            return value or None
        return value


_kinds: dict[str, Kind] = {}


def register_kind(kind: Kind) -> Kind:
    if len(kind.key) > 20:  # Question.kind and Answer.kind hold 20 characters
        raise ValueError(f"kind keys have at most 20 characters: {kind.key!r}")
    _kinds[kind.key] = kind
    return kind


def get(key: str) -> Kind:
    """The kind named ``key`` (``KeyError`` for an unknown one)."""
    return _kinds[key]


def all_kinds() -> list[Kind]:
    return list(_kinds.values())


def keys() -> tuple[str, ...]:
    return tuple(_kinds)


def choices() -> list[tuple[str, Any]]:
    """``(key, label)`` for the model fields and the builder (a callable, so a new kind
    needs no migration)."""
    return [(kind.key, kind.label) for kind in _kinds.values()]


# --- the kinds --------------------------------------------------------------------------


def _numbers(scale: scores.Scale) -> OptionLabels:
    def labels(question: Any, language: str) -> list[tuple[Any, str]]:
        return [(value, str(value)) for value in scale.values()]

    return labels


def _four_point(question: Any, language: str) -> list[tuple[Any, str]]:
    labels = {4: _("very good"), 3: _("good"), 2: _("fair"), 1: _("poor")}
    return [(value, str(labels[value])) for value in (4, 3, 2, 1)]


def _yes_no(question: Any, language: str) -> list[tuple[Any, str]]:
    return [(True, str(_("yes"))), (False, str(_("no")))]


def _own_options(question: Any, language: str) -> list[tuple[Any, str]]:
    key = "label_en" if language == "en" else "label_nl"
    return [
        (str(c["key"]), str(c.get(key) or c.get("label_nl") or c["key"])) for c in question.choices
    ]


def _no_options(question: Any, language: str) -> list[tuple[Any, str]]:
    return []


for _kind in (
    Kind(
        "four_point",
        _("4-point scale (zeer goed – slecht)"),
        INT,
        scores.FOUR_POINT,
        _four_point,
        export_labels=True,
    ),
    Kind("csat", _("CSAT 1–5"), INT, scores.CSAT, _numbers(scores.CSAT)),
    Kind("nps", _("NPS 0–10"), INT, scores.NPS, _numbers(scores.NPS)),
    Kind("grade", _("Grade 1–10"), INT, scores.GRADE, _numbers(scores.GRADE)),
    Kind(
        "yes_no",
        _("Yes / no"),
        BOOL,
        scores.YES_NO,
        _yes_no,
        export_labels=True,
        has_unhappy_answer=True,
    ),
    Kind(
        "single_choice",
        _("Single choice"),
        CHOICE,
        None,
        _own_options,
        export_labels=True,
        has_options=True,
    ),
    Kind("open_text", _("Open text"), TEXT, scores.OPEN_TEXT, _no_options),
):
    register_kind(_kind)
