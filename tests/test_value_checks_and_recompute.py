"""Kept figures checked and repaired (the metric snapshot, the dashboard's period
figures), `relatiebeheer recompute` running the one sequence, and the dashboard's
charts showing every month of their range."""

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from relatiebeheer.audit.models import AuditEntry
from relatiebeheer.core.periods import add_months, month_start
from relatiebeheer.ops.figure_checks import check_figures
from relatiebeheer.reports.dashboard import figures
from relatiebeheer.reports.models import PeriodFigures
from relatiebeheer.reports.stats import refresh_dashboard_figures
from relatiebeheer.value.models import AccountMetrics, MetricsRun, PendingRefresh
from relatiebeheer.value.services import metrics_recompute

from .factories import AccountFactory, OrderFactory

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def book(owner):
    today = timezone.localdate()
    accounts = []
    for i in range(3):
        account = AccountFactory(manager=owner)
        OrderFactory(account=account, date=today - timedelta(days=10 + i), revenue=D(1000 + i))
        accounts.append(account)
    return accounts


def test_a_broken_snapshot_row_is_reported_and_repaired(book, sales_manager):
    metrics_recompute(with_prediction=False)
    assert (
        check_figures(actor=sales_manager, repair=False, only=["value.snapshot"])[0].differences
        == 0
    )
    broken, missing = book[0], book[1]
    AccountMetrics.objects.filter(account=broken).update(
        value_this_year=D("1.00"), clv=D("2.00"), margin_source="agreed"
    )
    AccountMetrics.objects.filter(account=missing).delete()

    report = check_figures(actor=sales_manager, repair=False, only=["value.snapshot"])[0]
    assert report.differences == 2 and report.repaired == 0
    assert any(
        "value_this_year 1.00 →" in e and "margin_source agreed → observed" in e
        for e in report.examples
    )
    assert any(f"account {missing.pk}: no row" == e for e in report.examples)
    assert AccountMetrics.objects.get(account=broken).value_this_year == D("1.00")  # no repair

    repaired = check_figures(actor=sales_manager, repair=True, only=["value.snapshot"])[0]
    assert repaired.differences == 2 and repaired.repaired == 2
    row = AccountMetrics.objects.get(account=broken)
    assert row.value_this_year == D("300.00") and row.clv == D("300.00")  # 1000 − 700 at 30 %
    assert row.margin_source == "observed"
    assert AccountMetrics.objects.filter(account=missing).exists()
    entry = AuditEntry.objects.filter(action="figures.check").latest("id")
    assert entry.extra["value.snapshot"] == {"checked": 3, "differences": 2, "repaired": 2}
    assert check_figures(repair=False, only=["value.snapshot"])[0].differences == 0


def test_accounts_with_a_refresh_queued_are_not_reported(book):
    metrics_recompute(with_prediction=False)
    AccountMetrics.objects.filter(account=book[0]).update(orders=9)
    PendingRefresh.objects.create(account_id=book[0].pk)
    assert check_figures(repair=False, only=["value.snapshot"])[0].differences == 0


def test_broken_period_figures_are_reported_and_repaired(book):
    refresh_dashboard_figures()
    assert check_figures(repair=False, only=["reports.period_figures"])[0].differences == 0
    row = PeriodFigures.objects.filter(manager__isnull=True, kind="month").first()
    PeriodFigures.objects.filter(pk=row.pk).update(revenue=D("1.00"))
    PeriodFigures.objects.filter(kind="year").first().delete()
    report = check_figures(repair=True, only=["reports.period_figures"])[0]
    assert report.differences == 2 and report.repaired == 2
    assert any("revenue 1.00 → 3003.00" in e for e in report.examples), report.examples
    assert any(e.endswith(": missing") for e in report.examples)
    assert PeriodFigures.objects.get(manager__isnull=True, kind="month").revenue == D("3003.00")
    assert check_figures(repair=False, only=["reports.period_figures"])[0].differences == 0


def test_the_command_runs_the_whole_sequence_with_its_progress(book, sales_manager):
    """`relatiebeheer recompute` is `metrics_recompute`: snapshot, pending marks cleared,
    the dashboard's period figures rebuilt at once, audited, progress shown."""
    PendingRefresh.objects.create(account_id=book[0].pk)
    assert not PeriodFigures.objects.exists()
    out = io.StringIO()
    call_command("recompute", "--no-prediction", "--as", sales_manager.username, stdout=out)
    text = out.getvalue()
    assert "1/4 aggregating orders, costs and contact time" in text
    assert "3/4 rebuilding the dashboard's period figures" in text
    assert "4/4 done" in text and "3 accounts as of" in text
    assert AccountMetrics.objects.count() == 3 and MetricsRun.objects.count() == 1
    assert not PendingRefresh.objects.exists()
    assert PeriodFigures.objects.filter(manager__isnull=True, kind="month").exists()
    entry = AuditEntry.objects.get(action="metrics.recompute")
    assert entry.actor == sales_manager and entry.extra == {"accounts": 3}


def test_the_daily_job_runs_the_same_sequence(book):
    from relatiebeheer.value.tasks import recompute_metrics

    assert recompute_metrics.call() == 3
    assert PeriodFigures.objects.exists() and AccountMetrics.objects.count() == 3


def test_a_mark_made_while_a_refresh_ran_stays(book):
    """A refresh clears only the marks it saw before reading: a later change keeps its."""
    from relatiebeheer.value import services

    metrics_recompute(with_prediction=False)
    PendingRefresh.objects.create(account_id=book[0].pk)
    real_compute = services.compute

    def compute_and_change_meanwhile(*args, **kwargs):
        PendingRefresh.objects.create(account_id=book[0].pk)  # the change during the read
        return real_compute(*args, **kwargs)

    services.compute = compute_and_change_meanwhile
    try:
        assert services.metrics_refresh_accounts([]) == 1
    finally:
        services.compute = real_compute
    assert PendingRefresh.objects.filter(account_id=book[0].pk).count() == 1


# --- every month of a chart's range ----------------------------------------------------


def test_the_dashboard_shows_every_month_with_zero_where_nothing_was_ordered(
    web_as, sales_manager, owner
):
    today = timezone.localdate()
    account = AccountFactory(manager=owner)
    three_months_ago = add_months(month_start(today), -3)
    OrderFactory(account=account, date=three_months_ago, revenue=D("500.00"))
    OrderFactory(account=account, date=today, revenue=D("200.00"))
    refresh_dashboard_figures()
    assert PeriodFigures.objects.filter(manager__isnull=True, kind="month").count() == 2
    data = figures(sales_manager)
    months = data["months"]
    assert len(months) == 24
    assert [m.period for m in months] == [add_months(month_start(today), k) for k in range(-23, 1)]
    by_month = {m.period: m.revenue for m in months}
    assert by_month[three_months_ago] == D("500.00") and by_month[month_start(today)] == D("200.00")
    assert by_month[add_months(month_start(today), -1)] == 0
    assert [y.period.year for y in data["years"]] == list(range(today.year - 4, today.year + 1))
    page = web_as(sales_manager).get("/reports/").content.decode()
    trend = page[page.index("Omzet en winst per maand") :]
    labels = [add_months(month_start(today), k).strftime("%m-%y") for k in range(-23, 1, 2)]
    assert all(label in trend for label in labels)


def test_revenue_per_month_lists_the_months_without_orders(owner):
    from relatiebeheer.sales.selectors import revenue_by_month

    account = AccountFactory(manager=owner)
    OrderFactory(account=account, date=date(2026, 2, 10), revenue=D("100.00"))
    OrderFactory(account=account, date=date(2026, 11, 2), revenue=D("300.00"))
    months = revenue_by_month(actor=owner, account_ids=[account.pk], today=date(2026, 11, 27))
    assert [m for m, _ in months] == [add_months(date(2025, 12, 1), k) for k in range(12)]
    assert dict(months) == {
        **{add_months(date(2025, 12, 1), k): D("0.00") for k in range(12)},
        date(2026, 2, 1): D("100.00"),
        date(2026, 11, 1): D("300.00"),
    }


def test_period_figures_equal_a_plain_count(owner, other_manager):
    """Per month: revenue and profit of every order that is not cancelled (credit notes
    lower them), plain orders and ordering accounts; per year: retention. For each
    manager and for all accounts, where an account without a manager counts once."""
    today = timezone.localdate()
    this_month = month_start(today)
    mine, theirs, nobodys = (
        AccountFactory(manager=owner),
        AccountFactory(manager=other_manager),
        AccountFactory(manager=None),
    )
    order = OrderFactory(account=mine, date=this_month, revenue=D("1000"), cost_of_goods=D("600"))
    OrderFactory(
        account=mine, date=this_month, revenue=D("-100"), cost_of_goods=D("0"), credit_of=order
    )
    OrderFactory(account=mine, date=this_month, revenue=D("500"), status="cancelled")
    OrderFactory(account=theirs, date=this_month, revenue=D("200"), cost_of_goods=D("50"))
    OrderFactory(account=nobodys, date=this_month, revenue=D("300"), cost_of_goods=D("100"))
    OrderFactory(account=nobodys, date=date(today.year - 1, 6, 1), revenue=D("10"))
    refresh_dashboard_figures()
    month = {
        (f.manager_id, f.period): (f.revenue, f.profit, f.orders, f.ordering_accounts)
        for f in PeriodFigures.objects.filter(kind="month")
    }
    assert month[(owner.pk, this_month)] == (D("900.00"), D("300.00"), 1, 1)
    assert month[(other_manager.pk, this_month)] == (D("200.00"), D("150.00"), 1, 1)
    assert month[(None, this_month)] == (D("1400.00"), D("650.00"), 3, 3)
    assert (other_manager.pk, add_months(this_month, -1)) not in month  # shown as 0
    year = {
        (f.manager_id, f.period.year): (
            f.ordering_accounts,
            f.retained_accounts,
            f.previous_accounts,
        )
        for f in PeriodFigures.objects.filter(kind="year")
    }
    assert year[(None, today.year)] == (3, 1, 1)
    assert year[(owner.pk, today.year)] == (1, 0, 0)
