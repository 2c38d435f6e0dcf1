"""Closing the loop: an unhappy answer opens a follow-up (a task and a mail for the account
manager), an overdue one is mailed once more, and recording its outcome closes it."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from relatiebeheer.audit.services import audit_log
from relatiebeheer.common import writers
from relatiebeheer.common.errors import Conflict, InvalidInput
from relatiebeheer.common.writers import writer
from relatiebeheer.hooks import accounts_changed
from relatiebeheer.outbox.rendering import public_url
from relatiebeheer.outbox.services import internal_mail_enqueue
from relatiebeheer.relations.models import Account
from relatiebeheer.relations.rules import require_account_writable
from relatiebeheer.relations.services import task_create, task_update
from relatiebeheer.satisfaction.defaults import check_back_survey
from relatiebeheer.satisfaction.models import (
    FollowUp,
    Invitation,
    Question,
    Response,
    SatisfactionSettings,
)
from relatiebeheer.satisfaction.sending.services import invite
from relatiebeheer.users.access import system_user
from relatiebeheer.users.models import User

from .rules import add_working_days, describe_answer, followup_assignee


@writer(acts="system")
def followup_open(
    *, response: Response, invitation: Invitation, unhappy: list[tuple[Question, Any]]
) -> FollowUp:
    """A follow-up for an unhappy response: a task for the account manager due in N
    working days, and a mail to them. Called by the submission, in its transaction."""
    config = SatisfactionSettings.cached()
    account = Account.objects.select_related("manager").get(pk=response.account_id)
    assignee = followup_assignee(account)
    language = getattr(assignee, "language", "nl") or "nl"
    contact = invitation.contact
    opened = timezone.localtime(response.submitted_at).date()
    due = add_working_days(opened, config.followup_due_working_days)
    with translation.override(language):
        who = contact.full_name if contact else _("a contact")
        title = _("Unhappy answer from %(who)s: get in touch") % {"who": who}
        lines = [describe_answer(q, v, language) for q, v in unhappy]
        reason = "; ".join(lines)
    system = system_user()
    task = task_create(
        actor=system,
        account=account,
        data={
            "title": title[:200],
            "description": reason,
            "due_date": due,
            "assignee": assignee,
        },
    )
    followup = FollowUp.objects.create(
        response=response,
        account=account,
        task=task,
        assignee=assignee,
        reason=reason[:500],
        due_date=due,
        created_at=response.submitted_at,
    )
    url = public_url(reverse("satisfaction:followup", args=[followup.pk]))
    with translation.override(language):
        context = {
            "followup": followup,
            "account": account,
            "contact": contact,
            "reason_lines": lines,
            "due": due,
            "url": url,
            "overdue": False,
        }
        internal_mail_enqueue(
            key=f"satisfaction.followup.{followup.pk}.opened",
            user=assignee,
            subject=_("Follow-up needed: %(account)s") % {"account": account.name},
            text=render_to_string("satisfaction/mail/followup.txt", context),
            account_id=account.pk,
        )
    audit_log(
        actor=system, action="followup.open", obj=followup, extra={"response_id": response.pk}
    )
    accounts_changed([account.pk])
    return followup


@writer(accounts=False, acts="system")
def followups_notify_overdue(*, today: date | None = None, limit: int = 500) -> int:
    """Mail the assignee once about each open follow-up past its due date (a reminder to
    a user: no account's figures change)."""
    today = today or timezone.localdate()
    overdue = list(
        FollowUp.objects.open()
        .filter(due_date__lt=today, overdue_notified_at__isnull=True)
        .select_related("account", "assignee", "response__contact")
        .order_by("due_date", "id")[:limit]
    )
    sent = 0
    for followup in overdue:
        with transaction.atomic():
            # Claimed by one conditional UPDATE: of two workers, one mails.
            claimed = FollowUp.objects.filter(
                pk=followup.pk, overdue_notified_at__isnull=True, closed_at__isnull=True
            ).update(overdue_notified_at=timezone.now())
            if not claimed or followup.assignee is None:
                continue
            assignee = followup.assignee
            language = assignee.language or "nl"
            url = public_url(reverse("satisfaction:followup", args=[followup.pk]))
            with translation.override(language):
                context = {
                    "followup": followup,
                    "account": followup.account,
                    "contact": followup.response.contact,
                    "reason_lines": [followup.reason],
                    "due": followup.due_date,
                    "url": url,
                    "overdue": True,
                }
                internal_mail_enqueue(
                    key=f"satisfaction.followup.{followup.pk}.overdue",
                    user=assignee,
                    subject=_("Overdue follow-up: %(account)s")
                    % {"account": followup.account.name},
                    text=render_to_string("satisfaction/mail/followup.txt", context),
                    account_id=followup.account_id,
                )
            audit_log(actor=None, action="followup.overdue_notice", obj=followup)
            sent += 1
    if not sent:
        writers.nothing_to_write()
    return sent


@writer()
def followup_close(
    *,
    actor: User,
    followup: FollowUp,
    outcome: str,
    notes: str = "",
    send_check_back: bool = False,
) -> FollowUp:
    """Record the outcome; that closes the follow-up and its task. Optionally sends the
    contact a short check-back survey (not throttled: it answers their complaint).

    Closed once: one conditional UPDATE, so of two people closing it at the same moment
    one records the outcome and the other is told it was closed already.
    """
    require_account_writable(actor, followup.account)
    if outcome not in FollowUp.Outcome.values:
        raise InvalidInput({"outcome": [_("Choose an outcome.")]})
    with transaction.atomic():
        closed = FollowUp.objects.filter(pk=followup.pk, closed_at__isnull=True).update(
            outcome=outcome,
            outcome_notes=notes[:5000],
            closed_at=timezone.now(),
            closed_by=actor,
        )
        if not closed:
            raise Conflict(_("This follow-up was closed already."))
        followup.refresh_from_db()
        task = followup.task
        if task is not None and not task.done:
            task_update(actor=actor, task=task, version=task.version, data={"done": True})
        audit_log(actor=actor, action="followup.close", obj=followup, fields=["outcome"])
        if send_check_back:
            contact = followup.response.contact
            if contact is None:
                raise InvalidInput({"send_check_back": [_("The contact no longer exists.")]})
            config = SatisfactionSettings.load()
            report = invite(
                actor=actor,
                survey=check_back_survey(config),
                contacts=[contact],
                source=Invitation.Source.CHECK_BACK,
                followup=followup,
                throttle=False,
            )
            if not report.invited:
                raise InvalidInput(
                    {
                        "send_check_back": [
                            _(
                                "No check-back survey: the contact has no email address or no consent."
                            )
                        ]
                    }
                )
        accounts_changed([followup.account_id])
    return followup
