"""Reads of accounts and what hangs off them, always scoped to what the actor may see."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import F, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone

from relatiebeheer.common.errors import NotFound
from relatiebeheer.core.periods import last_12_months
from relatiebeheer.users.models import User

from .models import Account, ConsentRecord, Contact, Interaction, Task
from .rules import MERGE_FILLABLE, account_relations, merged_values

ACCOUNT_ORDERINGS = {
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "city": ("city", "name", "id"),
    "-city": ("-city", "-name", "-id"),
    "status": ("status", "name", "id"),
    "-status": ("-status", "name", "id"),
    "updated": ("updated_at", "id"),
    "-updated": ("-updated_at", "-id"),
}


@dataclass(frozen=True)
class AccountFilters:
    """The account list's filters; also what a saved selection stores."""

    q: str = ""
    manager_id: int | None = None
    status: str = ""
    industry: str = ""
    city: str = ""
    buying_group_id: int | None = None
    archived: bool = False
    ordering: str = "name"

    @classmethod
    def from_mapping(cls, data) -> AccountFilters:
        def as_int(value):
            try:
                number = int(value)
            except (TypeError, ValueError):
                return None
            return number if 0 < number < 2**53 else None

        return cls(
            q=str(data.get("q") or "")[:200],
            manager_id=as_int(data.get("manager")),
            status=str(data.get("status") or "")[:20],
            industry=str(data.get("industry") or "")[:100],
            city=str(data.get("city") or "")[:100],
            buying_group_id=as_int(data.get("buying_group")),
            archived=str(data.get("archived") or "").lower() in {"1", "true", "yes", "on"},
            ordering=str(data.get("ordering") or "name")
            if str(data.get("ordering") or "name") in ACCOUNT_ORDERINGS
            else "name",
        )

    def as_dict(self) -> dict:
        data = {
            "q": self.q,
            "manager": self.manager_id,
            "status": self.status,
            "industry": self.industry,
            "city": self.city,
            "buying_group": self.buying_group_id,
            "archived": "1" if self.archived else "",
            "ordering": self.ordering if self.ordering != "name" else "",
        }
        return {k: v for k, v in data.items() if v not in (None, "")}


def account_list(*, actor: User, filters: AccountFilters = AccountFilters()) -> QuerySet[Account]:
    """Accounts ``actor`` may see, filtered, searched and ordered for a list."""
    qs = Account.objects.visible_to(actor).filter(archived=filters.archived)
    if filters.q:
        qs = qs.search(filters.q)
    if filters.manager_id:
        qs = qs.filter(manager_id=filters.manager_id)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.industry:
        qs = qs.filter(industry=filters.industry)
    if filters.city:
        qs = qs.filter(city=filters.city)
    if filters.buying_group_id:
        qs = qs.filter(buying_group_id=filters.buying_group_id)
    return qs.select_related("manager").order_by(*ACCOUNT_ORDERINGS[filters.ordering])


def account_get(*, actor: User, pk: int, for_update: bool = False) -> Account:
    """One visible account, or :class:`NotFound` (also when it exists but is not visible)."""
    account = (
        Account.objects.visible_to(actor)
        .select_related("manager", "parent", "buying_group")
        .filter(pk=pk)
        .first()
    )
    if account is None:
        raise NotFound()
    return account


def _get(qs: QuerySet, pk: int):
    obj = qs.filter(pk=pk).first()
    if obj is None:
        raise NotFound()
    return obj


def contact_get(*, actor: User, pk: int) -> Contact:
    return _get(Contact.objects.visible_to(actor).select_related("account"), pk)


def interaction_get(*, actor: User, pk: int) -> Interaction:
    return _get(Interaction.objects.visible_to(actor).select_related("account", "user"), pk)


def task_get(*, actor: User, pk: int) -> Task:
    return _get(Task.objects.visible_to(actor).select_related("account", "assignee"), pk)


def contact_list(*, actor: User, account_id: int | None = None, q: str = "") -> QuerySet[Contact]:
    qs = Contact.objects.visible_to(actor).select_related("account").prefetch_related("interests")
    if account_id:
        qs = qs.filter(account_id=account_id)
    if q:
        for word in q.split():
            qs = qs.filter(
                Q(first_name__icontains=word)
                | Q(last_name__icontains=word)
                | Q(email__icontains=word)
            )
    return qs.order_by("last_name", "first_name", "id")


def interaction_list(*, actor: User, account_id: int | None = None) -> QuerySet[Interaction]:
    qs = (
        Interaction.objects.visible_to(actor)
        .select_related("account", "user")
        .prefetch_related("contacts")
    )
    if account_id:
        qs = qs.filter(account_id=account_id)
    return qs.order_by("-occurred_at", "-id")


def task_list(
    *,
    actor: User,
    account_id: int | None = None,
    assignee_id: int | None = None,
    done: bool | None = None,
):
    """Tasks, open and overdue first: by done, then due date (no date last), then id."""
    qs = Task.objects.visible_to(actor).select_related("account", "assignee")
    if account_id:
        qs = qs.filter(account_id=account_id)
    if assignee_id:
        qs = qs.filter(assignee_id=assignee_id)
    if done is not None:
        qs = qs.filter(done=done)

    return qs.order_by("done", F("due_date").asc(nulls_last=True), "id")


def revenue_last_12_months(account_ids: list[int], *, today=None) -> dict[int, Decimal]:
    """Net revenue (orders minus credit notes, cancelled excluded) per account."""
    from relatiebeheer.sales.models import Order

    start, end = last_12_months(today or timezone.localdate())
    rows = (
        Order.objects.filter(account_id__in=account_ids, date__gte=start, date__lte=end)
        .counting()
        .values("account_id")
        .annotate(total=Sum("revenue"))
    )
    result = {pk: Decimal("0.00") for pk in account_ids}
    result.update({row["account_id"]: row["total"] for row in rows})
    return result


def consent_state(contact_ids: list[int]) -> dict[int, dict[str, bool]]:
    """The current consent per contact and purpose (latest statement wins)."""
    state: dict[int, dict[str, bool]] = {pk: {} for pk in contact_ids}
    rows = ConsentRecord.objects.filter(contact_id__in=contact_ids).order_by(
        "contact_id", "purpose", "recorded_at", "id"
    )
    for row in rows.values("contact_id", "purpose", "granted"):
        state[row["contact_id"]][row["purpose"]] = row["granted"]
    return state


def contacts_with_consent(contacts: QuerySet[Contact], purpose: str) -> QuerySet[Contact]:
    """Narrow ``contacts`` to those whose latest statement for ``purpose`` is a grant.

    Set-based (one correlated subquery), so it works on a whole selection at once.
    """
    latest = ConsentRecord.objects.filter(contact=OuterRef("pk"), purpose=purpose).order_by(
        "-recorded_at", "-id"
    )
    return contacts.annotate(consent_granted=Subquery(latest.values("granted")[:1])).filter(
        consent_granted=True
    )


def merge_preview(*, keep: Account, other: Account) -> dict:
    """What merging ``other`` into ``keep`` would move (counts per kind of record) and
    which of ``keep``'s fields it fills (``services.account_merge`` does it)."""
    counts = {}
    for model, fk in account_relations():
        n = model._base_manager.filter(**{fk.name: other}).count()
        if n:
            counts[str(model._meta.verbose_name_plural)] = n
    values = merged_values(keep, other)
    filled = [
        str(field.verbose_name)
        for field in Account._meta.concrete_fields
        if field.name in MERGE_FILLABLE and field.name in values
    ]
    return {"counts": counts, "filled": filled}
