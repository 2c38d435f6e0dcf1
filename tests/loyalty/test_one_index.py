"""One loyalty index: the drivers page, the account page's panel, the API, the falling list
(page and API), the portfolio report (page and export) and the account plan all show the
figure of ``drivers.selectors.loyalty_index`` — the same for the same account and day —
and they change together once the refresh after a new trust judgement has run; until
then every page shows the stored figure and says a refresh is pending (nl and en)."""

import csv
import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from django.utils.module_loading import import_string

from relatiebeheer.loyalty.bulk import evaluate
from relatiebeheer.loyalty.drivers.bulk import store_scorecards
from relatiebeheer.loyalty.drivers.selectors import loyalty_index
from relatiebeheer.loyalty.models import TrustJudgement

pytestmark = pytest.mark.django_db
D = Decimal


def _testid(html: str, testid: str) -> Decimal:
    found = re.search(rf'data-testid="{testid}"[^>]*>([^<]*)<', html)
    assert found, f"no {testid} on the page"
    return D(found.group(1).strip().replace(",", "."))


def _portfolio_export(client, owner) -> Decimal:
    response = client.get(
        "/reports/portfolio.csv", {"manager": owner.pk}, HTTP_ACCEPT_LANGUAGE="en"
    )
    content = b"".join(response.streaming_content) if response.streaming else response.content
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    if len(rows[0]) == 1:
        rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    column = rows[0].index("Loyalty index")
    return D(rows[1][column].replace(",", "."))


def _every_place(client, api, account, owner) -> dict[str, Decimal]:
    def page(url: str) -> str:
        return client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    summary = api.get(f"loyalty/accounts/{account.pk}").json_body
    drivers = api.get(f"loyalty/accounts/{account.pk}/drivers").json_body
    falling = api.get("loyalty/falling").json_body
    return {
        "drivers page": _testid(page(f"/loyalty/accounts/{account.pk}/drivers/"), "loyalty-index"),
        "account page": _testid(page(f"/accounts/{account.pk}/"), "panel-index"),
        "falling page": _testid(page("/loyalty/falling/"), "falling-index"),
        "account plan": _testid(
            page(f"/reports/accounts/{account.pk}/plan/"), "plan-loyalty-index"
        ),
        "portfolio export": _portfolio_export(client, owner),
        "API summary": D(summary["score"]["index"]),
        "API drivers": D(drivers["index"]),
        "API falling": D(falling[0]["index_now"]),
    }


def _pending_everywhere(client, api, account) -> dict[str, bool]:
    drivers_nl = client.get(f"/loyalty/accounts/{account.pk}/drivers/", HTTP_ACCEPT_LANGUAGE="nl")
    panel_en = client.get(f"/accounts/{account.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    falling_en = client.get("/loyalty/falling/", HTTP_ACCEPT_LANGUAGE="en")
    return {
        "drivers page (nl)": "wordt bijgewerkt" in drivers_nl.content.decode(),
        "account page (en)": "being updated" in panel_en.content.decode(),
        "falling page (en)": "being updated" in falling_en.content.decode(),
        "API summary": api.get(f"loyalty/accounts/{account.pk}").json_body["index_refresh_pending"],
        "API drivers": api.get(f"loyalty/accounts/{account.pk}/drivers").json_body[
            "refresh_pending"
        ],
        "API falling": api.get("loyalty/falling").json_body[0]["refresh_pending"],
    }


def test_every_place_shows_the_same_index_and_they_change_together(
    web_as, api_as, owner, account, django_capture_on_commit_callbacks
):
    today = timezone.localdate()
    # 100 days ago the account's trust was very high (index 100, stored then) …
    TrustJudgement.objects.create(account=account, trust=4, judged_on=today - timedelta(days=120))
    store_scorecards(as_of=today - timedelta(days=100), account_ids=[account.pk])
    # … and now it is low: trust 33,3, the only driver with data, so the index is 33,3.
    TrustJudgement.objects.create(account=account, trust=2, judged_on=today - timedelta(days=5))
    evaluate(account_ids=[account.pk])
    client, api = web_as(owner), api_as(owner)

    before = _every_place(client, api, account, owner)
    assert set(before.values()) == {loyalty_index([account.pk])[account.pk].index} == {D("33.3")}
    assert not any(_pending_everywhere(client, api, account).values())

    # A new judgement: the hook marks the account and queues its refresh (after commit).
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("loyalty/trust-judgements", {"account_id": account.pk, "trust": 1})
    assert response.status_code == 201
    waiting = _every_place(client, api, account, owner)
    assert set(waiting.values()) == {D("33.3")}, waiting  # still the stored figure …
    assert all(_pending_everywhere(client, api, account).values())  # … and it says so

    # The worker's poll finds the mark and runs the evaluation: every place moves to the
    # new figure at once.
    from django_tasks_db.models import DBTaskResult

    from relatiebeheer.ops import scheduler

    assert "loyalty.evaluate_pending" in scheduler.poll()
    queued = DBTaskResult.objects.get(task_path__endswith="evaluate_pending")
    import_string(queued.task_path).call()
    after = _every_place(client, api, account, owner)
    assert set(after.values()) == {D("0.0")}, after
    assert not any(_pending_everywhere(client, api, account).values())


def test_a_change_of_weights_makes_every_index_wait_for_its_refresh(
    api_as, sales_manager, account, django_capture_on_commit_callbacks
):
    TrustJudgement.objects.create(account=account, trust=4)
    evaluate()  # the whole book: the scorecards follow the settings' version now
    assert not loyalty_index([account.pk])[account.pk].refresh_pending
    api = api_as(sales_manager)
    version = api.get("loyalty/settings").json_body["version"]
    with django_capture_on_commit_callbacks(execute=True):
        changed = api.post("loyalty/settings", {"version": version, "weight_trust": 50})
    assert changed.status_code == 200
    assert loyalty_index([account.pk])[account.pk].refresh_pending
    from relatiebeheer.loyalty.tasks import store_all_scorecards

    store_all_scorecards.call()
    assert not loyalty_index([account.pk])[account.pk].refresh_pending
    # A threshold that the index does not read leaves it as it is.
    version = api.get("loyalty/settings").json_body["version"]
    api.post("loyalty/settings", {"version": version, "falling_days": 60})
    assert not loyalty_index([account.pk])[account.pk].refresh_pending
