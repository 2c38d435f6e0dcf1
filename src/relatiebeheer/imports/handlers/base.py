# ruff: noqa: S608 - set-based SQL: identifiers come from the models' _meta and the stage, values parameters
"""What every kind of import shares: which columns it stages, how rows find the record
they update, who may change it, and how staged rows become issues.

A handler maps and checks (Polars, per batch), stages, matches staged rows to existing
records (SQL on the stage) and then hands the stage to its domain's bulk writer
(``relations.bulk`` / ``sales.bulk``), which applies the domain's rules and writes. The
handlers hold no domain rule: those live in the domain's ``rules.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import polars as pl
from django.db import connection, models
from django.utils.translation import gettext as _

from relatiebeheer.common.fields import MoneyField
from relatiebeheer.imports.lookups import unique_lookup, user_lookup
from relatiebeheer.relations.models import Account
from relatiebeheer.relations.rules import compact_kvk_expr, search_key
from relatiebeheer.relations.staged import (
    BulkAudit,
    BulkResult,
    Staged,
    by_external_id_sql,
    count_changes,
    field_of,
    qn,
)
from relatiebeheer.users.access import sees_all_accounts

if TYPE_CHECKING:
    from relatiebeheer.imports.engine import Engine
    from relatiebeheer.imports.stage import Stage


class ImportAborted(Exception):
    """The job cannot start (bad mapping or options); ``code`` and ``params`` say why."""

    def __init__(self, code: str, params: dict | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.params = params or {}


def issues(frame: pl.DataFrame, field: str, value: pl.Expr, code: str | pl.Expr) -> pl.DataFrame:
    """An issue (row, field, value, code) for each row of ``frame``."""
    return frame.select(
        "row",
        pl.lit(field).alias("field"),
        value.cast(pl.String).alias("value"),
        (pl.lit(code) if isinstance(code, str) else code).alias("code"),
    )


def by_given_id(typed: pl.DataFrame, known: pl.Series) -> tuple[pl.DataFrame, pl.DataFrame | None]:
    """Rows that name our own number (``f_id``): ``_by_id`` is the record when it is
    one the importer may change (``known``); the others become "unknown record"."""
    typed = typed.join(pl.DataFrame({"f_id": known, "_by_id": known}), on="f_id", how="left")
    unknown = typed.filter(pl.col("f_id").is_not_null() & pl.col("_by_id").is_null())
    return typed, (
        issues(unknown, "id", pl.col("f_id"), "unknown_record") if unknown.height else None
    )


def stage_type(field: models.Field) -> str:
    """How a model field is staged: int, text, date, datetime, decimal or bool."""
    if isinstance(field, (models.ForeignKey, MoneyField, models.IntegerField)):
        return "int"
    if isinstance(field, models.DateTimeField):
        return "datetime"
    if isinstance(field, models.DateField):
        return "date"
    if isinstance(field, models.DecimalField):
        return "decimal"
    if isinstance(field, models.BooleanField):
        return "bool"
    return "text"


class KindHandler:
    """One kind of import. ``fields``: the model fields a row may fill, by name; each is
    staged under its column name (``_meta``), typed by :func:`stage_type`."""

    kind = ""
    model: Any = None
    fields: tuple[str, ...] = ()

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.users: dict[str, Any] = {}
        self.columns = {
            name: (field.column, stage_type(field))
            for name in self.fields
            for field in [field_of(self.model, name)]
        }

    # Account-referencing kinds may leave out the reference when a target account is chosen.
    def optional_required(self, fname: str) -> bool:
        return False

    def prepare(self) -> None:
        if any(self.engine.specs[f].type == "user" for f in self.engine.col_of):
            self.users = user_lookup()

    def stage_tables(self) -> dict[str, list[tuple[str, str]]]:
        cols = [("row", "int"), ("target_id", "int"), ("xid", "text")]
        cols += list(self.columns.values())
        return {"main": cols + self.extra_stage_columns()}

    def extra_stage_columns(self) -> list[tuple[str, str]]:
        return [("given_id", "int")]

    def extra_stage_exprs(self, good: pl.DataFrame) -> list[pl.Expr]:
        return [
            (pl.col("f_id") if "f_id" in good.columns else pl.lit(None, pl.Int64)).alias("given_id")
        ]

    def check(
        self, typed: pl.DataFrame, batch: pl.DataFrame
    ) -> tuple[pl.DataFrame, pl.DataFrame | None]:
        return typed, None

    def stage(self, stage: Stage, good: pl.DataFrame) -> None:
        frame = self.to_stage(good)
        stage.insert("main", frame)
        self.engine.staged += frame.height

    def to_stage(self, good: pl.DataFrame) -> pl.DataFrame:
        exprs = [pl.col("row"), pl.col("target_id"), pl.col("xid")]
        for fname, (col, _t) in self.columns.items():
            source = f"f_{fname}"
            if source in good.columns:
                exprs.append(pl.col(source).alias(col))
            else:
                exprs.append(self.default(fname).alias(col))
        frame = good.select(exprs + self.extra_stage_exprs(good))
        # A blank cell in a column the table requires takes the field's default.
        fills = [
            pl.col(col).fill_null(self.default(fname))
            for fname, (col, _t) in self.columns.items()
            if fname != "account" and not self.model._meta.get_field(fname).null
        ]
        return frame.with_columns(fills) if fills else frame

    def default(self, fname: str) -> pl.Expr:
        """The stored value of a field a row leaves blank: the model field's default."""
        field = self.model._meta.get_field(fname)
        if fname == "account" or not field.has_default() or callable(field.default):
            return pl.lit("") if stage_type(field) == "text" and not field.null else pl.lit(None)
        value = field.get_default()
        if isinstance(value, str):
            value = str(value)  # a choice's enum member: its plain value
        if isinstance(field, MoneyField):
            return pl.lit(field.get_prep_value(value), pl.Int64)
        if isinstance(field, models.DecimalField):
            return pl.lit(str(value))
        return pl.lit(value)

    def after_staging(self, stage: Stage) -> None:
        pass

    def update_columns(self) -> list[str]:
        """The columns an existing record takes from its row: those the file maps (and
        the account, when rows name one)."""
        cols = {self.columns[f][0] for f in self.columns if f in self.engine.col_of}
        if "account" in self.columns and getattr(self, "refs", None):
            cols.add("account_id")
        return sorted(cols)

    def staged(self, stage: Stage, **more: Any) -> Staged:
        return stage.staged(
            insert=tuple(c for c, _t in self.columns.values()),
            update=tuple(self.update_columns()),
            **more,
        )

    def counts(self, stage: Stage) -> tuple[int, int, int]:
        return count_changes(self.model, self.staged(stage))

    def merge(self, stage: Stage, audit: BulkAudit) -> BulkResult:
        raise NotImplementedError

    # -- shared set-based checks on the stage ----------------------------------------------------

    def sql_issues(
        self,
        stage: Stage,
        where: str,
        code: str,
        field_name: str,
        params: Any = (),
        value: str = "''",
    ) -> int:
        """Turn staged rows matching ``where`` into issues; drop them from the stage."""
        name = qn(stage.name("main"))
        found = stage.rows(f'SELECT "row", {value} FROM {name} s WHERE {where}', params)
        if not found:
            return 0
        frame = pl.DataFrame(
            {
                "row": [int(r[0]) for r in found],
                "field": [field_name] * len(found),
                "value": [str(r[1] if r[1] is not None else "")[:200] for r in found],
                "code": [code] * len(found),
            },
            schema={"row": pl.Int64, "field": pl.String, "value": pl.String, "code": pl.String},
        )
        if code == "duplicate_in_file":
            firsts = dict(
                stage.rows(
                    f'SELECT s."row", (SELECT MIN(t."row") FROM {name} t WHERE t.xid = s.xid) '
                    f"FROM {name} s WHERE {where}",
                    params,
                )
            )
            params_col = [{"row": int(firsts.get(r, 0) or 0)} for r in frame["row"].to_list()]
        else:
            params_col = [{}] * frame.height
        self.engine.add_issues(frame.with_columns(pl.Series("params", params_col, dtype=pl.Object)))
        stage.sql(
            f'DELETE FROM {name} WHERE "row" IN (SELECT s."row" FROM {name} s WHERE {where})',
            params,
        )
        return len(found)

    def duplicates_in_file(self, stage: Stage, field_name: str) -> None:
        name = qn(stage.name("main"))
        stage.index("main", "xid")
        self.sql_issues(
            stage,
            f's.xid IS NOT NULL AND EXISTS (SELECT 1 FROM {name} t WHERE t.xid = s.xid AND t."row" < s."row")',
            "duplicate_in_file",
            field_name,
            value="s.xid",
        )

    def resolve_targets(self, stage: Stage) -> None:
        """Match staged rows to existing records: by our number, else by external id."""
        name, table = qn(stage.name("main")), qn(self.model._meta.db_table)
        if "id" in self.engine.col_of:
            stage.sql(
                f"UPDATE {name} SET target_id = (SELECT t.id FROM {table} t WHERE t.id = {name}.given_id) "
                f"WHERE given_id IS NOT NULL"
            )
            self.sql_issues(
                stage,
                "s.given_id IS NOT NULL AND s.target_id IS NULL",
                "unknown_record",
                "id",
                value="s.given_id",
            )
        if "external_id" not in self.columns:
            return
        stage.sql(
            f"UPDATE {name} SET target_id = {by_external_id_sql(self.model, name)} "
            f"WHERE target_id IS NULL AND external_id IS NOT NULL AND external_id <> ''"
        )
        # An external id given to a record matched by number must not belong to another one.
        self.sql_issues(
            stage,
            f"s.external_id <> '' AND EXISTS (SELECT 1 FROM {table} t WHERE t.external_id = s.external_id "
            f"AND NOT (t.external_id = '') AND t.id <> s.target_id)",
            "external_id_taken",
            "external_id",
            value="s.external_id",
        )

    def check_owned(self, stage: Stage) -> None:
        """Updates only of records on accounts the importer may change.

        A record outside them is reported exactly as one that does not exist: a row
        naming it by our number gets "unknown record", the same as a number nobody has;
        a row naming it by external id gets "external id already used", the same as any
        taken key (external ids are unique across the book, so that key cannot be
        created again; the answer tells no more than that). Never "not yours": that
        would tell another portfolio's records apart from missing ones."""
        if sees_all_accounts(self.engine.actor):
            return
        table = qn(self.model._meta.db_table)
        account = qn(self.model._meta.get_field("account").column)
        visible = qn(stage.name("visible"))
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {visible}")
            cursor.execute(f"CREATE TEMP TABLE {visible} (id bigint PRIMARY KEY)")
            cursor.executemany(
                f"INSERT INTO {visible} (id) VALUES (%s)",
                [(i,) for i in visible_account_ids(self.engine.actor)],
            )
        stage.tables["visible"] = [("id", "int")]
        hidden = (
            f"s.target_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {table} t JOIN {visible} v "
            f"ON v.id = t.{account} WHERE t.id = s.target_id)"
        )
        staged = {column for column, _type in stage.tables.get("main", [])}
        if "id" in self.engine.col_of and "given_id" in staged:
            self.sql_issues(
                stage,
                f"{hidden} AND s.given_id IS NOT NULL",
                "unknown_record",
                "id",
                value="s.given_id",
            )
        if "external_id" in self.engine.col_of:
            self.sql_issues(stage, hidden, "external_id_taken", "external_id", value="s.xid")


def visible_account_ids(actor: Any) -> list[int]:
    return list(Account.objects.visible_to(actor).values_list("id", flat=True))


class AccountRefHandler(KindHandler):
    """Kinds whose rows belong to an account: resolve the reference to a visible account."""

    def prepare(self) -> None:
        super().prepare()
        eng = self.engine
        self.target_account = eng.options.get("account_id")
        refs = [
            f
            for f in ("account_id", "account_external_id", "account_kvk", "account_name")
            if f in eng.col_of
        ]
        self.refs = refs
        if not refs and not self.target_account:
            raise ImportAborted("missing_required", {"fields": str(_("Account"))})
        rows = list(
            Account.objects.visible_to(eng.actor).values_list(
                "id", "external_id", "kvk_number", "name"
            )
        )
        frame = pl.DataFrame(
            rows,
            schema={"id": pl.Int64, "external_id": pl.String, "kvk": pl.String, "name": pl.String},
            orient="row",
        )
        self.by_id = frame.select(pl.col("id").alias("key"), pl.col("id").alias("account"))
        self.by_ext = unique_lookup(frame.filter(pl.col("external_id") != ""), "external_id")
        self.by_kvk = unique_lookup(frame.filter(pl.col("kvk") != ""), "kvk")
        self.by_name = unique_lookup(
            frame.with_columns(search_key(pl.col("name")).alias("nk")), "nk"
        )

    def check(
        self, typed: pl.DataFrame, batch: pl.DataFrame
    ) -> tuple[pl.DataFrame, pl.DataFrame | None]:
        account = pl.lit(None, dtype=pl.Int64)
        error_field = pl.lit(None, dtype=pl.String)
        error_code = pl.lit(None, dtype=pl.String)
        decided = pl.lit(False)
        for ref in self.refs:
            col = f"f_{ref}"
            if ref == "account_id":
                typed = typed.join(
                    self.by_id.rename({"key": col, "account": "_acc_id"}), on=col, how="left"
                )
                found = pl.col("_acc_id")
            else:
                lookup = {
                    "account_external_id": self.by_ext,
                    "account_kvk": self.by_kvk,
                    "account_name": self.by_name,
                }[ref]
                key = (
                    search_key(pl.col(col))
                    if ref == "account_name"
                    else (compact_kvk_expr(pl.col(col)) if ref == "account_kvk" else pl.col(col))
                )
                typed = typed.with_columns(key.alias(f"_k_{ref}")).join(
                    lookup.rename({"key": f"_k_{ref}", "account": f"_acc_{ref}"}),
                    on=f"_k_{ref}",
                    how="left",
                )
                found = pl.col(f"_acc_{ref}")
            given = pl.col(col).is_not_null() & (pl.col(col).cast(pl.String) != "")
            now_here = ~decided & given
            account = pl.when(now_here).then(pl.when(found > 0).then(found)).otherwise(account)
            error_code = (
                pl.when(now_here & found.is_null())
                .then(pl.lit("unknown_account"))
                .when(now_here & (found == -1))
                .then(pl.lit("ambiguous_account"))
                .otherwise(error_code)
            )
            error_field = pl.when(now_here).then(pl.lit(ref)).otherwise(error_field)
            decided = decided | given
        if self.target_account:
            account = pl.when(~decided).then(pl.lit(int(self.target_account))).otherwise(account)
        else:
            error_code = pl.when(~decided).then(pl.lit("account_required")).otherwise(error_code)
            error_field = (
                pl.when(~decided)
                .then(pl.lit(self.refs[0] if self.refs else "account"))
                .otherwise(error_field)
            )
        typed = typed.with_columns(
            account.alias("f_account"),
            error_code.alias("_acc_err"),
            error_field.alias("_acc_field"),
        )
        bad = typed.filter(pl.col("_acc_err").is_not_null())
        extra = None
        if bad.height:
            values = []
            for fname, _row in bad.select(["_acc_field", "row"]).iter_rows():
                col = self.engine.col_of.get(fname)
                values.append(col)
            raw = batch.select(
                pl.col("__row").cast(pl.Int64).alias("row"),
                *[pl.col(c) for c in set(v for v in values if v)],
            )
            joined = bad.select(["row", "_acc_field", "_acc_err"]).join(raw, on="row", how="left")
            vals = []
            for rec in joined.iter_rows(named=True):
                col = self.engine.col_of.get(rec["_acc_field"])
                vals.append((rec.get(col) if col else "") or "")
            extra = pl.DataFrame(
                {
                    "row": joined["row"],
                    "field": joined["_acc_field"],
                    "value": pl.Series(vals, dtype=pl.String),
                    "code": joined["_acc_err"],
                }
            )
        drop = [c for c in typed.columns if c.startswith(("_acc", "_k_"))]
        return typed.drop(drop), extra
