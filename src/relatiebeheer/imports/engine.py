# ruff: noqa: S608 - set-based SQL: identifiers are ours (models' _meta, stage names), values parameters
"""The import engine: stream, parse and check every row, stage, then merge in one go.

1. **Parse and check** (streaming, batches of 100,000 rows): each mapped column is parsed
   by a vectorised Polars expression (``columns.py``); account references, users and
   choices are resolved with joins against small lookup tables; every problem becomes an
   issue (row, column, value, reason code).
2. **Stage**: the valid rows go into a temporary table (SQLite: a TEMP table in a
   temp *file*; PostgreSQL: a TEMP table filled with ``COPY``). Nothing outside the
   importing connection sees it, and a killed process leaves nothing behind.
3. **Set-based checks** in SQL on the staged rows: duplicates in the file, which
   existing records the rows update, whether the importer may change those, credit notes.
4. **Merge** — only now a transaction opens: one ``UPDATE … FROM stage`` (changed rows
   only, so re-importing the same file changes nothing, not even a version) and one
   ``INSERT … SELECT`` per table, the audit row, and the "accounts changed" hook. The
   transaction lasts as long as those statements, not as long as the file.

All-or-nothing (default): any problem, nothing merged. Partial: the rows with problems
are left out and written to a "rejected rows" file with a reason column.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.db import connection, transaction
from django.db.models import F as models_F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from relatiebeheer.common.crashtest import pause_here
from relatiebeheer.core.dates import detect_date_order
from relatiebeheer.core.money import detect_notation
from relatiebeheer.relations.models import Account, Contact, Interaction, Interest
from relatiebeheer.relations.validators import (
    normalise_phone,
    normalise_vat,
    validate_phone,
    validate_vat,
)
from relatiebeheer.sales.models import CostEntry, Order
from relatiebeheer.users.access import can_manage_portfolios, sees_all_accounts
from relatiebeheer.users.models import Role, User

from . import columns as C
from . import reader
from .fields import FieldSpec, fields_for
from .messages import describe

logger = logging.getLogger(__name__)

BATCH_SIZE = 100_000

# --- choice tables: lower-cased labels (nl and en) and values → stored value ----------------


def _choices(pairs) -> dict[str, str]:
    table: dict[str, str] = {}
    for value, label in pairs:
        table[str(value).lower()] = str(value)
        for lang in ("nl", "en"):
            with translation.override(lang):
                table[str(label).lower()] = str(value)
    return table


def choice_table(name: str) -> dict[str, str]:
    from relatiebeheer.relations.models import Satisfaction

    if name == "account_status":
        return _choices(Account.Status.choices)
    if name == "order_status":
        return _choices(Order.Status.choices)
    if name == "cost_category":
        return _choices(CostEntry.Category.choices)
    if name == "channel":
        return _choices(Interaction.Channel.choices)
    if name == "interaction_kind":
        return _choices(Interaction.Kind.choices)
    if name == "direction":
        return _choices(Interaction.Direction.choices)
    if name == "satisfaction":
        table = _choices(Satisfaction.choices)
        table.update({"zeer goed": "4", "goed": "3", "matig": "2", "slecht": "1"})
        return table
    if name == "language":
        return {
            "nl": "nl",
            "en": "en",
            "nederlands": "nl",
            "dutch": "nl",
            "engels": "en",
            "english": "en",
        }
    if name == "country":
        table = {
            "nederland": "NL",
            "netherlands": "NL",
            "the netherlands": "NL",
            "holland": "NL",
            "belgie": "BE",
            "belgië": "BE",
            "belgium": "BE",
            "duitsland": "DE",
            "germany": "DE",
            "frankrijk": "FR",
            "france": "FR",
            "luxemburg": "LU",
            "luxembourg": "LU",
            "verenigd koninkrijk": "GB",
            "united kingdom": "GB",
            "spanje": "ES",
            "spain": "ES",
            "italie": "IT",
            "italië": "IT",
            "italy": "IT",
            "oostenrijk": "AT",
            "austria": "AT",
            "denemarken": "DK",
            "denmark": "DK",
            "zweden": "SE",
            "sweden": "SE",
            "polen": "PL",
            "poland": "PL",
        }
        return table
    raise KeyError(name)


BOOLS = {
    "1": "1",
    "ja": "1",
    "j": "1",
    "yes": "1",
    "y": "1",
    "true": "1",
    "waar": "1",
    "x": "1",
    "0": "0",
    "nee": "0",
    "n": "0",
    "no": "0",
    "false": "0",
    "onwaar": "0",
}


def search_key(expr: pl.Expr) -> pl.Expr:
    """The vectorised ``common.text.normalise_search`` (lower case, no accents)."""
    return (
        expr.fill_null("")
        .str.normalize("NFKD")
        .str.replace_all(r"\p{M}", "")
        .str.to_lowercase()
        .str.replace_all(r"[^\w@.]+", " ")
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
    )


# --- results -------------------------------------------------------------------------------


@dataclass
class Outcome:
    rows: int = 0
    valid: int = 0
    invalid: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    merged: bool = False
    account_ids: list[int] = field(default_factory=list)
    summary: dict = field(default_factory=dict)
    seconds: float = 0.0
    rejected_path: str = ""


class ImportAborted(Exception):
    """The job cannot start (bad mapping or options); ``code`` and ``params`` say why."""

    def __init__(self, code: str, params: dict | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.params = params or {}


# --- the engine ----------------------------------------------------------------------------


class Engine:
    """Runs one job. ``commit=False`` checks everything and reports what would change."""

    def __init__(
        self,
        *,
        kind: str,
        path: str | Path,
        info: reader.FileInfo,
        mapping: dict[str, str],
        options: dict,
        actor,
        progress: Callable[[int, str], None] | None = None,
        issue_sink: Callable[[list[dict]], None] | None = None,
        on_merged: Callable[[Outcome], None] | None = None,
        batch_size: int = BATCH_SIZE,
        check_required: bool = True,
    ) -> None:
        self.kind = kind
        self.path = Path(path)
        self.info = info
        self.options = dict(options)
        self.actor = actor
        self.progress = progress or (lambda done, phase: None)
        self.issue_sink = issue_sink or (lambda issues: None)
        self.on_merged = on_merged or (lambda outcome: None)
        self.batch_size = batch_size
        self.specs = fields_for(kind)
        self.handler: KindHandler = HANDLERS[kind](self)
        self.col_of: dict[str, str] = {}
        names = reader.column_names(info.headers)
        for fname, header in mapping.items():
            if fname not in self.specs:
                raise ImportAborted("unknown_field", {"field": fname})
            if header not in info.headers:
                raise ImportAborted("unknown_column", {"column": header})
            self.col_of[fname] = names[info.headers.index(header)]
        self.header_of = {f: h for f, h in mapping.items()}
        missing = [
            f
            for f, spec in self.specs.items()
            if spec.required and f not in self.col_of and not self.handler.optional_required(f)
        ]
        self.missing = missing
        if missing and check_required:
            raise ImportAborted(
                "missing_required", {"fields": ", ".join(str(self.specs[f].label) for f in missing)}
            )
        self.notation = self.options.get("notation") or None
        self.date_order = self.options.get("date_order") or None
        self.partial = bool(self.options.get("partial"))
        self.vendor = connection.vendor
        self.summary: dict[str, int] = {}
        self.stored_issues = 0
        self.rejected: list[pl.DataFrame] = []  # (row, code, field) of every refused row
        self.rows = 0
        self.staged = 0
        self.now = timezone.now()

    # -- detection on the first rows (what the preview shows) -------------------------------

    def detect(self, sample: pl.DataFrame) -> dict:
        """Notation and date order as far as ``sample`` tells; ``None`` = ambiguous."""
        notation = self.notation
        money_values: list[str] = []
        date_values: list[str] = []
        for fname, col in self.col_of.items():
            spec = self.specs[fname]
            values = [v for v in sample[col].to_list() if v]
            if spec.type in {"money", "decimal", "percent"}:
                money_values += [v.rstrip("% ") for v in values]
            elif spec.type in {"date", "datetime"}:
                date_values += values
        money = detect_notation(money_values)
        dates = detect_date_order(date_values)
        return {
            "notation": notation or money.notation,
            "notation_mixed": money.mixed,
            "notation_example": money.ambiguous_example if not (notation or money.notation) else "",
            "date_order": self.date_order or dates.order,
            "date_mixed": dates.mixed,
            "date_example": dates.ambiguous_example if not (self.date_order or dates.order) else "",
        }

    def parse_preview(self, sample: pl.DataFrame) -> pl.DataFrame:
        """Parsed values (``f_<field>``) and problem codes (``e_<field>``) of ``sample``."""
        data: dict[str, pl.Series] = {"row": sample["__row"].cast(pl.Int64)}
        for fname, col in self.col_of.items():
            spec = self.specs[fname]
            value, error = self._parse(spec, sample[col])
            if spec.required:
                blank = sample.select(C.blank(pl.col(col))).to_series()
                error = (
                    pl.DataFrame({"b": blank, "e": error.cast(pl.String)})
                    .select(pl.when(pl.col("b")).then(pl.lit("required")).otherwise(pl.col("e")))
                    .to_series()
                )
            data[f"f_{fname}"] = value.alias(f"f_{fname}")
            data[f"e_{fname}"] = error.cast(pl.String).alias(f"e_{fname}")
        return self._python_checks(pl.DataFrame(data), sample)

    # -- running ------------------------------------------------------------------------------

    def run(self, *, commit: bool) -> Outcome:
        started = self.started = time.perf_counter()
        outcome = Outcome()
        self.handler.prepare()
        self._settle_detection()
        stage = Stage(self)
        stage.create(self.handler.stage_tables())
        try:
            self.progress(0, "checking")
            for batch in reader.batches(self.path, self.info, batch_size=self.batch_size):
                self.rows += batch.height
                good = self._check_batch(batch)
                if good is not None and good.height:
                    self.handler.stage(stage, good)
                self.progress(self.rows, "checking")
                pause_here("import.staging")  # crash tests kill the process while staging
            self.progress(self.rows, "matching")
            self.handler.after_staging(stage)
            invalid_rows = self._invalid_row_count()
            outcome.rows = self.rows
            outcome.invalid = invalid_rows
            outcome.valid = self.rows - invalid_rows
            counts = self.handler.counts(stage)
            outcome.created, outcome.updated, outcome.unchanged = counts
            if invalid_rows and not self.partial:
                commit = False
            elif commit and (outcome.created or outcome.updated):
                self.progress(self.rows, "importing")
                self._merge(stage, outcome)
            elif commit:
                outcome.merged = True
        finally:
            stage.drop()
        outcome.summary = dict(self.summary)
        outcome.seconds = time.perf_counter() - started
        return outcome

    def _settle_detection(self) -> None:
        """Fix notation and date order from the first rows when the options leave them open."""
        if self.notation and self.date_order:
            return
        sample = reader.head(self.path, self.info, rows=5000)
        found = self.detect(sample)
        self.notation = self.notation or found["notation"]
        self.date_order = self.date_order or (
            found["date_order"] if found["date_order"] in {"dmy", "mdy"} else None
        )

    def _merge(self, stage: Stage, outcome: Outcome) -> None:
        """The one short transaction: merge, then ``on_merged`` (audit, job status, hook)."""
        with transaction.atomic():
            pause_here("import.merge-start")
            outcome.created, outcome.updated, outcome.account_ids = self.handler.merge(stage)
            outcome.unchanged = max(0, outcome.valid - outcome.created - outcome.updated)
            outcome.merged = True
            outcome.summary = dict(self.summary)
            outcome.seconds = time.perf_counter() - self.started
            pause_here("import.merge")
            self.on_merged(outcome)

    # -- issues ---------------------------------------------------------------------------------

    def add_issues(self, frame: pl.DataFrame) -> None:
        """``frame``: row, field, value, code (+ optional params JSON-able dicts as strings)."""
        if not frame.height:
            return
        for fname, code, count in frame.group_by(["field", "code"]).len().iter_rows():
            key = f"{fname}:{code}"
            self.summary[key] = self.summary.get(key, 0) + count
        self.rejected.append(frame.select(["row", "field", "code"]))
        room = 5000 - self.stored_issues
        if room > 0:
            keep = frame.sort("row").head(room)
            issues = []
            for row in keep.iter_rows(named=True):
                fname = row["field"]
                issues.append(
                    {
                        "row": int(row["row"]),
                        "field": fname,
                        "column": self.header_of.get(fname, ""),
                        "value": (row.get("value") or "")[:200],
                        "code": row["code"],
                        "params": row.get("params") or {},
                    }
                )
            self.stored_issues += len(issues)
            self.issue_sink(issues)

    def _invalid_row_count(self) -> int:
        if not self.rejected:
            return 0
        return pl.concat(self.rejected).select(pl.col("row").n_unique()).item()

    def rejected_rows(self) -> pl.DataFrame:
        """row → the first reason (field, code) for each refused row."""
        if not self.rejected:
            return pl.DataFrame(
                {"row": [], "field": [], "code": []},
                schema={"row": pl.Int64, "field": pl.String, "code": pl.String},
            )
        return pl.concat(self.rejected).sort("row").unique("row", keep="first", maintain_order=True)

    # -- parsing one batch ------------------------------------------------------------------------

    def _check_batch(self, batch: pl.DataFrame) -> pl.DataFrame | None:
        data: dict[str, pl.Series] = {"row": batch["__row"].cast(pl.Int64)}
        errors: dict[str, pl.Series] = {}
        for fname, col in self.col_of.items():
            spec = self.specs[fname]
            value, error = self._parse(spec, batch[col])
            if spec.required:
                blank = batch.select(C.blank(pl.col(col))).to_series()
                error = (
                    pl.DataFrame({"b": blank, "e": error.cast(pl.String)})
                    .select(pl.when(pl.col("b")).then(pl.lit("required")).otherwise(pl.col("e")))
                    .to_series()
                )
            data[f"f_{fname}"] = value.alias(f"f_{fname}")
            errors[f"e_{fname}"] = error.cast(pl.String).alias(f"e_{fname}")
        error_exprs = {name[2:]: None for name in errors}
        typed = pl.DataFrame({**data, **errors})
        typed = self._python_checks(typed, batch)
        typed, extra = self.handler.check(typed, batch)
        # Gather issues.
        frames = []
        for fname in list(error_exprs) + [
            n[2:] for n in typed.columns if n.startswith("e_") and n[2:] not in error_exprs
        ]:
            ecol = f"e_{fname}"
            if ecol not in typed.columns:
                continue
            bad = typed.filter(pl.col(ecol).is_not_null())
            if not bad.height:
                continue
            col = self.col_of.get(fname)
            raw = (
                batch.join(
                    bad.select(pl.col("row").cast(pl.UInt32).alias("__row")), on="__row"
                ).select(pl.col("__row").cast(pl.Int64).alias("row"), pl.col(col).alias("value"))
                if col
                else bad.select("row", pl.lit("").alias("value"))
            )
            frame = bad.select("row", pl.col(ecol).alias("code")).join(raw, on="row", how="left")
            frames.append(
                frame.with_columns(pl.lit(fname).alias("field"))
                .with_columns(pl.col("value").fill_null(""))
                .select(["row", "field", "value", "code"])
            )
        if extra is not None and extra.height:
            frames.append(extra.select(["row", "field", "value", "code"]))
        issues = pl.concat(frames) if frames else None
        if issues is not None and issues.height:
            issues = self._with_params(issues)
            self.add_issues(issues)
            return typed.join(issues.select("row").unique(), on="row", how="anti")
        return typed

    def _with_params(self, issues: pl.DataFrame) -> pl.DataFrame:
        params = []
        for fname, code in issues.select(["field", "code"]).iter_rows():
            spec = self.specs.get(fname)
            if code == "too_long" and spec:
                params.append({"max": spec.max_length})
            elif code == "out_of_range" and spec:
                params.append({"min": spec.minimum, "max": spec.maximum})
            elif code == "invalid_choice" and spec and spec.choices:
                params.append(
                    {"allowed": ", ".join(sorted(set(choice_table(spec.choices).values())))}
                )
            else:
                params.append({})
        return issues.with_columns(pl.Series("params", params, dtype=pl.Object))

    def _parse(self, spec: FieldSpec, values: pl.Series) -> tuple[pl.Series, pl.Series]:
        """(parsed values, problem codes) of one column; each step a small expression."""
        t = spec.type
        col = pl.col
        if t in {"text", "kvk", "vat", "email", "phone", "url", "user"}:
            value, error = _ev(values, lambda raw: C.text(raw, max_length=spec.max_length))
            if t == "kvk":
                frame = pl.DataFrame({"v": value.str.replace_all(r"[\s.]", ""), "e": error})
                frame = frame.with_columns(
                    e=pl.when(col("e").is_not_null())
                    .then(col("e"))
                    .when((col("v").str.len_chars() > 0) & ~col("v").str.contains(r"^\d{8}$"))
                    .then(pl.lit("kvk"))
                )
                return frame["v"], frame["e"]
            return value, error
        if t == "money":
            value, error = C.money_cents(values, notation=self.notation)
            return value, _rename(
                error, {"invalid": "invalid_amount", "ambiguous": "ambiguous_amount"}
            )
        if t in {"decimal", "percent"}:
            source = (
                values.str.strip_chars().str.replace(r"\s*%$", "") if t == "percent" else values
            )
            scaled, error = C.scaled_decimal(source, notation=self.notation, places=spec.places)
            error = _rename(error, {"invalid": "invalid_amount", "ambiguous": "ambiguous_amount"})
            frame = pl.DataFrame({"v": scaled, "e": error})
            if spec.minimum is not None or spec.maximum is not None:
                low = (spec.minimum or 0) * 10**spec.places
                high = (spec.maximum if spec.maximum is not None else 10**12) * 10**spec.places
                frame = frame.with_columns(
                    e=pl.when(col("e").is_not_null())
                    .then(col("e"))
                    .when((col("v") < low) | (col("v") > high))
                    .then(pl.lit("out_of_range"))
                )
            frame = frame.with_columns(v=_decimal_text(col("v"), spec.places))
            return frame["v"], frame["e"]
        if t == "date":
            value, error = C.dates(values, order=self.date_order)
            return value, _rename(error, {"invalid": "invalid_date", "ambiguous": "ambiguous_date"})
        if t == "datetime":
            value, error = C.datetimes(values, order=self.date_order)
            error = _rename(error, {"invalid": "invalid_datetime", "ambiguous": "ambiguous_date"})
            frame = pl.DataFrame({"v": value, "e": error}).with_columns(
                local=col("v").dt.replace_time_zone(
                    settings.TIME_ZONE, ambiguous="earliest", non_existent="null"
                )
            )
            frame = frame.with_columns(
                e=pl.when(col("e").is_not_null())
                .then(col("e"))
                .when(col("v").is_not_null() & col("local").is_null())
                .then(pl.lit("nonexistent_time")),
                v=col("local").dt.convert_time_zone("UTC"),
            )
            return frame["v"], frame["e"]
        if t == "int":
            frame = pl.DataFrame({"raw": values}).with_columns(s=col("raw").str.strip_chars())
            frame = frame.with_columns(ok=col("s").str.contains(r"^[+-]?\d{1,15}$"))
            frame = frame.with_columns(
                v=pl.when(col("ok")).then(col("s").cast(pl.Int64, strict=False)),
                e=pl.when(C.blank(col("raw")))
                .then(None)
                .when(~col("ok"))
                .then(pl.lit("invalid_number")),
            )
            if spec.minimum is not None or spec.maximum is not None:
                low = spec.minimum if spec.minimum is not None else -(2**62)
                high = spec.maximum if spec.maximum is not None else 2**53
                frame = frame.with_columns(
                    e=pl.when(col("e").is_not_null())
                    .then(col("e"))
                    .when((col("v") < low) | (col("v") > high))
                    .then(pl.lit("out_of_range"))
                )
            return frame["v"], frame["e"]
        if t == "choice":
            if spec.choices == "country":
                frame = pl.DataFrame({"raw": values}).with_columns(s=col("raw").str.strip_chars())
                table = choice_table("country")
                keys = list(table)
                frame = frame.with_columns(
                    v=pl.when(col("s").str.contains(r"^[A-Za-z]{2}$"))
                    .then(col("s").str.to_uppercase())
                    .otherwise(
                        col("s")
                        .str.to_lowercase()
                        .replace_strict(
                            keys, [table[k] for k in keys], default=None, return_dtype=pl.String
                        )
                    )
                )
                frame = frame.with_columns(
                    e=pl.when(~C.blank(col("raw")) & col("v").is_null()).then(
                        pl.lit("invalid_choice")
                    )
                )
                return frame["v"], frame["e"]
            return _ev(values, lambda raw: C.lookup(raw, choice_table(spec.choices)))
        if t == "bool":
            value, error = _ev(values, lambda raw: C.lookup(raw, BOOLS))
            return (value == "1"), _rename(error, {"invalid_choice": "invalid_bool"})
        raise ValueError(t)

    def _python_checks(self, typed: pl.DataFrame, batch: pl.DataFrame) -> pl.DataFrame:
        """Validators that only exist in Python, run once per distinct value."""
        for fname in self.col_of:
            spec = self.specs[fname]
            col = f"f_{fname}"
            if spec.type not in {"vat", "email", "phone", "url", "user"}:
                continue
            values = [v for v in typed[col].unique().to_list() if v]
            normal: dict[str, Any] = {}
            problems: dict[str, str] = {}
            for v in values:
                try:
                    normal[v], problem = _check_value(spec.type, v, self.handler.users)
                except ValidationError:
                    normal[v], problem = None, spec.type
                if problem:
                    problems[v] = problem
            keys = list(normal)
            dtype = pl.Int64 if spec.type == "user" else pl.String
            mapped = typed[col].replace_strict(
                keys, [normal[k] for k in keys], default=None, return_dtype=dtype
            )
            problem = typed[col].replace_strict(
                list(problems), list(problems.values()), default=None, return_dtype=pl.String
            )
            ecol = f"e_{fname}"
            existing = (
                typed[ecol]
                if ecol in typed.columns
                else pl.Series(ecol, [None] * typed.height, dtype=pl.String)
            )
            typed = typed.with_columns(
                mapped.alias(col),
                pl.when(existing.is_not_null()).then(existing).otherwise(problem).alias(ecol),
            )
        return typed


def _rename(error: pl.Series, names: dict[str, str]) -> pl.Series:
    keys = list(names)
    return error.cast(pl.String).replace(keys, [names[k] for k in keys])


def _ev(values: pl.Series, make) -> tuple[pl.Series, pl.Series]:
    """Evaluate an expression-building parser on one column."""
    value, error = make(pl.col("raw"))
    out = pl.DataFrame({"raw": values.cast(pl.String)}).select(
        value.alias("v"), error.cast(pl.String).alias("e")
    )
    return out["v"], out["e"]


def _decimal_text(scaled: pl.Expr, places: int) -> pl.Expr:
    if places == 0:
        return scaled.cast(pl.String)
    magnitude = scaled.abs()
    text = pl.concat_str(
        [
            pl.when(scaled < 0).then(pl.lit("-")).otherwise(pl.lit("")),
            (magnitude // 10**places).cast(pl.String),
            pl.lit("."),
            (magnitude % 10**places).cast(pl.String).str.pad_start(places, "0"),
        ]
    )
    return pl.when(scaled.is_null()).then(None).otherwise(text)


_EMAIL = EmailValidator()
_URL = URLValidator(schemes=["http", "https"])


def _check_value(kind: str, value: str, users: dict[str, Any]) -> tuple[Any, str]:
    if kind == "vat":
        compact = normalise_vat(value)
        validate_vat(compact)
        return compact, ""
    if kind == "email":
        _EMAIL(value)
        return value, ""
    if kind == "phone":
        phone = normalise_phone(value)
        validate_phone(phone)
        return phone, ""
    if kind == "url":
        url = value if "://" in value else f"https://{value}"
        _URL(url)
        if len(url) > 200:
            return None, "too_long"
        return url, ""
    if kind == "user":
        found = users.get(value.strip().lower())
        if found is None:
            return None, "unknown_user"
        if found == -1:
            return None, "ambiguous_user"
        return found, ""
    raise ValueError(kind)


# --- staging tables --------------------------------------------------------------------------


class Stage:
    """Temporary tables on the importing connection; gone with it (also when killed)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.vendor = connection.vendor
        self.tables: dict[str, list[tuple[str, str]]] = {}
        self._sqlite_temp_store = None
        self._sqlite_cache_size = -64000

    def name(self, table: str) -> str:
        return f"imp_stage_{table}"

    def create(self, tables: dict[str, list[tuple[str, str]]]) -> None:
        connection.ensure_connection()
        self.tables = tables
        with connection.cursor() as cursor:
            if self.vendor == "sqlite" and not connection.in_atomic_block:
                cursor.execute("PRAGMA temp_store")
                self._sqlite_temp_store = cursor.fetchone()[0]
                # Staged rows go to a temporary file, not to memory: memory stays flat.
                cursor.execute("PRAGMA temp_store = FILE")
                cursor.execute("PRAGMA temp.cache_size = -4000")
                # A smaller page cache while importing keeps the process under 300 MB.
                cursor.execute("PRAGMA main.cache_size")
                self._sqlite_cache_size = cursor.fetchone()[0]
                cursor.execute("PRAGMA main.cache_size = -12000")
            for table, cols in tables.items():
                name = self.name(table)
                cursor.execute(f'DROP TABLE IF EXISTS "{name}"')
                spec = ", ".join(f'"{c}" {self.sql_type(t)}' for c, t in cols)
                cursor.execute(f'CREATE TEMP TABLE "{name}" ({spec})')

    def sql_type(self, t: str) -> str:
        pg = self.vendor == "postgresql"
        return {
            "int": "bigint",
            "text": "text",
            "date": "date",
            "datetime": "timestamp with time zone" if pg else "datetime",
            "decimal": "numeric" if pg else "decimal",
            "bool": "boolean" if pg else "bool",
        }[t]

    def index(self, table: str, *cols: str) -> None:
        name = self.name(table)
        with connection.cursor() as cursor:
            cursor.execute(
                f'CREATE INDEX "{name}_{"_".join(cols)}" ON "{name}" ({", ".join(chr(34) + c + chr(34) for c in cols)})'
            )
            cursor.execute(f'ANALYZE "{name}"')

    def insert(self, table: str, frame: pl.DataFrame) -> None:
        """Append ``frame`` (columns in the table's order) to a stage table."""
        cols = [c for c, _t in self.tables[table]]
        frame = frame.select(cols)
        if not frame.height:
            return
        name = self.name(table)
        types = dict(self.tables[table])
        if self.vendor == "postgresql":
            import io

            out = frame.with_columns(
                [
                    pl.col(c).dt.strftime("%Y-%m-%d %H:%M:%S%.f+00:00")
                    for c, t in types.items()
                    if t == "datetime" and frame.schema[c] != pl.String
                ]
            )
            buffer = io.BytesIO()
            out.write_csv(buffer, include_header=False, null_value="")
            raw = connection.connection
            with (
                raw.cursor() as cursor,
                cursor.copy(
                    f'COPY "{name}" ({", ".join(chr(34) + c + chr(34) for c in cols)}) FROM STDIN WITH (FORMAT csv)'
                ) as copy,
            ):
                copy.write(buffer.getvalue())
            return
        out = frame.with_columns(
            [
                pl.col(c).cast(pl.String)
                for c, t in types.items()
                if t == "date" and frame.schema[c] != pl.String
            ]
            + [
                pl.col(c).dt.strftime("%Y-%m-%d %H:%M:%S%.f")
                for c, t in types.items()
                if t == "datetime" and frame.schema[c] != pl.String
            ]
            + [
                pl.col(c).cast(pl.Int8)
                for c, t in types.items()
                if t == "bool" and frame.schema[c] == pl.Boolean
            ]
        )
        raw = connection.connection
        marks = ", ".join("?" for _ in cols)
        statement = f'INSERT INTO temp."{name}" VALUES ({marks})'
        if connection.in_atomic_block:  # inside a caller's transaction (tests): just insert
            raw.executemany(statement, out.iter_rows())
            return
        # Its own short transaction on the temp database only: the main database is not
        # locked, so other users keep writing while a large file is staged.
        raw.execute("BEGIN")
        try:
            raw.executemany(statement, out.iter_rows())
            raw.execute("COMMIT")
        except Exception:
            raw.execute("ROLLBACK")
            raise

    def drop(self) -> None:
        try:
            with connection.cursor() as cursor:
                for table in self.tables:
                    cursor.execute(f'DROP TABLE IF EXISTS "{self.name(table)}"')
                if self.vendor == "sqlite" and self._sqlite_temp_store is not None:
                    cursor.execute(f"PRAGMA temp_store = {int(self._sqlite_temp_store)}")
                    # main.cache_size stays small on this connection: only a cache, and a
                    # larger one now would grow the process again after the import.
        except Exception:  # the connection may be gone; temp tables go with it
            logger.warning("could not drop import stage tables", exc_info=True)

    def sql(self, text: str, params=()) -> int:
        with connection.cursor() as cursor:
            cursor.execute(text, params)
            return cursor.rowcount

    def rows(self, text: str, params=()) -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(text, params)
            return cursor.fetchall()

    def value(self, text: str, params=()):
        rows = self.rows(text, params)
        return rows[0][0] if rows else None

    def differs(self, a: str, b: str) -> str:
        return f"{a} IS DISTINCT FROM {b}" if self.vendor == "postgresql" else f"{a} IS NOT {b}"


# --- per-kind handlers --------------------------------------------------------------------------


class KindHandler:
    kind = ""
    model: Any = None
    # field → (target column, stage type)
    columns: dict[str, tuple[str, str]] = {}

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.users: dict[str, Any] = {}

    # Account-referencing kinds may leave out the reference when a target account is chosen.
    def optional_required(self, fname: str) -> bool:
        return False

    @property
    def mapped(self) -> list[str]:
        return [f for f in self.columns if f in self.engine.col_of]

    def prepare(self) -> None:
        if any(self.engine.specs[f].type == "user" for f in self.engine.col_of):
            self.users = _user_lookup()

    def stage_tables(self) -> dict[str, list[tuple[str, str]]]:
        cols = [("row", "int"), ("target_id", "int"), ("xid", "text")]
        cols += [(c, t) for f, (c, t) in self.columns.items()]
        return {"main": cols + self.extra_stage_columns()}

    def extra_stage_columns(self) -> list[tuple[str, str]]:
        return []

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
        fills = []
        for fname, (col, _t) in self.columns.items():
            if fname == "account":
                continue
            model_field = next(
                (f for f in self.model._meta.concrete_fields if f.column == col), None
            )
            if model_field is not None and not model_field.null:
                fills.append(pl.col(col).fill_null(self.default(fname)))
        return frame.with_columns(fills) if fills else frame

    def extra_stage_exprs(self, good: pl.DataFrame) -> list[pl.Expr]:
        return []

    def default(self, fname: str) -> pl.Expr:
        return pl.lit(None)

    def after_staging(self, stage: Stage) -> None:
        pass

    def counts(self, stage: Stage) -> tuple[int, int, int]:
        return 0, 0, 0

    def merge(self, stage: Stage) -> tuple[int, int, list[int]]:
        raise NotImplementedError

    # -- shared set-based helpers --------------------------------------------------------------

    def sql_issues(
        self, stage: Stage, where: str, code: str, field_name: str, params=(), value: str = "''"
    ) -> int:
        """Turn staged rows matching ``where`` into issues; drop them from the stage."""
        name = stage.name("main")
        found = stage.rows(f'SELECT "row", {value} FROM "{name}" s WHERE {where}', params)
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
                    f'SELECT s."row", (SELECT MIN(t."row") FROM "{name}" t WHERE t.xid = s.xid) '
                    f'FROM "{name}" s WHERE {where}',
                    params,
                )
            )
            params_col = [{"row": int(firsts.get(r, 0) or 0)} for r in frame["row"].to_list()]
        else:
            params_col = [{}] * frame.height
        self.engine.add_issues(frame.with_columns(pl.Series("params", params_col, dtype=pl.Object)))
        stage.sql(
            f'DELETE FROM "{name}" WHERE "row" IN (SELECT s."row" FROM "{name}" s WHERE {where})',
            params,
        )
        return len(found)

    def duplicates_in_file(self, stage: Stage, field_name: str) -> None:
        name = stage.name("main")
        stage.index("main", "xid")
        self.sql_issues(
            stage,
            f's.xid IS NOT NULL AND EXISTS (SELECT 1 FROM "{name}" t WHERE t.xid = s.xid AND t."row" < s."row")',
            "duplicate_in_file",
            field_name,
            value="s.xid",
        )

    def resolve_targets(self, stage: Stage) -> None:
        """Match staged rows to existing records: by our number, else by external id."""
        name = stage.name("main")
        table = self.model._meta.db_table
        if "id" in self.engine.col_of:
            stage.sql(
                f'UPDATE "{name}" SET target_id = (SELECT t.id FROM "{table}" t WHERE t.id = "{name}".given_id) '
                f"WHERE given_id IS NOT NULL"
            )
            self.sql_issues(
                stage,
                "s.given_id IS NOT NULL AND s.target_id IS NULL",
                "unknown_record",
                "id",
                value="s.given_id",
            )
        stage.sql(
            f'UPDATE "{name}" SET target_id = (SELECT t.id FROM "{table}" t '
            f"WHERE t.external_id = \"{name}\".external_id AND NOT (t.external_id = '')) "
            f"WHERE target_id IS NULL AND external_id IS NOT NULL AND external_id <> ''"
        )
        # An external id given to a record matched by number must not belong to another one.
        self.sql_issues(
            stage,
            f"s.external_id <> '' AND EXISTS (SELECT 1 FROM \"{table}\" t WHERE t.external_id = s.external_id "
            f"AND NOT (t.external_id = '') AND t.id <> s.target_id)",
            "external_id_taken",
            "external_id",
            value="s.external_id",
        )

    def check_owned(self, stage: Stage, account_column: str = "account_id") -> None:
        """Updates only of records on accounts the importer may change."""
        if sees_all_accounts(self.engine.actor):
            return
        stage.name("main")
        table = self.model._meta.db_table
        visible = visible_account_ids(self.engine.actor)
        stage_ids = stage.name("visible")
        with connection.cursor() as cursor:
            cursor.execute(f'DROP TABLE IF EXISTS "{stage_ids}"')
            cursor.execute(f'CREATE TEMP TABLE "{stage_ids}" (id bigint PRIMARY KEY)')
            cursor.executemany(
                f'INSERT INTO "{stage_ids}" (id) VALUES (%s)', [(i,) for i in visible]
            )
        stage.tables["visible"] = [("id", "int")]
        self.sql_issues(
            stage,
            f's.target_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "{table}" t JOIN "{stage_ids}" v '
            f'ON v.id = t."{account_column}" WHERE t.id = s.target_id)',
            "not_yours",
            "external_id" if "external_id" in self.engine.col_of else "id",
            value="s.xid",
        )

    def update_predicate(self, stage: Stage, cols: list[str], target: str, source: str) -> str:
        return (
            " OR ".join(stage.differs(f'{target}."{c}"', f'{source}."{c}"') for c in cols)
            or "FALSE"
        )

    def generic_counts(self, stage: Stage, cols: list[str]) -> tuple[int, int, int]:
        name = stage.name("main")
        table = self.model._meta.db_table
        created = stage.value(f'SELECT COUNT(*) FROM "{name}" WHERE target_id IS NULL')
        matched = stage.value(f'SELECT COUNT(*) FROM "{name}" WHERE target_id IS NOT NULL')
        changed = stage.value(
            f'SELECT COUNT(*) FROM "{name}" s JOIN "{table}" t ON t.id = s.target_id '
            f"WHERE {self.update_predicate(stage, cols, 't', 's')}"
        )
        return int(created or 0), int(changed or 0), int((matched or 0) - (changed or 0))

    def generic_merge(
        self, stage: Stage, update_cols: list[str], insert_cols: list[str]
    ) -> tuple[int, int]:
        name = stage.name("main")
        table = self.model._meta.db_table
        now = self.engine.now
        updated = 0
        if update_cols:
            sets = ", ".join(f'"{c}" = s."{c}"' for c in update_cols)
            updated = stage.sql(
                f'UPDATE "{table}" SET {sets}, version = "{table}".version + 1, updated_at = %s '
                f'FROM "{name}" s WHERE "{table}".id = s.target_id AND '
                f"({self.update_predicate(stage, update_cols, chr(34) + table + chr(34), 's')})",
                [now],
            )
        cols = ", ".join(f'"{c}"' for c in insert_cols)
        created = stage.sql(
            f'INSERT INTO "{table}" ({cols}, version, created_at, updated_at) '
            f"SELECT {', '.join('s.' + chr(34) + c + chr(34) for c in insert_cols)}, 1, %s, %s "
            f'FROM "{name}" s WHERE s.target_id IS NULL ORDER BY s."row"',
            [now, now],
        )
        return created, updated

    def old_accounts(self, stage: Stage) -> set[int]:
        """Accounts of the records about to be updated (a row may move one elsewhere)."""
        name = stage.name("main")
        table = self.model._meta.db_table
        return {
            r[0]
            for r in stage.rows(
                f'SELECT DISTINCT t.account_id FROM "{table}" t JOIN "{name}" s ON t.id = s.target_id'
            )
        }

    def new_ids(self, stage: Stage, before: int) -> dict[int, int]:
        """Staged row → id of the record inserted for it (inserted in row order)."""
        name = stage.name("main")
        table = self.model._meta.db_table
        new = [
            r[0]
            for r in stage.rows(
                f'SELECT id FROM "{table}" WHERE id > %s AND created_at = %s ORDER BY id',
                [before, self.engine.now],
            )
        ]
        rows = [
            r[0]
            for r in stage.rows(
                f'SELECT "row" FROM "{name}" WHERE target_id IS NULL ORDER BY "row"'
            )
        ]
        return dict(zip(rows, new, strict=False))

    def max_id(self, stage: Stage) -> int:
        return int(
            stage.value(f'SELECT COALESCE(MAX(id), 0) FROM "{self.model._meta.db_table}"') or 0
        )

    def affected_accounts(self, stage: Stage, column: str = "account_id") -> list[int]:
        name = stage.name("main")
        table = self.model._meta.db_table
        ids = {
            r[0]
            for r in stage.rows(
                f'SELECT DISTINCT t."{column}" FROM "{table}" t JOIN "{name}" s ON '
                f"t.external_id = s.external_id AND NOT (t.external_id = '') "
                f'UNION SELECT DISTINCT t."{column}" FROM "{table}" t JOIN "{name}" s ON t.id = s.target_id'
            )
        }
        return sorted(i for i in ids if i is not None)


def _user_lookup() -> dict[str, Any]:
    """user name or full name (lower case) → id; -1 when a full name is shared."""
    table: dict[str, Any] = {}
    for pk, username, first, last in User.objects.filter(is_active=True).values_list(
        "id", "username", "first_name", "last_name"
    ):
        table[username.lower()] = pk
        full = f"{first} {last}".strip().lower()
        if full and full != username.lower():
            table[full] = -1 if full in table and table[full] != pk else pk
    return table


def visible_account_ids(actor) -> list[int]:
    return list(Account.objects.visible_to(actor).values_list("id", flat=True))


class AccountRefHandler(KindHandler):
    """Kinds whose rows belong to an account: resolve the reference to a visible account."""

    def optional_required(self, fname: str) -> bool:
        return False

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
        self.by_ext = _unique_lookup(frame.filter(pl.col("external_id") != ""), "external_id")
        self.by_kvk = _unique_lookup(frame.filter(pl.col("kvk") != ""), "kvk")
        self.by_name = _unique_lookup(
            frame.with_columns(search_key(pl.col("name")).alias("nk")), "nk"
        )

    def check(self, typed: pl.DataFrame, batch: pl.DataFrame):
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
                    else (
                        pl.col(col).str.replace_all(r"[\s.]", "")
                        if ref == "account_kvk"
                        else pl.col(col)
                    )
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


def _unique_lookup(frame: pl.DataFrame, key: str) -> pl.DataFrame:
    """key → account id, or -1 where several accounts share the key."""
    return (
        frame.group_by(key)
        .agg(pl.col("id").first(), pl.len().alias("n"))
        .select(
            pl.col(key).alias("key"),
            pl.when(pl.col("n") > 1).then(-1).otherwise(pl.col("id")).alias("account"),
        )
    )


def _content_id(frame: pl.DataFrame, cols: list[str], prefix: str) -> pl.Series:
    """A stable external id from a row's content (for rows that bring none)."""
    parts = frame.select(
        pl.concat_str([pl.col(c).cast(pl.String).fill_null("") for c in cols], separator="\x1f")
    )
    return pl.Series(
        [
            prefix + hashlib.sha1(v.encode(), usedforsecurity=False).hexdigest()[:24]
            for v in parts.to_series().to_list()
        ],
        dtype=pl.String,
    )


# --- orders ---------------------------------------------------------------------------------------


class OrderHandler(AccountRefHandler):
    kind = "orders"
    model = Order
    columns = {
        "account": ("account_id", "int"),
        "date": ("date", "date"),
        "number": ("number", "text"),
        "external_id": ("external_id", "text"),
        "status": ("status", "text"),
        "revenue": ("revenue_cents", "int"),
        "cost_of_goods": ("cost_of_goods_cents", "int"),
        "vat_rate": ("vat_rate", "decimal"),
        "notes": ("notes", "text"),
    }
    LINE_FIELDS = ("product", "category", "quantity", "line_revenue", "line_cost")

    @property
    def lines(self) -> bool:
        return "product" in self.engine.col_of

    def extra_stage_columns(self):
        return [
            ("given_id", "int"),
            ("credit_ref", "text"),
            ("credit_of_id", "int"),
            ("new_id", "int"),
        ]

    def stage_tables(self):
        tables = super().stage_tables()
        if self.lines:
            tables["lines"] = [
                ("row", "int"),
                ("xid", "text"),
                ("product", "text"),
                ("category", "text"),
                ("quantity", "decimal"),
                ("revenue_cents", "int"),
                ("cost_cents", "int"),
                ("order_id", "int"),
            ]
        return tables

    def default(self, fname):
        return {
            "status": pl.lit(Order.Status.OPEN),
            "revenue": pl.lit(0, pl.Int64),
            "cost_of_goods": pl.lit(0, pl.Int64),
            "vat_rate": pl.lit("21.00"),
            "notes": pl.lit(""),
            "number": pl.lit(""),
            "external_id": pl.lit(""),
        }.get(fname, pl.lit(None))

    def check(self, typed, batch):
        typed, extra = super().check(typed, batch)
        ext = pl.col("f_external_id") if "f_external_id" in typed.columns else pl.lit("")
        num = pl.col("f_number") if "f_number" in typed.columns else pl.lit("")
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
            errors.append(
                no_key.select(
                    "row",
                    pl.lit("external_id").alias("field"),
                    pl.lit("").alias("value"),
                    pl.lit("order_key_required").alias("code"),
                )
            )
        if not self.lines:
            credit = (
                pl.col("f_credit_of") if "f_credit_of" in typed.columns else pl.lit(None, pl.String)
            )
            rev = pl.col("f_revenue") if "f_revenue" in typed.columns else pl.lit(0)
            neg = typed.filter((rev < 0) & (credit.fill_null("") == ""))
            if neg.height:
                errors.append(
                    neg.select(
                        "row",
                        pl.lit("revenue").alias("field"),
                        pl.col("f_revenue").cast(pl.String).alias("value"),
                        pl.lit("negative_without_credit").alias("code"),
                    )
                )
            pos = typed.filter((rev > 0) & (credit.fill_null("") != ""))
            if pos.height:
                errors.append(
                    pos.select(
                        "row",
                        pl.lit("revenue").alias("field"),
                        pl.col("f_revenue").cast(pl.String).alias("value"),
                        pl.lit("credit_positive").alias("code"),
                    )
                )
        if errors:
            more = pl.concat(errors)
            extra = pl.concat([extra, more]) if extra is not None else more
        return typed, extra

    def extra_stage_exprs(self, good):
        return [
            (pl.col("f_id") if "f_id" in good.columns else pl.lit(None, pl.Int64)).alias(
                "given_id"
            ),
            (
                pl.col("f_credit_of") if "f_credit_of" in good.columns else pl.lit(None, pl.String)
            ).alias("credit_ref"),
            pl.lit(None, pl.Int64).alias("credit_of_id"),
            pl.lit(None, pl.Int64).alias("new_id"),
        ]

    def stage(self, stage, good):
        if not self.lines:
            return super().stage(stage, good)
        frame = good.select(
            "row",
            "xid",
            pl.col("f_product").alias("product"),
            (pl.col("f_category") if "f_category" in good.columns else pl.lit(""))
            .fill_null("")
            .alias("category"),
            (pl.col("f_quantity") if "f_quantity" in good.columns else pl.lit("1.000"))
            .fill_null("1.000")
            .alias("quantity"),
            (pl.col("f_line_revenue") if "f_line_revenue" in good.columns else pl.lit(0, pl.Int64))
            .fill_null(0)
            .alias("revenue_cents"),
            (pl.col("f_line_cost") if "f_line_cost" in good.columns else pl.lit(0, pl.Int64))
            .fill_null(0)
            .alias("cost_cents"),
            pl.lit(None, pl.Int64).alias("order_id"),
        )
        stage.insert("lines", frame)
        # One staged order per key: the first row of each order in this batch; later
        # batches' rows of the same order are folded in after staging.
        heads = good.sort("row").unique("xid", keep="first", maintain_order=True)
        super().stage(stage, heads)

    def after_staging(self, stage):
        name = stage.name("main")
        if self.lines:
            # Orders split over batches: keep the first row of each order.
            stage.index("main", "xid")
            stage.sql(
                f'DELETE FROM "{name}" WHERE EXISTS (SELECT 1 FROM "{name}" t WHERE t.xid = "{name}".xid AND t."row" < "{name}"."row")'
            )
            lines = stage.name("lines")
            stage.sql(
                f'UPDATE "{name}" SET revenue_cents = (SELECT COALESCE(SUM(l.revenue_cents), 0) FROM "{lines}" l WHERE l.xid = "{name}".xid), '
                f'cost_of_goods_cents = (SELECT COALESCE(SUM(l.cost_cents), 0) FROM "{lines}" l WHERE l.xid = "{name}".xid)'
            )
        else:
            self.duplicates_in_file(
                stage, "external_id" if "external_id" in self.engine.col_of else "number"
            )
        self.resolve_targets(stage)
        # Orders keyed by their number within the account (no external id in the file).
        stage.sql(
            f'UPDATE "{name}" SET target_id = (SELECT MIN(t.id) FROM sales_order t WHERE t.account_id = "{name}".account_id '
            f"AND t.number = \"{name}\".number AND t.external_id = '') "
            f"WHERE target_id IS NULL AND (external_id IS NULL OR external_id = '') AND number <> ''"
        )
        self.check_owned(stage)
        if "credit_of" in self.engine.col_of and not self.lines:
            self._check_credit_notes(stage)

    def _credit_lookup_sql(self, name: str, alias: str) -> str:
        return (
            f"(SELECT MIN(o.id) FROM sales_order o WHERE (o.external_id = {alias}.credit_ref AND NOT (o.external_id = '')) "
            f"OR (o.number = {alias}.credit_ref AND o.account_id = {alias}.account_id) "
            f"OR ('#' || CAST(o.id AS TEXT) = {alias}.credit_ref))"
        )

    def _check_credit_notes(self, stage):
        name = stage.name("main")
        credited = "s.credit_ref IS NOT NULL AND s.credit_ref <> ''"
        in_file = (
            f'EXISTS (SELECT 1 FROM "{name}" f WHERE (f.external_id = s.credit_ref OR f.number = s.credit_ref) '
            "AND f.account_id = s.account_id AND (f.credit_ref IS NULL OR f.credit_ref = ''))"
        )
        in_db = self._credit_lookup_sql(name, "s")
        self.sql_issues(
            stage,
            f"{credited} AND {in_db} IS NULL AND NOT {in_file}",
            "unknown_credit_order",
            "credit_of",
            value="s.credit_ref",
        )
        self.sql_issues(
            stage,
            f"{credited} AND EXISTS (SELECT 1 FROM sales_order o WHERE o.id = {in_db} AND o.account_id <> s.account_id)",
            "credit_other_account",
            "credit_of",
            value="s.credit_ref",
        )
        self.sql_issues(
            stage,
            f"{credited} AND EXISTS (SELECT 1 FROM sales_order o WHERE o.id = {in_db} AND o.credit_of_id IS NOT NULL)",
            "credit_of_credit",
            "credit_of",
            value="s.credit_ref",
        )

    def update_columns(self) -> list[str]:
        cols = [self.columns[f][0] for f in self.columns if f in self.engine.col_of]
        if "account" not in cols and self.refs:
            cols.append("account_id")
        if self.lines:
            cols = [c for c in cols if c not in {"revenue_cents", "cost_of_goods_cents"}]
            cols += ["revenue_cents", "cost_of_goods_cents"]
        return sorted(set(cols))

    def counts(self, stage):
        return self.generic_counts(stage, self.update_columns())

    def merge(self, stage):
        name = stage.name("main")
        insert = [c for c, _t in self.columns.values()]
        created, updated = 0, 0
        plain = "(s.credit_ref IS NULL OR s.credit_ref = '')"
        # Originals first, then credit notes (which may point at orders of this file).
        table = "sales_order"
        now = self.engine.now
        old = self.old_accounts(stage)
        update_cols = self.update_columns()
        if update_cols:
            sets = ", ".join(f'"{c}" = s."{c}"' for c in update_cols)
            updated = stage.sql(
                f'UPDATE "{table}" SET {sets}, version = "{table}".version + 1, updated_at = %s '
                f'FROM "{name}" s WHERE "{table}".id = s.target_id AND '
                f"({self.update_predicate(stage, update_cols, chr(34) + table + chr(34), 's')})",
                [now],
            )
        cols = ", ".join(f'"{c}"' for c in insert)
        select = ", ".join(f's."{c}"' for c in insert)
        created += stage.sql(
            f'INSERT INTO "{table}" ({cols}, credit_of_id, version, created_at, updated_at) '
            f'SELECT {select}, NULL, 1, %s, %s FROM "{name}" s WHERE s.target_id IS NULL AND {plain} ORDER BY s."row"',
            [now, now],
        )
        if "credit_of" in self.engine.col_of:
            stage.sql(
                f"UPDATE \"{name}\" SET credit_of_id = {self._credit_lookup_sql(name, chr(34) + name + chr(34))} WHERE credit_ref IS NOT NULL AND credit_ref <> ''"
            )
            created += stage.sql(
                f'INSERT INTO "{table}" ({cols}, credit_of_id, version, created_at, updated_at) '
                f'SELECT {select}, s.credit_of_id, 1, %s, %s FROM "{name}" s WHERE s.target_id IS NULL AND NOT {plain} ORDER BY s."row"',
                [now, now],
            )
            over = stage.rows(
                "SELECT o.id FROM sales_order o WHERE o.credit_of_id IS NULL AND o.id IN "
                f'(SELECT credit_of_id FROM "{name}") AND o.revenue_cents + (SELECT COALESCE(SUM(c.revenue_cents), 0) '
                "FROM sales_order c WHERE c.credit_of_id = o.id AND c.status <> 'cancelled') < 0"
            )
            if over:
                raise CreditTooMuch([r[0] for r in over])
        if self.lines:
            # Rows now point at their order (new ones by key; each lookup uses an index).
            stage.sql(f'UPDATE "{name}" SET new_id = target_id WHERE target_id IS NOT NULL')
            stage.sql(
                f'UPDATE "{name}" SET new_id = (SELECT t.id FROM sales_order t WHERE '
                f"t.external_id = \"{name}\".external_id AND NOT (t.external_id = '')) "
                f"WHERE new_id IS NULL AND external_id <> ''"
            )
            stage.sql(
                f'UPDATE "{name}" SET new_id = (SELECT MIN(t.id) FROM sales_order t WHERE '
                f't.account_id = "{name}".account_id AND t.number = "{name}".number '
                f"AND t.external_id = '') WHERE new_id IS NULL AND external_id = ''"
            )
            self._merge_lines(stage)
        # A prospect that orders becomes a customer; customer_since is its first order.
        first = (
            f'SELECT account_id, MIN(date) AS first_date FROM "{name}" '
            "WHERE credit_ref IS NULL OR credit_ref = '' GROUP BY account_id"
        )
        stage.sql(
            f"UPDATE relations_account SET status = 'customer' FROM ({first}) f "
            "WHERE relations_account.id = f.account_id AND relations_account.status = 'prospect'"
        )
        stage.sql(
            f"UPDATE relations_account SET customer_since = f.first_date FROM ({first}) f "
            "WHERE relations_account.id = f.account_id AND (relations_account.customer_since IS NULL "
            "OR relations_account.customer_since > f.first_date)"
        )
        ids = {r[0] for r in stage.rows(f'SELECT DISTINCT account_id FROM "{name}"')}
        return created, updated, sorted(ids | old)

    def _merge_lines(self, stage):
        name = stage.name("main")
        lines = stage.name("lines")
        stage.sql(
            f'UPDATE "{lines}" SET order_id = (SELECT s.new_id FROM "{name}" s WHERE s.xid = "{lines}".xid)'
        )
        cols = ["product", "category", "quantity", "revenue_cents", "cost_cents"]
        part = ", ".join(cols)
        changed = (
            f'SELECT s.new_id FROM "{name}" s WHERE s.target_id IS NULL OR '
            f"(SELECT COUNT(*) FROM sales_orderline e WHERE e.order_id = s.new_id) <> "
            f'(SELECT COUNT(*) FROM "{lines}" l WHERE l.order_id = s.new_id) OR '
            f"(SELECT COUNT(*) FROM (SELECT {part}, ROW_NUMBER() OVER (PARTITION BY {part}) AS rn "
            f'FROM "{lines}" l WHERE l.order_id = s.new_id) a JOIN (SELECT {part}, ROW_NUMBER() OVER '
            f"(PARTITION BY {part}) AS rn FROM sales_orderline e WHERE e.order_id = s.new_id) b ON "
            + " AND ".join(f"a.{c} = b.{c}" for c in [*cols, "rn"])
            + f') <> (SELECT COUNT(*) FROM "{lines}" l WHERE l.order_id = s.new_id)'
        )
        ids = [r[0] for r in stage.rows(changed)]
        if not ids:
            return
        marks = stage.name("changed")
        with connection.cursor() as cursor:
            cursor.execute(f'DROP TABLE IF EXISTS "{marks}"')
            cursor.execute(f'CREATE TEMP TABLE "{marks}" (id bigint PRIMARY KEY)')
            cursor.executemany(f'INSERT INTO "{marks}" (id) VALUES (%s)', [(i,) for i in ids])
        stage.tables["changed"] = [("id", "int")]
        stage.sql(f'DELETE FROM sales_orderline WHERE order_id IN (SELECT id FROM "{marks}")')
        stage.sql(
            f"INSERT INTO sales_orderline (order_id, {part}) SELECT l.order_id, "
            + ", ".join(f"l.{c}" for c in cols)
            + f' FROM "{lines}" l WHERE l.order_id IN (SELECT id FROM "{marks}") ORDER BY l."row"'
        )


class CreditTooMuch(Exception):
    def __init__(self, order_ids: list[int]) -> None:
        super().__init__(order_ids)
        self.order_ids = order_ids


# --- costs ------------------------------------------------------------------------------------------


class CostHandler(AccountRefHandler):
    kind = "costs"
    model = CostEntry
    columns = {
        "account": ("account_id", "int"),
        "date": ("date", "date"),
        "category": ("category", "text"),
        "amount": ("amount_cents", "int"),
        "description": ("description", "text"),
        "external_id": ("external_id", "text"),
    }

    def extra_stage_columns(self):
        return [("given_id", "int")]

    def extra_stage_exprs(self, good):
        return [
            (pl.col("f_id") if "f_id" in good.columns else pl.lit(None, pl.Int64)).alias("given_id")
        ]

    def default(self, fname):
        return {"description": pl.lit("")}.get(fname, pl.lit(None))

    def check(self, typed, batch):
        typed, extra = super().check(typed, batch)
        ext = (
            typed["f_external_id"]
            if "f_external_id" in typed.columns
            else pl.Series([None] * typed.height, dtype=pl.String)
        )
        content = _content_id(
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

    def update_columns(self):
        cols = [
            self.columns[f][0]
            for f in self.columns
            if f in self.engine.col_of and f != "external_id"
        ]
        if self.refs:
            cols.append("account_id")
        return sorted(set(cols))

    def after_staging(self, stage):
        self.duplicates_in_file(stage, "external_id")
        self.resolve_targets(stage)
        self.check_owned(stage)

    def counts(self, stage):
        return self.generic_counts(stage, self.update_columns())

    def merge(self, stage):
        insert = [c for c, _t in self.columns.values()]
        old = self.old_accounts(stage)
        created, updated = self.generic_merge(stage, self.update_columns(), insert)
        name = stage.name("main")
        ids = {r[0] for r in stage.rows(f'SELECT DISTINCT account_id FROM "{name}"')}
        return created, updated, sorted(ids | old)


# --- contact moments -----------------------------------------------------------------------------


class InteractionHandler(AccountRefHandler):
    kind = "interactions"
    model = Interaction
    columns = {
        "account": ("account_id", "int"),
        "occurred_at": ("occurred_at", "datetime"),
        "subject": ("subject", "text"),
        "channel": ("channel", "text"),
        "kind": ("kind", "text"),
        "direction": ("direction", "text"),
        "duration_minutes": ("duration_minutes", "int"),
        "satisfaction": ("satisfaction", "int"),
        "user": ("user_id", "int"),
        "notes": ("notes", "text"),
    }

    def stage_tables(self):
        tables = super().stage_tables()
        return tables

    def default(self, fname):
        return {
            "channel": pl.lit(Interaction.Channel.PHONE),
            "kind": pl.lit(Interaction.Kind.SERVICE),
            "direction": pl.lit(Interaction.Direction.OUTBOUND),
            "duration_minutes": pl.lit(0, pl.Int64),
            "notes": pl.lit(""),
            "user": pl.lit(
                self.engine.actor.pk if getattr(self.engine.actor, "pk", None) else None, pl.Int64
            ),
        }.get(fname, pl.lit(None))

    def extra_stage_columns(self):
        return [("given_id", "int")]

    def extra_stage_exprs(self, good):
        return [
            (pl.col("f_id") if "f_id" in good.columns else pl.lit(None, pl.Int64)).alias("given_id")
        ]

    def check(self, typed, batch):
        typed, extra = super().check(typed, batch)
        if "f_satisfaction" in typed.columns:
            typed = typed.with_columns(pl.col("f_satisfaction").cast(pl.Int64))
        for fname in ("channel", "kind", "direction"):
            if f"f_{fname}" in typed.columns:
                typed = typed.with_columns(
                    pl.col(f"f_{fname}").fill_null(self._default_value(fname))
                )
        if "f_duration_minutes" in typed.columns:
            typed = typed.with_columns(pl.col("f_duration_minutes").fill_null(0))
        content = _content_id(
            typed,
            [c for c in ("f_account", "f_occurred_at", "f_subject") if c in typed.columns],
            "m-",
        )
        typed = typed.with_columns(content.alias("xid"), pl.lit(None, pl.Int64).alias("target_id"))
        return typed, extra

    def _default_value(self, fname):
        return {"channel": "phone", "kind": "service", "direction": "outbound"}[fname]

    def update_columns(self):
        cols = [self.columns[f][0] for f in self.columns if f in self.engine.col_of]
        if self.refs:
            cols.append("account_id")
        return sorted(set(cols))

    def after_staging(self, stage):
        self.duplicates_in_file(stage, "subject")
        name = stage.name("main")
        if "id" in self.engine.col_of:
            stage.sql(
                f'UPDATE "{name}" SET target_id = (SELECT t.id FROM relations_interaction t '
                f'WHERE t.id = "{name}".given_id) WHERE given_id IS NOT NULL'
            )
            self.sql_issues(
                stage,
                "s.given_id IS NOT NULL AND s.target_id IS NULL",
                "unknown_record",
                "id",
                value="s.given_id",
            )
        # The same moment: same account, same time, same subject.
        stage.sql(
            f'UPDATE "{name}" SET target_id = (SELECT MIN(t.id) FROM relations_interaction t '
            f'WHERE t.account_id = "{name}".account_id AND t.occurred_at = "{name}".occurred_at '
            f'AND t.subject = "{name}".subject) WHERE target_id IS NULL'
        )
        self.check_owned(stage)

    def counts(self, stage):
        return self.generic_counts(stage, self.update_columns())

    def merge(self, stage):
        insert = [c for c, _t in self.columns.values()]
        old = self.old_accounts(stage)
        created, updated = self.generic_merge(stage, self.update_columns(), insert)
        name = stage.name("main")
        ids = {r[0] for r in stage.rows(f'SELECT DISTINCT account_id FROM "{name}"')}
        return created, updated, sorted(ids | old)


# --- accounts ---------------------------------------------------------------------------------------


class AccountHandler(KindHandler):
    kind = "accounts"
    model = Account
    columns = {
        "name": ("name", "text"),
        "kvk_number": ("kvk_number", "text"),
        "vat_number": ("vat_number", "text"),
        "industry": ("industry", "text"),
        "street": ("street", "text"),
        "postal_code": ("postal_code", "text"),
        "city": ("city", "text"),
        "country": ("country", "text"),
        "website": ("website", "text"),
        "status": ("status", "text"),
        "manager": ("manager_id", "int"),
        "customer_since": ("customer_since", "date"),
        "margin": ("margin", "decimal"),
        "notes": ("notes", "text"),
        "external_id": ("external_id", "text"),
        "archived": ("archived", "bool"),
    }
    TEXT = (
        "name",
        "kvk_number",
        "vat_number",
        "industry",
        "street",
        "postal_code",
        "city",
        "website",
        "notes",
        "external_id",
    )

    def prepare(self):
        super().prepare()
        eng = self.engine
        self.users = _user_lookup()
        self.managers_ok = set(
            User.objects.filter(
                role__in=[Role.ACCOUNT_MANAGER, Role.SALES_MANAGER, Role.ADMIN]
            ).values_list("id", flat=True)
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
        self.by_kvk = _unique_lookup(
            self.visible.filter(pl.col("kvk_number") != "").rename({"kvk_number": "k"}), "k"
        )
        keyed = self.visible.with_columns(
            pl.concat_str(
                [search_key(pl.col("name")), search_key(pl.col("city"))], separator="|"
            ).alias("nc")
        )
        self.by_name_city = _unique_lookup(keyed, "nc")
        # For rows that bring an external id nobody has yet: an account without one.
        self.by_name_city_free = _unique_lookup(keyed.filter(pl.col("external_id") == ""), "nc")

    def extra_stage_columns(self):
        return [("search_text", "text")]

    def check(self, typed, batch):
        eng = self.engine
        # Normalise like services._normalise_account.
        for fname in ("name", "city", "street", "postal_code", "industry"):
            col = f"f_{fname}"
            if col in typed.columns:
                typed = typed.with_columns(
                    pl.col(col).str.replace_all(r"\s+", " ").str.strip_chars()
                )
        if "f_postal_code" in typed.columns:
            typed = typed.with_columns(pl.col("f_postal_code").str.to_uppercase())
        # Which existing account each row updates.
        target = pl.lit(None, pl.Int64)
        errors = []
        if "f_id" in typed.columns:
            typed = typed.join(
                self.visible.select(pl.col("id").alias("f_id"), pl.col("id").alias("_by_id")),
                on="f_id",
                how="left",
            )
            unknown = typed.filter(pl.col("f_id").is_not_null() & pl.col("_by_id").is_null())
            if unknown.height:
                errors.append(
                    unknown.select(
                        "row",
                        pl.lit("id").alias("field"),
                        pl.col("f_id").cast(pl.String).alias("value"),
                        pl.lit("unknown_record").alias("code"),
                    )
                )
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
                    ambiguous.select(
                        "row",
                        pl.lit("kvk_number").alias("field"),
                        pl.col("f_kvk_number").alias("value"),
                        pl.lit("ambiguous_kvk").alias("code"),
                    )
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
                hidden.select(
                    "row",
                    pl.lit("external_id").alias("field"),
                    pl.col("f_external_id").fill_null("").alias("value"),
                    pl.lit("external_id_taken").alias("code"),
                )
            )
        # Fill what the file leaves out from the existing account (for search_text).
        existing = self.visible.rename(
            {c: f"_old_{c}" for c in self.visible.columns if c != "id"}
        ).rename({"id": "target_id"})
        typed = typed.join(existing, on="target_id", how="left")
        # Managers: account managers keep accounts in their own portfolio.
        actor_id = eng.actor.pk
        if "f_manager" in typed.columns:
            m = pl.col("f_manager")
            old = pl.col("_old_manager_id")
            if not self.may_assign:
                refused = typed.filter(
                    pl.when(pl.col("target_id").is_null())
                    .then(m.is_not_null() & (m != actor_id))
                    .otherwise(
                        (m.is_null() & old.is_not_null())
                        | (m.is_not_null() & (m != old.fill_null(-1)) & (m != actor_id))
                    )
                )
                if refused.height:
                    errors.append(
                        refused.select(
                            "row",
                            pl.lit("manager").alias("field"),
                            pl.col("f_manager").cast(pl.String).fill_null("").alias("value"),
                            pl.lit("manager_not_allowed").alias("code"),
                        )
                    )
                typed = typed.with_columns(
                    pl.when(pl.col("target_id").is_null() & m.is_null())
                    .then(pl.lit(actor_id))
                    .otherwise(m)
                    .alias("f_manager")
                )
            bad_role = typed.filter(
                pl.col("f_manager").is_not_null()
                & ~pl.col("f_manager").is_in(list(self.managers_ok))
            )
            if bad_role.height:
                errors.append(
                    bad_role.select(
                        "row",
                        pl.lit("manager").alias("field"),
                        pl.col("f_manager").cast(pl.String).alias("value"),
                        pl.lit("not_a_manager").alias("code"),
                    )
                )
        parts = []
        for fname in ("name", "city", "postal_code", "kvk_number"):
            col = f"f_{fname}"
            parts.append(pl.col(col) if col in typed.columns else pl.col(f"_old_{fname}"))
        typed = typed.with_columns(
            search_key(pl.concat_str([p.fill_null("") for p in parts], separator=" ")).alias(
                "search_text"
            ),
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
        drop = [c for c in typed.columns if c.startswith(("_by", "_old", "_visible", "_nc", "_t"))]
        extra = pl.concat(errors) if errors else None
        return typed.drop(drop), extra

    def default(self, fname):
        if fname == "manager":
            return pl.lit(None if self.may_assign else self.engine.actor.pk, pl.Int64)
        return {
            "country": pl.lit("NL"),
            "status": pl.lit(Account.Status.PROSPECT),
            "archived": pl.lit(False),
        }.get(fname, pl.lit("") if fname in self.TEXT else pl.lit(None))

    def extra_stage_exprs(self, good):
        return [pl.col("search_text")]

    def to_stage(self, good):
        frame = super().to_stage(good)
        # Text columns are never NULL in the accounts table.
        return frame.with_columns(
            [pl.col(c).fill_null("") for c in self.TEXT]
            + [
                pl.col("country").fill_null("NL"),
                pl.col("status").fill_null("prospect"),
                pl.col("archived").fill_null(False),
            ]
        )

    def update_columns(self):
        cols = [self.columns[f][0] for f in self.columns if f in self.engine.col_of]
        return sorted(set(cols) | {"search_text"}) if cols else []

    def after_staging(self, stage):
        self.duplicates_in_file(
            stage, "external_id" if "external_id" in self.engine.col_of else "name"
        )

    def counts(self, stage):
        return self.generic_counts(stage, self.update_columns())

    def merge(self, stage):
        insert = [c for c, _t in self.columns.values()] + ["search_text"]
        before = self.max_id(stage)
        created, updated = self.generic_merge(stage, self.update_columns(), insert)
        name = stage.name("main")
        ids = {
            r[0] for r in stage.rows(f'SELECT target_id FROM "{name}" WHERE target_id IS NOT NULL')
        }
        ids |= set(self.new_ids(stage, before).values())
        # Search works on the token table; the bulk merge bypassed the services.
        from relatiebeheer.relations.search import refresh_search_tokens

        refresh_search_tokens(ids)
        return created, updated, sorted(ids)


# --- contacts ------------------------------------------------------------------------------------------


class ContactHandler(AccountRefHandler):
    kind = "contacts"
    model = Contact
    columns = {
        "account": ("account_id", "int"),
        "first_name": ("first_name", "text"),
        "last_name": ("last_name", "text"),
        "role": ("role", "text"),
        "email": ("email", "text"),
        "phone": ("phone", "text"),
        "language": ("language", "text"),
        "notes": ("notes", "text"),
        "external_id": ("external_id", "text"),
    }

    def extra_stage_columns(self):
        return [("interests", "text")]

    def prepare(self):
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

    def check(self, typed, batch):
        typed, extra = super().check(typed, batch)
        errors = [extra] if extra is not None else []
        target = pl.lit(None, pl.Int64)
        if "f_id" in typed.columns:
            typed = typed.join(
                self.contacts.select(pl.col("id").alias("f_id"), pl.col("id").alias("_by_id")),
                on="f_id",
                how="left",
            )
            unknown = typed.filter(pl.col("f_id").is_not_null() & pl.col("_by_id").is_null())
            if unknown.height:
                errors.append(
                    unknown.select(
                        "row",
                        pl.lit("id").alias("field"),
                        pl.col("f_id").cast(pl.String).alias("value"),
                        pl.lit("unknown_record").alias("code"),
                    )
                )
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
                    hidden.select(
                        "row",
                        pl.lit("external_id").alias("field"),
                        pl.col("f_external_id").alias("value"),
                        pl.lit("external_id_taken").alias("code"),
                    )
                )
            target = pl.coalesce(target, pl.col("_by_ext"))
        no_ext = (
            pl.col("f_external_id").fill_null("") == ""
            if "f_external_id" in typed.columns
            else pl.lit(True)
        )
        if "f_email" in typed.columns:
            by_email = _unique_lookup(
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
        by_name = _unique_lookup(
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
                pl.col("f_interests")
                .fill_null("")
                .str.replace_all(";", ",")
                .str.split(",")
                .list.eval(
                    pl.element().str.strip_chars().str.replace_all(r"\s+", " ").str.to_lowercase()
                )
                .list.eval(pl.element().filter(pl.element() != ""))
                .list.unique()
                .list.sort()
                .list.join(",")
                .alias("interests")
            )
        else:
            typed = typed.with_columns(pl.lit(None, pl.String).alias("interests"))
        if "f_language" in typed.columns:
            typed = typed.with_columns(pl.col("f_language").fill_null("nl"))
        drop = [c for c in typed.columns if c.startswith(("_by", "_ke", "_kn", "_ext"))]
        return typed.drop(drop), (pl.concat(errors) if errors else None)

    def default(self, fname):
        if fname == "language":
            return pl.lit("nl")
        return pl.lit("") if fname != "account" else pl.lit(None)

    def extra_stage_exprs(self, good):
        return [pl.col("interests")]

    def to_stage(self, good):
        frame = super().to_stage(good)
        return frame.with_columns(
            [
                pl.col(c).fill_null("")
                for c in ("first_name", "role", "email", "phone", "notes", "external_id")
            ]
        )

    def update_columns(self):
        cols = [self.columns[f][0] for f in self.columns if f in self.engine.col_of]
        if self.refs:
            cols.append("account_id")
        return sorted(set(cols))

    def after_staging(self, stage):
        self.duplicates_in_file(
            stage, "external_id" if "external_id" in self.engine.col_of else "last_name"
        )
        self.check_owned(stage)

    def counts(self, stage):
        created, changed, unchanged = self.generic_counts(stage, self.update_columns())
        if "interests" in self.engine.col_of:
            moved = len(self._interest_changes(stage, only_existing=True))
            extra = max(0, min(moved, unchanged))
            changed, unchanged = changed + extra, unchanged - extra
        return created, changed, unchanged

    def _interest_changes(self, stage, *, only_existing: bool) -> dict[int, list[str]]:
        name = stage.name("main")
        rows = stage.rows(f'SELECT target_id, interests FROM "{name}" WHERE target_id IS NOT NULL')
        wanted = {r[0]: sorted(filter(None, (r[1] or "").split(","))) for r in rows}
        current: dict[int, list[str]] = {pk: [] for pk in wanted}
        for contact_id, interest in Contact.interests.through.objects.filter(
            contact_id__in=list(wanted)
        ).values_list("contact_id", "interest__name"):
            current[contact_id].append(interest)
        return {pk: names for pk, names in wanted.items() if sorted(current.get(pk, [])) != names}

    def merge(self, stage):
        name = stage.name("main")
        changes = (
            self._interest_changes(stage, only_existing=True)
            if "interests" in self.engine.col_of
            else {}
        )
        insert = [c for c, _t in self.columns.values()]
        old = self.old_accounts(stage)
        before = self.max_id(stage)
        touched = (
            {
                r[0]
                for r in stage.rows(
                    f'SELECT s.target_id FROM "{name}" s JOIN relations_contact c ON c.id = s.target_id '
                    f"WHERE {self.update_predicate(stage, self.update_columns(), 'c', 's')}"
                )
            }
            if self.update_columns()
            else set()
        )
        created, updated = self.generic_merge(stage, self.update_columns(), insert)
        if "interests" in self.engine.col_of:
            wanted = dict(
                stage.rows(f'SELECT "row", interests FROM "{name}" WHERE target_id IS NULL')
            )
            for row, pk in self.new_ids(stage, before).items():
                names = sorted(filter(None, (wanted.get(row) or "").split(",")))
                if names:
                    changes[pk] = names
            if changes:
                all_names = sorted({n for names in changes.values() for n in names})
                Interest.objects.bulk_create(
                    [Interest(name=n) for n in all_names], ignore_conflicts=True
                )
                ids = dict(Interest.objects.filter(name__in=all_names).values_list("name", "id"))
                through = Contact.interests.through
                through.objects.filter(contact_id__in=list(changes)).delete()
                through.objects.bulk_create(
                    [
                        through(contact_id=pk, interest_id=ids[n])
                        for pk, names in changes.items()
                        for n in names
                    ],
                    batch_size=5000,
                )
            existing = {
                r[0]
                for r in stage.rows(f'SELECT target_id FROM "{name}" WHERE target_id IS NOT NULL')
            }
            only_interests = (set(changes) & existing) - touched
            if only_interests:
                Contact.objects.filter(pk__in=only_interests).update(
                    version=models_F("version") + 1, updated_at=self.engine.now
                )
            updated += len(only_interests)
        ids = {r[0] for r in stage.rows(f'SELECT DISTINCT account_id FROM "{name}"')}
        return created, updated, sorted(ids | old)


HANDLERS: dict[str, type[KindHandler]] = {
    "accounts": AccountHandler,
    "contacts": ContactHandler,
    "orders": OrderHandler,
    "costs": CostHandler,
    "interactions": InteractionHandler,
}


# --- the rejected rows file ----------------------------------------------------------------------


def write_rejected(engine: Engine, target: Path, *, language: str) -> int:
    """The refused rows as they were in the file, plus a column with the reason.

    Written as CSV in the file's own layout (same headers, same notation), so the user
    fixes the rows in a spreadsheet and imports this file again.
    """
    if not engine.rejected:
        return 0
    every = pl.concat(engine.rejected).unique(maintain_order=True)
    names = reader.column_names(engine.info.headers)
    delimiter = engine.info.delimiter if engine.info.format == "csv" else ";"
    written = 0
    with translation.override(language), open(target, "w", encoding="utf-8-sig", newline="") as out:
        reasons = {}
        for field_name, code in every.select(["field", "code"]).unique().iter_rows():
            spec = engine.specs.get(field_name)
            label = engine.header_of.get(field_name) or (str(spec.label) if spec else field_name)
            reasons[(field_name, code)] = f"{label}: {describe(code)}"
        per_row = (
            every.with_columns(
                pl.struct(["field", "code"])
                .map_elements(lambda r: reasons[(r["field"], r["code"])], return_dtype=pl.String)
                .alias("reason")
            )
            .group_by("row", maintain_order=True)
            .agg(pl.col("reason").unique(maintain_order=True).str.join(" | "))
            .select(pl.col("row").cast(pl.UInt32).alias("__row"), "reason")
        )
        writer = csv.writer(out, delimiter=delimiter)
        writer.writerow([*engine.info.headers, _("Reason")])
        for batch in reader.batches(engine.path, engine.info, batch_size=engine.batch_size):
            hit = batch.join(per_row, on="__row", how="inner").sort("__row")
            for record in hit.iter_rows(named=True):
                writer.writerow(
                    [record[n] if record[n] is not None else "" for n in names] + [record["reason"]]
                )
                written += 1
    return written
