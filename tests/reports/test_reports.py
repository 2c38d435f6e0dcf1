"""Account plan (page, PDF, CLI, API), portfolio report and management dashboard."""

import io
from datetime import timedelta
from decimal import Decimal

import pypdf
import pytest
from django.core.management import call_command
from django.utils import timezone

from relatiebeheer.reports.stats import refresh_dashboard_figures
from relatiebeheer.sales.services import order_update
from relatiebeheer.value.services import metrics_recompute

from ..factories import AccountFactory, OrderFactory, TaskFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def bijenkorf(owner):
    account = AccountFactory(
        name="de Bijenkorf", manager=owner, margin=Decimal("15.00"), status="key_account"
    )
    today = timezone.localdate()
    for days, amount in zip(
        (700, 580, 455, 330, 190, 25), ("9200", "9800", "9500", "9100", "9900", "9500"), strict=True
    ):
        revenue = Decimal(amount)
        OrderFactory(
            account=account,
            date=today - timedelta(days=days),
            revenue=revenue,
            cost_of_goods=revenue * Decimal("0.85"),
        )
    TaskFactory(account=account, title="Voorstel voorinschrijving sturen", assignee=owner)
    metrics_recompute(with_prediction=False)
    return account


def _pdf_text(content: bytes) -> tuple[str, int]:
    reader = pypdf.PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages), len(reader.pages)


def test_account_plan_pdf_shows_the_worked_clv(web_as, owner, bijenkorf):
    response = web_as(owner).get(f"/reports/accounts/{bijenkorf.pk}/plan.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text, pages = _pdf_text(response.content)
    assert 1 <= pages <= 6
    assert "de Bijenkorf" in text
    assert "€ 8.550,00" in text
    assert "€ 1.425,00" in text
    assert "Voorstel voorinschrijving sturen" in text


def test_the_plan_is_computed_not_stored_text(
    web_as, owner, bijenkorf, django_capture_on_commit_callbacks, run_value_refresh
):
    order = bijenkorf.orders.order_by("date").first()
    with django_capture_on_commit_callbacks(execute=True):
        order_update(
            actor=owner, order=order, version=order.version, data={"revenue": order.revenue + 600}
        )
    assert run_value_refresh() == 1
    text, _pages = _pdf_text(
        web_as(owner).get(f"/reports/accounts/{bijenkorf.pk}/plan.pdf").content
    )
    assert "€ 8.640,00" in text
    assert "€ 8.550,00" not in text


def test_plan_page_and_english_pdf(api_as, web_as, owner, bijenkorf):
    page = web_as(owner).get(f"/reports/accounts/{bijenkorf.pk}/plan/")
    assert page.status_code == 200
    assert "€ 8.550,00" in page.content.decode()
    response = api_as(owner, language="en").get(f"accounts/{bijenkorf.pk}/plan.pdf")
    assert response.status_code == 200
    text, _pages = _pdf_text(response.content)
    assert "€8,550.00" in text


def test_cli_writes_the_plan(tmp_path, owner, bijenkorf):
    target = tmp_path / "plan.pdf"
    call_command(
        "report",
        "account",
        "de Bijenkorf",
        "--pdf",
        str(target),
        "--lang",
        "en",
        "--as",
        "daan",
        stdout=io.StringIO(),
    )
    text, _pages = _pdf_text(target.read_bytes())
    assert "€8,550.00" in text


def test_cli_does_not_find_accounts_the_user_may_not_see(tmp_path, other_manager, bijenkorf):
    from django.core.management import CommandError

    with pytest.raises(CommandError):
        call_command(
            "report",
            "account",
            "de Bijenkorf",
            "--pdf",
            str(tmp_path / "x.pdf"),
            "--as",
            "eva",
            stdout=io.StringIO(),
        )
    assert not (tmp_path / "x.pdf").exists()


def test_portfolio_report_sorted_by_value_in_every_format(web_as, owner):
    big = AccountFactory(name="Groot", manager=owner)
    small = AccountFactory(name="Klein", manager=owner)
    OrderFactory(
        account=big,
        date=timezone.localdate(),
        revenue=Decimal("5000.00"),
        cost_of_goods=Decimal("1000.00"),
    )
    OrderFactory(
        account=small,
        date=timezone.localdate(),
        revenue=Decimal("100.00"),
        cost_of_goods=Decimal("50.00"),
    )
    metrics_recompute(with_prediction=False)
    client = web_as(owner)
    page = client.get("/reports/portfolio/").content.decode()
    assert page.index("Groot") < page.index("Klein")
    csv = b"".join(client.get("/reports/portfolio.csv").streaming_content).decode("utf-8-sig")
    lines = csv.splitlines()
    assert lines[1].startswith("Groot;") and lines[2].startswith("Klein;")
    text, _pages = _pdf_text(client.get("/reports/portfolio.pdf").content)
    assert text.index("Groot") < text.index("Klein")
    assert client.get("/reports/portfolio.xlsx").status_code == 200


def test_account_manager_cannot_open_a_colleagues_portfolio(web_as, owner, other_manager):
    AccountFactory(name="Van Daan", manager=owner)
    response = web_as(other_manager).get(f"/reports/portfolio/?manager={owner.pk}")
    assert "Van Daan" not in response.content.decode()


def test_dashboard_reads_precomputed_figures(
    web_as, sales_manager, bijenkorf, django_assert_max_num_queries
):
    metrics_recompute(with_prediction=False)
    assert refresh_dashboard_figures() > 0
    client = web_as(sales_manager)
    client.get("/reports/")
    with django_assert_max_num_queries(20):
        response = client.get("/reports/")
    assert response.status_code == 200
    assert "<svg" in response.content.decode()
