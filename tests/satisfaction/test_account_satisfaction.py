"""One selector for an account's satisfaction: the account page, the API, the portfolio,
the account plan and the loyalty drivers show the same figure over the same period."""

import re
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from relatiebeheer.satisfaction.answering.form import form_questions
from relatiebeheer.satisfaction.answering.services import response_submit
from relatiebeheer.satisfaction.answering.tokens import hash_token
from relatiebeheer.satisfaction.models import AnswerToken, Invitation
from relatiebeheer.satisfaction.selectors import account_satisfaction
from relatiebeheer.satisfaction.surveys.services import survey_create

from ..factories import AccountFactory, InteractionFactory
from .conftest import consenting_contact

pytestmark = pytest.mark.django_db


def _days_ago(days: int) -> datetime:
    day = timezone.localdate() - timedelta(days=days)
    return datetime.combine(day, time(12), tzinfo=timezone.get_default_timezone())


def _answer(survey, account, values: dict, when: datetime) -> None:
    contact = consenting_contact(account, email=f"a{when:%j%H%M%S%f}@x.example")
    invitation = Invitation.objects.create(
        survey=survey, account=account, contact=contact, source="manual"
    )
    token = AnswerToken.objects.create(
        invitation=invitation,
        kind="invitation",
        token_hash=hash_token(f"t{invitation.pk}"),
        issued_at=when,
        expires_at=timezone.now() + timedelta(days=30),
    )
    data = {f"q{q.pk}": str(values[q.kind]) for q in form_questions(survey)}
    response_submit(token=token, data=data, now=when)


def _number(text: str) -> Decimal:
    return Decimal(text.strip().replace(".", "").replace(",", "."))


def test_every_place_shows_the_same_satisfaction(web_as, api_as, owner, sales_manager):
    from relatiebeheer.loyalty.drivers import scoring as drivers
    from relatiebeheer.reports.plan import account_plan
    from relatiebeheer.reports.portfolio import portfolio

    survey = survey_create(
        actor=sales_manager,
        data={"key": "rel", "name": "Relatie", "title_nl": "Relatie"},
        questions=[
            {"kind": "csat", "text_nl": "Tevreden?", "tags": ["satisfaction"]},
            {"kind": "four_point", "text_nl": "Vertrouwen?", "tags": ["trust"]},
        ],
    )
    account = AccountFactory(manager=owner, name="de Bijenkorf")
    _answer(survey, account, {"csat": 5, "four_point": 4}, _days_ago(200))  # 100; trust 100
    _answer(survey, account, {"csat": 2, "four_point": 2}, _days_ago(20))  # 25; trust 33,3
    # Contact moments: inside the 12 months (362 days ago) and outside (400 days ago).
    InteractionFactory(account=account, satisfaction=2, occurred_at=_days_ago(362))  # 33,3
    InteractionFactory(account=account, satisfaction=4, occurred_at=_days_ago(3))  # 100
    InteractionFactory(account=account, satisfaction=1, occurred_at=_days_ago(400))

    figure = account_satisfaction([account.pk])[account.pk]
    # survey (100 + 25) / 2 = 62,5; contact moments (33,3 + 100) / 2 = 66,7; equal weight.
    assert figure.score == Decimal("64.6")
    assert figure.trust.score == Decimal("66.7")
    assert len(figure.readings) == 4

    page = web_as(owner).get(f"/accounts/{account.pk}/").content.decode()
    shown = re.search(r'data-testid="satisfaction-score">([^<]+)<', page).group(1)
    api = api_as(owner).get(f"accounts/{account.pk}/satisfaction").json_body
    (row,) = [r for r in portfolio(actor=owner, manager=owner) if r.account.pk == account.pk]
    plan = dict((s.key, data) for s, data in account_plan(actor=owner, account=account).sections)
    plan_page = web_as(owner).get(f"/reports/accounts/{account.pk}/plan/").content.decode()
    in_plan = re.search(r'data-testid="plan-satisfaction-score">([^<]+)<', plan_page).group(1)
    card = drivers.scorecard(account)

    assert _number(shown) == figure.score
    assert Decimal(api["score"]) == figure.score and Decimal(api["trust"]) == figure.trust.score
    assert len(api["readings"]) == 4
    assert row.values["satisfaction"] == figure.score
    assert plan["satisfaction"]["satisfaction"].score == figure.score
    assert _number(in_plan) == figure.score
    assert card.score("satisfaction") == figure.score


def test_the_selector_takes_many_accounts_in_a_fixed_number_of_queries(
    owner, django_assert_num_queries
):
    accounts = [AccountFactory(manager=owner) for _ in range(30)]
    for n, account in enumerate(accounts):
        InteractionFactory(account=account, satisfaction=1 + n % 4, occurred_at=_days_ago(n))
    with django_assert_num_queries(3):
        figures = account_satisfaction([a.pk for a in accounts])
    assert [figures[a.pk].score for a in accounts[:4]] == [
        Decimal("0.0"),
        Decimal("33.3"),
        Decimal("66.7"),
        Decimal("100.0"),
    ]
    assert account_satisfaction([]) == {}
