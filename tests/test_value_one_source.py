"""Customer value and CLV are one figure everywhere: the account page, the portfolio,
the ranking, the plan, the API and the exports read the same stored row; after a change
they all say "being recalculated" until the queued refresh has run, and then all show
the new figure.

The issue's case: after a 10-minute contact the account page said € 1.585,00 while the
portfolio and ranking said € 1.595,00 (live against stored).
"""

import csv
import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from relatiebeheer.organisation.models import OrganisationSettings
from relatiebeheer.relations.models import Interaction
from relatiebeheer.sales.services import cost_entry_create, order_create
from relatiebeheer.value.compute import compute
from relatiebeheer.value.models import PendingRefresh
from relatiebeheer.value.services import metrics_recompute

from .factories import AccountFactory, OrderFactory

pytestmark = pytest.mark.django_db
D = Decimal


def _money(text: str) -> Decimal:
    """'€ 1.585,00' or '1585,00' → Decimal('1585.00')."""
    return D(re.sub(r"[^\d,-]", "", text).replace(",", "."))


def _testid(page: str, testid: str) -> Decimal:
    match = re.search(rf'data-testid="{testid}"[^>]*>([^<]+)<', page)
    assert match, testid
    return _money(match.group(1))


def _csv(response) -> list[dict]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text), delimiter=";"))


def _everywhere(web, api, account) -> dict[str, tuple]:
    """(customer value this year, CLV) as each place shows it, plus whether it says
    'being recalculated'."""
    seen = {}
    page = web.get(f"/accounts/{account.pk}/").content.decode()
    seen["account page"] = (
        _testid(page, "value-this-year"),
        _testid(page, "clv"),
        'data-testid="pending"' in page,
    )
    plan = web.get(f"/reports/accounts/{account.pk}/plan/").content.decode()
    seen["plan"] = (
        _testid(plan, "plan-value-this-year"),
        _testid(plan, "plan-clv"),
        'data-testid="plan-pending"' in plan,
    )
    portfolio = web.get("/reports/portfolio/").content.decode()
    row = re.search(r"<tr[^>]*><td>de Bijenkorf.*?</tr>", portfolio, re.S).group(0)
    cells = re.findall(r'<td class="num">([^<]*)</td>', row)
    seen["portfolio page"] = (_money(cells[0]), _money(cells[2]), "wordt herberekend" in row)
    value_page = web.get("/value/?order=-value_this_year").content.decode()
    ranked = re.search(r"<tr><td>1</td>.*?</tr>", value_page, re.S).group(0)
    amounts = re.findall(r'<td class="text-end">([^<]*)</td>', ranked)
    seen["ranking page"] = (_money(amounts[0]), _money(amounts[1]), "wordt herberekend" in ranked)
    value = api.get(f"accounts/{account.pk}/value").json_body
    seen["API value"] = (D(value["value_this_year"]), D(value["clv"]), value["pending"])
    item = api.get("value/accounts").json_body["items"][0]
    seen["API ranking"] = (D(item["value_this_year"]), D(item["clv"]), item["pending"])
    row = api.get("reports/portfolio").json_body[0]
    seen["API portfolio"] = (
        D(str(row["figures"]["value_this_year"])),
        D(str(row["figures"]["clv"])),
        row["pending"],
    )
    exported = _csv(web.get("/reports/portfolio.csv"))[0]
    seen["portfolio export"] = (
        _money(exported["Klantwaarde dit jaar"]),
        _money(exported["CLV"]),
        exported["Wordt herberekend"] == "ja",
    )
    metrics = _csv(web.get("/imports/exports/download.csv?list=metrics"))[0]
    seen["metrics export"] = (
        _money(metrics["Klantwaarde dit jaar"]),
        _money(metrics["CLV"]),
        metrics["Wordt herberekend"] == "ja",
    )
    return seen


def test_a_contact_an_order_and_a_cost_show_alike_everywhere_once_refreshed(
    web_as, api_as, owner, django_capture_on_commit_callbacks, run_value_refresh
):
    settings = OrganisationSettings.load()
    settings.hourly_cost = D("60.00")
    settings.save()
    today = timezone.localdate()
    account = AccountFactory(name="de Bijenkorf", manager=owner, margin=None)
    for days in (40, 20):
        OrderFactory(
            account=account,
            date=max(today - timedelta(days=days), today.replace(month=1, day=1)),
            revenue=D("1000.00"),
            cost_of_goods=D("700.00"),
        )
    metrics_recompute(with_prediction=False)
    web, api = web_as(owner), api_as(owner)
    before = _everywhere(web, api, account)
    assert set(before.values()) == {(D("600.00"), D("600.00"), False)}

    with django_capture_on_commit_callbacks(execute=True):
        response = web.post(
            f"/accounts/{account.pk}/interactions/",
            {
                "channel": "phone",
                "kind": "question",
                "subject": "Levering",
                "duration_minutes": "10",
            },
        )
        assert response.status_code == 302
        order_create(
            actor=owner,
            account=account,
            data={"date": today, "revenue": D("1000.00"), "cost_of_goods": D("700.00")},
        )
        cost_entry_create(
            actor=owner,
            account=account,
            data={"date": today, "category": "service", "amount": D("50.00")},
        )
    assert Interaction.objects.filter(account=account, duration_minutes=10).exists()
    assert PendingRefresh.objects.filter(account_id=account.pk).exists()

    # Before the refresh: the stored figures, and every place says they are being recalculated.
    waiting = _everywhere(web, api, account)
    for place, (value, clv, pending) in waiting.items():
        assert (value, clv) == (D("600.00"), D("600.00")), place
        assert pending is True, place

    assert run_value_refresh() >= 1
    assert not PendingRefresh.objects.exists()
    fresh = compute(today, [account.pk], score=False).columns
    value = D(int(fresh["value_this_year"][0])) / 100
    clv = D(int(fresh["clv"][0])) / 100
    # 600 + 1000 − 700 − 50 − 10 minutes at € 60 an hour; CLV at the observed 30 %.
    assert (value, clv) == (D("840.00"), D("900.00"))
    after = _everywhere(web, api, account)
    for place, shown in after.items():
        assert shown[:2] == (value, clv), place
        assert shown[2] is False, place
