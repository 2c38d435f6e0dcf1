"""Pinned score definitions (through the results the pages and the API show), readings for
other features, the account panel, building surveys, and the export."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from relatiebeheer.core import survey_scores as scores
from relatiebeheer.satisfaction import selectors
from relatiebeheer.satisfaction.answering.form import form_questions
from relatiebeheer.satisfaction.answering.services import response_submit
from relatiebeheer.satisfaction.answering.tokens import hash_token
from relatiebeheer.satisfaction.followups.rules import add_working_days
from relatiebeheer.satisfaction.models import (
    AnswerToken,
    Invitation,
    Question,
    SatisfactionSettings,
    Survey,
)
from relatiebeheer.satisfaction.surveys.services import survey_create, survey_update

from ..factories import AccountFactory, InteractionFactory, OrderFactory
from .conftest import consenting_contact

pytestmark = pytest.mark.django_db


# --- the definitions, pinned ------------------------------------------------------------


def test_pinned_nps():
    assert scores.nps([10, 9, 8, 7, 6, 0]) == Decimal("0.0")
    assert scores.nps([9] * 12) == Decimal("100.0")
    assert scores.nps([]) is None


def test_pinned_csat():
    assert scores.csat_percent({5: 42, 4: 32, 3: 10, 2: 9, 1: 14}) == Decimal("69.2")


def _survey(sales_manager, *questions):
    return survey_create(
        actor=sales_manager,
        data={"key": "test", "name": "Test", "title_nl": "Test"},
        questions=list(questions),
    )


def _answer(survey, contact, values: dict, when=None):
    invitation = Invitation.objects.create(
        survey=survey, account_id=contact.account_id, contact=contact, source="manual"
    )
    token = AnswerToken.objects.create(
        invitation=invitation,
        kind="invitation",
        token_hash=hash_token(f"t{invitation.pk}"),
        issued_at=timezone.now(),
        expires_at=timezone.now() + timedelta(days=30),
    )
    data = {f"q{q.pk}": str(values[q.kind]) for q in form_questions(survey) if q.kind in values}
    return response_submit(token=token, data=data, now=when)


def test_results_reproduce_the_pinned_figures(sales_manager, owner):
    survey = _survey(
        sales_manager,
        {"kind": "csat", "text_nl": "Tevreden?", "tags": ["satisfaction"]},
        {"kind": "nps", "text_nl": "Aanbevelen?", "required": False},
    )
    contact = consenting_contact(AccountFactory(manager=owner), email="c@x.example")
    for value, count in {5: 42, 4: 32, 3: 10, 2: 9, 1: 14}.items():
        for _ in range(count):
            _answer(survey, contact, {"csat": value})
    results = selectors.survey_results(actor=sales_manager, survey=survey)
    csat, nps = results.questions
    assert csat.summary.headline_name == "csat_percent" and csat.summary.headline == Decimal("69.2")
    assert csat.summary.count == 107
    assert nps.summary.headline is None  # no NPS answers: none, not zero
    assert results.invited == results.completed == 107
    assert results.response_rate == Decimal("100.0")


def test_nps_through_the_results(sales_manager, owner):
    survey = _survey(sales_manager, {"kind": "nps", "text_nl": "Aanbevelen?"})
    contact = consenting_contact(AccountFactory(manager=owner), email="c@x.example")
    for value in [10, 9, 8, 7, 6, 0]:
        _answer(survey, contact, {"nps": value})
    result = selectors.survey_results(actor=sales_manager, survey=survey).questions[0]
    assert result.summary.headline == Decimal("0.0")
    assert [n for _v, _l, n in result.labels] == [1, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1]


def test_response_rate_counts_invitations_without_answers(sales_manager, owner):
    survey = _survey(sales_manager, {"kind": "four_point", "text_nl": "Hoe?"})
    contact = consenting_contact(AccountFactory(manager=owner), email="c@x.example")
    _answer(survey, contact, {"four_point": 4})
    Invitation.objects.create(
        survey=survey, account=contact.account, contact=contact, source="manual"
    )
    results = selectors.survey_results(actor=sales_manager, survey=survey)
    assert (results.invited, results.completed, results.response_rate) == (2, 1, Decimal("50.0"))
    top_two = results.questions[0].summary
    assert top_two.headline_name == "top_two_share" and top_two.headline == Decimal("100.0")


def test_revenue_weighted_satisfaction_and_revenue_at_risk(sales_manager, owner):
    from relatiebeheer.value.services import metrics_recompute

    survey = _survey(
        sales_manager, {"kind": "four_point", "text_nl": "Tevreden?", "tags": ["satisfaction"]}
    )
    big, small = (
        AccountFactory(manager=owner, name="Groot"),
        AccountFactory(manager=owner, name="Klein"),
    )
    today = timezone.localdate()
    OrderFactory(account=big, date=today - timedelta(days=10), revenue=Decimal("9000.00"))
    OrderFactory(account=small, date=today - timedelta(days=10), revenue=Decimal("1000.00"))
    metrics_recompute(with_prediction=False)
    _answer(survey, consenting_contact(big, email="g@x.example"), {"four_point": 1})  # 0
    _answer(survey, consenting_contact(small, email="k@x.example"), {"four_point": 4})  # 100
    results = selectors.survey_results(actor=sales_manager, survey=survey)
    assert results.unweighted_satisfaction == Decimal("50.0")
    # (0 × 9000 + 100 × 1000) / 10000 = 10
    assert results.weighted_satisfaction == Decimal("10.0")
    assert results.revenue_at_risk == Decimal("9000.00") and results.accounts_at_risk == 1
    assert [a["name"] for a in results.accounts] == ["Groot", "Klein"]
    assert results.managers[0]["score"] == Decimal("50.0")
    # An account manager's results cover their own accounts only.
    from ..factories import UserFactory

    stranger = UserFactory(username="eva")
    assert selectors.survey_results(actor=stranger, survey=survey).accounts == []


def test_account_scores_by_tag_with_sources(sales_manager, owner):
    survey = _survey(
        sales_manager,
        {"kind": "four_point", "text_nl": "Vertrouwen?", "tags": ["trust"]},
        {"kind": "csat", "text_nl": "Tevreden?", "tags": ["satisfaction"]},
    )
    account = AccountFactory(manager=owner)
    response = _answer(
        survey, consenting_contact(account, email="a@x.example"), {"four_point": 3, "csat": 5}
    )
    moment = InteractionFactory(account=account, satisfaction=2)
    readings = selectors.account_scores([account.pk, 999999])
    assert readings[999999] == []
    by_source = {r.source: r for r in readings[account.pk]}
    assert by_source["survey"].score == Decimal("100.0")
    assert by_source["survey"].ref == f"response:{response.pk}"
    assert by_source["contact_moment"].score == Decimal("33.3")
    assert by_source["contact_moment"].ref == f"interaction:{moment.pk}"
    trust = selectors.account_scores([account.pk], tag="trust")[account.pk]
    assert [(r.score, r.source) for r in trust] == [(Decimal("66.7"), "survey")]
    future = timezone.localdate() + timedelta(days=1)
    assert selectors.account_scores([account.pk], since=future)[account.pk] == []
    combined = selectors.combined_satisfaction(readings[account.pk])
    assert combined.score == Decimal("66.7")  # (100 + 33.3) / 2: each source weighs equally
    assert set(combined.sources) == {"survey", "contact_moment"}


def test_the_account_page_shows_the_panel_with_sources(web_as, owner, sales_manager):
    survey = _survey(
        sales_manager, {"kind": "four_point", "text_nl": "Tevreden?", "tags": ["satisfaction"]}
    )
    account = AccountFactory(manager=owner, name="de Bijenkorf")
    _answer(survey, consenting_contact(account, email="a@x.example"), {"four_point": 4})
    InteractionFactory(account=account, satisfaction=3)
    page = web_as(owner).get(f"/accounts/{account.pk}/").content.decode()
    assert 'data-testid="satisfaction-panel"' in page
    assert 'data-testid="satisfaction-score">83,4<' in page  # (100 + 66,7) / 2 in Dutch
    assert "/satisfaction/accounts/" in page  # the invite form


# --- building surveys ---------------------------------------------------------------------


def test_only_managers_build_surveys(owner, sales_manager):
    from relatiebeheer.common.errors import PermissionRefused

    with pytest.raises(PermissionRefused):
        _survey(owner, {"kind": "csat", "text_nl": "Tevreden?"})
    survey = _survey(
        sales_manager,
        {
            "kind": "single_choice",
            "text_nl": "Hoe bereikte u ons?",
            "text_en": "How?",
            "choices": [
                {"label_nl": "Telefoon", "score": 100},
                {"label_nl": "Mail", "unhappy": True},
            ],
        },
        {"kind": "yes_no", "text_nl": "Opgelost?", "yes_no_unhappy": False, "tags": ["service"]},
    )
    first, second = form_questions(survey)
    assert [c["key"] for c in first.choices] == ["1", "2"] and first.text_en == "How?"
    assert second.tags == ["service"] and second.yes_no_unhappy is False


def test_answered_questions_keep_their_type_and_are_archived_not_deleted(sales_manager, owner):
    from relatiebeheer.common.errors import InvalidInput

    survey = _survey(
        sales_manager, {"kind": "four_point", "text_nl": "A"}, {"kind": "csat", "text_nl": "B"}
    )
    a, b = form_questions(survey)
    _answer(
        survey,
        consenting_contact(AccountFactory(manager=owner), email="x@x.example"),
        {"four_point": 4, "csat": 5},
    )
    with pytest.raises(InvalidInput):
        survey_update(
            actor=sales_manager,
            survey=survey,
            version=survey.version,
            data={},
            questions=[{"id": a.pk, "kind": "csat", "text_nl": "A"}],
        )
    survey.refresh_from_db()
    survey_update(
        actor=sales_manager,
        survey=survey,
        version=survey.version,
        data={"name": "Nieuw"},
        questions=[
            {"id": a.pk, "text_nl": "A!"},
            {"kind": "open_text", "text_nl": "C", "required": False},
        ],
    )
    assert Question.objects.get(pk=b.pk).archived
    assert [q.text_nl for q in form_questions(survey)] == ["A!", "C"]


def test_the_api_builds_and_edits_a_survey(api_as, sales_manager):
    client = api_as(sales_manager)
    created = client.post(
        "surveys",
        {
            "key": "na-levering",
            "name": "Na levering",
            "title_nl": "Hoe ging de levering?",
            "questions": [
                {"kind": "grade", "text_nl": "Cijfer?", "tags": ["satisfaction"]},
                {"kind": "nps", "text_nl": "Aanbevelen?"},
            ],
        },
    )
    assert created.status_code == 201, created.json_body
    body = created.json_body
    assert [q["kind"] for q in body["questions"]] == ["grade", "nps"]
    changed = client.patch(
        f"surveys/{body['id']}",
        {
            "version": body["version"],
            "questions": [
                {"id": body["questions"][1]["id"], "kind": "nps", "text_nl": "Aanbevelen?"}
            ],
        },
    )
    assert changed.status_code == 200, changed.json_body
    assert [q["kind"] for q in changed.json_body["questions"]] == ["nps"]
    stale = client.patch(f"surveys/{body['id']}", {"version": body["version"], "name": "x"})
    assert stale.status_code == 409
    bad = client.post(
        "surveys",
        {
            **{"key": "x", "name": "x", "title_nl": "x"},
            "questions": [{"kind": "stars", "text_nl": "?"}],
        },
    )
    assert bad.status_code == 422
    assert Survey.objects.filter(key="x").count() == 0


def test_the_editor_page_saves_questions(web_as, sales_manager):
    client = web_as(sales_manager)
    page = client.get("/satisfaction/surveys/new/")
    assert page.status_code == 200
    data = {
        "name": "Kort",
        "key": "kort",
        "title_nl": "Kort",
        "title_en": "",
        "intro_nl": "",
        "intro_en": "",
        "active": "on",
        "q-TOTAL_FORMS": "2",
        "q-INITIAL_FORMS": "0",
        "q-MIN_NUM_FORMS": "0",
        "q-MAX_NUM_FORMS": "1000",
        "q-0-position": "2",
        "q-0-kind": "open_text",
        "q-0-text_nl": "Opmerking",
        "q-1-position": "1",
        "q-1-kind": "single_choice",
        "q-1-text_nl": "Kanaal",
        "q-1-required": "on",
        "q-1-options": "Telefoon | Phone | 100\nMail | | | !",
    }
    response = client.post("/satisfaction/surveys/new/", data)
    content = response.content.decode()
    assert response.status_code == 302, content[content.find("<fieldset") :][:3000]
    survey = Survey.objects.get(key="kort")
    first, second = form_questions(survey)
    assert (first.kind, second.kind) == ("single_choice", "open_text")
    assert first.choices[1] == {
        "key": "2",
        "label_nl": "Mail",
        "label_en": "Mail",
        "score": None,
        "unhappy": True,
    }


def test_results_page_and_export(web_as, sales_manager, owner):
    survey = _survey(
        sales_manager,
        {"kind": "four_point", "text_nl": "Tevreden?", "tags": ["satisfaction"]},
        {"kind": "open_text", "text_nl": "Opmerking", "required": False},
    )
    account = AccountFactory(manager=owner, name="=HYPERLINK(1)")
    _answer(
        survey,
        consenting_contact(account, email="a@x.example"),
        {"four_point": 2, "open_text": "Te laat"},
    )
    client = web_as(sales_manager)
    page = client.get(f"/satisfaction/surveys/{survey.pk}/results/")
    assert page.status_code == 200 and "Te laat" in page.content.decode()
    csv = b"".join(
        client.get(f"/satisfaction/surveys/{survey.pk}/export.csv").streaming_content
    ).decode("utf-8-sig")
    header, row = csv.splitlines()[:2]
    assert "Tevreden?" in header and "'=HYPERLINK(1)" in row and "matig" in row and "33,3" in row
    xlsx = client.get(f"/satisfaction/surveys/{survey.pk}/export.xlsx")
    assert xlsx.status_code == 200 and xlsx["Content-Type"].startswith("application/vnd.openxml")


def test_settings_have_one_row_with_the_defaults():
    config = SatisfactionSettings.load()
    assert (config.throttle_contact_days, config.throttle_account_days) == (90, 30)
    assert (config.auto_send_days, config.auto_send_kinds) == (3, ["service"])
    assert (config.reminder_days, config.token_expiry_days, config.followup_due_working_days) == (
        7,
        30,
        2,
    )
    assert config.thresholds == scores.UnhappyThresholds()


def test_working_days():
    from datetime import date

    assert add_working_days(date(2026, 3, 6), 2) == date(2026, 3, 10)  # Fri → Tue
    assert add_working_days(date(2026, 3, 7), 2) == date(2026, 3, 11)  # Sat → Wed
    assert add_working_days(date(2026, 3, 2), 2) == date(2026, 3, 4)


def test_monthly_counts_match_the_answers(sales_manager, owner):
    """Users who see every account read the kept monthly counts; others count their own
    accounts' answers. Both give the same results, and the figure check finds the kept
    counts equal to a recount."""
    from relatiebeheer.satisfaction.counts import check_answer_counts
    from relatiebeheer.satisfaction.models import AnswerCount

    survey = _survey(
        sales_manager,
        {"kind": "nps", "text_nl": "Aanbevelen?", "tags": ["satisfaction"]},
        {"kind": "yes_no", "text_nl": "Opgelost?", "required": False},
        {"kind": "open_text", "text_nl": "Opmerking", "required": False},
    )
    account = AccountFactory(manager=owner)
    contact = consenting_contact(account, email="n@x.example")
    for n, value in enumerate([10, 9, 8, 7, 6, 0, 3]):
        values = {"nps": value, "yes_no": "yes" if n % 2 else "no"}
        if n % 3 == 0:
            values["open_text"] = "Tekst"
        _answer(survey, contact, values)

    def figures(actor):
        r = selectors.survey_results(actor=actor, survey=survey)
        return [(q.summary.count, q.summary.headline, q.labels) for q in r.questions], [
            t["score"] for t in r.satisfaction_trend
        ]

    assert figures(sales_manager) == figures(owner)
    before = sorted(AnswerCount.objects.values_list("question_id", "month", "value_key", "count"))
    result = check_answer_counts(repair=True)
    assert (result.checked, result.differences, result.repaired) == (len(before), 0, 0)
    after = sorted(AnswerCount.objects.values_list("question_id", "month", "value_key", "count"))
    assert after == before
    assert figures(sales_manager)[0][0][1] == scores.nps([10, 9, 8, 7, 6, 0, 3])
