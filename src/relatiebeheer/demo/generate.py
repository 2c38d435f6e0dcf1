"""Large, deterministic data sets for load tests and demos — fast.

``generate(options, actor=...)`` builds every value with NumPy (vectorised, one random
stream per table so that changing ``--tasks`` does not change the orders) and writes
the rows through the Django connection's raw DB-API cursor:

* SQLite: multi-row ``INSERT … VALUES (…), (…)`` through ``executemany`` inside one
  transaction; for the duration of the load only (see ``_load_settings``):
  ``synchronous=OFF``, a bigger page cache, two sorter threads, no per-row foreign-key
  checks;
* PostgreSQL: ``COPY … FROM STDIN`` (psycopg 3).

For a load that is large compared with what a table holds already, the table's
secondary indexes (PostgreSQL: and foreign keys) are dropped first and made again at
the end, inside the same transaction: building an index from all rows at once is much
cheaper than maintaining it row by row. Their definitions are read from the database
catalogue, so an index a model gains later is not lost. Table and column names come
from the models' ``_meta``; a new model field without a default stops the generator
with a clear message rather than writing rows the model would not accept.

Ids are given explicitly (from ``MAX(id)``, so ``--append`` works; PostgreSQL's
sequences are reset afterwards), orders, contact moments, tasks and costs in time
order. The same seed and the same ``today`` give the same rows (only the managers'
password hashes and join dates differ). Rows are valid per the models: check
constraints hold, ``search_text`` is what ``Account.refresh_search_text()`` computes,
credit notes point at an earlier order of the same account and never exceed it.

At 100k accounts and 2M orders most of the time goes to SQLite's insert loop and to
building the indexes of ``sales_order`` (see the command's timing summary).
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import re
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import numpy as np
from django.conf import settings
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import NOT_PROVIDED, Model
from django.utils import timezone

from relatiebeheer.common.text import normalise_search
from relatiebeheer.common.writers import writer
from relatiebeheer.hooks import accounts_changed

if TYPE_CHECKING:
    from relatiebeheer.users.models import User

# --- embedded vocabularies -----------------------------------------------------------------
# Kept as "|"-separated text so the tables stay readable (and compact under ruff format).


def _items(text: str) -> list[str]:
    return [item.strip() for item in text.split("|") if item.strip()]


def _rows(text: str) -> list[list[str]]:
    return [_items(line) for line in text.strip().splitlines()]


FIRST_NAMES = _items("""
    Jan|Pieter|Kees|Henk|Bram|Daan|Sem|Lucas|Thijs|Jeroen|Martijn|Sander|Bas|Ruben|Tim|Joost|
    Willem|Maarten|Rik|Koen|Niels|Erik|Frank|Hans|Gert|Arjen|Mark|Wouter|Stefan|Lars|Mohamed|
    Ahmet|Anna|Emma|Sophie|Julia|Lisa|Eva|Sanne|Anouk|Fleur|Iris|Lotte|Marieke|Femke|Ingrid|
    Annemarie|Esther|Linda|Monique|Petra|Saskia|Yvonne|Charlotte|Noor|Lieke|Manon|Renée|Chloë|
    Zoë|Loïs|Daphne|Fatima|Samira
""")
LAST_NAMES = _items("""
    de Jong|Jansen|de Vries|van den Berg|van Dijk|Bakker|Janssen|Visser|Smit|Meijer|de Boer|
    Mulder|de Groot|Bos|Vos|Peters|Hendriks|van Leeuwen|Dekker|Brouwer|de Wit|Dijkstra|Smits|
    de Graaf|van der Meer|van der Linden|Kok|Jacobs|de Haan|Vermeulen|van den Heuvel|
    van der Veen|van den Broek|de Bruijn|van der Heijden|Schouten|van Beek|Willems|van Vliet|
    van de Ven|Hoekstra|Maas|Verhoeven|Koster|van Dam|van der Wal|Prins|Blom|Huisman|Peeters|
    de Lange|Kuipers|van Wijk|Postma|Kramer|van den Bosch|Kuiper|Vink|Bosman|Schipper|
    Timmermans|Groen|Gerritsen|van Rijn|Sanders|Koning|van Doorn|Wolters|Öztürk|Çelik|
    El Amrani|Bouzid|Nguyen|Wijnands
""")
# industry | weight | words used in company names of that industry (comma-separated)
INDUSTRIES = [
    (name, int(weight), words.split(","))
    for name, weight, words in _rows("""
        Detailhandel mode           | 14 | Mode,Modehuis,Boutique,Fashion
        Warenhuizen                 |  3 | Warenhuis,Magazijn
        Groothandel textiel         |  6 | Textiel,Stoffen,Textielgroothandel
        Schoenen en lederwaren      |  5 | Schoenen,Schoenmode,Lederwaren
        Horeca                      |  8 | Café,Brasserie,Eetcafé,Restaurant,Hotel
        Bakkerijen                  |  4 | Bakkerij,Banketbakkerij
        Bouw                        |  6 | Bouw,Aannemersbedrijf,Bouwbedrijf
        Installatietechniek         |  5 | Installatietechniek,Installatiebedrijf,Elektrotechniek
        Transport en logistiek      |  5 | Transport,Logistiek,Koeriers
        Groothandel levensmiddelen  |  6 | Foodservice,Groothandel,Versmarkt
        Sport en recreatie          |  5 | Sport,Sportshop,Fietsen
        Drogisterijen en parfumerie |  4 | Drogisterij,Parfumerie
        Tuincentra                  |  3 | Tuincentrum,Hoveniers
        Kantoorartikelen            |  3 | Kantoorartikelen,Kantoorinrichting
        ICT-dienstverlening         |  5 | ICT,Automatisering,Software
        Zorg                        |  4 | Zorg,Thuiszorg,Apotheek
        Juweliers                   |  2 | Juwelier,Goudsmid
        Meubels en wonen            |  5 | Meubelen,Wonen,Interieur
        Autobedrijven               |  4 | Autobedrijf,Garage
        Onderwijs                   |  3 | Opleidingen,Academie
    """)
]
NAME_WORDS = _items("""
    Noordlicht|Zuidwest|Oranje|Delta|Polder|Duin|Horizon|Molen|Eikenhof|Linde|Zilvermeer|
    Kompas|Vlinder|Lindeboom|Gouden Leeuw
""")
NAME_SUFFIXES = _items("Groep|& Co|Nederland|Holland|Partners|Centrum")
LEGAL_FORMS = ["B.V.", "V.O.F.", "", "B.V.", "B.V.", ""]
# city | weight | postal codes from | to | area code
CITIES = [
    (name, int(weight), int(low), int(high), area)
    for name, weight, low, high, area in _rows("""
        Amsterdam        | 90 | 1011 | 1109 | 20
        Rotterdam        | 65 | 3011 | 3089 | 10
        Den Haag         | 55 | 2491 | 2599 | 70
        Utrecht          | 36 | 3511 | 3585 | 30
        Eindhoven        | 24 | 5611 | 5658 | 40
        Groningen        | 24 | 9711 | 9747 | 50
        Tilburg          | 22 | 5011 | 5049 | 13
        Almere           | 22 | 1311 | 1364 | 36
        Breda            | 19 | 4811 | 4839 | 76
        Nijmegen         | 18 | 6511 | 6546 | 24
        Apeldoorn        | 17 | 7311 | 7339 | 55
        Haarlem          | 17 | 2011 | 2037 | 23
        Arnhem           | 16 | 6811 | 6846 | 26
        Enschede         | 16 | 7511 | 7548 | 53
        Amersfoort       | 16 | 3811 | 3829 | 33
        Zaandam          | 10 | 1501 | 1509 | 75
        's-Hertogenbosch | 16 | 5211 | 5249 | 73
        Zwolle           | 13 | 8011 | 8047 | 38
        Leiden           | 13 | 2311 | 2334 | 71
        Maastricht       | 12 | 6211 | 6229 | 43
        Dordrecht        | 12 | 3311 | 3329 | 78
        Delft            | 10 | 2611 | 2629 | 15
        Alkmaar          | 11 | 1811 | 1827 | 72
        Leeuwarden       | 12 | 8911 | 8939 | 58
        Deventer         | 10 | 7411 | 7431 | 570
        Venlo            | 10 | 5911 | 5928 | 77
        Hilversum        |  9 | 1211 | 1223 | 35
        Gouda            |  7 | 2801 | 2809 | 182
        Roermond         |  6 | 6041 | 6045 | 475
        Middelburg       |  5 | 4331 | 4339 | 118
        Assen            |  7 | 9401 | 9409 | 592
        Heerlen          |  9 | 6411 | 6422 | 45
        Zeist            |  6 | 3701 | 3709 | 30
        Emmen            | 10 | 7811 | 7833 | 591
        Oss              |  9 | 5341 | 5349 | 412
        Sittard          |  6 | 6131 | 6137 | 46
        Purmerend        |  8 | 1441 | 1448 | 299
        Helmond          |  9 | 5701 | 5709 | 492
    """)
]
STREETS = _items("""
    Kerkstraat|Dorpsstraat|Molenweg|Stationsweg|Hoofdstraat|Schoolstraat|Julianastraat|
    Wilhelminastraat|Beatrixlaan|Marktplein|Industrieweg|Nieuwstraat|Havenstraat|Parallelweg|
    Kalverstraat|Handelsweg|Ambachtsweg|Keizersgracht|Prinsengracht|Herengracht|Lange Voorhout|
    Vismarkt|Grote Markt|Kanaalweg|Energieweg|Edisonstraat|Oudegracht|Coolsingel|
    Nijverheidsweg|Zuiderzeeweg|Spoorlaan|Europalaan
""")
POSTCODE_LETTERS = "ABCDEGHJKLMNPRTVWXZ"
BUYING_GROUPS = _items("""
    Inkoopvereniging Modenet|Euretco Inkoopgroep|Intersport Nederland|
    Samenwerkende Schoenspecialisten|Horeca Inkoop Combinatie|Bouwmaat Inkoop|
    Zorg Inkoopcollectief|Retail Alliantie Noord
""")
INTERESTS = _items(
    "golf|tennis|wijn|zeilen|voetbal|wielrennen|kunst|koken|hardlopen|muziek|reizen|schaatsen"
)
CONTACT_ROLES = _items("""
    Inkoper|Hoofd inkoop|Directeur|Eigenaar|Bedrijfsleider|Filiaalmanager|
    Financiële administratie|Category manager|Office manager
""")
# product | category | typical unit price in euros (order lines)
PRODUCTS = [
    (product, category, int(price))
    for product, category, price in _rows("""
        Wollen jas       | Bovenkleding     | 120
        Regenjas         | Bovenkleding     | 80
        Spijkerbroek     | Broeken          | 45
        Chino            | Broeken          | 40
        Overhemd         | Shirts           | 30
        Blouse           | Shirts           | 32
        T-shirt (3-pack) | Shirts           | 18
        Trui             | Breigoed         | 50
        Vest             | Breigoed         | 55
        Jurk             | Jurken           | 60
        Sneaker          | Schoenen         | 55
        Leren riem       | Accessoires      | 20
        Sjaal            | Accessoires      | 15
        Etalagepop       | Winkelinrichting | 150
        Displayrek       | Winkelinrichting | 90
    """)
]
# Contact-moment subjects per kind.
SUBJECTS = {
    kind: _items(subjects)
    for kind, subjects in (
        (
            "question",
            "Vraag over levertijd|Vraag over factuur|Vraag over maattabel|"
            "Vraag over retourbeleid|Vraag over voorraad",
        ),
        (
            "looked_into",
            "Beschikbaarheid nagevraagd|Levering nagetrokken bij transporteur|"
            "Prijsafspraak uitgezocht|Kleurvariant nagevraagd bij fabriek",
        ),
        (
            "proactive",
            "Voorjaarscollectie aangekondigd|Najaarscollectie aangekondigd|"
            "Actie aangekondigd: 10 % korting|Nieuwe merken voorgesteld|Uitnodiging showroomdag",
        ),
        (
            "service",
            "Retour afgehandeld|Bestelling aangepast|Afleveradres gewijzigd|Creditnota toegelicht",
        ),
        (
            "complaint",
            "Klacht over te late levering|Beschadigde zending|"
            "Verkeerde maten geleverd|Klacht over factuur",
        ),
        (
            "sales",
            "Nabestelling besproken|Jaarafspraken besproken|Offerte toegelicht|"
            "Collectie doorgenomen",
        ),
        ("event", "Modeshow bezocht|Relatiedag|Beursbezoek|Seizoensborrel"),
    )
}
TASK_TITLES = _items("""
    Terugbellen over offerte|Offerte sturen|Jaargesprek plannen|Klacht afhandelen|
    Stalen opsturen|Uitnodiging relatiedag versturen|Prijsafspraak bevestigen|
    Betalingsherinnering nabellen|Bezoek inplannen|Accountplan bijwerken
""")
COST_DESCRIPTIONS = {
    "service": _items("Extra bezorging|Retourverwerking|Klantenservice"),
    "campaign": _items("Mailing voorjaarscollectie|Advertentie vakblad|Actie 10 % korting"),
    "incentive": _items("Bonus op jaaromzet|Staffelkorting|Spaaractie"),
    "gift_event": _items("Kerstpakket|Relatiedag|Modeshow|Etentje"),
    "account_management": _items("Bezoek account manager|Jaargesprek|Accountplan"),
    "other": _items("Diversen"),
}

# --- options and result -------------------------------------------------------------------


class GenerateError(Exception):
    """The data set cannot be made as asked; nothing was written."""


@dataclass(frozen=True)
class GenerateOptions:
    """What to make. ``None`` means the documented default (see ``resolved``)."""

    accounts: int
    orders: int
    seed: int = 1
    managers: int | None = None
    contacts_per_account: tuple[int, int] = (1, 3)
    interactions: int | None = None
    tasks: int | None = None
    costs: int | None = None
    lines: bool = False
    today: date | None = None
    # Drop and rebuild indexes around the load: None decides by size (see _Generator).
    defer_indexes: bool | None = None

    def resolved(self) -> GenerateOptions:
        a = self.accounts
        return GenerateOptions(
            accounts=a,
            orders=self.orders,
            seed=self.seed,
            managers=self.managers if self.managers is not None else default_managers(a),
            contacts_per_account=self.contacts_per_account,
            interactions=self.interactions if self.interactions is not None else 2 * a,
            tasks=self.tasks if self.tasks is not None else a // 2,
            costs=self.costs if self.costs is not None else 2 * a,
            lines=self.lines,
            today=self.today or timezone.localdate(),
            defer_indexes=self.defer_indexes,
        )


def default_managers(accounts: int) -> int:
    """One account manager per 400 accounts (rounded up), 1 to 50."""
    return max(1, min(50, -(-accounts // 400)))


@dataclass
class GenerateResult:
    counts: dict[str, int] = field(default_factory=dict)
    # (table, rows, seconds building the values, seconds writing them)
    timings: list[tuple[str, int, float, float]] = field(default_factory=list)
    other_timings: dict[str, float] = field(default_factory=dict)
    total_seconds: float = 0.0

    def summary_lines(self) -> list[str]:
        lines = [f"{'table':<28}{'rows':>12}{'build s':>10}{'write s':>10}{'rows/s':>12}"]
        for table, rows, build, write in self.timings:
            rate = rows / (build + write) if build + write > 0 else 0
            lines.append(f"{table:<28}{rows:>12,}{build:>10.2f}{write:>10.2f}{rate:>12,.0f}")
        for name, seconds in self.other_timings.items():
            lines.append(f"{name:<48}{seconds:>24.2f}")
        lines.append(f"{'total':<48}{self.total_seconds:>24.2f}")
        return lines


# --- column specifications ------------------------------------------------------------------


@dataclass(frozen=True)
class Const:
    """The same value in every row."""

    value: Any


@dataclass(frozen=True)
class Lookup:
    """``table[index]`` per row: categorical strings without a string per row."""

    table: np.ndarray  # object array
    index: np.ndarray


@dataclass(frozen=True)
class Nullable:
    """Integers where a negative value means NULL (foreign keys, readings)."""

    values: np.ndarray


@dataclass(frozen=True)
class Stamp:
    """A timestamp: a day offset (see ``_Calendar``) and a local second of the day."""

    day: np.ndarray
    second: np.ndarray


@dataclass(frozen=True)
class NullableStamp(Stamp):
    """A timestamp that is NULL where ``day`` is ``NULL_DAY``."""


NULL_DAY = -(10**6)


@dataclass(frozen=True)
class Day:
    """A date given as a day offset (see ``_Calendar``); negative offsets may be NULL."""

    day: np.ndarray
    null_below: int | None = None


@functools.cache
def _time_table(suffix: str) -> np.ndarray:
    """The time of day as text for every second (PostgreSQL's with a "+00" zone)."""
    return np.array(
        [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}{suffix}" for s in range(86400)],
        dtype=object,
    )


class _Calendar:
    """Dates as integer offsets from the start of the three-year window (day 0).

    Keeps per-day lookup tables (ISO date text, Amsterdam's UTC offset) so that a
    column of dates or timestamps is built with array indexing, not a call per row.
    """

    PAD = 800  # days before day 0 that a table may still hold (accounts older than the window)
    AFTER = 400  # days after today (due dates of tasks)

    def __init__(self, today: date, *, postgres: bool) -> None:
        self.today = today
        try:
            self.start = today.replace(year=today.year - 3)
        except ValueError:  # 29 February
            self.start = today.replace(year=today.year - 3, day=28)
        self.span = (today - self.start).days  # today is day ``span``
        zone = ZoneInfo(settings.TIME_ZONE)
        n = self.PAD + self.span + self.AFTER + 1
        first = self.start - timedelta(days=self.PAD)
        days = [first + timedelta(days=i) for i in range(n)]
        self.dates = [d.isoformat() for d in days]
        self.date_table = np.array(self.dates, dtype=object)
        self.date_space_table = np.array([d + " " for d in self.dates], dtype=object)
        self.weekday = np.array([d.weekday() for d in days], dtype=np.int64)
        self.year = np.array([d.year for d in days], dtype=np.int64)
        self.utc_offset = np.array(
            [
                int(datetime(d.year, d.month, d.day, 12, tzinfo=zone).utcoffset().total_seconds())
                for d in days
            ],
            dtype=np.int64,
        )
        self.time_table = _time_table("+00" if postgres else "")

    def idx(self, day: np.ndarray) -> np.ndarray:
        return day + self.PAD

    def dates_of(self, day: np.ndarray) -> list:
        return self.date_table[self.idx(day)].tolist()

    def stamps_of(self, day: np.ndarray, second: np.ndarray) -> list:
        i = self.idx(day)
        utc = second - self.utc_offset[i]  # local business hours never cross midnight in UTC
        return (self.date_space_table[i] + self.time_table[utc]).tolist()

    def workday(self, day: np.ndarray) -> np.ndarray:
        """Move Saturdays to Friday and Sundays to Monday (Friday if Monday is after today)."""
        wd = self.weekday[self.idx(day)]
        day = np.where(wd == 5, day - 1, day)
        sunday = wd == 6
        day = np.where(sunday & (day + 1 <= self.span), day + 1, np.where(sunday, day - 2, day))
        return day


# --- writers -------------------------------------------------------------------------------


class _Writer:
    """Writes one table from column specifications, in chunks."""

    CHUNK = 100_000

    def __init__(self, calendar: _Calendar) -> None:
        self.calendar = calendar
        connection.ensure_connection()
        self.raw = connection.connection

    def materialise(self, spec, sl: slice) -> list:
        cal = self.calendar
        if isinstance(spec, np.ndarray):
            return spec[sl].tolist()
        if isinstance(spec, Lookup):
            return spec.table[spec.index[sl]].tolist()
        if isinstance(spec, Nullable):
            values = spec.values[sl]
            out = values.astype(object)
            out[values < 0] = None
            return out.tolist()
        if isinstance(spec, NullableStamp):
            days = spec.day[sl]
            null = days == NULL_DAY
            out = np.array(cal.stamps_of(np.where(null, 0, days), spec.second[sl]), dtype=object)
            out[null] = None
            return out.tolist()
        if isinstance(spec, Stamp):
            return cal.stamps_of(spec.day[sl], spec.second[sl])
        if isinstance(spec, Day):
            days = spec.day[sl]
            out = cal.date_table[cal.idx(np.maximum(days, -cal.PAD))]
            if spec.null_below is not None:
                out = out.copy()
                out[days < spec.null_below] = None
            return out.tolist()
        if isinstance(spec, list):
            return spec[sl]
        raise TypeError(f"unknown column specification {type(spec).__name__}")

    def write(self, model: type[Model], columns: dict[str, Any], n: int) -> None:
        names = [connection.ops.quote_name(name) for name in columns]
        table = connection.ops.quote_name(model._meta.db_table)
        self._write(table, names, list(columns.values()), n)

    def _chunks(self, specs: list, n: int):
        for start in range(0, n, self.CHUNK):
            sl = slice(start, min(n, start + self.CHUNK))
            cache: dict[int, list] = {}
            cols = []
            for spec in specs:
                if isinstance(spec, Const):
                    cols.append(spec)
                    continue
                key = id(spec)
                if key not in cache:
                    cache[key] = self.materialise(spec, sl)
                cols.append(cache[key])
            yield sl.stop - sl.start, cols


class _SQLiteWriter(_Writer):
    def __init__(self, calendar: _Calendar) -> None:
        super().__init__(calendar)
        import sqlite3

        # SQLITE_MAX_VARIABLE_NUMBER is 32766 since SQLite 3.32, 999 before.
        self.max_params = 32766 if sqlite3.sqlite_version_info >= (3, 32) else 999

    @staticmethod
    def literal(value) -> str:
        if value is None:
            return "NULL"
        if isinstance(value, bool):
            return "1" if value else "0"
        if isinstance(value, int):
            return str(value)
        return "'" + str(value).replace("'", "''") + "'"

    def _write(self, table: str, names: list[str], specs: list, n: int) -> None:
        # One ?NNN parameter per distinct non-constant column (created_at and updated_at
        # share one), constants inline, up to 500 rows per statement.
        distinct: dict[int, int] = {}
        for spec in specs:
            if not isinstance(spec, Const) and id(spec) not in distinct:
                distinct[id(spec)] = len(distinct)
        width_row = len(distinct) or 1
        per_statement = max(1, min(500, n, self.max_params // width_row))

        def rows_sql(count: int) -> str:
            parts = []
            for r in range(count):
                offset = r * width_row + 1
                parts.append(
                    "("
                    + ", ".join(
                        self.literal(s.value)
                        if isinstance(s, Const)
                        else f"?{offset + distinct[id(s)]}"
                        for s in specs
                    )
                    + ")"
                )
            return ", ".join(parts)

        head = f"INSERT INTO {table} ({', '.join(names)}) VALUES "
        full_sql = head + rows_sql(per_statement)
        width = width_row * per_statement
        cursor = self.raw.cursor()
        try:
            for count, cols in self._chunks(specs, n):
                seen: set[int] = set()
                values = []
                for spec, col in zip(specs, cols, strict=True):
                    if not isinstance(spec, Const) and id(spec) not in seen:
                        seen.add(id(spec))
                        values.append(col)
                flat = list(itertools.chain.from_iterable(zip(*values, strict=True)))
                whole = count // per_statement * width
                if whole:
                    cursor.executemany(
                        full_sql, (flat[i : i + width] for i in range(0, whole, width))
                    )
                if whole < len(flat):
                    cursor.execute(head + rows_sql((len(flat) - whole) // width_row), flat[whole:])
        finally:
            cursor.close()


class _PostgresWriter(_Writer):
    def _write(self, table: str, names: list[str], specs: list, n: int) -> None:
        sql = f"COPY {table} ({', '.join(names)}) FROM STDIN"
        with self.raw.cursor() as cursor, cursor.copy(sql) as copy:
            for count, cols in self._chunks(specs, n):
                values = [
                    itertools.repeat(c.value, count) if isinstance(c, Const) else c for c in cols
                ]
                for row in zip(*values, strict=True):
                    copy.write_row(row)


# --- deferring indexes and constraints during a big load -------------------------------------


class _Deferral:
    """Drops a table's secondary indexes (PostgreSQL: and foreign keys) before a big load
    and makes them again after it, in the same transaction.

    Building an index from all rows at once is much cheaper than maintaining it row by
    row; on PostgreSQL a foreign key added after the load is checked by one join instead
    of one deferred trigger per row (and pending trigger events would forbid the
    ``CREATE INDEX``). Definitions are read from the catalogue, so none is forgotten.
    """

    def __init__(self) -> None:
        self.indexes: list[tuple[str, str]] = []  # (table, CREATE INDEX …)
        self.foreign_keys: list[tuple[str, str]] = []  # (table, ALTER TABLE … ADD CONSTRAINT …)

    def drop(self, model: type[Model]) -> None:
        table = model._meta.db_table
        qn = connection.ops.quote_name
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute(
                    "SELECT name, sql FROM sqlite_master "
                    "WHERE type = 'index' AND tbl_name = %s AND sql IS NOT NULL",
                    [table],
                )
                indexes = cursor.fetchall()
            else:
                # Indexes that back a constraint (primary key, unique) stay.
                cursor.execute(
                    "SELECT i.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x "
                    "JOIN pg_class i ON i.oid = x.indexrelid "
                    "WHERE x.indrelid = %s::regclass AND NOT x.indisprimary "
                    "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)",
                    [qn(table)],
                )
                indexes = cursor.fetchall()
                cursor.execute(
                    "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE conrelid = %s::regclass AND contype = 'f'",
                    [qn(table)],
                )
                for name, definition in cursor.fetchall():
                    cursor.execute(f"ALTER TABLE {qn(table)} DROP CONSTRAINT {qn(name)}")
                    self.foreign_keys.append(
                        (table, f"ALTER TABLE {qn(table)} ADD CONSTRAINT {qn(name)} {definition}")
                    )
            for name, create in indexes:
                cursor.execute(f"DROP INDEX {qn(name)}")
                self.indexes.append((table, create))

    def restore(self, timings: dict[str, float]) -> None:
        with connection.cursor() as cursor:
            for kind, items in (("indexes", self.indexes), ("foreign keys", self.foreign_keys)):
                for table, sql in items:
                    started = time.perf_counter()
                    cursor.execute(sql)
                    key = f"{kind} {table}"
                    timings[key] = timings.get(key, 0.0) + time.perf_counter() - started
        self.indexes, self.foreign_keys = [], []


# --- helpers -----------------------------------------------------------------------------------


def _ascii_slug(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "", text)


def _weighted(rng: np.random.Generator, weights, n: int) -> np.ndarray:
    p = np.asarray(weights, dtype=np.float64)
    return rng.choice(len(p), size=n, p=p / p.sum())


def _pick(rng: np.random.Generator, choices: list[str], n: int) -> Lookup:
    return Lookup(np.array(choices, dtype=object), rng.integers(0, len(choices), n))


def _columns(model: type[Model], values: dict[str, Any]) -> dict[str, Any]:
    """Map field names to column names and fill every other column from the model.

    A field not given here gets its constant default, or NULL if it may be NULL; a
    field with neither stops the generator (a new model field it does not know).
    """
    out: dict[str, Any] = {}
    given = set(values)
    for f in model._meta.concrete_fields:
        if f.name in given:
            out[f.column] = values[f.name]
        elif getattr(f, "db_default", NOT_PROVIDED) is not NOT_PROVIDED:
            continue  # the database fills it
        elif f.has_default():
            default = f.get_default()
            out[f.column] = Const(f.get_db_prep_save(default, connection))
        elif f.null:
            continue
        else:
            raise GenerateError(
                f"{model.__name__}.{f.name} has no default and demo/generate.py does not fill it; "
                "teach the generator about it."
            )
    unknown = given - {f.name for f in model._meta.concrete_fields}
    if unknown:
        raise GenerateError(f"{model.__name__} has no field(s) {sorted(unknown)}")
    return out


def _max_id(model: type[Model]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT MAX({connection.ops.quote_name(model._meta.pk.column)}) "
            f"FROM {connection.ops.quote_name(model._meta.db_table)}"
        )
        return int(cursor.fetchone()[0] or 0)


def _group_starts(counts: np.ndarray) -> np.ndarray:
    return np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)


def _lognormal_cents(rng, median_euros: float, sigma: float, n: int, minimum: int = 100):
    cents = np.rint(rng.lognormal(np.log(median_euros * 100), sigma, n)).astype(np.int64)
    return np.maximum(cents, minimum)


def _vat_numbers(rng: np.random.Generator, n: int) -> list[str]:
    """Dutch VAT numbers NL#########B01 whose first nine digits pass the 11-test."""
    digits = rng.integers(0, 10, (n, 9))
    digits[:, 0] = rng.integers(1, 10, n)
    weights = np.arange(9, 1, -1)
    check = (digits[:, :8] * weights).sum(axis=1) % 11
    digits[:, 8] = np.where(check == 10, 0, check)
    ok = check != 10
    joined = ["".join(map(str, row)) for row in digits.tolist()]
    return [f"NL{d}B01" if good else "" for d, good in zip(joined, ok.tolist(), strict=True)]


# --- the generator ---------------------------------------------------------------------------


class _Generator:
    def __init__(self, options: GenerateOptions, *, actor, log: Callable[[str], None]) -> None:
        self.o = options.resolved()
        self.actor = actor
        self.log = log
        self.postgres = connection.vendor == "postgresql"
        if connection.vendor not in {"sqlite", "postgresql"}:
            raise GenerateError(
                f"The generator supports SQLite and PostgreSQL, not {connection.vendor}."
            )
        self.cal = _Calendar(self.o.today, postgres=self.postgres)
        streams = np.random.SeedSequence(self.o.seed).spawn(10)
        self.rng = dict(
            zip(
                [
                    "users",
                    "accounts",
                    "orders",
                    "credits",
                    "lines",
                    "contacts",
                    "interactions",
                    "tasks",
                    "costs",
                    "names",
                ],
                [np.random.default_rng(s) for s in streams],
                strict=True,
            )
        )
        self.result = GenerateResult()
        self.writer = _PostgresWriter(self.cal) if self.postgres else _SQLiteWriter(self.cal)
        self.deferral = _Deferral()

    # -- bookkeeping
    def _timed_write(self, model, label: str, n: int, build_started: float, values: dict) -> None:
        built = time.perf_counter()
        if n:
            defer = self.o.defer_indexes
            if defer is None:  # worth it when the load is big and bigger than the table
                defer = n >= 50_000 and n > _max_id(model)
            if defer:
                self.deferral.drop(model)
            self.writer.write(model, _columns(model, values), n)
        done = time.perf_counter()
        self.result.timings.append((label, n, built - build_started, done - built))
        self.result.counts[label] = self.result.counts.get(label, 0) + n
        self.log(
            f"  {label}: {n:,} rows ({built - build_started:.2f} s build, {done - built:.2f} s write)"
        )

    # -- the run
    def run(self) -> GenerateResult:
        o = self.o
        if o.accounts < 1 and o.orders > 0:
            raise GenerateError("Orders need accounts: give --accounts 1 or more.")
        with transaction.atomic():
            if self.postgres:
                self._lock_tables()
            self.base = {}
            managers = self._managers()
            groups, interests = self._lookups()
            plan = self._plan_accounts()
            orders = self._plan_orders(plan)
            self._write_accounts(plan, orders, managers, groups)
            self._write_orders(plan, orders)
            if o.lines:
                self._write_lines(orders)
            contacts = self._write_contacts(plan, interests)
            interactions = self._write_interactions(plan, contacts, orders)
            self._write_tasks(plan, interactions)
            self._write_costs(plan, orders)
            del orders
            timings = self.result.other_timings
            self.deferral.restore(timings)
            t = time.perf_counter()
            self._reset_sequences()
            timings["sequences"] = time.perf_counter() - t
            accounts_changed(plan["id"].tolist())
            from relatiebeheer.audit.services import audit_log

            audit_log(
                actor=self.actor,
                action="data.generate",
                extra={"seed": o.seed, "today": o.today.isoformat(), **self.result.counts},
            )
            t = time.perf_counter()
        self.result.other_timings["commit"] = time.perf_counter() - t
        t = time.perf_counter()
        self._analyze()
        self.result.other_timings["analyze"] = time.perf_counter() - t
        return self.result

    def _models(self):
        from relatiebeheer.relations.models import Account, Contact, Interaction, SearchToken, Task
        from relatiebeheer.sales.models import CostEntry, Order, OrderLine

        return [
            Account,
            SearchToken,
            Order,
            OrderLine,
            Contact,
            Contact.interests.through,
            Interaction,
            Interaction.contacts.through,
            Task,
            CostEntry,
        ]

    def _lock_tables(self) -> None:
        # Explicit ids are allocated from MAX(id): keep other writers out until commit.
        tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in self._models())
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {tables} IN EXCLUSIVE MODE")
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            cursor.execute("SET LOCAL synchronous_commit = off")

    def _reset_sequences(self) -> None:
        statements = connection.ops.sequence_reset_sql(no_style(), self._models())
        if statements:
            with connection.cursor() as cursor:
                for sql in statements:
                    cursor.execute(sql)

    def _analyze(self) -> None:
        with connection.cursor() as cursor:
            if self.postgres:
                # VACUUM too, outside a transaction: it marks the freshly loaded pages
                # all-visible, so index-only scans (the metric recompute's pass over the
                # orders) need not visit the table, as they would after autovacuum.
                command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
                for model in self._models():
                    table = connection.ops.quote_name(model._meta.db_table)
                    cursor.execute(f"{command} {table}")
            else:
                # Sampled statistics: a full ANALYZE reads every index of a 2M-row table.
                cursor.execute("PRAGMA analysis_limit = 2000")
                cursor.execute("ANALYZE")
                cursor.execute("PRAGMA analysis_limit = 0")
                cursor.execute("PRAGMA optimize")

    # -- small tables through the ORM
    def _managers(self) -> np.ndarray:
        """Account managers am001…amK (existing ones are reused); returns their ids."""
        from relatiebeheer.users.models import Role, User

        t = time.perf_counter()
        rng = self.rng["users"]
        k = self.o.managers
        names = [f"am{i:03d}" for i in range(1, k + 1)]
        existing = dict(User.objects.filter(username__in=names).values_list("username", "id"))
        firsts = rng.integers(0, len(FIRST_NAMES), k).tolist()
        lasts = rng.integers(0, len(LAST_NAMES), k).tolist()
        new = []
        for username, f, la in zip(names, firsts, lasts, strict=True):
            if username in existing:
                continue
            user = User(
                username=username,
                first_name=FIRST_NAMES[f],
                last_name=LAST_NAMES[la],
                email=f"{username}@example.com",
                role=Role.ACCOUNT_MANAGER,
            )
            user.set_unusable_password()
            new.append(user)
        User.objects.bulk_create(new, batch_size=500)
        ids = dict(User.objects.filter(username__in=names).values_list("username", "id"))
        self.result.timings.append(("users (managers)", len(new), 0.0, time.perf_counter() - t))
        self.result.counts["managers"] = len(new)
        return np.array([ids[u] for u in names], dtype=np.int64)

    def _lookups(self):
        from relatiebeheer.relations.models import BuyingGroup, Interest

        for name in BUYING_GROUPS:
            BuyingGroup.objects.get_or_create(name=name)
        for name in INTERESTS:
            Interest.objects.get_or_create(name=name)
        groups = dict(BuyingGroup.objects.filter(name__in=BUYING_GROUPS).values_list("name", "id"))
        interests = dict(Interest.objects.filter(name__in=INTERESTS).values_list("name", "id"))
        return (
            np.array([groups[n] for n in BUYING_GROUPS], dtype=np.int64),
            np.array([interests[n] for n in INTERESTS], dtype=np.int64),
        )

    # -- accounts: the plan every other table hangs off
    def _plan_accounts(self) -> dict[str, np.ndarray]:
        from relatiebeheer.relations.models import Account

        rng = self.rng["accounts"]
        a, span = self.o.accounts, self.cal.span
        base = _max_id(Account)
        # Long-tailed buying intensity; about 8 % never order (prospects).
        weight = rng.lognormal(0.0, 1.4, a)
        weight[rng.random(a) < 0.08] = 0.0
        if a and not weight.any():
            weight[0] = 1.0
        # The period each account buys in: most were customers before the window.
        long_standing = rng.random(a) < 0.55
        start = np.where(long_standing, 0, rng.integers(0, max(span - 14, 1), a))
        churned = rng.random(a) < 0.15
        end = np.where(
            churned, start + ((span - start) * rng.uniform(0.3, 0.9, a)).astype(np.int64), span
        )
        created = np.where(
            long_standing, -rng.integers(30, self.cal.PAD - 30, a), start - rng.integers(0, 60, a)
        )
        return {
            "id": base + 1 + np.arange(a, dtype=np.int64),
            "weight": weight,
            "start": start,
            "end": np.maximum(end, start),
            "created": created,
            "mean_value": rng.lognormal(np.log(600.0), 0.9, a),  # euros per order
            "margin": rng.uniform(0.12, 0.45, a),
        }

    def _plan_orders(self, plan) -> dict[str, np.ndarray]:
        from relatiebeheer.sales.models import Order

        rng = self.rng["orders"]
        cal, span = self.cal, self.cal.span
        m, a = self.o.orders, self.o.accounts
        credits = round(m * 0.01) if m >= 10 else 0
        regular = m - credits
        p = plan["weight"] / plan["weight"].sum() if a else np.zeros(0)
        counts = rng.multinomial(regular, p) if a else np.zeros(0, dtype=np.int64)
        acc = np.repeat(np.arange(a, dtype=np.int64), counts)
        start, end = plan["start"][acc], plan["end"][acc]
        day = start + (rng.random(regular) * (end - start + 1)).astype(np.int64)
        day = cal.workday(np.minimum(day, span))
        revenue = np.rint(plan["mean_value"][acc] * rng.lognormal(0.0, 0.6, regular) * 100).astype(
            np.int64
        )
        revenue = np.maximum(revenue, 500)
        margin = np.clip(plan["margin"][acc] + rng.normal(0.0, 0.04, regular), 0.10, 0.50)
        cost = np.rint(revenue * (1.0 - margin)).astype(np.int64)
        # Status by age: old orders are paid, recent ones still open or delivered.
        age = span - day
        u = rng.random(regular)
        status = np.full(regular, 2, dtype=np.int64)  # 0 open, 1 delivered, 2 paid, 3 cancelled
        old, mid, new = age > 60, (age > 14) & (age <= 60), age <= 14
        status[old & (u < 0.015)] = 1
        status[mid & (u < 0.38)] = 1
        status[mid & (u >= 0.38) & (u < 0.43)] = 0
        status[new & (u < 0.55)] = 0
        status[new & (u >= 0.55) & (u < 0.90)] = 1
        status[u >= 0.98] = 3

        # Credit notes: ~1 %, each correcting one earlier, not cancelled order of the account.
        crng = self.rng["credits"]
        candidates = np.flatnonzero(status != 3)
        credits = min(credits, len(candidates))
        original = (
            np.sort(crng.choice(candidates, credits, replace=False))
            if credits
            else np.zeros(0, np.int64)
        )
        full = crng.random(credits) < 0.35
        fraction = np.where(full, 1.0, crng.uniform(0.05, 0.6, credits))
        c_revenue = -np.minimum(
            np.rint(revenue[original] * fraction).astype(np.int64), revenue[original]
        )
        c_cost = -np.minimum(np.rint(cost[original] * fraction).astype(np.int64), cost[original])
        c_day = np.minimum(day[original] + crng.integers(1, 46, credits), span)

        # All rows in date order (a credit note after what it corrects): ids follow time.
        all_day = np.concatenate((day, c_day))
        is_credit = np.concatenate((np.zeros(regular, bool), np.ones(credits, bool)))
        order = np.lexsort((is_credit, all_day))
        position = np.empty(m, dtype=np.int64)
        position[order] = np.arange(m)
        base = _max_id(Order)
        ids = base + 1 + np.arange(m, dtype=np.int64)
        credit_of_all = np.concatenate(
            (np.full(regular, -1, np.int64), base + 1 + position[original])
        )
        second = rng.integers(8 * 3600, 18 * 3600, m)
        return {
            "n": m,
            "regular": regular,
            "counts": counts,
            "acc": np.concatenate((acc, acc[original]))[order],
            "day": all_day[order],
            "id": ids,
            "revenue": np.concatenate((revenue, c_revenue))[order],
            "cost": np.concatenate((cost, c_cost))[order],
            "status": np.concatenate((status, np.full(credits, 2, np.int64)))[order],
            "credit_of": credit_of_all[order],
            "second": second,
        }

    def _write_accounts(self, plan, orders, managers, groups) -> None:
        from relatiebeheer.relations.models import Account

        t = time.perf_counter()
        rng = self.rng["accounts"]
        a = self.o.accounts
        span = self.cal.span
        # What the orders say: customer since the first order, key accounts by revenue.
        acc, day = orders["acc"], orders["day"]
        first = np.full(a, np.iinfo(np.int64).max)
        np.minimum.at(first, acc, day) if len(acc) else None
        has_orders = first <= span
        revenue = np.bincount(acc, weights=np.maximum(orders["revenue"], 0), minlength=a)
        status = np.where(has_orders, 1, 0)  # 0 prospect, 1 customer, 2 key account
        if has_orders.any():
            cutoff = np.quantile(revenue[has_orders], 0.98)
            status[has_orders & (revenue >= cutoff) & (revenue > 0)] = 2
        # Where and what.
        city = _weighted(rng, [c[1] for c in CITIES], a)
        industry = _weighted(rng, [i[1] for i in INDUSTRIES], a)
        low = np.array([c[2] for c in CITIES])[city]
        high = np.array([c[3] for c in CITIES])[city]
        pc_digits = low + (rng.random(a) * (high - low + 1)).astype(np.int64)
        letters = rng.integers(0, len(POSTCODE_LETTERS), (a, 2))
        kvk = rng.choice(90_000_000, a, replace=False) + 10_000_000 if a else np.zeros(0, np.int64)
        street = rng.integers(0, len(STREETS), a)
        house = rng.integers(1, 250, a)
        pattern = rng.integers(0, 10, a)
        surname = rng.integers(0, len(LAST_NAMES), a)
        surname2 = rng.integers(0, len(LAST_NAMES), a)
        word = rng.integers(0, 4, a)
        extra_word = rng.integers(0, len(NAME_WORDS), a)
        suffix = rng.integers(0, len(NAME_SUFFIXES), a)
        legal = rng.integers(0, len(LEGAL_FORMS), a)
        has_site = rng.random(a) < 0.75
        vat_mask = rng.random(a) < 0.7
        vats = _vat_numbers(rng, a)
        archived = (rng.random(a) < 0.02) & (status == 0) | (rng.random(a) < 0.005)
        unmanaged = rng.random(a) < 0.01
        manager = np.where(unmanaged, -1, managers[rng.integers(0, len(managers), a)])
        group = np.where(rng.random(a) < 0.12, groups[rng.integers(0, len(groups), a)], -1)
        branch = (rng.random(a) < 0.03) & (np.arange(a) > 0)
        parent_idx = (rng.random(a) * np.arange(a)).astype(np.int64)
        parent = np.where(branch, plan["id"][parent_idx], -1)
        agreed = rng.random(a) < 0.25
        margins = np.round(plan["margin"] * 100, 2)
        updated = plan["created"] + (rng.random(a) * (span - plan["created"])).astype(np.int64)
        created_s = rng.integers(8 * 3600, 18 * 3600, a)
        updated_s = rng.integers(8 * 3600, 18 * 3600, a)
        self.account_city = city
        self.account_manager = manager
        self.account_slug: list[str] = []

        names, cities, postcodes, streets, sites, search, kvks, margin_text = (
            [],
            [],
            [],
            [],
            [],
            [],
            [],
            [],
        )
        city_names = [c[0] for c in CITIES]
        cache: dict[str, str] = {}

        def normalised(text: str) -> str:
            value = cache.get(text)
            if value is None:
                value = cache[text] = normalise_search(text)
            return value

        for i in range(a):
            ind_words = INDUSTRIES[industry[i]][2]
            w = ind_words[word[i] % len(ind_words)]
            ln = LAST_NAMES[surname[i]]
            p = pattern[i]
            cap_ln = ln[0].upper() + ln[1:]
            if p <= 2:
                core = f"{cap_ln} {w}"
            elif p <= 5:
                core = f"{w} {ln}"
            elif p == 6:
                core = f"{cap_ln} & {LAST_NAMES[surname2[i]]}"
            elif p == 7:
                core = f"{w} {city_names[city[i]]}"
            else:
                core = f"{NAME_WORDS[extra_word[i]]} {NAME_SUFFIXES[suffix[i]]}"
            slug = _ascii_slug(core)
            lf = LEGAL_FORMS[legal[i]]
            name = f"{core} {lf}" if lf else core
            if parent[i] >= 0:
                name = f"{names[parent_idx[i]]} ({city_names[city[i]]})"
                slug = self.account_slug[parent_idx[i]]
            cname = city_names[city[i]]
            pc = (
                f"{pc_digits[i]} {POSTCODE_LETTERS[letters[i, 0]]}{POSTCODE_LETTERS[letters[i, 1]]}"
            )
            k = str(kvk[i])
            names.append(name)
            cities.append(cname)
            postcodes.append(pc)
            kvks.append(k)
            streets.append(f"{STREETS[street[i]]} {house[i]}")
            sites.append(f"https://www.{slug}.nl" if has_site[i] else "")
            # normalise_search(name, city, postal code, kvk), per part: the parts are
            # joined by single spaces either way, and names and cities repeat a lot.
            search.append(f"{normalised(name)} {normalised(cname)} {pc.lower()} {k}")
            margin_text.append(f"{margins[i]:.2f}" if agreed[i] else None)
            self.account_slug.append(slug)
        status_table = np.array(
            [
                Account.Status.PROSPECT.value,
                Account.Status.CUSTOMER.value,
                Account.Status.KEY_ACCOUNT.value,
            ],
            dtype=object,
        )
        industry_table = np.array([i[0] for i in INDUSTRIES], dtype=object)
        values = {
            "id": plan["id"],
            "version": Const(1),
            "created_at": Stamp(plan["created"], created_s),
            "updated_at": Stamp(updated, updated_s),
            "name": names,
            "kvk_number": kvks,
            "vat_number": [v if m else "" for v, m in zip(vats, vat_mask.tolist(), strict=True)],
            "industry": Lookup(industry_table, industry),
            "street": streets,
            "postal_code": postcodes,
            "city": cities,
            "country": Const("NL"),
            "website": sites,
            "status": Lookup(status_table, status),
            "manager": Nullable(manager),
            "parent": Nullable(parent),
            "buying_group": Nullable(group),
            "customer_since": Day(np.where(has_orders, first, NULL_DAY), null_below=-self.cal.PAD),
            "margin": margin_text,
            "notes": Const(""),
            "external_id": Const(""),
            "archived": (archived).tolist(),
            "search_text": search,
        }
        self._timed_write(Account, "accounts", a, t, values)

        # Search tokens: the words of search_text (relations.models.search_words).
        from relatiebeheer.relations.models import SearchToken

        t = time.perf_counter()
        split = re.compile(r"[^a-z0-9]+")
        token_accounts, tokens = [], []
        for account_id, text in zip(plan["id"].tolist(), search, strict=True):
            words = sorted({w[:40] for w in split.split(text) if w})
            token_accounts.extend([account_id] * len(words))
            tokens.extend(words)
        base = _max_id(SearchToken)
        m = len(tokens)
        self._timed_write(
            SearchToken,
            "search tokens",
            m,
            t,
            {
                "id": base + 1 + np.arange(m, dtype=np.int64),
                "account": np.array(token_accounts, dtype=np.int64),
                "token": tokens,
            },
        )

    def _write_orders(self, plan, orders) -> None:
        from relatiebeheer.sales.models import Order

        t = time.perf_counter()
        ids, day = orders["id"], orders["day"]
        years = self.cal.year[self.cal.idx(day)]
        numbers = [f"{y}-{i:07d}" for y, i in zip(years.tolist(), ids.tolist(), strict=True)]
        status_table = np.array(
            [
                Order.Status.OPEN.value,
                Order.Status.DELIVERED.value,
                Order.Status.PAID.value,
                Order.Status.CANCELLED.value,
            ],
            dtype=object,
        )
        stamp = Stamp(day, orders["second"])
        values = {
            "id": ids,
            "version": Const(1),
            "created_at": stamp,
            "updated_at": stamp,
            "account": plan["id"][orders["acc"]],
            "date": Day(day),
            "number": numbers,
            "external_id": Const(""),
            "status": Lookup(status_table, orders["status"]),
            "revenue": orders["revenue"],
            "cost_of_goods": orders["cost"],
            "vat_rate": Const("21.00"),
            "credit_of": Nullable(orders["credit_of"]),
            "notes": Const(""),
        }
        self._timed_write(Order, "orders", orders["n"], t, values)

    def _write_lines(self, orders) -> None:
        from relatiebeheer.sales.models import OrderLine

        t = time.perf_counter()
        rng = self.rng["lines"]
        regular = np.flatnonzero(orders["credit_of"] < 0)
        n_lines = np.minimum(1 + rng.poisson(1.5, len(regular)), 6)
        total = int(n_lines.sum())
        owner = np.repeat(regular, n_lines)
        starts = _group_starts(n_lines)
        # Split each order's amounts over its lines so that they add up exactly.
        share = rng.random(total) + 0.2
        cum = np.cumsum(share)
        group_end = np.repeat(cum[starts + n_lines - 1], n_lines)
        group_begin = np.repeat(np.concatenate(([0.0], cum))[starts], n_lines)
        upto = (cum - group_begin) / (group_end - group_begin)
        last = np.zeros(total, bool)
        last[starts + n_lines - 1] = True
        upto[last] = 1.0
        before = np.concatenate(([0.0], upto[:-1]))
        before[starts] = 0.0

        def split(amounts):
            amount = amounts[owner]
            return np.floor(amount * upto).astype(np.int64) - np.floor(amount * before).astype(
                np.int64
            )

        product = rng.integers(0, len(PRODUCTS), total)
        prices = np.array([p[2] for p in PRODUCTS])[product] * 100
        line_revenue = split(orders["revenue"])
        quantity = np.maximum(1, np.rint(line_revenue / prices)).astype(np.int64)
        base = _max_id(OrderLine)
        values = {
            "id": base + 1 + np.arange(total, dtype=np.int64),
            "order": orders["id"][owner],
            "product": Lookup(np.array([p[0] for p in PRODUCTS], dtype=object), product),
            "category": Lookup(np.array([p[1] for p in PRODUCTS], dtype=object), product),
            "quantity": quantity,
            "revenue": line_revenue,
            "cost": split(orders["cost"]),
        }
        self._timed_write(OrderLine, "order lines", total, t, values)

    def _write_contacts(self, plan, interests) -> dict[str, np.ndarray]:
        from relatiebeheer.relations.models import Contact

        t = time.perf_counter()
        rng = self.rng["contacts"]
        a = self.o.accounts
        lo, hi = self.o.contacts_per_account
        per = rng.integers(lo, hi + 1, a) if a else np.zeros(0, np.int64)
        n = int(per.sum())
        acc = np.repeat(np.arange(a, dtype=np.int64), per)
        first = rng.integers(0, len(FIRST_NAMES), n)
        last = rng.integers(0, len(LAST_NAMES), n)
        kind = rng.random(n)
        mobile = rng.integers(10_000_000, 60_000_000, n)
        local = rng.integers(2_000_000, 9_999_999, n)
        area = np.array([c[4] for c in CITIES], dtype=object)[self.account_city[acc]] if a else []
        first_slugs = [_ascii_slug(x) for x in FIRST_NAMES]
        last_slugs = [_ascii_slug(x) for x in LAST_NAMES]
        emails, phones = [], []
        slugs = self.account_slug
        acc_l, first_l, last_l, kind_l = acc.tolist(), first.tolist(), last.tolist(), kind.tolist()
        mobile_l, local_l = mobile.tolist(), local.tolist()
        area_l = list(area)
        for j in range(n):
            k = kind_l[j]
            emails.append(
                f"{first_slugs[first_l[j]]}.{last_slugs[last_l[j]]}@{slugs[acc_l[j]]}.nl"
                if k < 0.9
                else ""
            )
            if k < 0.55:
                phones.append(f"+316{mobile_l[j]}")
            elif k < 0.85:
                code = area_l[j]
                phones.append(f"+31{code}{str(local_l[j])[: 9 - len(code)]}")
            else:
                phones.append("")
        base = _max_id(Contact)
        ids = base + 1 + np.arange(n, dtype=np.int64)
        created = self._account_days(plan, acc) if a else np.zeros(0, np.int64)
        stamp = Stamp(created, rng.integers(8 * 3600, 18 * 3600, n))
        values = {
            "id": ids,
            "version": Const(1),
            "created_at": stamp,
            "updated_at": stamp,
            "account": plan["id"][acc],
            "first_name": Lookup(np.array(FIRST_NAMES, dtype=object), first),
            "last_name": Lookup(np.array(LAST_NAMES, dtype=object), last),
            "role": _pick(rng, CONTACT_ROLES, n),
            "email": emails,
            "phone": phones,
            "language": Lookup(
                np.array(["nl", "en"], dtype=object), (rng.random(n) < 0.08).astype(np.int64)
            ),
            "external_id": Const(""),
            "notes": Const(""),
        }
        self._timed_write(Contact, "contacts", n, t, values)

        # Personal interests (social binding) for about 30 % of contacts.
        t = time.perf_counter()
        through = Contact.interests.through
        who = np.flatnonzero(rng.random(n) < 0.3)
        two = rng.random(len(who)) < 0.4
        k = len(interests)
        i1 = rng.integers(0, k, len(who))
        i2 = (i1 + 1 + rng.integers(0, k - 1, len(who))) % k
        contact_ids = np.concatenate((ids[who], ids[who][two]))
        interest_ids = np.concatenate((interests[i1], interests[i2][two]))
        base = _max_id(through)
        m = len(contact_ids)
        self._timed_write(
            through,
            "contact interests",
            m,
            t,
            {
                "id": base + 1 + np.arange(m, dtype=np.int64),
                "contact": contact_ids,
                "interest": interest_ids,
            },
        )
        return {"ids": ids, "first": _group_starts(per), "per": per}

    def _account_days(self, plan, acc) -> np.ndarray:
        return np.maximum(plan["created"][acc], -self.cal.PAD + 1)

    def _activity_accounts(self, rng, plan, orders, n) -> np.ndarray:
        """Accounts for contact moments, tasks and costs: busier accounts get more."""
        counts = orders["counts"].astype(np.float64)
        weight = 0.3 + np.sqrt(counts)
        return _weighted(rng, weight, n) if len(weight) else np.zeros(0, np.int64)

    def _days_in_window(self, rng, plan, acc) -> np.ndarray:
        start = np.maximum(plan["start"][acc] - 30, 0)
        end = np.maximum(plan["end"][acc], start)
        return start + (rng.random(len(acc)) * (end - start + 1)).astype(np.int64)

    def _write_interactions(self, plan, contacts, orders) -> dict[str, np.ndarray]:
        from relatiebeheer.relations.models import Interaction

        t = time.perf_counter()
        rng = self.rng["interactions"]
        n = self.o.interactions if self.o.accounts else 0
        acc = self._activity_accounts(rng, plan, orders, n)
        day = self.cal.workday(np.minimum(self._days_in_window(rng, plan, acc), self.cal.span))
        channels = ["phone", "email", "visit", "video", "chat", "event"]
        channel = _weighted(rng, [40, 25, 15, 10, 5, 5], n)
        kinds = ["question", "looked_into", "proactive", "service", "complaint", "sales", "event"]
        kind = _weighted(rng, [30, 14, 20, 15, 7, 14, 0.0001], n)
        kind = np.where(channel == 5, 6, kind)  # events are events
        inbound_kind = np.isin(kind, [0, 3, 4])
        inbound = np.where(inbound_kind, rng.random(n) < 0.8, rng.random(n) < 0.15)
        duration_by_channel = np.array([10, 5, 75, 30, 5, 150])
        duration = np.maximum(
            1, np.rint(duration_by_channel[channel] * rng.lognormal(0, 0.4, n))
        ).astype(np.int64)
        # Satisfaction readings for ~55 %; complaints read lower.
        u = rng.random(n)
        reading = np.select([u < 0.30, u < 0.75, u < 0.93], [4, 3, 2], 1)
        reading = np.where(kind == 4, np.maximum(1, reading - 1), reading)
        reading = np.where(rng.random(n) < 0.55, reading, -1)
        subject_list, offsets = [], []
        for k in kinds:
            offsets.append(len(subject_list))
            subject_list.extend(SUBJECTS[k])
        sizes = np.array([len(SUBJECTS[k]) for k in kinds])
        subject = np.array(offsets)[kind] + (rng.random(n) * sizes[kind]).astype(np.int64)
        order = np.lexsort((acc, day))  # ids in time order
        acc, day, channel, kind = acc[order], day[order], channel[order], kind[order]
        inbound, duration, reading, subject = (
            inbound[order],
            duration[order],
            reading[order],
            subject[order],
        )
        base = _max_id(Interaction)
        ids = base + 1 + np.arange(n, dtype=np.int64)
        stamp = Stamp(day, rng.integers(8 * 3600 + 1800, 17 * 3600 + 1800, n))
        values = {
            "id": ids,
            "version": Const(1),
            "created_at": stamp,
            "updated_at": stamp,
            "account": plan["id"][acc] if n else np.zeros(0, np.int64),
            "user": Nullable(self.account_manager[acc] if n else np.zeros(0, np.int64)),
            "occurred_at": stamp,
            "duration_minutes": duration,
            "channel": Lookup(np.array(channels, dtype=object), channel),
            "kind": Lookup(np.array(kinds, dtype=object), kind),
            "direction": Lookup(
                np.array(["outbound", "inbound"], dtype=object), inbound.astype(np.int64)
            ),
            "subject": Lookup(np.array(subject_list, dtype=object), subject),
            "notes": Const(""),
            "satisfaction": Nullable(reading),
        }
        self._timed_write(Interaction, "interactions", n, t, values)

        # The contact(s) spoken to, for about 65 % of contact moments.
        t = time.perf_counter()
        through = Interaction.contacts.through
        per = contacts["per"][acc] if n else np.zeros(0, np.int64)
        who = np.flatnonzero((rng.random(n) < 0.65) & (per > 0))
        pick = contacts["first"][acc[who]] + (rng.random(len(who)) * per[who]).astype(np.int64)
        m = len(who)
        base = _max_id(through)
        self._timed_write(
            through,
            "interaction contacts",
            m,
            t,
            {
                "id": base + 1 + np.arange(m, dtype=np.int64),
                "interaction": ids[who],
                "contact": contacts["ids"][pick],
            },
        )
        return {"ids": ids, "acc": acc, "day": day}

    def _write_tasks(self, plan, interactions) -> None:
        from relatiebeheer.relations.models import Task

        t = time.perf_counter()
        rng = self.rng["tasks"]
        n = self.o.tasks if self.o.accounts else 0
        span = self.cal.span
        n_int = len(interactions["ids"])
        from_interaction = (rng.random(n) < 0.35) & (n_int > 0)
        src = rng.integers(0, max(n_int, 1), n)
        own_acc = _weighted(rng, np.ones(self.o.accounts), n) if n else np.zeros(0, np.int64)
        acc = np.where(from_interaction, interactions["acc"][src] if n_int else 0, own_acc)
        due = np.where(
            from_interaction,
            (interactions["day"][src] if n_int else 0) + rng.integers(3, 15, n),
            span + rng.integers(-120, 61, n),
        )
        due = np.minimum(due, span + self.cal.AFTER - 1)
        has_due = rng.random(n) < 0.92
        late = span - due
        u = rng.random(n)
        done = np.where(late > 7, u < 0.85, np.where(late >= 0, u < 0.5, u < 0.1))
        done_day = np.where(has_due, due, span - 30) + rng.integers(-5, 4, n)
        source = np.where(from_interaction, interactions["ids"][src] if n_int else -1, -1)
        manager = self.account_manager[acc] if n else np.zeros(0, np.int64)
        order = np.lexsort(
            (acc, np.where(from_interaction, interactions["day"][src] if n_int else 0, due - 14))
        )
        created_day = np.minimum(
            np.where(from_interaction, interactions["day"][src] if n_int else 0, due - 14), span
        )
        created_s = rng.integers(8 * 3600, 18 * 3600, n)
        created_stamp = Stamp(created_day[order], created_s[order])
        # Done after it was made (same day: later that day), and not after today.
        done_day = np.minimum(np.maximum(done_day, created_day), span)
        done_s = rng.integers(8 * 3600, 18 * 3600, n)
        done_s = np.where(done_day == created_day, np.minimum(created_s + 1800, 19 * 3600), done_s)
        done_day_n = np.where(done, done_day, NULL_DAY)[order]
        base = _max_id(Task)
        values = {
            "id": base + 1 + np.arange(n, dtype=np.int64),
            "version": Const(1),
            "created_at": created_stamp,
            "updated_at": created_stamp,
            "account": plan["id"][acc][order] if n else np.zeros(0, np.int64),
            "assignee": Nullable(manager[order]),
            "title": _pick(rng, TASK_TITLES, n),
            "description": Const(""),
            "due_date": Day(np.where(has_due, due, NULL_DAY)[order], null_below=-self.cal.PAD),
            "done": done[order].tolist(),
            "done_at": NullableStamp(done_day_n, done_s[order]),
            "source_interaction": Nullable(source[order]),
            "created_by": Nullable(manager[order]),
        }
        self._timed_write(Task, "tasks", n, t, values)

    def _write_costs(self, plan, orders) -> None:
        from relatiebeheer.sales.models import CostEntry

        t = time.perf_counter()
        rng = self.rng["costs"]
        n = self.o.costs if self.o.accounts else 0
        acc = self._activity_accounts(rng, plan, orders, n)
        day = self.cal.workday(np.minimum(self._days_in_window(rng, plan, acc), self.cal.span))
        categories = [
            "service",
            "campaign",
            "incentive",
            "gift_event",
            "account_management",
            "other",
        ]
        category = _weighted(rng, [30, 20, 10, 15, 20, 5], n)
        medians = np.array([60.0, 150.0, 400.0, 90.0, 250.0, 50.0])
        amount = np.maximum(
            100, np.rint(medians[category] * 100 * rng.lognormal(0, 0.7, n))
        ).astype(np.int64)
        desc_list, offsets = [], []
        for c in categories:
            offsets.append(len(desc_list))
            desc_list.extend(COST_DESCRIPTIONS[c])
        sizes = np.array([len(COST_DESCRIPTIONS[c]) for c in categories])
        desc = np.array(offsets)[category] + (rng.random(n) * sizes[category]).astype(np.int64)
        order = np.lexsort((acc, day))
        stamp = Stamp(day[order], rng.integers(8 * 3600, 18 * 3600, n))
        base = _max_id(CostEntry)
        values = {
            "id": base + 1 + np.arange(n, dtype=np.int64),
            "version": Const(1),
            "created_at": stamp,
            "updated_at": stamp,
            "account": plan["id"][acc][order] if n else np.zeros(0, np.int64),
            "date": Day(day[order]),
            "category": Lookup(np.array(categories, dtype=object), category[order]),
            "amount": amount[order],
            "description": Lookup(np.array(desc_list, dtype=object), desc[order]),
            "external_id": Const(""),
        }
        self._timed_write(CostEntry, "cost entries", n, t, values)


# --- entry points ------------------------------------------------------------------------------


def database_is_empty() -> bool:
    from relatiebeheer.relations.models import Account

    return not Account.objects.exists()


@contextlib.contextmanager
def _load_settings(timings: dict[str, float]):
    """SQLite, outside a transaction: load with fewer safety nets, restored afterwards.

    For the duration of the load only: no fsync (``synchronous=OFF``; a crash mid-load
    loses the load, which is one transaction anyway), a 512 MiB page cache, two sorter
    threads for building indexes, and foreign keys not checked row by row (the generator
    makes every reference from ids it has just written; the tests run
    ``PRAGMA foreign_key_check`` on its output). Afterwards the WAL is checkpointed and
    truncated so the next reader does not wade through a WAL as large as the data.
    Inside a caller's transaction (tests) nothing is changed.
    """
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        yield
        return
    with connection.cursor() as cursor:
        saved = {}
        for pragma in ("synchronous", "cache_size", "threads"):
            cursor.execute(f"PRAGMA {pragma}")
            saved[pragma] = int(cursor.fetchone()[0])
        cursor.execute("PRAGMA synchronous = OFF")
        cursor.execute("PRAGMA cache_size = -524288")  # 512 MiB
        cursor.execute("PRAGMA threads = 2")
    fk_disabled = connection.disable_constraint_checking()
    try:
        yield
    finally:
        if fk_disabled:
            connection.enable_constraint_checking()
        with connection.cursor() as cursor:
            for pragma, value in saved.items():
                cursor.execute(f"PRAGMA {pragma} = {value}")
            started = time.perf_counter()
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            timings["checkpoint"] = time.perf_counter() - started


@writer(bulk=True)
def generate(
    options: GenerateOptions, *, actor: User, log: Callable[[str], None] | None = None
) -> GenerateResult:
    """Write a generated data set in one transaction; returns counts and timings.

    A bulk writer: one audit row (``data.generate``) for ``actor`` with the counts, and
    the "accounts changed" hook with the new accounts (a large book gets one whole-book
    recompute after the commit, a small one its marks). Raises
    :class:`GenerateError` (nothing written) when the options cannot be honoured.
    """
    if options.accounts < 0 or options.orders < 0:
        raise GenerateError("Counts cannot be negative.")
    lo, hi = options.contacts_per_account
    if lo < 0 or hi < lo:
        raise GenerateError("Contacts per account: give N or MIN-MAX with 0 <= MIN <= MAX.")
    if options.managers is not None and options.managers < 1:
        raise GenerateError("There must be at least one account manager.")
    generator = _Generator(options, actor=actor, log=log or (lambda line: None))
    started = time.perf_counter()
    with _load_settings(generator.result.other_timings):
        result = generator.run()
    result.total_seconds = time.perf_counter() - started
    return result
