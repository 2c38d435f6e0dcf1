"""Each domain rule says the same in its two forms, and through both doors.

The rules of orders, credit notes, accounts and contacts live in ``sales/rules.py`` and
``relations/rules.py``; where a rule runs per row in Python (the row services) and on
whole columns in Polars or SQL (the import), both forms stand side by side there. Here:

* the Python and the column form give the same answer for any input (Hypothesis);
* a row service and an import refuse the same case with the same words, and write the
  same result when they accept it (tables of cases, on SQLite and PostgreSQL).
"""

from datetime import date
from decimal import Decimal

import polars as pl
import pytest
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from relatiebeheer.common.errors import InvalidInput
from relatiebeheer.common.text import normalise_search
from relatiebeheer.imports import services as imports
from relatiebeheer.imports.messages import describe
from relatiebeheer.imports.models import ImportJob
from relatiebeheer.relations import rules as relations_rules
from relatiebeheer.relations.models import Account
from relatiebeheer.relations.services import account_create
from relatiebeheer.sales import rules as sales_rules
from relatiebeheer.sales.models import Order
from relatiebeheer.sales.services import order_create

from .factories import AccountFactory, OrderFactory

# Text as people type it: Latin letters with accents, digits, punctuation and every kind
# of white space (the Unicode set the rules spell out, plus the controls they exclude).
TYPED = st.text(
    alphabet=st.sampled_from(
        list("aAbBzZéÉëïöüçñß019 .-'&/@_()")
        + list(relations_rules.WHITE_SPACE)
        + ["\x1c", "\x1f", "\u200b"]
    ),
    max_size=30,
)


def _column(values, expr_of, dtype=pl.String) -> list:
    frame = pl.DataFrame({"v": pl.Series(values, dtype=dtype)})
    return frame.select(expr_of(pl.col("v")).alias("out"))["out"].to_list()


# --- the two forms of each rule ------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(-(10**12), 10**12), st.booleans()), min_size=1))
def test_the_sign_rule_is_the_same_per_order_and_per_column(cases):
    frame = pl.DataFrame(
        {"cents": [c for c, _ in cases], "credit": [f for _, f in cases]},
        schema={"cents": pl.Int64, "credit": pl.Boolean},
    )
    column = frame.select(
        sales_rules.credit_sign_problem_expr(pl.col("cents"), is_credit_note=pl.col("credit"))
    ).to_series()
    for (cents, credit), found in zip(cases, column.to_list(), strict=True):
        euros = Decimal(cents) / 100
        assert sales_rules.credit_sign_problem(euros, is_credit_note=credit) == found


IDS = st.one_of(st.none(), st.integers(1, 3))


@settings(max_examples=60, deadline=None)
@given(
    st.booleans(),
    st.integers(1, 3),
    st.lists(st.tuples(IDS, IDS, st.booleans()), min_size=1, max_size=20),
)
def test_the_manager_rule_is_the_same_per_account_and_per_column(may_assign, actor_id, rows):
    frame = pl.DataFrame(
        {
            "manager": [m for m, _, _ in rows],
            "current": [c for _, c, _ in rows],
            "ok": [ok for _, _, ok in rows],
        },
        schema={"manager": pl.Int64, "current": pl.Int64, "ok": pl.Boolean},
    )
    column = frame.select(
        relations_rules.manager_problem_expr(
            may_assign=may_assign,
            actor_id=actor_id,
            manager=pl.col("manager"),
            current=pl.col("current"),
            manager_is_manager=pl.col("ok"),
        )
    ).to_series()
    for (manager, current, ok), found in zip(rows, column.to_list(), strict=True):
        assert (
            relations_rules.manager_problem(
                may_assign=may_assign,
                actor_id=actor_id,
                manager_id=manager,
                current_id=current,
                manager_is_manager=ok,
            )
            == found
        ), (manager, current, ok)


@settings(max_examples=100, deadline=None)
@given(st.lists(TYPED, min_size=1, max_size=10))
def test_white_space_and_kvk_numbers_are_normalised_alike(values):
    assert _column(values, relations_rules.collapse_spaces_expr) == [
        relations_rules.collapse_spaces(v) for v in values
    ]
    assert _column(values, relations_rules.compact_kvk_expr) == [
        relations_rules.compact_kvk(v) for v in values
    ]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(TYPED.filter(lambda t: "," not in t and ";" not in t), max_size=5)))
def test_interests_are_stored_alike_from_a_list_and_from_a_cell(cells):
    texts = [
        ", ".join(names[:2]) + (";" + ";".join(names[2:]) if names[2:] else "") for names in cells
    ]
    found = _column(texts, relations_rules.interest_names_expr)
    assert found == [",".join(relations_rules.interest_names(names)) for names in cells]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(TYPED, TYPED, TYPED, TYPED), min_size=1, max_size=10))
def test_an_accounts_search_text_is_the_same_from_the_model_and_the_import(rows):
    frame = pl.DataFrame(
        {k: [r[i] for r in rows] for i, k in enumerate(("name", "city", "postal", "kvk"))},
        schema={k: pl.String for k in ("name", "city", "postal", "kvk")},
    )
    column = frame.select(
        relations_rules.account_search_text_expr(
            pl.col("name"), pl.col("city"), pl.col("postal"), pl.col("kvk")
        )
    ).to_series()
    for (name, city, postal, kvk), found in zip(rows, column.to_list(), strict=True):
        account = Account(name=name, city=city, postal_code=postal, kvk_number=kvk)
        account.refresh_search_text()
        assert account.search_text == found
        assert normalise_search(name) == _column([name], relations_rules.search_key)[0]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(TYPED, TYPED, TYPED), min_size=1, max_size=10))
def test_account_values_are_normalised_alike(rows):
    frame = pl.DataFrame(
        {
            "f_name": [r[0] for r in rows],
            "f_postal_code": [r[1] for r in rows],
            "f_industry": [r[2] for r in rows],
        }
    )
    column = relations_rules.normalise_account_columns(frame).rows()
    for (name, postal, industry), found in zip(rows, column, strict=True):
        data = relations_rules.normalise_account(
            {"name": name, "postal_code": postal, "industry": industry}
        )
        assert (data["name"], data["postal_code"], data["industry"]) == found


# --- both doors: the row service and the import ---------------------------------------------


@pytest.fixture
def doors(owner):
    """``(row, imported)`` for a credit-note case: what the row service says and what
    the import's report or failure says, both in English (``None``: accepted)."""

    def row(account, data):
        with translation.override("en"):
            try:
                order_create(actor=owner, account=account, data=data)
            except InvalidInput as exc:
                return next(iter(exc.errors.values()))[0]
        return None

    def imported(content):
        with translation.override("en"):
            job = imports.import_job_create(
                actor=owner, kind="orders", source=content.encode(), filename="o.csv"
            )
            job = imports.import_job_start(actor=owner, job=job, commit=True, background=False)
            if job.status == ImportJob.Status.DONE:
                return None
            if job.status == ImportJob.Status.FAILED:
                return job.message
            return describe(job.issues.get().code)

    return row, imported


CREDIT_CASES = [
    # (what the note credits, its amount, the rule it breaks — None: accepted)
    ("O1", "-400.00", None),
    ("O1", "-1000.00", None),
    ("O1", "-1000.01", "credit_too_much"),
    ("O1", "12.00", "credit_positive"),
    ("", "-5.00", "negative_without_credit"),
    ("THEIRS", "-5.00", "credit_other_account"),
    ("C0", "-5.00", "credit_of_credit"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("credits", "amount", "rule"), CREDIT_CASES)
def test_credit_notes_are_refused_alike_by_both_doors(owner, doors, credits, amount, rule):
    row, imported = doors
    results = []
    for n in range(2):  # each door on an account of its own with the same orders
        account = AccountFactory(manager=owner, external_id=f"K{n}")
        original = OrderFactory(account=account, external_id=f"O1-{n}", number="O1")
        OrderFactory(
            account=account,
            number="C0",
            revenue=Decimal("-100.00"),
            cost_of_goods=Decimal("0.00"),
            credit_of=OrderFactory(account=account, number="O2"),
        )
        elsewhere = OrderFactory(account=AccountFactory(manager=owner), number="THEIRS")
        target = {"O1": original, "C0": Order.objects.get(account=account, number="C0")}
        target["THEIRS"] = elsewhere
        if n == 0:
            data = {"date": date(2026, 3, 2), "revenue": Decimal(amount), "number": "N"}
            if credits:
                data["credit_of"] = target[credits]
            results.append(row(account, data))
        else:
            ref = f"#{elsewhere.pk}" if credits == "THEIRS" else credits
            cents = amount.replace(".", ",")
            results.append(
                imported(
                    f"Order id;Klantnummer;Datum;Omzet;Credit van\nN;K1;2026-03-02;{cents};{ref}\n"
                )
            )
    with translation.override("en"):
        expected = str(sales_rules.MESSAGES[rule]) if rule else None
    assert results[0] == expected
    # A refused row is reported as such; an order credited too far fails the whole job.
    assert results[1] == expected or results[1].startswith(f"{expected} (orders ")


@pytest.mark.django_db
def test_lines_make_the_same_totals_through_both_doors(owner, doors):
    _row, imported = doors
    first, second = (AccountFactory(manager=owner, external_id=f"K{n}") for n in range(2))
    with translation.override("en"):
        order = order_create(
            actor=owner,
            account=first,
            data={"date": date(2026, 3, 2), "number": "L1"},
            lines=[
                {
                    "product": "Jas",
                    "quantity": Decimal("2"),
                    "revenue": Decimal("200.00"),
                    "cost": Decimal("120.00"),
                },
                {"product": "Sjaal", "revenue": Decimal("25.50"), "cost": Decimal("10.00")},
            ],
        )
    assert (
        imported(
            "Ordernummer;Klantnummer;Datum;Artikel;Aantal;Regelbedrag;Regelkostprijs\n"
            "L1;K1;2026-03-02;Jas;2;200,00;120,00\nL1;K1;2026-03-02;Sjaal;1;25,50;10,00\n"
        )
        is None
    )
    other = Order.objects.get(account=second, number="L1")
    assert (order.revenue, order.cost_of_goods) == (other.revenue, other.cost_of_goods)
    assert (order.revenue, order.cost_of_goods) == (Decimal("225.50"), Decimal("130.00"))
    assert sorted(order.lines.values_list("product", "quantity", "revenue", "cost")) == sorted(
        other.lines.values_list("product", "quantity", "revenue", "cost")
    )
    # Totals that disagree with the lines: refused by the service, not imported as given.
    with translation.override("en"), pytest.raises(InvalidInput) as refused:
        order_create(
            actor=owner,
            account=first,
            data={"date": date(2026, 3, 2), "revenue": Decimal("1.00")},
            lines=[{"product": "Jas", "revenue": Decimal("2.00")}],
        )
    with translation.override("en"):
        assert refused.value.errors == {"revenue": [str(sales_rules.MESSAGES["lines_revenue"])]}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "since", "ordered", "becomes"),
    [
        ("prospect", None, date(2026, 3, 2), ("customer", date(2026, 3, 2))),
        ("customer", date(2026, 5, 1), date(2026, 3, 2), ("customer", date(2026, 3, 2))),
        ("key_account", date(2025, 1, 1), date(2026, 3, 2), ("key_account", date(2025, 1, 1))),
    ],
)
def test_ordering_makes_a_customer_alike_through_both_doors(
    owner, doors, status, since, ordered, becomes
):
    row, imported = doors
    first, second = (
        AccountFactory(manager=owner, external_id=f"K{n}", status=status, customer_since=since)
        for n in range(2)
    )
    assert row(first, {"date": ordered, "revenue": Decimal("10.00"), "number": "P1"}) is None
    assert imported(f"Ordernummer;Klantnummer;Datum;Omzet\nP1;K1;{ordered};10,00\n") is None
    for account in (first, second):
        account.refresh_from_db()
        assert (account.status, account.customer_since) == becomes


@pytest.mark.django_db
def test_an_account_manager_cannot_give_an_account_away_through_either_door(owner, other_manager):
    with translation.override("en"), pytest.raises(InvalidInput) as refused:
        account_create(actor=owner, data={"name": "Ander", "manager": other_manager})
    job = imports.import_job_create(
        actor=owner,
        kind="accounts",
        source=f"Naam;Accountmanager\nAnder;{other_manager.username}\n".encode(),
        filename="a.csv",
    )
    job = imports.import_job_start(actor=owner, job=job, commit=True, background=False)
    with translation.override("en"):
        assert refused.value.errors["manager"] == [describe(job.issues.get().code)]
    assert not Account.objects.filter(name="Ander").exists()
    # Named for nobody, the new account lands in its maker's portfolio through both.
    with translation.override("en"):
        made = account_create(actor=owner, data={"name": "Eigen", "manager": None})
    job = imports.import_job_create(
        actor=owner, kind="accounts", source=b"Naam;Accountmanager\nEigen2;\n", filename="a.csv"
    )
    imports.import_job_start(actor=owner, job=job, commit=True, background=False)
    assert made.manager == owner == Account.objects.get(name="Eigen2").manager
