"""What the README's first paragraph of "Customer value and CLV" says, where no other
test checked it: the account page's present value, the verdict on the costs made since
the first order and why there is no prediction; the value page's ranking, Pareto share,
pyramid, RFM segments with advice, retention, valuable accounts at risk and acquisition
budget per industry; the CLV calculator on its page and in the API."""

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.utils import timezone

from relatiebeheer.value.models import AccountMetrics
from relatiebeheer.value.services import metrics_recompute

from .factories import AccountFactory, CostEntryFactory, OrderFactory

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 27)


def test_the_account_page_shows_present_value_costs_verdict_and_why_no_prediction(web_as, owner):
    # given: the lesson's de Bijenkorf (six orders of € 9.500 on average at 15 %, over two
    # years) on which € 9.000 was spent since its first order, in a book of one account
    account = AccountFactory(manager=owner, name="de Bijenkorf", margin=Decimal("15.00"))
    first = TODAY - timedelta(days=700)
    for i, amount in enumerate(["9200", "9800", "9500", "9100", "9900", "9500"]):
        OrderFactory(account=account, date=first + timedelta(days=i * 130), revenue=Decimal(amount))
    CostEntryFactory(account=account, date=first + timedelta(days=10), amount=Decimal("9000.00"))
    # when
    metrics_recompute(as_of=TODAY)
    page = web_as(owner).get(f"/accounts/{account.pk}/").content.decode()
    # then: the CLV, its present value at the default 3 %, and the loss the costs make
    assert "€ 8.550,00" in page
    assert "Contante waarde bij 3 %: € 8.180,08" in page
    verdict = page[page.index('data-testid="investment-verdict"') :][:600]
    assert "(€ 9.000,00)" in verdict and "verlies van € 450,00" in verdict
    # (the plan says it the same way: the loss in words, the amount without a sign)
    plan = web_as(owner).get(f"/reports/accounts/{account.pk}/plan/").content.decode()
    assert "€ 450,00 meer dan de CLV" in plan and "€ -450,00" not in plan
    # and: no prediction, saying what the model needs and what the book has
    reason = page[page.index('data-testid="no-prediction"') :][:600]
    assert "minstens 100 klanten" in reason and "van wie 50" in reason and "1 en 1" in reason


def _book(owner):
    """Five ordering accounts in two industries, profits 100 … 1,000 in the last 12
    months; one also ordered last year, one only last year."""
    today = timezone.localdate()
    this_year, last_year = date(today.year, 1, 1), date(today.year - 1, 6, 1)
    accounts = {}
    for name, industry, profit in (
        ("Aa", "mode", 100),
        ("Bb", "mode", 200),
        ("Cc", "mode", 300),
        ("Dd", "food", 400),
        ("Ee", "food", 1000),
    ):
        account = AccountFactory(manager=owner, name=name, industry=industry)
        OrderFactory(
            account=account,
            date=this_year,
            revenue=Decimal(profit * 2),
            cost_of_goods=Decimal(profit),
        )
        accounts[name] = account
    OrderFactory(account=accounts["Ee"], date=last_year, revenue=Decimal("10.00"))
    OrderFactory(account=AccountFactory(manager=owner, name="Ff"), date=last_year)
    metrics_recompute(as_of=today, with_prediction=False)
    return accounts


def test_the_value_page_ranks_and_shows_the_book_in_its_figures(web_as, sales_manager):
    today = timezone.localdate()
    accounts = _book(sales_manager)
    # given: a valuable account that RFM scored "at risk"
    AccountMetrics.objects.filter(account=accounts["Dd"]).update(segment="at_risk")
    # when
    response = web_as(sales_manager).get("/value/")
    context = response.context
    # then: the ranking by customer value this year
    ranked = [m.account.name for m in context["ranking"]]
    assert ranked[:5] == ["Ee", "Dd", "Cc", "Bb", "Aa"]
    # and: the top 20 % of the five accounts (one) makes 1,000 of 2,000 profit
    assert context["pareto"]["top"] == 1 and context["pareto"]["share"] == Decimal("0.5")
    # and: the pyramid and the RFM segments cover every account, each segment with advice
    assert sum(level["accounts"] for level in context["pyramid"]) == 6
    segments = context["rfm"]["segments"]
    assert sum(s["accounts"] for s in segments) == 6
    assert all(s["advice"] in {"more", "less", "keep"} for s in segments if s["key"] != "no_orders")
    # and: retention this year: one of last year's two ordering accounts ordered again
    by_year = {year: (share, count) for year, share, count in context["retention"]}
    assert by_year[today.year] == (Decimal("0.5"), 5)
    # and: the valuable accounts that slip (RFM "at risk" or "cannot lose"), by CLV
    slipping = AccountMetrics.objects.filter(segment__in=["at_risk", "cannot_lose"], clv__gt=0)
    expected = [m.account.name for m in slipping.order_by("-clv")]
    assert [m.account.name for m in context["at_risk"]] == expected
    assert expected[0] == "Dd" and not {"Aa", "Bb", "Cc"} & set(expected)
    # and: per industry the average CLV per year of its customers
    budgets = {b["industry"]: b for b in context["budgets"]}
    for industry in ("mode", "food"):
        rows = AccountMetrics.objects.filter(account__industry=industry, orders__gt=0)
        mean = sum(r.clv_per_year for r in rows) / rows.count()
        assert budgets[industry]["accounts"] == rows.count()
        assert budgets[industry]["budget"] == mean.quantize(Decimal("0.01"), ROUND_HALF_UP)
    assert response.status_code == 200 and 'data-testid="pareto-share"' in response.content.decode()


def test_the_clv_calculator_does_the_lessons_assignment(web_as, api_as, owner):
    # the lesson's first example on the page: € 180 × 45 % × 12 orders = € 972,00
    page = web_as(owner).get(
        "/value/clv/", {"order_value": "180", "margin": "45", "orders": "12", "years": "3"}
    )
    result = page.content.decode()
    assert "€ 972,00" in result[result.index('data-testid="calculator-result"') :]
    # de Bijenkorf through the API, with its present value at 3 %
    body = (
        api_as(owner)
        .post(
            "clv/simple",
            {
                "order_value": "9500",
                "margin": "0.15",
                "orders": 6,
                "years": 2,
                "discount_rate": "0.03",
            },
        )
        .json_body
    )
    assert (body["profit_per_order"], body["clv"], body["present_value"]) == (
        "1425.00",
        "8550.00",
        "8180.08",
    )
