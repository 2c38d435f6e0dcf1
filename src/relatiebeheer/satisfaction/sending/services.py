"""Sending surveys: invitations (by hand, for a selection, automatically after contact
moments) and the one reminder.

Each invitation and its mail are written in one transaction (the outbox); the worker
sends the mail after the commit. An invitation changes no account's figures — the
answer does — so these writers declare ``accounts=False``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from relatiebeheer.audit.services import audit_log
from relatiebeheer.common import writers
from relatiebeheer.common.errors import InvalidInput, NotFound
from relatiebeheer.common.writers import writer
from relatiebeheer.relations.models import Account, Contact, Interaction, SavedSelection
from relatiebeheer.relations.rules import require_account_writable
from relatiebeheer.relations.selectors import contacts_with_consent
from relatiebeheer.satisfaction.defaults import default_survey
from relatiebeheer.satisfaction.models import (
    AnswerToken,
    AutoSendRecord,
    FollowUp,
    Invitation,
    SatisfactionSettings,
    Survey,
)
from relatiebeheer.users.access import system_user
from relatiebeheer.users.models import User

from .mail import issue_mail


@dataclass
class InviteReport:
    invited: list[Invitation] = field(default_factory=list)
    no_email: list[int] = field(default_factory=list)
    no_consent: list[int] = field(default_factory=list)
    throttled: list[int] = field(default_factory=list)

    @property
    def skipped(self) -> int:
        return len(self.no_email) + len(self.no_consent) + len(self.throttled)

    def as_dict(self) -> dict[str, Any]:
        return {
            "invited": len(self.invited),
            "invitation_ids": [i.pk for i in self.invited],
            "skipped_no_email": self.no_email,
            "skipped_no_consent": self.no_consent,
            "skipped_throttled": self.throttled,
        }


@writer(accounts=False, locks=("relations.account",))
def invite(
    *,
    actor: User,
    survey: Survey,
    contacts: Iterable[Contact],
    source: str,
    interaction: Interaction | None = None,
    followup: FollowUp | None = None,
    throttle: bool = True,
    now: datetime | None = None,
) -> InviteReport:
    """Invite contacts to a survey: by hand, for a selection, or automatically.

    Only contacts with an email address whose latest consent statement for "surveys"
    is a grant are invited, at most one invitation per contact per X days and per
    account per Y days (the settings; a check-back after a follow-up is not
    throttled). The throttle counts the accounts' invitations, so their account rows
    are locked before counting: two simultaneous sends to one account invite once.
    """
    if not survey.active:
        raise InvalidInput({"survey": [_("This survey is not active.")]})
    contacts = list(contacts)
    for account in {c.account for c in contacts}:
        require_account_writable(actor, account)
    config = SatisfactionSettings.load()
    now = now or timezone.now()
    report = InviteReport()
    with transaction.atomic():
        account_ids = {c.account_id for c in contacts}
        if account_ids:
            writers.lock(Account.objects.filter(pk__in=account_ids))
        ids = [c.pk for c in contacts]
        consenting = set(
            contacts_with_consent(Contact.objects.filter(pk__in=ids), "surveys").values_list(
                "pk", flat=True
            )
        )
        recent_contacts: set[int] = set()
        recent_accounts: set[int] = set()
        if throttle:
            recent_contacts = set(
                Invitation.objects.filter(
                    contact_id__in=ids,
                    created_at__gt=now - timedelta(days=config.throttle_contact_days),
                ).values_list("contact_id", flat=True)
            )
            recent_accounts = set(
                Invitation.objects.filter(
                    account_id__in=account_ids,
                    created_at__gt=now - timedelta(days=config.throttle_account_days),
                ).values_list("account_id", flat=True)
            )
        for contact in contacts:
            if not contact.email:
                report.no_email.append(contact.pk)
                continue
            if contact.pk not in consenting:
                report.no_consent.append(contact.pk)
                continue
            if throttle and (
                contact.pk in recent_contacts
                or (config.throttle_account_days and contact.account_id in recent_accounts)
            ):
                report.throttled.append(contact.pk)
                continue
            invitation = Invitation.objects.create(
                survey=survey,
                account_id=contact.account_id,
                contact=contact,
                source=source,
                interaction=interaction,
                followup=followup,
                language=contact.language or "nl",
                created_at=now,
                created_by=actor if getattr(actor, "is_authenticated", False) else None,
            )
            issue_mail(invitation, contact, AnswerToken.Kind.INVITATION, config, actor)
            recent_contacts.add(contact.pk)
            recent_accounts.add(contact.account_id)
            report.invited.append(invitation)
        if report.invited:
            audit_log(
                actor=actor,
                action="survey.invite",
                obj=survey,
                extra={"source": source, "invited": len(report.invited), "skipped": report.skipped},
            )
        else:
            writers.nothing_to_write()
    return report


@writer(accounts=False)
def invite_selection(
    *, actor: User, survey: Survey, selection: SavedSelection, source: str = "bulk"
) -> InviteReport:
    """Invite the contacts of every account in a saved selection (as its owner sees it)."""
    from relatiebeheer.relations.selectors import AccountFilters, account_list

    if selection.owner_id != actor.pk:
        raise NotFound()
    accounts = account_list(actor=actor, filters=AccountFilters.from_mapping(selection.filters))
    contacts = (
        Contact.objects.filter(account__in=accounts.values("pk"))
        .exclude(email="")
        .select_related("account")
        .order_by("account_id", "id")
    )
    return invite(actor=actor, survey=survey, contacts=contacts, source=source)


@writer(accounts=False, acts="system")
def auto_invite(*, now: datetime | None = None, limit: int = 500) -> int:
    """Invite the contacts of contact moments of the chosen kinds, N days after them.

    Each contact moment is handled once (``AutoSendRecord``), whatever happened to it,
    so running this again — or on two workers at once — sends nothing twice. Moments
    older than N + 7 days when first seen are left alone (no survey weeks late).
    """
    config = SatisfactionSettings.load()
    survey = None
    if config.auto_send and config.auto_send_kinds:
        survey = config.auto_survey if config.auto_survey is not None else default_survey()
    if survey is None or not survey.active:
        writers.nothing_to_write()
        return 0
    now = now or timezone.now()
    due = now - timedelta(days=config.auto_send_days)
    handled = AutoSendRecord.objects.values("interaction_id")
    interactions = list(
        Interaction.objects.filter(
            kind__in=config.auto_send_kinds,
            occurred_at__lte=due,
            occurred_at__gt=due - timedelta(days=7),
        )
        .exclude(pk__in=handled)
        .select_related("account")
        .prefetch_related("contacts__account")
        .order_by("occurred_at", "id")[:limit]
    )
    if not interactions:
        writers.nothing_to_write()
    actor = system_user()
    invited = 0
    for interaction in interactions:
        try:
            with transaction.atomic():
                record = AutoSendRecord.objects.create(interaction=interaction)
                contacts = sorted(interaction.contacts.all(), key=lambda c: c.pk)
                report = invite(
                    actor=actor,
                    survey=survey,
                    contacts=contacts,
                    source=Invitation.Source.AUTO,
                    interaction=interaction,
                    now=now,
                )
                record.invited = len(report.invited)
                record.skipped = (
                    f"no_email={len(report.no_email)} no_consent={len(report.no_consent)} "
                    f"throttled={len(report.throttled)}"
                )
                record.save(update_fields=["invited", "skipped"])
                invited += record.invited
        except IntegrityError:
            continue  # another worker handled this contact moment
    return invited


@writer(accounts=False, acts="system")
def send_reminders(*, now: datetime | None = None, limit: int = 500) -> int:
    """One reminder, R days after the invitation mail went out, while unanswered."""
    config = SatisfactionSettings.load()
    if not config.reminder_days:
        writers.nothing_to_write()
        return 0
    now = now or timezone.now()
    invitations = list(
        Invitation.objects.filter(
            completed_at__isnull=True,
            reminder_at__isnull=True,
            contact__isnull=False,
            tokens__kind=AnswerToken.Kind.INVITATION,
            tokens__issued_at__lte=now - timedelta(days=config.reminder_days),
            tokens__expires_at__gt=now,
            tokens__message__status="sent",
        )
        .select_related("contact", "survey")
        .order_by("id")[:limit]
    )
    actor = system_user()
    sent = 0
    for invitation in invitations:
        with transaction.atomic():
            # Claimed by one conditional UPDATE: of two workers, one sends the reminder.
            claimed = Invitation.objects.filter(
                pk=invitation.pk, reminder_at__isnull=True, completed_at__isnull=True
            ).update(reminder_at=now)
            contact = invitation.contact
            if not claimed or contact is None or not contact.email:
                continue
            issue_mail(invitation, contact, AnswerToken.Kind.REMINDER, config, actor)
            audit_log(actor=actor, action="survey.remind", obj=invitation)
            sent += 1
    if not sent:
        writers.nothing_to_write()
    return sent
