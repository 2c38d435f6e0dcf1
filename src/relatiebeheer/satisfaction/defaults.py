"""The surveys every installation starts with (installed by a data migration).

* ``after-service`` — the lesson's survey after a service contact: clarity of the
  explanation, quality of the advice, overall satisfaction, and a comment; each on the
  4-point scale *zeer goed – goed – matig – slecht*. Sent automatically after contact
  moments of the chosen kinds.
* ``check-back`` — two short questions sent when a follow-up is closed.
* ``relationship`` — a yearly relationship survey: trust, overall satisfaction, a
  grade and NPS (the loyalty drivers read the "trust" answers).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .models import SatisfactionSettings, Survey

DEFAULT_SURVEY = "after-service"
CHECK_BACK_SURVEY = "check-back"

SURVEYS = [
    {
        "key": DEFAULT_SURVEY,
        "name": "Na een servicecontact / After a service contact",
        "title_nl": "Hoe was ons contact?",
        "title_en": "How was our contact?",
        "intro_nl": (
            "U had onlangs contact met ons. Wilt u ons laten weten hoe dat ging? "
            "Het kost minder dan een minuut."
        ),
        "intro_en": (
            "You were recently in touch with us. Would you let us know how it went? "
            "It takes less than a minute."
        ),
        "questions": [
            {
                "kind": "four_point",
                "text_nl": "Hoe duidelijk was de uitleg die u kreeg?",
                "text_en": "How clear was the explanation you were given?",
                "tags": ["clarity"],
            },
            {
                "kind": "four_point",
                "text_nl": "Hoe beoordeelt u de kwaliteit van het advies?",
                "text_en": "How do you rate the quality of the advice?",
                "tags": ["advice_quality"],
            },
            {
                "kind": "four_point",
                "text_nl": "Hoe tevreden bent u in het algemeen over het contact?",
                "text_en": "Overall, how satisfied are you with the contact?",
                "tags": ["satisfaction"],
            },
            {
                "kind": "open_text",
                "text_nl": "Wilt u ons nog iets laten weten?",
                "text_en": "Is there anything else you would like to tell us?",
                "required": False,
            },
        ],
    },
    {
        "key": CHECK_BACK_SURVEY,
        "name": "Terugkoppeling / Check-back",
        "title_nl": "Is het nu goed opgelost?",
        "title_en": "Is it sorted out now?",
        "intro_nl": "U liet ons onlangs weten dat u niet tevreden was. We horen graag hoe het nu is.",
        "intro_en": "You recently told us you were not satisfied. We would like to hear how things are now.",
        "questions": [
            {
                "kind": "four_point",
                "text_nl": "Hoe tevreden bent u nu over hoe we uw punt hebben opgepakt?",
                "text_en": "How satisfied are you now with how we handled your point?",
                "tags": ["satisfaction"],
            },
            {
                "kind": "open_text",
                "text_nl": "Toelichting",
                "text_en": "Comments",
                "required": False,
            },
        ],
    },
    {
        "key": "relationship",
        "name": "Relatieonderzoek / Relationship survey",
        "title_nl": "Hoe kijkt u naar onze samenwerking?",
        "title_en": "How do you see our relationship?",
        "intro_nl": "Eens per jaar vragen we onze klanten hoe het gaat. Dank voor uw tijd!",
        "intro_en": "Once a year we ask our customers how things are going. Thank you for your time!",
        "questions": [
            {
                "kind": "four_point",
                "text_nl": "Hoeveel vertrouwen heeft u in ons en in onze producten?",
                "text_en": "How much do you trust us and our products?",
                "tags": ["trust"],
            },
            {
                "kind": "four_point",
                "text_nl": "Hoe tevreden bent u in het algemeen over onze samenwerking?",
                "text_en": "Overall, how satisfied are you with working with us?",
                "tags": ["satisfaction"],
            },
            {
                "kind": "grade",
                "text_nl": "Welk rapportcijfer geeft u ons?",
                "text_en": "What mark out of ten would you give us?",
                "tags": [],
            },
            {
                "kind": "nps",
                "text_nl": "Hoe waarschijnlijk is het dat u ons aanbeveelt bij een collega?",
                "text_en": "How likely are you to recommend us to a colleague?",
                "tags": ["recommend"],
            },
            {
                "kind": "open_text",
                "text_nl": "Wat kunnen we beter doen?",
                "text_en": "What could we do better?",
                "required": False,
            },
        ],
    },
]


def install(Survey, Question) -> None:
    """Create the default surveys that do not exist yet (by key)."""
    for spec in SURVEYS:
        if Survey.objects.filter(key=spec["key"]).exists():
            continue
        survey = Survey.objects.create(
            key=spec["key"],
            name=spec["name"],
            title_nl=spec["title_nl"],
            title_en=spec["title_en"],
            intro_nl=spec["intro_nl"],
            intro_en=spec["intro_en"],
        )
        for position, q in enumerate(spec["questions"], start=1):
            tags = sorted(q.get("tags", []))
            Question.objects.create(
                survey=survey,
                position=position,
                kind=q["kind"],
                text_nl=q["text_nl"],
                text_en=q["text_en"],
                required=q.get("required", True),
                tags_text=f",{','.join(tags)}," if tags else "",
            )


def _built_in(key: str) -> Survey:
    from .models import Survey
    from .surveys.services import survey_defaults_install

    survey = Survey.objects.filter(key=key).first()
    if survey is None:
        survey_defaults_install()
        survey = Survey.objects.get(key=key)
    return survey


def default_survey() -> Survey:
    """The survey "after a service contact" (put back if an installation lacks it)."""
    return _built_in(DEFAULT_SURVEY)


def check_back_survey(config: SatisfactionSettings) -> Survey:
    """The survey sent when a follow-up is closed: the configured one, else the built-in."""
    if config.check_back_survey is not None:
        return config.check_back_survey
    return _built_in(CHECK_BACK_SURVEY)
