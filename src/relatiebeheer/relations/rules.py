"""The rules of accounts, contacts, contact moments and tasks — in one place, in two forms.

Every door that writes these records applies the rules from here: the row services
(``services.py``: web, API, CLI, admin) one record at a time in Python, the bulk writers
(``bulk.py``: what an import merges) a whole file at a time. Where a rule must run
set-based, its Polars form stands right beside its Python form and they share the
message; ``tests/test_domain_rules.py`` proves each pair gives the same answer.

Permission helpers live here too (not in ``services.py``), so that every public
function of a services or bulk module is a declared writer.

Messages are keyed by the codes an import report stores (see ``imports/messages.py``),
so a refusal reads the same whichever door it came through.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import polars as pl
from django.db import models
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from relatiebeheer.common.errors import InvalidInput, NotFound, PermissionRefused
from relatiebeheer.users.access import can_change_data, can_manage_portfolios
from relatiebeheer.users.models import Role, User

from .models import Account, Contact, Interaction, Task
from .validators import normalise_phone, normalise_vat

ACCOUNT_FIELDS = (
    "name",
    "kvk_number",
    "vat_number",
    "industry",
    "street",
    "postal_code",
    "city",
    "country",
    "website",
    "status",
    "manager",
    "parent",
    "buying_group",
    "customer_since",
    "margin",
    "notes",
    "external_id",
    "archived",
)
# Account fields that may be empty (NULL) rather than "".
ACCOUNT_NULLABLE = ("manager", "parent", "buying_group", "customer_since", "margin")
# Account text fields whose runs of white space become one space.
ACCOUNT_COLLAPSED = ("name", "city", "street", "postal_code", "industry")
CONTACT_FIELDS = (
    "account",
    "first_name",
    "last_name",
    "role",
    "email",
    "phone",
    "language",
    "external_id",
    "notes",
)
CONTACT_TEXT = ("first_name", "last_name", "role", "email", "phone", "notes", "external_id")
INTERACTION_FIELDS = (
    "occurred_at",
    "duration_minutes",
    "channel",
    "kind",
    "direction",
    "subject",
    "notes",
    "satisfaction",
    "user",
)
TASK_FIELDS = ("title", "description", "due_date", "assignee", "done")
MANAGER_ROLES = frozenset({Role.ACCOUNT_MANAGER, Role.SALES_MANAGER, Role.ADMIN})

MESSAGES: dict[str, Promise] = {
    "read_only": _("Your role may look but not change anything."),
    "not_a_manager": _("This user cannot manage accounts."),
    "manager_not_allowed": _("Only a sales manager can assign accounts to someone else."),
    "own_head_office": _("An account cannot be its own head office."),
    "contacts_elsewhere": _("Contacts must belong to this account."),
    "assignee_blind": _("This user cannot see the account."),
    "moment_elsewhere": _("The contact moment belongs to another account."),
    "merge_same": _("Choose two different accounts."),
}


def refusal(field: str, code: str) -> InvalidInput:
    """The refusal of ``field`` for the rule ``code``, in the user's language."""
    return InvalidInput({field: [str(MESSAGES[code])]})


# --- who may change what ------------------------------------------------------------------


def require_can_change(actor: User | None) -> None:
    if not can_change_data(actor):
        raise PermissionRefused(str(MESSAGES["read_only"]))


def require_account_writable(actor: User | None, account: Account) -> None:
    """Refuse changes by read-only users and to accounts outside the actor's view."""
    require_can_change(actor)
    if not Account.objects.visible_to(actor).filter(pk=account.pk).exists():
        raise NotFound()


# --- white space: one definition for Python and Polars --------------------------------------

# Unicode's White_Space characters, spelled out: Python's ``str.split()`` and the Rust
# regex engine under Polars disagree about a few control characters (\x1c-\x1f), so
# neither one's idea of "white space" is used.
WHITE_SPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
_RUNS = f"[{WHITE_SPACE}]+"


def collapse_spaces(value: str) -> str:
    """Runs of white space become one space; none at either end."""
    return re.sub(_RUNS, " ", value).strip(WHITE_SPACE)


def collapse_spaces_expr(expr: pl.Expr) -> pl.Expr:
    """:func:`collapse_spaces` on a column."""
    return expr.str.replace_all(_RUNS, " ").str.strip_chars(WHITE_SPACE)


def compact_kvk(value: str) -> str:
    """A KvK number without the spaces and dots people write in it."""
    return "".join(ch for ch in value if ch not in WHITE_SPACE and ch != ".")


def compact_kvk_expr(expr: pl.Expr) -> pl.Expr:
    return expr.str.replace_all(f"[{WHITE_SPACE}.]", "")


def search_key(expr: pl.Expr) -> pl.Expr:
    """The column form of ``common.text.normalise_search`` (lower case, no accents,
    single-spaced): how an account's ``search_text`` and look-alike keys are made."""
    return (
        expr.fill_null("")
        .str.normalize("NFKD")
        .str.replace_all(r"\p{M}", "")
        .str.to_lowercase()
        .str.replace_all(r"[^\w@.]+", " ")
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
    )


def account_search_text_expr(
    name: pl.Expr, city: pl.Expr, postal_code: pl.Expr, kvk: pl.Expr
) -> pl.Expr:
    """The column form of ``Account.refresh_search_text``."""
    return search_key(
        pl.concat_str([p.fill_null("") for p in (name, city, postal_code, kvk)], separator=" ")
    )


# --- accounts -------------------------------------------------------------------------------


def normalise_account(data: dict[str, Any]) -> dict[str, Any]:
    """Account values as stored: compact KvK and VAT numbers, single-spaced names and
    addresses, upper-case postal code and country, "" rather than ``None`` for text.
    The bulk form is :func:`normalise_account_columns`."""
    if data.get("kvk_number"):
        data["kvk_number"] = compact_kvk(str(data["kvk_number"]))
    if data.get("vat_number"):
        data["vat_number"] = normalise_vat(str(data["vat_number"]))
    for name in ACCOUNT_COLLAPSED:
        if isinstance(data.get(name), str):
            data[name] = collapse_spaces(data[name])
    if data.get("postal_code"):
        data["postal_code"] = data["postal_code"].upper()
    if data.get("country"):
        data["country"] = str(data["country"]).upper()
    for key in ACCOUNT_FIELDS:
        if key in data and data[key] is None and key not in ACCOUNT_NULLABLE:
            data[key] = ""
    return data


def normalise_account_columns(frame: pl.DataFrame, prefix: str = "f_") -> pl.DataFrame:
    """:func:`normalise_account` on the columns ``<prefix><field>`` a frame has (the
    import parses KvK, VAT and country numbers with their own column checks)."""
    exprs = []
    for name in ACCOUNT_COLLAPSED:
        col = f"{prefix}{name}"
        if col in frame.columns:
            expr = collapse_spaces_expr(pl.col(col))
            exprs.append((expr.str.to_uppercase() if name == "postal_code" else expr).alias(col))
    return frame.with_columns(exprs) if exprs else frame


def manager_problem(
    *,
    may_assign: bool,
    actor_id: int,
    manager_id: int | None,
    current_id: int | None,
    manager_is_manager: bool,
) -> str | None:
    """Account managers keep accounts in their own portfolio; only sales managers and
    administrators give an account to someone else — and only to someone who manages
    accounts. ``current_id`` is the manager the account has now (``None`` for a new
    account). The rule's code, or ``None`` when the change is allowed."""
    if manager_id != current_id and not may_assign and manager_id != actor_id:
        return "manager_not_allowed"
    if manager_id is not None and not manager_is_manager:
        return "not_a_manager"
    return None


def manager_problem_expr(
    *,
    may_assign: bool,
    actor_id: int,
    manager: pl.Expr,
    current: pl.Expr,
    manager_is_manager: pl.Expr,
) -> pl.Expr:
    """:func:`manager_problem` on columns (``current`` null for new accounts)."""
    moved = manager.ne_missing(current)
    refused = pl.lit(False) if may_assign else moved & manager.ne_missing(pl.lit(actor_id))
    return (
        pl.when(refused)
        .then(pl.lit("manager_not_allowed"))
        .when(manager.is_not_null() & ~manager_is_manager.fill_null(False))
        .then(pl.lit("not_a_manager"))
        .otherwise(pl.lit(None, pl.String))
    )


def default_manager(actor: User) -> User | None:
    """Who manages a new account nobody was named for: the account manager who made it
    (it lands in their portfolio); nobody when a sales manager made it."""
    return None if can_manage_portfolios(actor) else actor


def check_manager(actor: User, manager: User | None, *, current: User | None) -> None:
    problem = manager_problem(
        may_assign=can_manage_portfolios(actor),
        actor_id=actor.pk,
        manager_id=manager.pk if manager is not None else None,
        current_id=current.pk if current is not None else None,
        manager_is_manager=manager is not None and manager.role in MANAGER_ROLES,
    )
    if problem:
        raise refusal("manager", problem)


def check_parent(account: Account) -> None:
    """No chain of head offices leads back to the account itself."""
    parent = account.parent
    seen = {account.pk}
    while parent is not None:
        if parent.pk in seen:
            raise refusal("parent", "own_head_office")
        seen.add(parent.pk)
        parent = parent.parent


# Merging two accounts: which of the other's values the kept account takes.
MERGE_FILLABLE = (
    "kvk_number",
    "vat_number",
    "industry",
    "street",
    "postal_code",
    "city",
    "website",
    "margin",
)


def account_relations() -> Iterable[tuple[type[models.Model], models.ForeignKey]]:
    """Every foreign key and one-to-one field, in any app, that points at Account: what
    a merge moves from one account to the other. Hidden ones (``related_name="+"``) too:
    ``_meta.related_objects`` leaves them out, and their rows would silently go with the
    merged account (survey answers and rapport judgements once did)."""
    for rel in Account._meta.get_fields(include_hidden=True):
        if not rel.auto_created or rel.concrete or rel.many_to_many:
            continue
        yield rel.related_model, rel.field


_STATUS_RANK = {
    Account.Status.PROSPECT: 0,
    Account.Status.CUSTOMER: 1,
    Account.Status.KEY_ACCOUNT: 2,
}


def merged_values(keep: Account, other: Account) -> dict[str, Any]:
    """What ``keep`` takes from ``other`` in a merge: its empty fields are filled, the
    earliest "customer since" and the furthest status win, notes are joined, and the
    external id moves when ``keep`` has none."""
    values: dict[str, Any] = {}
    for name in MERGE_FILLABLE:
        if getattr(keep, name) in ("", None) and getattr(other, name) not in ("", None):
            values[name] = getattr(other, name)
    if other.customer_since and (
        keep.customer_since is None or other.customer_since < keep.customer_since
    ):
        values["customer_since"] = other.customer_since
    if other.notes:
        values["notes"] = f"{keep.notes}\n\n{other.notes}".strip()
    if other.external_id and not keep.external_id:
        values["external_id"] = other.external_id
    if _STATUS_RANK.get(other.status, 0) > _STATUS_RANK.get(keep.status, 0):
        values["status"] = other.status
    return values


# --- contacts -------------------------------------------------------------------------------


def normalise_contact(data: dict[str, Any]) -> dict[str, Any]:
    if data.get("phone"):
        data["phone"] = normalise_phone(str(data["phone"]))
    if isinstance(data.get("email"), str):
        data["email"] = data["email"].strip()
    for key in CONTACT_TEXT:
        if key in data and data[key] is None:
            data[key] = ""
    return data


def interest_names(names: Iterable[str]) -> list[str]:
    """Interests as stored: lower case, single-spaced, each once, sorted."""
    return sorted({collapse_spaces(n).lower() for n in names if n and collapse_spaces(n)})


def interest_names_expr(text: pl.Expr) -> pl.Expr:
    """:func:`interest_names` of a cell listing them with commas or semicolons, as the
    comma-joined text the import stages."""
    return (
        text.fill_null("")
        .str.replace_all(";", ",")
        .str.split(",")
        .list.eval(collapse_spaces_expr(pl.element()).str.to_lowercase())
        .list.eval(pl.element().filter(pl.element() != ""))
        .list.unique()
        .list.sort()
        .list.join(",")
    )


# --- contact moments and tasks ---------------------------------------------------------------


def check_contacts(account: Account, contacts: Iterable[Contact]) -> list[Contact]:
    """The contacts of a contact moment belong to its account."""
    found = list(contacts)
    if any(c.account_id != account.pk for c in found):
        raise refusal("contacts", "contacts_elsewhere")
    return found


def check_assignee(account: Account, assignee: User | None) -> None:
    """A task goes to someone who can see its account."""
    if assignee is None:
        return
    if not Account.objects.visible_to(assignee).filter(pk=account.pk).exists():
        raise refusal("assignee", "assignee_blind")


def check_source_interaction(account: Account, interaction: Interaction) -> None:
    if interaction.account_id != account.pk:
        raise refusal("source_interaction", "moment_elsewhere")


def task_done_fields(task: Task, changed: list[str]) -> list[str]:
    """A task marked done records when; marked open again, it forgets."""
    if "done" in changed:
        task.done_at = timezone.now() if task.done else None
        changed.append("done_at")
    return changed
