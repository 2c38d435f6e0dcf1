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
4. **Merge** — only now a transaction opens, and the kind's domain bulk writer
   (``relations.bulk``, ``sales.bulk``) merges the stage with its domain's rules: one
   ``UPDATE … FROM stage`` (changed rows only, so re-importing the same file changes
   nothing, not even a version) and one ``INSERT … SELECT`` per table, the audit row and
   the "accounts changed" hook. The transaction lasts as long as those statements, not
   as long as the file.

The pipeline (this module, ``stage.py``, ``handlers/``) reads, maps, validates, stages
and reports; it holds no domain rule. Where a rule refuses rows it is applied here in
the set-based form its domain's ``rules.py`` gives it, so the report names each row.

All-or-nothing (default): any problem, nothing merged. Partial: the rows with problems
are left out and written to a "rejected rows" file with a reason column.
"""

from __future__ import annotations

import csv
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
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from relatiebeheer.common.crashtest import pause_here
from relatiebeheer.common.files import open_private
from relatiebeheer.core.dates import detect_date_order
from relatiebeheer.core.money import detect_notation
from relatiebeheer.relations.rules import compact_kvk_expr
from relatiebeheer.relations.staged import BulkAudit
from relatiebeheer.relations.validators import (
    normalise_phone,
    normalise_vat,
    validate_phone,
    validate_vat,
)

from . import columns as C
from . import reader
from .fields import FieldSpec, fields_for
from .handlers import HANDLERS, ImportAborted, KindHandler
from .lookups import BOOLS, choice_table
from .messages import describe
from .stage import Stage

logger = logging.getLogger(__name__)

BATCH_SIZE = 100_000

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
        merge_audit: Callable[[Outcome], BulkAudit] | None = None,
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
        self.merge_audit = merge_audit or (
            lambda outcome: BulkAudit(action=f"import.{kind}", obj=None, rows=outcome.valid)
        )
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
        """The one short transaction: the domain's bulk writer merges (and writes the
        job's audit row and fires the hook), then ``on_merged`` (the job's status)."""
        with transaction.atomic():
            pause_here("import.merge-start")
            result = self.handler.merge(stage, self.merge_audit(outcome))
            outcome.created, outcome.updated = result.created, result.updated
            outcome.account_ids = result.account_ids
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
                frame = pl.DataFrame({"v": value, "e": error}).with_columns(
                    v=compact_kvk_expr(col("v"))
                )
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
    with (
        translation.override(language),
        open_private(target, "w", encoding="utf-8-sig", newline="") as out,
    ):
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
