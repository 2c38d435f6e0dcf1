"""Precomputed figures for the management dashboard (so it reads, never aggregates)."""

from django.conf import settings
from django.db import models

from relatiebeheer.common.fields import MoneyField


class PeriodFigures(models.Model):
    """Revenue, profit and ordering accounts per month (and retention per year), for all
    accounts (``manager`` empty) and per account manager. Rebuilt by
    ``reports.stats.refresh_dashboard_figures`` after each metrics recompute."""

    class Kind(models.TextChoices):
        MONTH = "month"
        YEAR = "year"

    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=5, choices=Kind.choices)
    period = models.DateField()
    revenue = MoneyField(db_column="revenue_cents", default=0)
    profit = MoneyField(db_column="profit_cents", default=0)
    orders = models.PositiveIntegerField(default=0)
    ordering_accounts = models.PositiveIntegerField(default=0)
    retained_accounts = models.PositiveIntegerField(null=True)
    previous_accounts = models.PositiveIntegerField(null=True)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["manager", "kind", "period"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.period} {self.manager_id or 'all'}"

    @property
    def retention(self):
        if not self.previous_accounts:
            return None
        from decimal import Decimal

        return Decimal(self.retained_accounts) / Decimal(self.previous_accounts)
