# ruff: noqa: S608 - set-based SQL: identifiers come from the models' _meta and the stage
"""Importing accounts, contacts and contact moments: map, check, stage, match; the
merge is ``relations.bulk``'s, the rules are ``relations.rules``'."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import polars as pl

from relatiebeheer.imports.lookups import content_id, unique_lookup, user_lookup
from relatiebeheer.relations import bulk
from relatiebeheer.relations.models import Account, Contact, Interaction
from relatiebeheer.relations.rules import (
    ACCOUNT_FIELDS,
    CONTACT_FIELDS,
    INTERACTION_FIELDS,
    MANAGER_ROLES,
    account_search_text_expr,
    default_manager,
    interest_names_expr,
    manager_problem_expr,
    normalise_account_columns,
    search_key,
)
from relatiebeheer.relations.staged import BulkAudit, BulkResult, Staged, interest_changes, qn
from relatiebeheer.users.access import can_manage_portfolios
from relatiebeheer.users.models import User

from .base import AccountRefHandler, KindHandler, by_given_id, issues, visible_account_ids

if TYPE_CHECKING:
    from relatiebeheer.imports.stage import Stage


class AccountHandler(KindHandler):
    kind = "accounts"
    model = Account
    # What a row may fill: the account's fields, but its place in a group of accounts.
    fields = tuple(f for f in ACCOUNT_FIELDS if f not in {"parent", "buying_group"})

    def prepare(self) -> None:
        super().prepare()
        eng = self.engine
        self.users = user_lookup()
        self.managers_ok = set(
            User.objects.filter(role__in=MANAGER_ROLES).values_list("id", flat=True)
        )
        self.may_assign = can_manage_portfolios(eng.actor)
        visible = list(
            Account.objects.visible_to(eng.actor).values_list(
                "id", "external_id", "kvk_number", "name", "city", "postal_code", "manager_id"
            )
        )
        self.visible = pl.DataFrame(
            visible,
            schema={
                "id": pl.Int64,
                "external_id": pl.String,
                "kvk_number": pl.String,
                "name": pl.String,
                "city": pl.String,
                "postal_code": pl.String,
                "manager_id": pl.Int64,
            },
            orient="row",
        )
        others = list(Account.objects.exclude(external_id="").values_list("external_id", "id"))
        self.all_ext = pl.DataFrame(
            others, schema={"external_id": pl.String, "id": pl.Int64}, orient="row"
        )
        self.by_kvk = unique_lookup(
            self.visible.filter(pl.col("kvk_number") != "").rename({"kvk_number": "k"}), "k"
        )
        keyed = self.visible.with_columns(
            pl.concat_str(
                [search_key(pl.col("name")), search_key(pl.col("city"))], separator="|"
            ).alias("nc")
        )
        self.by_name_city = unique_lookup(keyed, "nc")
        # For rows that bring an external id nobody has yet: an account without one.
        self.by_name_city_free = unique_lookup(keyed.filter(pl.col("external_id") == ""), "nc")

    def extra_stage_columns(self) -> list[tuple[str, str]]:
        return [("search_text", "text")]

    def extra_stage_exprs(self, good: pl.DataFrame) -> list[pl.Expr]:
        return [pl.col("search_text")]

    def check(
        self, typed: pl.DataFrame, batch: pl.DataFrame
    ) -> tuple[pl.DataFrame, pl.DataFrame | None]:
        eng = self.engine
        typed = normalise_account_columns(typed)
        # Which existing account each row updates.
        target = pl.lit(None, pl.Int64)
        errors = []
        if "f_id" in typed.columns:
            typed, unknown = by_given_id(typed, self.visible["id"])
            if unknown is not None:
                errors.append(unknown)
            target = pl.coalesce(pl.col("_by_id"), target)
        if "f_external_id" in typed.columns:
            typed = typed.join(
                self.all_ext.rename({"external_id": "f_external_id", "id": "_by_ext"}),
                on="f_external_id",
                how="left",
            )
            target = pl.coalesce(target, pl.col("_by_ext"))
        if "f_kvk_number" in typed.columns:
            typed = typed.join(
                self.by_kvk.rename({"key": "f_kvk_number", "account": "_by_kvk"}),
                on="f_kvk_number",
                how="left",
            )
            ambiguous = typed.filter(target.is_null() & (pl.col("_by_kvk") == -1))
            if ambiguous.height:
                errors.append(
                    issues(ambiguous, "kvk_number", pl.col("f_kvk_number"), "ambiguous_kvk")
                )
            target = pl.coalesce(target, pl.when(pl.col("_by_kvk") > 0).then(pl.col("_by_kvk")))
        if "f_name" in typed.columns:
            city = search_key(pl.col("f_city")) if "f_city" in typed.columns else pl.lit("")
            typed = (
                typed.with_columns(
                    pl.concat_str([search_key(pl.col("f_name")), city], separator="|").alias("_nc")
                )
                .join(
                    self.by_name_city.rename({"key": "_nc", "account": "_by_nc"}),
                    on="_nc",
                    how="left",
                )
                .join(
                    self.by_name_city_free.rename({"key": "_nc", "account": "_by_ncf"}),
                    on="_nc",
                    how="left",
                )
            )
            has_ext = (
                pl.col("f_external_id").fill_null("") != ""
                if "f_external_id" in typed.columns
                else pl.lit(False)
            )
            by_nc = pl.when(has_ext).then(pl.col("_by_ncf")).otherwise(pl.col("_by_nc"))
            target = pl.coalesce(target, pl.when(by_nc > 0).then(by_nc))
        typed = typed.with_columns(target.alias("target_id"))
        # An external id that belongs to an account this user cannot see.
        visible_ids = self.visible.select(
            pl.col("id").alias("target_id"), pl.lit(True).alias("_visible")
        )
        typed = typed.join(visible_ids, on="target_id", how="left")
        hidden = typed.filter(pl.col("target_id").is_not_null() & pl.col("_visible").is_null())
        if hidden.height:
            errors.append(
                issues(
                    hidden,
                    "external_id",
                    pl.col("f_external_id").fill_null(""),
                    "external_id_taken",
                )
            )
        # Fill what the file leaves out from the existing account (for search_text).
        existing = self.visible.rename(
            {c: f"_old_{c}" for c in self.visible.columns if c != "id"}
        ).rename({"id": "target_id"})
        typed = typed.join(existing, on="target_id", how="left")
        # Who manages each account (relations.rules.manager_problem): a new account
        # nobody is named for goes to its maker when that is an account manager.
        if "f_manager" in typed.columns:
            new = pl.col("target_id").is_null()
            default = default_manager(eng.actor)
            if default is not None:
                typed = typed.with_columns(
                    pl.when(new & pl.col("f_manager").is_null())
                    .then(pl.lit(default.pk))
                    .otherwise(pl.col("f_manager"))
                    .alias("f_manager")
                )
            problem = manager_problem_expr(
                may_assign=self.may_assign,
                actor_id=eng.actor.pk,
                manager=pl.col("f_manager"),
                current=pl.col("_old_manager_id"),
                manager_is_manager=pl.col("f_manager").is_in(list(self.managers_ok)),
            )
            refused = typed.with_columns(problem.alias("_manager")).filter(
                pl.col("_manager").is_not_null()
            )
            if refused.height:
                errors.append(
                    issues(
                        refused,
                        "manager",
                        pl.col("f_manager").cast(pl.String).fill_null(""),
                        pl.col("_manager"),
                    )
                )
        parts = [
            pl.col(f"f_{n}") if f"f_{n}" in typed.columns else pl.col(f"_old_{n}")
            for n in ("name", "city", "postal_code", "kvk_number")
        ]
        typed = typed.with_columns(
            account_search_text_expr(*parts).alias("search_text"),
            pl.col("target_id").cast(pl.String).alias("_t"),
        )
        # Rows with the same key in one file: the later ones are duplicates.
        key = pl.coalesce(
            pl.concat_str([pl.lit("t:"), pl.col("_t")]),
            *(
                [
                    pl.when(pl.col("f_external_id").fill_null("") != "").then(
                        pl.concat_str([pl.lit("x:"), pl.col("f_external_id")])
                    )
                ]
                if "f_external_id" in typed.columns
                else []
            ),
            *(
                [
                    pl.when(pl.col("f_kvk_number").fill_null("") != "").then(
                        pl.concat_str([pl.lit("k:"), pl.col("f_kvk_number")])
                    )
                ]
                if "f_kvk_number" in typed.columns
                else []
            ),
            pl.concat_str([pl.lit("n:"), pl.col("search_text")]),
        )
        typed = typed.with_columns(key.alias("xid"))
        drop = [
            c
            for c in typed.columns
            if c.startswith(("_by", "_old", "_visible", "_nc", "_t", "_manager"))
        ]
        extra = pl.concat(errors) if errors else None
        return typed.drop(drop), extra

    def default(self, fname: str) -> pl.Expr:
        if fname == "manager":
            default = default_manager(self.engine.actor)
            return pl.lit(default.pk if default is not None else None, pl.Int64)
        return super().default(fname)

    def update_columns(self) -> list[str]:
        cols = super().update_columns()
        return sorted({*cols, "search_text"}) if cols else []

    def staged(self, stage: Stage, **more: Any) -> Staged:
        return stage.staged(
            insert=(*(c for c, _t in self.columns.values()), "search_text"),
            update=tuple(self.update_columns()),
        )

    def after_staging(self, stage: Stage) -> None:
        self.duplicates_in_file(
            stage, "external_id" if "external_id" in self.engine.col_of else "name"
        )

    def merge(self, stage: Stage, audit: BulkAudit) -> BulkResult:
        return bulk.accounts_merge(actor=self.engine.actor, staged=self.staged(stage), audit=audit)


class ContactHandler(AccountRefHandler):
    kind = "contacts"
    model = Contact
    fields = CONTACT_FIELDS

    def extra_stage_columns(self) -> list[tuple[str, str]]:
        return [("interests", "text")]

    def extra_stage_exprs(self, good: pl.DataFrame) -> list[pl.Expr]:
        return [pl.col("interests")]

    def prepare(self) -> None:
        super().prepare()
        eng = self.engine
        rows = list(
            Contact.objects.visible_to(eng.actor).values_list(
                "id", "account_id", "external_id", "email", "first_name", "last_name"
            )
        )
        self.contacts = pl.DataFrame(
            rows,
            schema={
                "id": pl.Int64,
                "account_id": pl.Int64,
                "external_id": pl.String,
                "email": pl.String,
                "first_name": pl.String,
                "last_name": pl.String,
            },
            orient="row",
        )
        self.all_ext = pl.DataFrame(
            list(
                Contact.objects.exclude(external_id="").values_list(
                    "external_id", "id", "account_id"
                )
            ),
            schema={"external_id": pl.String, "id": pl.Int64, "account_id": pl.Int64},
            orient="row",
        )
        self.visible_accounts = set(visible_account_ids(eng.actor))

    def check(
        self, typed: pl.DataFrame, batch: pl.DataFrame
    ) -> tuple[pl.DataFrame, pl.DataFrame | None]:
        typed, extra = super().check(typed, batch)
        errors = [extra] if extra is not None else []
        target = pl.lit(None, pl.Int64)
        if "f_id" in typed.columns:
            typed, unknown = by_given_id(typed, self.contacts["id"])
            if unknown is not None:
                errors.append(unknown)
            target = pl.col("_by_id")
        if "f_external_id" in typed.columns:
            typed = typed.join(
                self.all_ext.select(
                    pl.col("external_id").alias("f_external_id"),
                    pl.col("id").alias("_by_ext"),
                    pl.col("account_id").alias("_ext_acc"),
                ),
                on="f_external_id",
                how="left",
            )
            hidden = typed.filter(
                pl.col("_by_ext").is_not_null()
                & ~pl.col("_ext_acc").is_in(list(self.visible_accounts))
            )
            if hidden.height:
                errors.append(
                    issues(hidden, "external_id", pl.col("f_external_id"), "external_id_taken")
                )
            target = pl.coalesce(target, pl.col("_by_ext"))
        no_ext = (
            pl.col("f_external_id").fill_null("") == ""
            if "f_external_id" in typed.columns
            else pl.lit(True)
        )
        if "f_email" in typed.columns:
            by_email = unique_lookup(
                self.contacts.filter(pl.col("email") != "").with_columns(
                    pl.concat_str(
                        [pl.col("account_id").cast(pl.String), pl.col("email").str.to_lowercase()],
                        separator="|",
                    ).alias("k")
                ),
                "k",
            )
            typed = typed.with_columns(
                pl.concat_str(
                    [pl.col("f_account").cast(pl.String), pl.col("f_email").str.to_lowercase()],
                    separator="|",
                ).alias("_ke")
            ).join(by_email.rename({"key": "_ke", "account": "_by_email"}), on="_ke", how="left")
            target = pl.coalesce(
                target,
                pl.when(
                    no_ext & (pl.col("f_email").fill_null("") != "") & (pl.col("_by_email") > 0)
                ).then(pl.col("_by_email")),
            )
        by_name = unique_lookup(
            self.contacts.with_columns(
                pl.concat_str(
                    [
                        pl.col("account_id").cast(pl.String),
                        search_key(pl.col("first_name")),
                        search_key(pl.col("last_name")),
                    ],
                    separator="|",
                ).alias("k")
            ),
            "k",
        )
        first = (
            search_key(pl.col("f_first_name")) if "f_first_name" in typed.columns else pl.lit("")
        )
        typed = typed.with_columns(
            pl.concat_str(
                [pl.col("f_account").cast(pl.String), first, search_key(pl.col("f_last_name"))],
                separator="|",
            ).alias("_kn")
        ).join(by_name.rename({"key": "_kn", "account": "_by_name"}), on="_kn", how="left")
        no_email = (
            pl.col("f_email").fill_null("") == "" if "f_email" in typed.columns else pl.lit(True)
        )
        target = pl.coalesce(
            target, pl.when(no_ext & no_email & (pl.col("_by_name") > 0)).then(pl.col("_by_name"))
        )
        typed = typed.with_columns(target.alias("target_id"))
        key = pl.coalesce(
            pl.concat_str([pl.lit("t:"), pl.col("target_id").cast(pl.String)]),
            *(
                [
                    pl.when(pl.col("f_external_id").fill_null("") != "").then(
                        pl.concat_str([pl.lit("x:"), pl.col("f_external_id")])
                    )
                ]
                if "f_external_id" in typed.columns
                else []
            ),
            *(
                [pl.when(pl.col("f_email").fill_null("") != "").then(pl.col("_ke"))]
                if "f_email" in typed.columns
                else []
            ),
            pl.col("_kn"),
        )
        typed = typed.with_columns(key.alias("xid"))
        if "f_interests" in typed.columns:
            typed = typed.with_columns(
                interest_names_expr(pl.col("f_interests")).alias("interests")
            )
        else:
            typed = typed.with_columns(pl.lit(None, pl.String).alias("interests"))
        drop = [c for c in typed.columns if c.startswith(("_by", "_ke", "_kn", "_ext"))]
        return typed.drop(drop), (pl.concat(errors) if errors else None)

    def after_staging(self, stage: Stage) -> None:
        self.duplicates_in_file(
            stage, "external_id" if "external_id" in self.engine.col_of else "last_name"
        )
        self.check_owned(stage)

    def counts(self, stage: Stage) -> tuple[int, int, int]:
        created, changed, unchanged = super().counts(stage)
        if "interests" in self.engine.col_of:
            moved = len(interest_changes(self.staged(stage)))
            extra = max(0, min(moved, unchanged))
            changed, unchanged = changed + extra, unchanged - extra
        return created, changed, unchanged

    def merge(self, stage: Stage, audit: BulkAudit) -> BulkResult:
        return bulk.contacts_merge(
            actor=self.engine.actor,
            staged=self.staged(stage),
            audit=audit,
            with_interests="interests" in self.engine.col_of,
        )


class InteractionHandler(AccountRefHandler):
    kind = "interactions"
    model = Interaction
    fields = ("account", *INTERACTION_FIELDS)
    # What a contact moment is when the file does not say (the model has no default).
    DEFAULTS = {"channel": Interaction.Channel.PHONE.value, "kind": Interaction.Kind.SERVICE.value}

    def default(self, fname: str) -> pl.Expr:
        if fname in self.DEFAULTS:
            return pl.lit(self.DEFAULTS[fname])
        if fname == "user":  # the importer logged them
            return pl.lit(getattr(self.engine.actor, "pk", None), pl.Int64)
        return super().default(fname)

    def check(
        self, typed: pl.DataFrame, batch: pl.DataFrame
    ) -> tuple[pl.DataFrame, pl.DataFrame | None]:
        typed, extra = super().check(typed, batch)
        if "f_satisfaction" in typed.columns:
            typed = typed.with_columns(pl.col("f_satisfaction").cast(pl.Int64))
        content = content_id(
            typed,
            [c for c in ("f_account", "f_occurred_at", "f_subject") if c in typed.columns],
            "m-",
        )
        typed = typed.with_columns(content.alias("xid"), pl.lit(None, pl.Int64).alias("target_id"))
        return typed, extra

    def after_staging(self, stage: Stage) -> None:
        self.duplicates_in_file(stage, "subject")
        self.resolve_targets(stage)
        # The same moment: same account, same time, same subject.
        name, table = qn(stage.name("main")), qn(Interaction._meta.db_table)
        stage.sql(
            f"UPDATE {name} SET target_id = (SELECT MIN(t.id) FROM {table} t "
            f"WHERE t.account_id = {name}.account_id AND t.occurred_at = {name}.occurred_at "
            f"AND t.subject = {name}.subject) WHERE target_id IS NULL"
        )
        self.check_owned(stage)

    def merge(self, stage: Stage, audit: BulkAudit) -> BulkResult:
        return bulk.interactions_merge(
            actor=self.engine.actor, staged=self.staged(stage), audit=audit
        )
