"""Dashboard and "my tasks"."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.shortcuts import render
from django.utils import timezone

from relatiebeheer.ops import selectors as ops
from relatiebeheer.relations import selectors as relations
from relatiebeheer.relations.models import Account, Interaction, Task
from relatiebeheer.sales import selectors as sales
from relatiebeheer.users.access import sees_all_accounts
from relatiebeheer.web.panels import dashboard_cards


@login_required
def dashboard(request):
    """My accounts, my open and overdue tasks, recent contact moments, revenue per month.

    An account manager sees their own portfolio; a sales manager or reader sees everyone's.
    An administrator is warned when no worker was seen for ``WORKER_SILENT_AFTER`` seconds.
    """
    user, today = request.user, timezone.localdate()
    mine_only = not sees_all_accounts(user)
    accounts = Account.objects.visible_to(user).filter(archived=False)
    if mine_only:
        accounts = accounts.filter(manager=user)
    account_counts = accounts.aggregate(
        total=Count("id"), key=Count("id", filter=Q(status=Account.Status.KEY_ACCOUNT))
    )
    tasks = relations.task_list(actor=user, done=False)
    if mine_only:
        tasks = tasks.filter(assignee=user)
    task_counts = tasks.order_by().aggregate(
        open=Count("id"), overdue=Count("id", filter=Q(due_date__lt=today))
    )
    months = sales.revenue_by_month(actor=user, manager=user if mine_only else None, today=today)
    recent = Interaction.objects.visible_to(user).select_related("account", "user")
    if mine_only:
        recent = recent.filter(account__manager=user)
    context = {
        "account_counts": account_counts,
        "task_counts": task_counts,
        "tasks": list(tasks[:8]),
        "recent": list(recent.order_by("-occurred_at", "-id")[:8]),
        "months": months,
        "revenue_12m": sum((total for _month, total in months), start=0),
        "chart": {
            "labels": [month.isoformat() for month, _total in months],
            "values": [str(total) for _month, total in months],
        },
        "mine_only": mine_only,
        "today": today,
        "cards": [(card, card.load(request)) for card in dashboard_cards()],
        "worker_warning": ops.worker_warning(actor=user),
    }
    return render(request, "web/dashboard.html", context)


@login_required
def my_tasks(request):
    """The user's open tasks, overdue first (then by due date), and recently done ones."""
    today = timezone.localdate()
    open_tasks = list(
        relations.task_list(actor=request.user, assignee_id=request.user.pk, done=False)[:200]
    )
    open_tasks.sort(
        key=lambda t: (
            not (t.due_date and t.due_date < today),
            t.due_date is None,
            t.due_date,
            t.pk,
        )
    )
    done = list(
        Task.objects.visible_to(request.user)
        .filter(assignee=request.user, done=True)
        .select_related("account")
        .order_by("-done_at")[:10]
    )
    return render(
        request, "web/tasks.html", {"open_tasks": open_tasks, "done_tasks": done, "today": today}
    )
