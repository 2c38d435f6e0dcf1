# ruff: noqa: S608 - set-based SQL: identifiers come from the models' _meta and the stage
"""Importing orders (with lines and credit notes) and costs: map, check, stage, match;
the merge is ``sales.bulk``'s, the rules are ``sales.rules``'."""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from relatiebeheer.imports.lookups import content_id
from relatiebeheer.relations.staged import BulkAudit, BulkResult, field_of, qn
from relatiebeheer.sales import bulk
from relatiebeheer.sales.models import CostEntry, Order, OrderLine
from relatiebeheer.sales.rules import (
    COST_FIELDS,
    ORDER_FIELDS,
    credit_sign_problem_expr,
    credit_target_sql,
    credited_order_sql,
    line_totals_sql,
    order_by_number_sql,
)

from .base import AccountRefHandler, issues, stage_type

if TYPE_CHECKING:
    from relatiebeheer.imports.stage import Stage


class OrderHandler(AccountRefHandler):
    kind = "orders"
    model = Order
    # What a row may fill: the order's fields; what it credits is resolved from its
    # ``credit_of`` reference (staged as ``credit_ref``).
    fields = ("account", *(f for f in ORDER_FIELDS if f != "credit_of"))
    # Order lines: the import's field → the OrderLine field it fills.
    LINE_FIELDS = {
        "product": "product",
        "category": "category",
        "quantity": "quantity",
        "line_revenue": "revenue",
        "line_cost": "cost",
    }

    @property
    def lines(self) -> bool:
        return "product" in self.engine.col_of

    def extra_stage_columns(self) -> list[tuple[str, str]]:
        return [
            *super().extra_stage_columns(),
            ("credit_ref", "text"),
            ("credit_of_id", "int"),
            ("new_id", "int"),
        ]

    def extra_stage_exprs(self, good: pl.DataFrame) -> list[pl.Expr]:
        credit = pl.col("f_credit_of") if "f_credit_of" in good.columns else pl.lit(None, pl.String)
        return [
            *super().extra_stage_exprs(good),
            credit.alias("credit_ref"),
            pl.lit(None, pl.Int64).alias("credit_of_id"),
            pl.lit(None, pl.Int64).alias("new_id"),
        ]

    def line_columns(self) -> list[tuple[str, str]]:
        """The staged lines: OrderLine's columns, keyed by the order's ``xid``."""
        fields = [field_of(OrderLine, name) for name in (*self.LINE_FIELDS.values(), "order")]
        return [("row", "int"), ("xid", "text")] + [(f.column, stage_type(f)) for f in fields]

    def stage_tables(self) -> dict[str, list[tuple[str, str]]]:
        tables = super().stage_tables()
        if self.lines:
            tables["lines"] = self.line_columns()
        return tables

    def check(
        self, typed: pl.DataFrame, batch: pl.DataFrame
    ) -> tuple[pl.DataFrame, pl.DataFrame | None]:
        typed, extra = super().check(typed, batch)
        ext = pl.col("f_external_id") if "f_external_id" in typed.columns else pl.lit("")
        num = pl.col("f_number") if "f_number" in typed.columns else pl.lit("")
        # An order's key in the file: its external id, else its number within the account.
        key = (
            pl.when(ext.fill_null("") != "")
            .then(pl.concat_str([pl.lit("x:"), ext]))
            .when(num.fill_null("") != "")
            .then(
                pl.concat_str([pl.lit("n:"), pl.col("f_account").cast(pl.String), pl.lit(":"), num])
            )
        )
        typed = typed.with_columns(
            key.alias("xid"), pl.lit(None, dtype=pl.Int64).alias("target_id")
        )
        if self.lines:
            if "f_line_revenue" not in typed.columns and "f_revenue" in typed.columns:
                typed = typed.with_columns(pl.col("f_revenue").alias("f_line_revenue"))
            if "f_line_cost" not in typed.columns and "f_cost_of_goods" in typed.columns:
                typed = typed.with_columns(pl.col("f_cost_of_goods").alias("f_line_cost"))
        errors = []
        no_key = typed.filter(pl.col("xid").is_null() & pl.col("f_account").is_not_null())
        if no_key.height and "id" not in self.engine.col_of:
            errors.append(issues(no_key, "external_id", pl.lit(""), "order_key_required"))
        if not self.lines and "f_revenue" in typed.columns:
            credit = (
                pl.col("f_credit_of") if "f_credit_of" in typed.columns else pl.lit(None, pl.String)
            )
            sign = credit_sign_problem_expr(
                pl.col("f_revenue"), is_credit_note=credit.fill_null("") != ""
            )
            bad = typed.with_columns(sign.alias("_sign")).filter(pl.col("_sign").is_not_null())
            if bad.height:
                errors.append(
                    issues(bad, "revenue", pl.col("f_revenue").cast(pl.String), pl.col("_sign"))
                )
        if errors:
            more = pl.concat(errors)
            extra = pl.concat([extra, more]) if extra is not None else more
        return typed, extra

    def stage(self, stage: Stage, good: pl.DataFrame) -> None:
        if not self.lines:
            return super().stage(stage, good)
        exprs = [pl.col("row"), pl.col("xid")]
        for source, target in self.LINE_FIELDS.items():
            column = field_of(OrderLine, target).column
            fallback = self.line_default(target)
            value = pl.col(f"f_{source}") if f"f_{source}" in good.columns else fallback
            exprs.append(value.fill_null(fallback).alias(column))
        order = field_of(OrderLine, "order").column
        exprs.append(pl.lit(None, pl.Int64).alias(order))  # set by the merge
        stage.insert("lines", good.select(exprs))
        # One staged order per key: the first row of each order in this batch; later
        # batches' rows of the same order are folded in after staging.
        heads = good.sort("row").unique("xid", keep="first", maintain_order=True)
        super().stage(stage, heads)

    @staticmethod
    def line_default(name: str) -> pl.Expr:
        field = OrderLine._meta.get_field(name)
        if name == "quantity":
            return pl.lit(f"{field.get_default():.3f}")
        if name in {"revenue", "cost"}:
            return pl.lit(0, pl.Int64)
        return pl.lit("")

    def after_staging(self, stage: Stage) -> None:
        name = qn(stage.name("main"))
        if self.lines:
            # Orders split over batches: keep the first row of each order.
            stage.index("main", "xid")
            stage.sql(
                f"DELETE FROM {name} WHERE EXISTS (SELECT 1 FROM {name} t "
                f'WHERE t.xid = {name}.xid AND t."row" < {name}."row")'
            )
            stage.sql(line_totals_sql(orders=name, lines=qn(stage.name("lines")), key="xid"))
        else:
            self.duplicates_in_file(
                stage, "external_id" if "external_id" in self.engine.col_of else "number"
            )
        self.resolve_targets(stage)
        # Orders known by their number within the account (no external id in the file).
        stage.sql(
            f"UPDATE {name} SET target_id = {order_by_number_sql(name)} "
            f"WHERE target_id IS NULL AND (external_id IS NULL OR external_id = '') AND number <> ''"
        )
        self.check_owned(stage)
        if "credit_of" in self.engine.col_of and not self.lines:
            self._check_credit_notes(stage)

    def _check_credit_notes(self, stage: Stage) -> None:
        """The order each credit note names exists (in the database or earlier in this
        file) and may be credited by it (``sales.rules.credit_target_sql``)."""
        name = qn(stage.name("main"))
        credited = "s.credit_ref IS NOT NULL AND s.credit_ref <> ''"
        in_file = (
            f"EXISTS (SELECT 1 FROM {name} f WHERE (f.external_id = s.credit_ref OR f.number = s.credit_ref) "
            "AND f.account_id = s.account_id AND (f.credit_ref IS NULL OR f.credit_ref = ''))"
        )
        original = credited_order_sql("s")
        self.sql_issues(
            stage,
            f"{credited} AND {original} IS NULL AND NOT {in_file}",
            "unknown_credit_order",
            "credit_of",
            value="s.credit_ref",
        )
        rules = credit_target_sql(account="s.account_id", original_id=original)
        for code, condition in rules.items():
            self.sql_issues(
                stage, f"{credited} AND {condition}", code, "credit_of", value="s.credit_ref"
            )

    def update_columns(self) -> list[str]:
        cols = super().update_columns()
        if self.lines:  # the totals follow the lines
            cols = sorted({*cols, "revenue_cents", "cost_of_goods_cents"})
        return cols

    def merge(self, stage: Stage, audit: BulkAudit) -> BulkResult:
        staged = self.staged(
            stage,
            lines=stage.name("lines") if self.lines else "",
            credit_notes="credit_of" in self.engine.col_of,
        )
        return bulk.orders_merge(actor=self.engine.actor, staged=staged, audit=audit)


class CostHandler(AccountRefHandler):
    kind = "costs"
    model = CostEntry
    fields = ("account", *COST_FIELDS)

    def check(
        self, typed: pl.DataFrame, batch: pl.DataFrame
    ) -> tuple[pl.DataFrame, pl.DataFrame | None]:
        typed, extra = super().check(typed, batch)
        ext = (
            typed["f_external_id"]
            if "f_external_id" in typed.columns
            else pl.Series([None] * typed.height, dtype=pl.String)
        )
        # Costs without an external id get a stable one from their content.
        content = content_id(
            typed,
            [
                c
                for c in ("f_account", "f_date", "f_category", "f_amount", "f_description")
                if c in typed.columns
            ],
            "imp-",
        )
        external = pl.Series(
            "f_external_id",
            [e if e else c for e, c in zip(ext.to_list(), content.to_list(), strict=True)],
            dtype=pl.String,
        )
        typed = typed.with_columns(external, pl.lit(None, pl.Int64).alias("target_id"))
        return typed.with_columns(pl.col("f_external_id").alias("xid")), extra

    def update_columns(self) -> list[str]:
        return [c for c in super().update_columns() if c != "external_id"]

    def after_staging(self, stage: Stage) -> None:
        self.duplicates_in_file(stage, "external_id")
        self.resolve_targets(stage)
        self.check_owned(stage)

    def merge(self, stage: Stage, audit: BulkAudit) -> BulkResult:
        return bulk.cost_entries_merge(
            actor=self.engine.actor, staged=self.staged(stage), audit=audit
        )
