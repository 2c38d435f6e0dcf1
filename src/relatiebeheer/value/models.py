"""The metric snapshot: per-account figures computed set-based, replaced atomically.

A full recompute writes every row of ``AccountMetrics`` again inside one transaction
(readers keep seeing the previous snapshot until it commits) and records the
population statistics it used in a ``MetricsRun``: the RFM distributions and the
pyramid cut-offs, and the BG/NBD and Gamma-Gamma parameters. Refreshing a few changed
accounts in between scores them against that run, so their figures stay comparable.

Amounts are integer cents; ``Decimal`` euros through the ``MoneyField``.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from relatiebeheer.common.fields import MoneyField

from .labels import MARGIN_SOURCE_CHOICES, PYRAMID_CHOICES, SEGMENT_CHOICES


class MetricsRun(models.Model):
    computed_at = models.DateTimeField(_("computed at"), auto_now_add=True)
    as_of = models.DateField(_("as of"))
    accounts = models.PositiveIntegerField(_("accounts"), default=0)
    seconds = models.FloatField(_("seconds (SQL part)"), default=0)
    fit_seconds = models.FloatField(_("seconds (prediction fit)"), default=0)
    # Population statistics of this run (see value.compute).
    stats = models.JSONField(default=dict)
    # BG/NBD and Gamma-Gamma parameters, or why there is no prediction.
    prediction = models.JSONField(default=dict)

    class Meta:
        verbose_name = _("metrics run")
        verbose_name_plural = _("metrics runs")
        ordering = ["-computed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.as_of} ({self.accounts})"


class AccountMetrics(models.Model):
    """One row per account with the figures the value pages, lists and reports read."""

    # No foreign-key constraints in the database: this is derived data that every
    # recompute rewrites whole, and checking 100,000 rows against their account and run
    # cost 0.66 s of each recompute on PostgreSQL. Deleting an account still deletes its
    # row (Django's CASCADE), and the next recompute would drop any stray one.
    account = models.OneToOneField(
        "relations.Account",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="metrics",
        db_constraint=False,
    )
    # Not indexed: nothing looks rows up by run.
    run = models.ForeignKey(
        MetricsRun,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    as_of = models.DateField()
    # Orders (credit notes are not orders; cancelled orders count nowhere).
    orders = models.PositiveIntegerField(default=0)
    orders_12m = models.PositiveIntegerField(default=0)
    first_order = models.DateField(null=True)
    last_order = models.DateField(null=True)
    revenue_total = MoneyField(db_column="revenue_total_cents", default=0)
    profit_total = MoneyField(db_column="profit_total_cents", default=0)
    revenue_12m = MoneyField(db_column="revenue_12m_cents", default=0)
    profit_12m = MoneyField(db_column="profit_12m_cents", default=0)
    revenue_this_year = MoneyField(db_column="revenue_this_year_cents", default=0)
    revenue_last_year = MoneyField(db_column="revenue_last_year_cents", default=0)
    # Customer value = revenue − cost of goods − cost entries − contact time × hourly cost.
    value_this_year = MoneyField(db_column="value_this_year_cents", default=0)
    value_last_year = MoneyField(db_column="value_last_year_cents", default=0)
    costs_since_first_order = MoneyField(db_column="costs_since_first_order_cents", default=0)
    # Simple CLV over the relationship so far: W = average order value × margin, A = orders.
    # The margin (percent) is the agreed one, else the observed gross margin of the
    # account's orders that carry cost of goods, else the default (core.clv.clv_margin);
    # margin_source says which.
    margin = models.DecimalField(max_digits=5, decimal_places=2, null=True)
    margin_source = models.CharField(max_length=8, choices=MARGIN_SOURCE_CHOICES, default="default")
    average_order_value = MoneyField(db_column="average_order_value_cents", null=True)
    profit_per_order = MoneyField(db_column="profit_per_order_cents", null=True)
    period_years = models.PositiveSmallIntegerField(null=True)
    clv = MoneyField(db_column="clv_cents", null=True)
    clv_per_year = MoneyField(db_column="clv_per_year_cents", null=True)
    # RFM (1–5; 0 without orders) and the named segment; pyramid level by 12-month profit.
    recency_days = models.PositiveIntegerField(null=True)
    rfm_r = models.PositiveSmallIntegerField(default=0)
    rfm_f = models.PositiveSmallIntegerField(default=0)
    rfm_m = models.PositiveSmallIntegerField(default=0)
    segment = models.CharField(max_length=30, choices=SEGMENT_CHOICES, default="no_orders")
    pyramid_level = models.CharField(max_length=10, choices=PYRAMID_CHOICES, default="inactive")
    # Prediction (BG/NBD + Gamma-Gamma); null when the book is too small to fit.
    p_alive = models.FloatField(null=True)
    expected_orders_52w = models.FloatField(null=True)
    predicted_clv = MoneyField(db_column="predicted_clv_cents", null=True)

    class Meta:
        verbose_name = _("account metrics")
        verbose_name_plural = _("account metrics")
        # Plain indexes for the counts per segment and level: db_index=True on a
        # CharField also makes a LIKE index on PostgreSQL, which nothing uses and every
        # recompute would maintain.
        indexes = [
            models.Index(fields=["-value_this_year"], name="metrics_value_idx"),
            models.Index(fields=["-profit_12m"], name="metrics_profit12_idx"),
            models.Index(fields=["segment"], name="metrics_segment_idx"),
            models.Index(fields=["pyramid_level"], name="metrics_pyramid_idx"),
        ]

    def __str__(self) -> str:
        return f"metrics {self.account_id}"


class PendingRefresh(models.Model):
    """A mark: this account changed after its snapshot row was computed.

    The "accounts changed" listener adds one row per account and change (after the
    change committed) and queues a refresh. A refresh first reads the highest mark id,
    then computes, writes the rows and deletes the marks up to that id: a mark added
    while it ran (a later change) stays, and its own queued refresh takes it. Ids, not
    clocks, so web servers and workers with different clocks cannot lose a mark. While
    an account has a mark, pages that show its stored figures say they are being
    recalculated (``value.selectors``).
    """

    id = models.BigAutoField(primary_key=True)
    account_id = models.BigIntegerField(db_index=True)
    marked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("pending value refresh")
        verbose_name_plural = _("pending value refreshes")

    def __str__(self) -> str:
        return f"pending {self.account_id}"
