"""Two managers editing a programme's rules or the loyalty settings at once: the second
save is refused with both versions shown, and nothing is silently overwritten."""

from datetime import date
from decimal import Decimal as D

import pytest
from django.test import Client

from relatiebeheer.common.errors import VersionConflict
from relatiebeheer.loyalty.models import BonusBracket, LoyaltySettings, Programme
from relatiebeheer.loyalty.programme import services

from ..factories import UserFactory

pytestmark = pytest.mark.django_db


def _two_managers(sales_manager):
    other = UserFactory(role="sales_manager", username="karin")
    first, second = Client(), Client()
    first.force_login(sales_manager)
    second.force_login(other)
    return first, second


def test_the_second_tier_edit_gets_a_conflict_with_both_versions(sales_manager, gold_card):
    first, second = _two_managers(sales_manager)
    tier = gold_card.tiers.get(name="Gold")
    url = f"/loyalty/programmes/tier/edit/?programme={gold_card.pk}&id={tier.pk}"
    seen = gold_card.version  # both opened the form at this version
    base = {"programme": gold_card.pk, "programme_version": seen, "name": "Gold", "rank": 1}
    assert first.get(url).status_code == second.get(url).status_code == 200

    assert first.post(url, {**base, "threshold": "15000"}).status_code == 302
    response = second.post(url, {**base, "threshold": "11000"})

    assert response.status_code == 200
    page = response.content.decode()
    assert "Intussen door iemand anders opgeslagen" in page  # the conflict table (Dutch default)
    table = page[page.index("Intussen door") :][:1500]
    assert "15000" in table or "15.000" in table, table  # their value next to yours
    tier.refresh_from_db()
    assert tier.threshold == D("15000")  # the first save stands
    # The form now carries the current version: saving again is a deliberate overwrite.
    current = Programme.objects.get(pk=gold_card.pk).version
    assert f'name="programme_version" value="{current}"' in page
    assert second.post(url, {**base, "programme_version": current, "threshold": "11000"})
    tier.refresh_from_db()
    assert tier.threshold == D("11000")


def test_a_stale_remove_removes_nothing(sales_manager, gold_card):
    first, second = _two_managers(sales_manager)
    seen = gold_card.version
    bracket = gold_card.brackets.order_by("lower_bound").first()
    tier = gold_card.tiers.get()
    edit = f"/loyalty/programmes/tier/edit/?programme={gold_card.pk}&id={tier.pk}"
    first.post(
        edit,
        {
            "programme": gold_card.pk,
            "programme_version": seen,
            "name": "Goud",
            "rank": 1,
            "threshold": "12000",
        },
    )
    response = second.post(
        "/loyalty/programmes/delete/",
        {"kind": "bracket", "id": bracket.pk, "programme_version": seen},
        follow=True,
    )
    assert response.status_code == 200
    assert BonusBracket.objects.filter(pk=bracket.pk).exists()


def test_the_second_settings_edit_gets_a_conflict(sales_manager):
    first, second = _two_managers(sales_manager)
    seen = LoyaltySettings.load().version
    form = {
        "version": seen,
        "weight_trust": 40,
        "weight_satisfaction": 30,
        "weight_alternatives": 20,
        "weight_investment": 10,
        "falling_points": "10.0",
        "falling_days": 90,
        "gap_months": 6,
        "investment_norm": "10.00",
    }
    assert first.post("/loyalty/settings/edit/", form).status_code == 302
    response = second.post("/loyalty/settings/edit/", {**form, "weight_trust": 10})
    assert response.status_code == 200
    assert LoyaltySettings.load().weight_trust == 40


def test_the_services_refuse_a_stale_programme_version(sales_manager, gold_card):
    seen = gold_card.version
    services.reward_save(
        actor=sales_manager,
        programme=gold_card,
        reward=None,
        data={"name": "Tas", "points": 100},
        programme_version=seen,
    )
    with pytest.raises(VersionConflict):
        services.bracket_save(
            actor=sales_manager,
            programme=gold_card,
            bracket=None,
            data={"lower_bound": D("80000"), "rate": D("0.035")},
            programme_version=seen,
        )
    assert not gold_card.brackets.filter(lower_bound=D("80000")).exists()


def test_a_rule_change_queues_the_programmes_evaluation_and_the_overview_says_so(
    web_as, sales_manager, gold_card, make_account, django_capture_on_commit_callbacks
):
    from django.utils.module_loading import import_string
    from django_tasks_db.models import DBTaskResult

    from relatiebeheer.loyalty.programme.bulk import evaluate_programme

    from .conftest import order

    order(make_account(), date(2025, 3, 1), "15000.00")
    evaluate_programme(gold_card, as_of=date(2025, 6, 1))
    client = web_as(sales_manager)

    def recalculating() -> bool:
        page = client.get(f"/loyalty/tiers/?programme={gold_card.pk}").content.decode()
        return 'data-testid="tiers-recalculating"' in page

    assert not recalculating()
    with django_capture_on_commit_callbacks(execute=True):
        services.tier_save(
            actor=sales_manager,
            programme=gold_card,
            tier=gold_card.tiers.get(),
            data={"threshold": D("10000")},
            programme_version=gold_card.version,
        )
    assert recalculating()
    queued = DBTaskResult.objects.get(task_path__endswith="evaluate_programme_task")
    assert queued.args_kwargs["kwargs"] == {"programme_id": gold_card.pk}
    import_string(queued.task_path).call(**queued.args_kwargs["kwargs"])
    assert not recalculating()
