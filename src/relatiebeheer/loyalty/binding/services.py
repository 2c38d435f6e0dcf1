"""Writes to binding: activities on the three levels, the register of wishes, the rapport
with each contact, events and invitations, and incentive ideas.

Every public function is a declared writer. Activities, wishes, rapport judgements and
invitations are an account's data and fire the "accounts changed" hook (done activities
feed the investment driver of the loyalty index, and are logged as contact moments and
cost entries through the relations and sales writers). Events and incentive ideas are
the organisation's own (``accounts=False``), except that inviting contacts to an event
touches their accounts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, time
from typing import Any

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from relatiebeheer.audit.services import audit_log
from relatiebeheer.common import writers
from relatiebeheer.common.errors import InvalidInput, NotFound, VersionConflict
from relatiebeheer.common.services import (
    apply_changes,
    full_clean_or_raise,
    versioned_delete,
    versioned_update,
)
from relatiebeheer.common.writers import writer
from relatiebeheer.hooks import accounts_changed
from relatiebeheer.loyalty.permissions import require_can_configure
from relatiebeheer.relations.models import Account, ConsentPurpose, Contact, Interaction, Interest
from relatiebeheer.relations.rules import require_account_writable, require_can_change
from relatiebeheer.relations.selectors import contacts_with_consent
from relatiebeheer.relations.services import interaction_log
from relatiebeheer.sales.models import CostEntry
from relatiebeheer.sales.services import cost_entry_create
from relatiebeheer.users.models import User

from .models import (
    KIND_LEVEL,
    ActivityKind,
    BindingActivity,
    Event,
    IncentiveIdea,
    Invitation,
    Level,
    Rapport,
    Wish,
)
from .rules import require_event_editable

BINDING_FIELDS = (
    "level",
    "kind",
    "title",
    "notes",
    "status",
    "planned_on",
    "done_on",
    "contact",
    "interest",
    "event",
    "cost",
)
WISH_FIELDS = ("aspect", "wish", "how_we_meet", "status", "level")
EVENT_FIELDS = (
    "name",
    "starts_at",
    "location",
    "description",
    "interest",
    "capacity",
    "cost_per_guest",
    "shared",
)
IDEA_FIELDS = ("name", "interest", "typical_cost", "active")
# How a done activity is logged as a contact moment (kind, channel).
MOMENT = {
    ActivityKind.EVENT: (Interaction.Kind.EVENT, Interaction.Channel.EVENT),
    ActivityKind.ATTENTION: (Interaction.Kind.PROACTIVE, Interaction.Channel.VISIT),
    ActivityKind.INCENTIVE: (Interaction.Kind.PROACTIVE, Interaction.Channel.VISIT),
    ActivityKind.DISCOUNT: (Interaction.Kind.PROACTIVE, Interaction.Channel.PHONE),
    ActivityKind.BONUS: (Interaction.Kind.PROACTIVE, Interaction.Channel.PHONE),
    ActivityKind.TERMS: (Interaction.Kind.SALES, Interaction.Channel.VISIT),
}
OTHER_MOMENT = (Interaction.Kind.SERVICE, Interaction.Channel.VISIT)
# The cost entry a done activity's cost becomes, by level.
COST_CATEGORY = {
    Level.FINANCIAL: CostEntry.Category.INCENTIVE,
    Level.SOCIAL: CostEntry.Category.GIFT_EVENT,
    Level.STRUCTURAL: CostEntry.Category.SERVICE,
}


def _by_actor(actor: User) -> User | None:
    return actor if actor.is_authenticated else None


def _interest(name: object) -> Interest | None:
    """The interest of this name (made when new), or ``None`` for no name."""
    if isinstance(name, Interest) or name is None:
        return name
    clean = " ".join(str(name).split()).lower()
    if not clean:
        return None
    interest, _created = Interest.objects.get_or_create(name=clean[:60])
    return interest


# --------------------------------------------------------------------------- activities


def _check_binding(activity: BindingActivity, account: Account) -> None:
    errors: dict[str, list[str]] = {}
    if activity.kind and activity.level:
        natural = KIND_LEVEL.get(ActivityKind(activity.kind))
        if natural is not None and natural != activity.level:
            errors["kind"] = [
                _("This kind of activity belongs to the %(level)s level.")
                % {"level": Level(natural).label}
            ]
    if activity.contact is not None and activity.contact.account_id != account.pk:
        errors["contact"] = [_("The contact belongs to another account.")]
    if activity.status == BindingActivity.Status.DONE and activity.done_on is None:
        activity.done_on = timezone.localdate()
    if activity.status == BindingActivity.Status.PLANNED and activity.planned_on is None:
        errors["planned_on"] = [_("Give the day it is planned for.")]
    if activity.cost is not None and activity.cost < 0:
        errors["cost"] = [_("A cost cannot be negative.")]
    if errors:
        raise InvalidInput(errors)


def _normalise_binding(data: Mapping[str, Any]) -> dict[str, Any]:
    data = dict(data)
    if data.get("kind") and not data.get("level"):
        data["level"] = KIND_LEVEL.get(data["kind"], "")
    if "notes" in data and data["notes"] is None:
        data["notes"] = ""
    if isinstance(data.get("title"), str):
        data["title"] = " ".join(data["title"].split())
    if "interest" in data:
        data["interest"] = _interest(data["interest"])
    return data


def _log_done(
    actor: User,
    activity: BindingActivity,
    *,
    channel: str | None = None,
    satisfaction: int | None = None,
) -> None:
    """Log a done activity as a contact moment (the timeline shows it) and book its cost."""
    kind, default_channel = MOMENT.get(ActivityKind(activity.kind), OTHER_MOMENT)
    done_on = activity.done_on or timezone.localdate()  # _check_binding set it
    if activity.interaction_id is None:
        moment = interaction_log(
            actor=actor,
            account=activity.account,
            data={
                "occurred_at": datetime.combine(
                    done_on, time(12), tzinfo=timezone.get_current_timezone()
                ),
                "channel": channel or default_channel,
                "kind": kind,
                "subject": activity.title[:200],
                "notes": activity.notes,
                "satisfaction": satisfaction,
            },
            contacts=[activity.contact] if activity.contact is not None else [],
        )
        activity.interaction = moment
    if activity.cost:
        cost_entry_create(
            actor=actor,
            account=activity.account,
            data={
                "date": done_on,
                "category": COST_CATEGORY[Level(activity.level)],
                "amount": activity.cost,
                "description": activity.title[:200],
            },
        )


@writer()
def binding_activity_create(
    *,
    actor: User,
    account: Account,
    data: Mapping[str, Any],
    channel: str | None = None,
    satisfaction: int | None = None,
) -> BindingActivity:
    """Record a binding activity (done: logged as a contact moment; or planned ahead).

    ``level`` follows from ``kind`` when not given; ``interest`` may be an interest or its
    name. A done activity with a ``cost`` books it as a cost entry of the level's kind
    (social: gift or event, financial: incentive or bonus, structural: service). A done
    activity that names no existing ``interaction`` is logged as a new one (with the
    optional quick ``satisfaction`` reading, 1–4).
    """
    require_account_writable(actor, account)
    data = _normalise_binding(data)
    interaction = data.pop("interaction", None)
    activity = BindingActivity(account=account, created_by=_by_actor(actor))
    changed = apply_changes(activity, data, BINDING_FIELDS)
    if interaction is not None:
        if interaction.account_id != account.pk:
            raise InvalidInput(
                {"interaction": [_("The contact moment belongs to another account.")]}
            )
        activity.interaction = interaction
    _check_binding(activity, account)
    full_clean_or_raise(activity, exclude=["account", "created_by"])
    with transaction.atomic():
        if activity.status == BindingActivity.Status.DONE:
            _log_done(actor, activity, channel=channel, satisfaction=satisfaction)
        activity.save()
        audit_log(actor=actor, action="binding.create", obj=activity, fields=changed)
        accounts_changed([account.pk])
    return activity


@writer(version="version")
def binding_activity_update(
    *, actor: User, activity: BindingActivity, version: int, data: Mapping[str, Any]
) -> BindingActivity:
    """Change a binding activity as it was at ``version`` (marking a planned one done logs
    it as a contact moment and books its cost)."""
    require_account_writable(actor, activity.account)
    was_done = activity.status == BindingActivity.Status.DONE
    changed = apply_changes(activity, _normalise_binding(data), BINDING_FIELDS)
    _check_binding(activity, activity.account)
    full_clean_or_raise(activity, exclude=["account", "created_by"])
    with transaction.atomic():
        if not was_done and activity.status == BindingActivity.Status.DONE:
            _log_done(actor, activity)
            changed = sorted({*changed, "done_on", "interaction"})
        versioned_update(activity, expected_version=version, fields=changed)
        audit_log(actor=actor, action="binding.update", obj=activity, fields=changed)
        accounts_changed([activity.account_id])
    return activity


@writer(version="version")
def binding_activity_delete(
    *, actor: User, activity: BindingActivity, version: int | None = None
) -> None:
    """Remove a binding activity; given ``version``, only as it was then."""
    require_account_writable(actor, activity.account)
    with transaction.atomic():
        audit_log(actor=actor, action="binding.delete", obj=activity)
        versioned_delete(activity, expected_version=version)
        accounts_changed([activity.account_id])


# --------------------------------------------------------------------------- wishes


@writer()
def wish_create(*, actor: User, account: Account, data: Mapping[str, Any]) -> Wish:
    """Add a wish or buying habit of the account to its register."""
    require_account_writable(actor, account)
    wish = Wish(account=account)
    changed = apply_changes(wish, dict(data), WISH_FIELDS)
    full_clean_or_raise(wish)
    with transaction.atomic():
        wish.save()
        audit_log(actor=actor, action="wish.create", obj=wish, fields=changed)
        accounts_changed([account.pk])
    return wish


@writer(version="version")
def wish_update(*, actor: User, wish: Wish, version: int, data: Mapping[str, Any]) -> Wish:
    """Change a wish as it was at ``version`` (e.g. how we meet it, and whether we do)."""
    require_account_writable(actor, wish.account)
    changed = apply_changes(wish, dict(data), WISH_FIELDS)
    full_clean_or_raise(wish)
    with transaction.atomic():
        versioned_update(wish, expected_version=version, fields=changed)
        audit_log(actor=actor, action="wish.update", obj=wish, fields=changed)
        accounts_changed([wish.account_id])
    return wish


@writer(version="version")
def wish_delete(*, actor: User, wish: Wish, version: int | None = None) -> None:
    """Remove a wish; given ``version``, only as it was then."""
    require_account_writable(actor, wish.account)
    with transaction.atomic():
        audit_log(actor=actor, action="wish.delete", obj=wish)
        versioned_delete(wish, expected_version=version)
        accounts_changed([wish.account_id])


# --------------------------------------------------------------------------- rapport


@writer()
def rapport_judge(
    *,
    actor: User,
    contact: Contact,
    rapport: bool,
    note: str = "",
    judged_on: date | None = None,
) -> Rapport:
    """Is there rapport with this contact? (appended; the latest judgement counts)."""
    require_account_writable(actor, contact.account)
    if not isinstance(rapport, bool):
        raise InvalidInput({"rapport": [_("Answer yes or no.")]})
    judgement = Rapport(
        contact=contact,
        account_id=contact.account_id,
        rapport=rapport,
        note=note or "",
        judged_on=judged_on or timezone.localdate(),
        judged_by=_by_actor(actor),
    )
    full_clean_or_raise(judgement, exclude=["judged_by"])
    with transaction.atomic():
        judgement.save()
        audit_log(
            actor=actor,
            action="rapport.judge",
            obj=judgement,
            account_id=contact.account_id,
            extra={"contact_id": contact.pk},
        )
        accounts_changed([contact.account_id])
    return judgement


# --------------------------------------------------------------------------- events


def _event_data(data: Mapping[str, Any]) -> dict[str, Any]:
    data = dict(data)
    if "interest" in data:
        data["interest"] = _interest(data["interest"])
    return data


@writer()
def event_create(
    *,
    actor: User,
    data: Mapping[str, Any],
    invitees: Iterable[Contact] = (),
    mail: bool = True,
) -> Event:
    """Create an event (and invite its first guests, whose accounts it touches)."""
    require_can_change(actor)
    event = Event(organiser=_by_actor(actor))
    changed = apply_changes(event, _event_data(data), EVENT_FIELDS)
    full_clean_or_raise(event, exclude=["organiser"])
    invitees = list(invitees)
    for contact in invitees:
        require_account_writable(actor, contact.account)
    with transaction.atomic():
        event.save()
        audit_log(actor=actor, action="event.create", obj=event, fields=changed)
        if invitees:
            invitations_create(actor=actor, event=event, contacts=invitees, mail=mail)
        else:
            accounts_changed([])  # no account touched
    return event


@writer(accounts=False, version="version")
def event_update(*, actor: User, event: Event, version: int, data: Mapping[str, Any]) -> Event:
    """Change an event as it was at ``version`` (its organiser or a sales manager)."""
    require_event_editable(actor, event)
    changed = apply_changes(event, _event_data(data), EVENT_FIELDS)
    full_clean_or_raise(event, exclude=["organiser"])
    with transaction.atomic():
        versioned_update(event, expected_version=version, fields=changed)
        audit_log(actor=actor, action="event.update", obj=event, fields=changed)
    return event


def _invitation_text(event: Event, contact: Contact) -> tuple[str, str]:
    with translation.override(contact.language or "nl"):
        when = timezone.localtime(event.starts_at)
        subject = _("Invitation: %(event)s") % {"event": event.name}
        text = _(
            "Dear %(name)s,\n\nWe would like to invite you to %(event)s on %(day)s at "
            "%(time)s%(place)s.\n\n%(description)s\n\nPlease let us know whether you can come."
        ) % {
            "name": contact.full_name,
            "event": event.name,
            "day": when.date().isoformat(),
            "time": when.strftime("%H:%M"),
            "place": f", {event.location}" if event.location else "",
            "description": event.description,
        }
    return subject, text


@writer(locks=("loyalty.event",))
def invitations_create(
    *, actor: User, event: Event, contacts: Iterable[Contact], mail: bool = True
) -> list[Invitation]:
    """Invite contacts to an event: each invitation is a planned social binding activity.

    With ``mail``, the invitation goes out through the outbox — only to contacts whose
    consent allows event invitations (the others are invited in person and say so).
    Inviting someone twice changes nothing. The event's row is locked before its places
    are counted, so two invitations at once never fill more places than it has.
    """
    from relatiebeheer.outbox.services import mail_enqueue

    require_can_change(actor)
    if not Event.objects.visible_to(actor).filter(pk=event.pk).exists():
        raise NotFound()
    contacts = list(contacts)
    for contact in contacts:
        require_account_writable(actor, contact.account)
    consenting = set(
        contacts_with_consent(
            Contact.objects.filter(pk__in=[c.pk for c in contacts]), ConsentPurpose.EVENTS
        ).values_list("pk", flat=True)
    )
    made = []
    day = timezone.localtime(event.starts_at).date()
    with transaction.atomic():
        writers.lock(Event.objects.filter(pk=event.pk))
        invited = set(event.invitations.values_list("contact_id", flat=True))
        new = [c for c in contacts if c.pk not in invited]
        if event.capacity is not None:
            taken = event.invitations.exclude(status=Invitation.Status.DECLINED).count()
            if taken + len(new) > event.capacity:
                raise InvalidInput(
                    {
                        "contacts": [
                            _("Not enough places left: %(left)s.")
                            % {"left": event.capacity - taken}
                        ]
                    }
                )
        for contact in new:
            activity = BindingActivity.objects.create(
                account_id=contact.account_id,
                level=Level.SOCIAL,
                kind=ActivityKind.EVENT,
                title=event.name[:200],
                status=BindingActivity.Status.PLANNED,
                planned_on=day,
                contact=contact,
                interest=event.interest,
                event=event,
                created_by=_by_actor(actor),
            )
            invitation = Invitation.objects.create(
                event=event,
                contact=contact,
                account_id=contact.account_id,
                activity=activity,
                invited_by=_by_actor(actor),
            )
            if mail and contact.pk in consenting and contact.email:
                subject, text = _invitation_text(event, contact)
                mail_enqueue(
                    key=f"event:{event.pk}:contact:{contact.pk}",
                    to=contact.email,
                    subject=subject,
                    text=text,
                    language=contact.language or "nl",
                    purpose=ConsentPurpose.EVENTS,
                    contact=contact,
                    account_id=contact.account_id,
                    actor=actor,
                )
                invitation.mailed = True
                invitation.save(update_fields=["mailed"])
            audit_log(
                actor=actor,
                action="invitation.create",
                obj=invitation,
                extra={"event_id": event.pk, "contact_id": contact.pk, "mailed": invitation.mailed},
            )
            made.append(invitation)
        if made:
            accounts_changed({c.account_id for c in new})
        else:
            writers.nothing_to_write()
    return made


@writer(version="version")
def invitation_respond(
    *, actor: User, invitation: Invitation, version: int, status: str | None
) -> Invitation:
    """Record the answer (RSVP) or the attendance. Attending makes the planned activity
    done (logged as a contact moment, with the cost per guest); declining or not coming
    cancels it. Without a status nothing changes, but a stale version is still a
    conflict (the client's view of the invitation is out of date)."""
    require_account_writable(actor, invitation.account)
    if status is None:
        if version != invitation.version:
            raise VersionConflict(current=invitation)
        writers.version_checked()
        writers.nothing_to_write()
        return invitation
    if status not in Invitation.Status.values:
        raise InvalidInput({"status": [_("Unknown answer.")]})
    event = invitation.event
    if status in (Invitation.Status.ATTENDED, Invitation.Status.NO_SHOW):
        if timezone.localtime(event.starts_at).date() > timezone.localdate():
            raise InvalidInput({"status": [_("Attendance is recorded after the event.")]})
    changed = ["status", "responded_at"]
    invitation.status = status
    invitation.responded_at = timezone.now()
    with transaction.atomic():
        versioned_update(invitation, expected_version=version, fields=changed)
        activity = invitation.activity
        if activity is not None:
            if (
                status == Invitation.Status.ATTENDED
                and activity.status != BindingActivity.Status.DONE
            ):
                activity.status = BindingActivity.Status.DONE
                activity.done_on = timezone.localtime(event.starts_at).date()
                activity.cost = event.cost_per_guest
                _log_done(actor, activity)
                activity.save()
            elif status in (Invitation.Status.DECLINED, Invitation.Status.NO_SHOW):
                if activity.status == BindingActivity.Status.PLANNED:
                    activity.status = BindingActivity.Status.CANCELLED
                    activity.save(update_fields=["status", "updated_at"])
        audit_log(actor=actor, action="invitation.respond", obj=invitation, fields=changed)
        accounts_changed([invitation.account_id])
    return invitation


# --------------------------------------------------------------------------- incentive ideas


@writer(accounts=False)
def incentive_idea_save(
    *, actor: User, idea: IncentiveIdea | None, data: Mapping[str, Any]
) -> IncentiveIdea:
    """Add or change an incentive idea for an interest (``interest``: it or its name)."""
    require_can_configure(actor)
    data = dict(data)
    if "interest" in data:
        data["interest"] = _interest(data["interest"])
        if data["interest"] is None:
            raise InvalidInput({"interest": [_("Name the interest it fits.")]})
    if idea is None:
        if data.get("interest") is None:
            raise InvalidInput({"interest": [_("Name the interest it fits.")]})
        idea = IncentiveIdea(interest=data["interest"])
    changed = apply_changes(idea, data, IDEA_FIELDS)
    full_clean_or_raise(idea)
    with transaction.atomic():
        idea.save()
        audit_log(actor=actor, action="incentive_idea.save", obj=idea, fields=changed)
    return idea
