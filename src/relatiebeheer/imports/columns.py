"""Vectorised parsing of text columns with Polars: amounts, decimals, dates, times.

Pure (no Django). Every function here returns Polars expressions for a *value* and an
*error code* (null when the cell is fine), so a whole batch of rows is parsed in a few
passes of native code instead of a Python call per cell. The rules are exactly those of
the scalar parsers in :mod:`relatiebeheer.core.money` and :mod:`relatiebeheer.core.dates`
(the scalar ones are the reference; tests/imports/test_parsers.py checks with Hypothesis
that both give the same answer for any string).

Empty cells (null or only spaces) give a null value and no error: whether a column
may be empty is decided by the caller.
"""

from __future__ import annotations

import polars as pl

# The same patterns as core.money (Rust's regex engine has Python's leftmost-first
# alternation, so "(€|eur|euro)" behaves identically).
_CURRENCY = r"(?i)\s*(€|eur|euro)\s*"
_PLAIN = r"^\d+(\.\d+)?$"
_DUTCH = r"^\d{1,3}(\.\d{3})*(,\d+)?$|^\d+,\d+$"
_ENGLISH = r"^\d{1,3}(,\d{3})+(\.\d+)?$"
_AMBIGUOUS = r"^\d{1,3}(\.\d{3})+$|^\d{1,3}(,\d{3})+$"
MAX_INTEGER_DIGITS = 15  # cents of 10^15 euros still fit a 64-bit integer

DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def blank(expr: pl.Expr) -> pl.Expr:
    """True where a cell is null or only white space."""
    return expr.is_null() | (expr.str.strip_chars().str.len_chars() == 0)


def _frame(values: pl.Series) -> pl.DataFrame:
    return pl.DataFrame({"raw": values.cast(pl.String)})


def scaled_decimal(
    values: pl.Series, *, notation: str | None, places: int
) -> tuple[pl.Series, pl.Series]:
    """(value × 10^places as Int64, error code) for amounts in Dutch or English notation.

    ``notation`` None reads unambiguous values and refuses ``9.500`` ("ambiguous").
    More decimals than ``places`` are refused ("fraction_of_cent" for money) unless
    they are zeros; more than 15 integer digits give "too_large". Computed in stages
    (one small expression each) so that Polars plans it in no time.
    """
    col = pl.col
    df = _frame(values).with_columns(
        t=col("raw")
        .str.replace_all(_CURRENCY, "")
        .str.strip_chars()
        .str.replace_all("\u00a0", "", literal=True)
        .str.replace_all(" ", "", literal=True)
    )
    df = df.with_columns(paren=col("t").str.contains(r"^\(.+\)$"))
    df = df.with_columns(lead=~col("paren") & col("t").str.starts_with("-"))
    df = df.with_columns(trail=~col("paren") & ~col("lead") & col("t").str.contains(r".-$"))
    df = df.with_columns(
        plus=~col("paren") & ~col("lead") & ~col("trail") & col("t").str.starts_with("+")
    )
    df = df.with_columns(
        core=pl.when(col("paren"))
        .then(col("t").str.slice(1).str.replace(r"\)$", ""))
        .when(col("lead") | col("plus"))
        .then(col("t").str.slice(1))
        .when(col("trail"))
        .then(col("t").str.replace(r"-$", ""))
        .otherwise(col("t")),
        negative=col("paren") | col("lead") | col("trail"),
    )
    df = df.with_columns(core=col("core").str.replace_all(_CURRENCY, "").str.strip_chars())
    df = df.with_columns(
        empty=col("raw").is_null() | (col("core").str.len_chars() == 0),
        dutch=col("core").str.contains(_DUTCH),
        plain=col("core").str.contains(_PLAIN),
        english=col("core").str.contains(_ENGLISH),
        ambiguous=col("core").str.contains(_AMBIGUOUS),
        as_nl=col("core")
        .str.replace_all(".", "", literal=True)
        .str.replace(",", ".", literal=True),
        as_en=col("core").str.replace_all(",", "", literal=True),
    )
    if notation == "en":
        df = df.with_columns(
            canonical=pl.when(col("plain") | col("english")).then(col("as_en")),
            bad=~(col("plain") | col("english")),
        )
    elif notation == "nl":
        df = df.with_columns(ok_plain=col("plain") & ~col("core").str.contains(".", literal=True))
        df = df.with_columns(
            canonical=pl.when(col("dutch"))
            .then(col("as_nl"))
            .when(col("ok_plain"))
            .then(col("core")),
            bad=~(col("dutch") | col("ok_plain")),
        )
    else:
        df = df.with_columns(
            canonical=pl.when(col("ambiguous"))
            .then(None)
            .when(col("plain"))
            .then(col("core"))
            .when(col("dutch"))
            .then(col("as_nl"))
            .when(col("english"))
            .then(col("as_en")),
            bad=~(col("plain") | col("dutch") | col("english")) & ~col("ambiguous"),
        )
    df = df.with_columns(parts=col("canonical").str.split_exact(".", 1))
    df = df.with_columns(
        whole=col("parts").struct.field("field_0").str.strip_chars_start("0"),
        fraction=col("parts").struct.field("field_1").fill_null(""),
    )
    df = df.with_columns(
        kept=col("fraction").str.slice(0, places).str.pad_end(places, "0"),
        sub_unit=col("fraction").str.slice(places).str.contains(r"[1-9]"),
        too_large=col("whole").str.len_chars() > MAX_INTEGER_DIGITS,
    )
    kept = col("kept").cast(pl.Int64, strict=False) if places else pl.lit(0, pl.Int64)
    df = df.with_columns(
        magnitude=pl.when(col("whole").str.len_chars() == 0)
        .then(pl.lit("0"))
        .otherwise(col("whole"))
        .cast(pl.Int64, strict=False)
        * (10**places)
        + kept
    )
    df = df.with_columns(
        error=pl.when(col("empty"))
        .then(None)
        .when(col("ambiguous") & pl.lit(notation is None))
        .then(pl.lit("ambiguous"))
        .when(col("bad"))
        .then(pl.lit("invalid"))
        .when(col("too_large"))
        .then(pl.lit("too_large"))
        .when(col("sub_unit"))
        .then(pl.lit("fraction_of_cent" if places == 2 else "too_many_decimals"))
        .otherwise(None)
    )
    df = df.with_columns(
        value=pl.when(col("error").is_null() & ~col("empty"))
        .then(pl.when(col("negative")).then(-col("magnitude")).otherwise(col("magnitude")))
        .otherwise(None)
    )
    return df["value"], df["error"].cast(pl.String)


def money_cents(values: pl.Series, *, notation: str | None) -> tuple[pl.Series, pl.Series]:
    """(cents as Int64, error code) — the vectorised ``to_cents(parse_amount(text))``."""
    return scaled_decimal(values, notation=notation, places=2)


# --- dates ----------------------------------------------------------------------------------

_TIME = r"(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?"
_ISO = r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})" + _TIME + r"$"
_DAY_MONTH = r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})" + _TIME + r"$"
_SHORT_YEAR = r"^\d{1,2}[-/.]\d{1,2}[-/.]\d{2}$"


def _date_frame(values: pl.Series, order: str | None) -> pl.DataFrame:
    col = pl.col
    df = _frame(values).with_columns(t=col("raw").str.strip_chars())
    df = df.with_columns(
        iso=col("t").str.extract_groups(_ISO),
        dm=col("t").str.extract_groups(_DAY_MONTH),
        short=col("t").str.contains(_SHORT_YEAR).fill_null(False),
        empty=col("raw").is_null() | (col("t").str.len_chars() == 0),
    )
    df = df.with_columns(
        is_iso=col("iso").struct.field("1").is_not_null(),
        a=col("dm").struct.field("1").cast(pl.Int32),
        b=col("dm").struct.field("2").cast(pl.Int32),
    )
    df = df.with_columns(is_dm=~col("is_iso") & col("dm").struct.field("1").is_not_null())
    a, b = col("a"), col("b")
    if order == "dmy":
        df = df.with_columns(day=a, month=b, amb=pl.lit(False), impossible=pl.lit(False))
    elif order == "mdy":
        df = df.with_columns(day=b, month=a, amb=pl.lit(False), impossible=pl.lit(False))
    else:
        first = (a > 12) & (b <= 12)
        second = (b > 12) & (a <= 12)
        df = df.with_columns(
            day=pl.when(first).then(a).when(second).then(b).otherwise(a),
            month=pl.when(first).then(b).when(second).then(a).otherwise(b),
            amb=(a <= 12) & (b <= 12) & (a != b),
            impossible=(a > 12) & (b > 12),
        )
    iso = col("iso")
    dm = col("dm")
    df = df.with_columns(
        year=pl.when(col("is_iso"))
        .then(iso.struct.field("1").cast(pl.Int32))
        .otherwise(dm.struct.field("3").cast(pl.Int32)),
        month=pl.when(col("is_iso"))
        .then(iso.struct.field("2").cast(pl.Int32))
        .otherwise(col("month")),
        day=pl.when(col("is_iso")).then(iso.struct.field("3").cast(pl.Int32)).otherwise(col("day")),
        hour=pl.when(col("is_iso")).then(iso.struct.field("4")).otherwise(dm.struct.field("4")),
        minute=pl.when(col("is_iso")).then(iso.struct.field("5")).otherwise(dm.struct.field("5")),
        second=pl.when(col("is_iso")).then(iso.struct.field("6")).otherwise(dm.struct.field("6")),
        matched=col("is_iso") | col("is_dm"),
        amb=col("is_dm") & col("amb"),
        bad_dm=col("is_dm") & col("impossible"),
    )
    df = df.with_columns(
        parsed=pl.concat_str(
            [
                col("year").cast(pl.String).str.pad_start(4, "0"),
                pl.lit("-"),
                col("month").cast(pl.String).str.pad_start(2, "0"),
                pl.lit("-"),
                col("day").cast(pl.String).str.pad_start(2, "0"),
            ]
        ).str.to_date("%Y-%m-%d", strict=False)
    )
    return df


def dates(values: pl.Series, *, order: str | None) -> tuple[pl.Series, pl.Series]:
    """(Date, error code) — the vectorised ``core.dates.parse_date``."""
    col = pl.col
    df = _date_frame(values, order)
    df = df.with_columns(
        error=pl.when(col("empty"))
        .then(None)
        .when(col("short"))
        .then(pl.lit("short_year"))
        .when(~col("matched") | col("hour").is_not_null() | col("bad_dm"))
        .then(pl.lit("invalid"))
        .when(col("amb"))
        .then(pl.lit("ambiguous"))
        .when(col("parsed").is_null())
        .then(pl.lit("invalid"))
        .otherwise(None)
    )
    df = df.with_columns(value=pl.when(col("error").is_null() & ~col("empty")).then(col("parsed")))
    return df["value"], df["error"].cast(pl.String)


def datetimes(values: pl.Series, *, order: str | None) -> tuple[pl.Series, pl.Series]:
    """(naive Datetime, error code) — the vectorised ``core.dates.parse_datetime``."""
    col = pl.col
    df = _date_frame(values, order)
    df = df.with_columns(
        h=col("hour").cast(pl.Int32).fill_null(0),
        m=col("minute").cast(pl.Int32).fill_null(0),
        s=col("second").cast(pl.Int32).fill_null(0),
    )
    df = df.with_columns(bad_time=(col("h") > 23) | (col("m") > 59) | (col("s") > 59))
    df = df.with_columns(
        error=pl.when(col("empty"))
        .then(None)
        .when(col("short"))
        .then(pl.lit("short_year"))
        .when(~col("matched") | col("bad_dm"))
        .then(pl.lit("invalid"))
        .when(col("amb"))
        .then(pl.lit("ambiguous"))
        .when(col("parsed").is_null() | col("bad_time"))
        .then(pl.lit("invalid"))
        .otherwise(None)
    )
    df = df.with_columns(
        value=pl.when(col("error").is_null() & ~col("empty")).then(
            col("parsed").cast(pl.Datetime("us"))
            + pl.duration(hours=col("h"), minutes=col("m"), seconds=col("s"))
        )
    )
    return df["value"], df["error"].cast(pl.String)


# --- text -----------------------------------------------------------------------------------


def text(expr: pl.Expr, *, max_length: int) -> tuple[pl.Expr, pl.Expr]:
    """(text, error code): trimmed, our export's formula escape undone, length checked.

    A cell that starts with an apostrophe followed by ``= + - @``, tab or CR was
    escaped by an export (see ``relatiebeheer.exports.escape_text``); the apostrophe
    goes. NUL characters cannot be stored by any database: "invalid_text".
    """
    t = expr.str.strip_chars(" \n\u00a0")
    escaped = t.str.contains(r"^'[=+\-@\t\r]")
    t = pl.when(escaped).then(t.str.slice(1)).otherwise(t)
    error = (
        pl.when(t.is_null())
        .then(None)
        .when(t.str.contains("\x00", literal=True))
        .then(pl.lit("invalid_text"))
        .when(t.str.len_chars() > max_length)
        .then(pl.lit("too_long"))
        .otherwise(None)
    )
    return pl.when(error.is_null()).then(t.fill_null("")).otherwise(None), error


def lookup(expr: pl.Expr, table: dict[str, str]) -> tuple[pl.Expr, pl.Expr]:
    """(mapped value, error code) for a choice column: keys are matched case-insensitively
    after trimming; unknown non-empty values give "invalid_choice"."""
    key = expr.str.strip_chars().str.to_lowercase()
    keys = list(table)
    mapped = key.replace_strict(
        keys, [table[k] for k in keys], default=None, return_dtype=pl.String
    )
    empty = blank(expr)
    error = pl.when(~empty & mapped.is_null()).then(pl.lit("invalid_choice")).otherwise(None)
    return pl.when(empty).then(None).otherwise(mapped), error
