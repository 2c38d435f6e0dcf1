"""Orders (with credit notes and lines) and the costs made for a customer.

Amounts exclude VAT and are stored as cents (see ``common.fields.MoneyField``).
An order's ``date`` is its business date in Europe/Amsterdam: an order placed on
31 December at 23:30 in Amsterdam belongs to that year, whatever UTC says.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from relatiebeheer.common.fields import MoneyField
from relatiebeheer.common.models import VersionedModel
from relatiebeheer.relations.models import Account, VisibleQuerySet


class OrderQuerySet(VisibleQuerySet):
    def counting(self):
        """Orders that count for revenue: everything but cancelled ones."""
        return self.exclude(status=Order.Status.CANCELLED)


class Order(VersionedModel):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DELIVERED = "delivered", _("Delivered")
        PAID = "paid", _("Paid")
        CANCELLED = "cancelled", _("Cancelled")

    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="orders"
    )
    date = models.DateField(_("order date"))
    number = models.CharField(_("order number"), max_length=40, blank=True)
    external_id = models.CharField(_("external id"), max_length=64, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    revenue = MoneyField(
        _("revenue (excl. VAT)"), db_column="revenue_cents", default=Decimal("0.00")
    )
    cost_of_goods = MoneyField(
        _("cost of goods"), db_column="cost_of_goods_cents", default=Decimal("0.00")
    )
    vat_rate = models.DecimalField(
        _("VAT rate (%)"), max_digits=5, decimal_places=2, default=Decimal("21.00")
    )
    credit_of = models.ForeignKey(
        "self",
        verbose_name=_("corrects order"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credit_notes",
        db_index=False,  # a partial index below: see the comment there
    )
    notes = models.TextField(_("notes"), blank=True)

    objects = OrderQuerySet.as_manager()

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-date", "-id"]
        indexes = [
            models.Index(fields=["account", "date"]),
            models.Index(fields=["date"]),
            # Plain orders with their money in account and date order: the metric
            # recompute (value.compute.order_sums) and the BG/NBD summary read this index
            # alone, without a table lookup per order. Partial, so its condition must be
            # repeated literally in those queries (value.compute._plain_orders).
            models.Index(
                fields=["account", "date", "revenue", "cost_of_goods"],
                condition=models.Q(credit_of__isnull=True) & ~models.Q(status="cancelled"),
                name="order_plain_money_idx",
            ),
            # The few rows the metric recompute corrects for (see value.compute).
            models.Index(
                fields=["account"],
                condition=models.Q(credit_of__isnull=False),
                name="order_credit_note_idx",
            ),
            models.Index(
                fields=["account"],
                condition=models.Q(status="cancelled"),
                name="order_cancelled_idx",
            ),
            # Credit notes of an order. Partial, because a full index on a column that is
            # NULL for nearly every row misleads SQLite's planner: it chose that index for
            # "credit_of IS NULL AND account_id = ?" and read millions of rows (0.8 s).
            models.Index(
                fields=["credit_of"],
                condition=models.Q(credit_of__isnull=False),
                name="order_credit_of_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                condition=~models.Q(external_id=""),
                name="order_external_id_unique",
            ),
            # A credit note carries negative (or zero) amounts; a plain order does not.
            models.CheckConstraint(
                condition=models.Q(credit_of__isnull=True, revenue__gte=0)
                | models.Q(credit_of__isnull=False, revenue__lte=0),
                name="order_credit_note_sign",
            ),
        ]

    def __str__(self) -> str:
        return self.number or f"#{self.pk}"

    @property
    def is_credit_note(self) -> bool:
        return self.credit_of_id is not None

    @property
    def profit(self) -> Decimal:
        return self.revenue - self.cost_of_goods


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.CharField(_("product"), max_length=200)
    category = models.CharField(_("product category"), max_length=100, blank=True)
    quantity = models.DecimalField(
        _("quantity"), max_digits=12, decimal_places=3, default=Decimal("1")
    )
    revenue = MoneyField(_("revenue (excl. VAT)"), db_column="revenue_cents")
    cost = MoneyField(_("cost"), db_column="cost_cents", default=Decimal("0.00"))

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.product


class CostEntry(VersionedModel):
    """A cost made for one customer; customer value subtracts these."""

    class Category(models.TextChoices):
        SERVICE = "service", _("Service")
        CAMPAIGN = "campaign", _("Campaign")
        INCENTIVE = "incentive", _("Incentive or bonus")
        GIFT_EVENT = "gift_event", _("Gift or event")
        ACCOUNT_MANAGEMENT = "account_management", _("Account management")
        OTHER = "other", _("Other")

    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="costs"
    )
    date = models.DateField(_("date"))
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    amount = MoneyField(_("amount (excl. VAT)"), db_column="amount_cents")
    description = models.CharField(_("description"), max_length=200, blank=True)
    external_id = models.CharField(_("external id"), max_length=64, blank=True)

    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("cost entry")
        verbose_name_plural = _("cost entries")
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["account", "date"])]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                condition=~models.Q(external_id=""),
                name="cost_external_id_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()} {self.amount}"
