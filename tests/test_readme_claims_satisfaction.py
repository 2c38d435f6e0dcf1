"""The three surveys the README says come ready, with what each asks (in order) and
what each question measures, in a fresh database."""

import pytest

from relatiebeheer.satisfaction.models import Survey

pytestmark = pytest.mark.django_db


def test_three_surveys_come_ready():
    asked = {
        survey.key: [(q.kind, q.tags) for q in survey.questions.order_by("position")]
        for survey in Survey.objects.all()
    }
    # after a service contact: clarity, quality of the advice, overall satisfaction, a comment
    assert asked["after-service"] == [
        ("four_point", ["clarity"]),
        ("four_point", ["advice_quality"]),
        ("four_point", ["satisfaction"]),
        ("open_text", []),
    ]
    # the short check-back
    assert asked["check-back"] == [("four_point", ["satisfaction"]), ("open_text", [])]
    # the yearly relationship survey: trust, satisfaction, a grade, NPS (and a comment)
    assert [kind for kind, _tags in asked["relationship"]][:4] == [
        "four_point",
        "four_point",
        "grade",
        "nps",
    ]
    assert [tags for _kind, tags in asked["relationship"]][:2] == [["trust"], ["satisfaction"]]
