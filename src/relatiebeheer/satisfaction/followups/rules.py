"""When a follow-up is due, who gets it, and how an unhappy answer is described."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from relatiebeheer.relations.models import Account
from relatiebeheer.satisfaction.models import Question
from relatiebeheer.users.access import system_user
from relatiebeheer.users.models import Role, User


def add_working_days(start: date, days: int) -> date:
    """``days`` working days (Monday–Friday) after ``start``; 0 → the next working day
    on or after ``start``. Friday + 2 → Tuesday."""
    current = start
    while current.weekday() >= 5:
        current += timedelta(days=1)
    added = 0
    while added < days:
        current += timedelta(days=1)
        if current.weekday() < 5:
            added += 1
    return current


def followup_assignee(account: Account) -> User:
    """The account manager; without an active one, the first sales manager (else the
    system user), so no unhappy answer goes unseen."""
    if account.manager is not None and account.manager.is_active:
        return account.manager
    return (
        User.objects.filter(is_active=True, role=Role.SALES_MANAGER).order_by("id").first()
        or system_user()
    )


def describe_answer(question: Question, value: Any, language: str) -> str:
    """ "<question>: <the option's label>" in ``language``."""
    labels = dict(question.option_labels(language))
    return f"{question.text(language)}: {labels.get(value, value)}"
