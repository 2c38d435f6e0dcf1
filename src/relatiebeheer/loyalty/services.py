"""Writes for loyalty: binding activities, the personal and business side, the drivers'
inputs, events and invitations, the programme configuration and customer cards.

Like every service in Relatiebeheer: keyword-only, permission first, validated, one
transaction with its audit row (ids and field names only). Campaigns live in
:mod:`relatiebeheer.loyalty.campaigns`, points in :mod:`relatiebeheer.loyalty.points`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from relatiebeheer.audit.services import audit_log
from relatiebeheer.common.errors import Conflict, InvalidInput, PermissionRefused, VersionConflict
from relatiebeheer.common.services import (
    apply_changes,
    full_clean_or_raise,
    versioned_delete,
    versioned_update,
)
from relatiebeheer.core import loyalty_rules as rules
from relatiebeheer.relations.models import Account, Contact, Interaction, Interest
from relatiebeheer.relations.selectors import contacts_with_consent
from relatiebeheer.relations.services import (
    interaction_log,
    require_account_writable,
    require_can_change,
)
from relatiebeheer.sales.models import CostEntry
from relatiebeheer.sales.services import cost_entry_create
from relatiebeheer.users.access import can_manage_portfolios, sees_all_accounts

from .models import (
    KIND_LEVEL,
    ActivityKind,
    Benefit,
    BindingActivity,
    BonusBracket,
    Card,
    CategoryRule,
    CompetitorNote,
    Event,
    IncentiveIdea,
    Invitation,
    Level,
    LoyaltySettings,
    Programme,
    Rapport,
    Reward,
    Tier,
    TrustJudgement,
    Wish,
)

# --------------------------------------------------------------------------- permissions


def can_configure(actor) -> bool:
    """Sales managers and administrators configure programmes and the loyalty settings."""
    return can_manage_portfolios(actor)


def require_can_configure(actor) -> None:
    require_can_change(actor)
    if not can_configure(actor):
        raise PermissionRefused(
            _("Only a sales manager or an administrator configures the loyalty programme.")
        )


# --------------------------------------------------------------------------- binding


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
# How a done activity is logged as a contact moment (kind, channel).
MOMENT = {
    ActivityKind.EVENT: (Interaction.Kind.EVENT, Interaction.Channel.EVENT),
    ActivityKind.ATTENTION: (Interaction.Kind.PROACTIVE, Interaction.Channel.VISIT),
    ActivityKind.INCENTIVE: (Interaction.Kind.PROACTIVE, Interaction.Channel.VISIT),
    ActivityKind.DISCOUNT: (Interaction.Kind.PROACTIVE, Interaction.Channel.PHONE),
    ActivityKind.BONUS: (Interaction.Kind.PROACTIVE, Interaction.Channel.PHONE),
    ActivityKind.TERMS: (Interaction.Kind.SALES, Interaction.Channel.VISIT),
}
COST_CATEGORY = {
    Level.FINANCIAL: CostEntry.Category.INCENTIVE,
    Level.SOCIAL: CostEntry.Category.GIFT_EVENT,
    Level.STRUCTURAL: CostEntry.Category.SERVICE,
}


def _check_binding(activity: BindingActivity, account: Account) -> None:
    errors: dict[str, list[str]] = {}
    if activity.kind and activity.level:
        natural = KIND_LEVEL.get(activity.kind)
        if natural is not None and natural != activity.level:
            errors["kind"] = [
                _("This kind of activity belongs to the %(level)s level.")
                % {"level": Level(natural).label}
            ]
    if activity.contact_id and activity.contact.account_id != account.pk:
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
    return data


def _log_done(
    actor, activity: BindingActivity, *, channel: str | None = None, satisfaction: int | None = None
) -> None:
    """Log a done activity as a contact moment (the timeline shows it) and book its cost."""
    kind, default_channel = MOMENT.get(
        activity.kind, (Interaction.Kind.SERVICE, Interaction.Channel.VISIT)
    )
    if activity.interaction_id is None:
        moment = interaction_log(
            actor=actor,
            account=activity.account,
            data={
                "occurred_at": datetime.combine(
                    activity.done_on, time(12), tzinfo=timezone.get_current_timezone()
                ),
                "channel": channel or default_channel,
                "kind": kind,
                "subject": activity.title[:200],
                "notes": activity.notes,
                "satisfaction": satisfaction,
            },
            contacts=[activity.contact] if activity.contact_id else [],
        )
        activity.interaction = moment
    if activity.cost:
        cost_entry_create(
            actor=actor,
            account=activity.account,
            data={
                "date": activity.done_on,
                "category": COST_CATEGORY[activity.level],
                "amount": activity.cost,
                "description": activity.title[:200],
            },
        )


def binding_activity_create(
    *,
    actor,
    account: Account,
    data: Mapping[str, Any],
    channel: str | None = None,
    satisfaction: int | None = None,
) -> BindingActivity:
    """Record a binding activity (done: logged as a contact moment; or planned ahead).

    ``level`` follows from ``kind`` when not given; a done activity with a ``cost``
    books it as a cost entry of the level's kind (social: gift or event, financial:
    incentive or bonus, structural: service). A done activity that names no existing
    ``interaction`` is logged as a new one (with the optional quick ``satisfaction``
    reading, 1–4).
    """
    require_account_writable(actor, account)
    data = _normalise_binding(data)
    interaction = data.pop("interaction", None)
    activity = BindingActivity(
        account=account, created_by=actor if actor.is_authenticated else None
    )
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
    return activity


def binding_activity_update(
    *, actor, activity: BindingActivity, version: int, data: Mapping[str, Any]
) -> BindingActivity:
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
    return activity


def binding_activity_delete(
    *, actor, activity: BindingActivity, version: int | None = None
) -> None:
    """Remove a binding activity; given ``version``, only as it was then."""
    require_account_writable(actor, activity.account)
    with transaction.atomic():
        audit_log(actor=actor, action="binding.delete", obj=activity)
        versioned_delete(activity, expected_version=version)


# --------------------------------------------------------------------------- business side

WISH_FIELDS = ("aspect", "wish", "how_we_meet", "status", "level")


def wish_create(*, actor, account: Account, data: Mapping[str, Any]) -> Wish:
    """Add a wish or buying habit of the account to its register."""
    require_account_writable(actor, account)
    wish = Wish(account=account)
    changed = apply_changes(wish, dict(data), WISH_FIELDS)
    full_clean_or_raise(wish)
    with transaction.atomic():
        wish.save()
        audit_log(actor=actor, action="wish.create", obj=wish, fields=changed)
    return wish


def wish_update(*, actor, wish: Wish, version: int, data: Mapping[str, Any]) -> Wish:
    require_account_writable(actor, wish.account)
    changed = apply_changes(wish, dict(data), WISH_FIELDS)
    full_clean_or_raise(wish)
    with transaction.atomic():
        versioned_update(wish, expected_version=version, fields=changed)
        audit_log(actor=actor, action="wish.update", obj=wish, fields=changed)
    return wish


def wish_delete(*, actor, wish: Wish) -> None:
    require_account_writable(actor, wish.account)
    with transaction.atomic():
        audit_log(actor=actor, action="wish.delete", obj=wish)
        wish.delete()


# --------------------------------------------------------------------------- drivers' inputs

NOTE_FIELDS = ("competitor", "share", "price", "quality", "service", "notes", "noted_on")


def competitor_note_create(*, actor, account: Account, data: Mapping[str, Any]) -> CompetitorNote:
    """Note a competitor the account also buys from and how we compare with it."""
    require_account_writable(actor, account)
    note = CompetitorNote(account=account)
    data = dict(data)
    if isinstance(data.get("competitor"), str):
        data["competitor"] = " ".join(data["competitor"].split())
    if data.get("noted_on") is None:
        data.pop("noted_on", None)
    changed = apply_changes(note, data, NOTE_FIELDS)
    full_clean_or_raise(note)
    if note.price is None and note.quality is None and note.service is None:
        raise InvalidInput({"price": [_("Compare at least one of price, quality and service.")]})
    with transaction.atomic():
        note.save()
        audit_log(actor=actor, action="competitor_note.create", obj=note, fields=changed)
    return note


def competitor_note_delete(*, actor, note: CompetitorNote) -> None:
    require_account_writable(actor, note.account)
    with transaction.atomic():
        audit_log(actor=actor, action="competitor_note.delete", obj=note)
        note.delete()


def trust_judge(
    *, actor, account: Account, trust: int, note: str = "", judged_on: date | None = None
) -> TrustJudgement:
    """The account manager's judgement of the account's trust (appended; latest counts)."""
    require_account_writable(actor, account)
    judgement = TrustJudgement(
        account=account,
        trust=trust,
        note=note or "",
        judged_on=judged_on or timezone.localdate(),
        judged_by=actor if actor.is_authenticated else None,
    )
    full_clean_or_raise(judgement, exclude=["judged_by"])
    with transaction.atomic():
        judgement.save()
        audit_log(actor=actor, action="trust.judge", obj=judgement, fields=["trust"])
    return judgement


def klik_judge(
    *, actor, contact: Contact, klik: bool, note: str = "", judged_on: date | None = None
) -> Rapport:
    """Is there a klik with this contact? (appended; the latest judgement counts)."""
    require_account_writable(actor, contact.account)
    if not isinstance(klik, bool):
        raise InvalidInput({"klik": [_("Answer yes or no.")]})
    rapport = Rapport(
        contact=contact,
        account_id=contact.account_id,
        klik=klik,
        note=note or "",
        judged_on=judged_on or timezone.localdate(),
        judged_by=actor if actor.is_authenticated else None,
    )
    full_clean_or_raise(rapport, exclude=["judged_by"])
    with transaction.atomic():
        rapport.save()
        audit_log(
            actor=actor,
            action="klik.judge",
            obj=rapport,
            account_id=contact.account_id,
            extra={"contact_id": contact.pk},
        )
    return rapport


# --------------------------------------------------------------------------- events

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


def _interest(name: str | None) -> Interest | None:
    if not name or not str(name).strip():
        return None
    clean = " ".join(str(name).split()).lower()
    interest, _created = Interest.objects.get_or_create(name=clean[:60])
    return interest


def event_create(
    *, actor, data: Mapping[str, Any], invitees: Iterable[Contact] = (), mail: bool = True
) -> Event:
    """Create an event (and invite its first guests)."""
    require_can_change(actor)
    data = dict(data)
    if "interest" in data and not isinstance(data["interest"], Interest | None):
        data["interest"] = _interest(data["interest"])
    event = Event(organiser=actor if actor.is_authenticated else None)
    changed = apply_changes(event, data, EVENT_FIELDS)
    full_clean_or_raise(event, exclude=["organiser"])
    invitees = list(invitees)
    for contact in invitees:
        require_account_writable(actor, contact.account)
    with transaction.atomic():
        event.save()
        audit_log(actor=actor, action="event.create", obj=event, fields=changed)
        if invitees:
            invitations_create(actor=actor, event=event, contacts=invitees, mail=mail)
    return event


def _require_event_editable(actor, event: Event) -> None:
    require_can_change(actor)
    if event.organiser_id != actor.pk and not sees_all_accounts(actor):
        raise PermissionRefused(_("Only the organiser or a sales manager changes an event."))


def event_update(*, actor, event: Event, version: int, data: Mapping[str, Any]) -> Event:
    _require_event_editable(actor, event)
    data = dict(data)
    if "interest" in data and not isinstance(data["interest"], Interest | None):
        data["interest"] = _interest(data["interest"])
    changed = apply_changes(event, data, EVENT_FIELDS)
    full_clean_or_raise(event, exclude=["organiser"])
    with transaction.atomic():
        versioned_update(event, expected_version=version, fields=changed)
        audit_log(actor=actor, action="event.update", obj=event, fields=changed)
    return event


def _invitation_text(event: Event, contact: Contact) -> tuple[str, str]:
    from django.utils import translation

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


def invitations_create(
    *, actor, event: Event, contacts: Iterable[Contact], mail: bool = True
) -> list[Invitation]:
    """Invite contacts to an event: each invitation is a planned social binding activity.

    With ``mail``, the invitation goes out through the outbox — only to contacts whose
    consent allows event invitations (the others are invited in person and say so).
    Inviting someone twice changes nothing.
    """
    require_can_change(actor)
    if not Event.objects.visible_to(actor).filter(pk=event.pk).exists():
        from relatiebeheer.common.errors import NotFound

        raise NotFound()
    contacts = list(contacts)
    for contact in contacts:
        require_account_writable(actor, contact.account)
    if event.capacity is not None:
        taken = event.invitations.exclude(status=Invitation.Status.DECLINED).count()
        new = [c for c in contacts if not event.invitations.filter(contact=c).exists()]
        if taken + len(new) > event.capacity:
            raise InvalidInput(
                {
                    "contacts": [
                        _("Not enough places left: %(left)s.") % {"left": event.capacity - taken}
                    ]
                }
            )
    consenting = set(
        contacts_with_consent(
            Contact.objects.filter(pk__in=[c.pk for c in contacts]), "events"
        ).values_list("pk", flat=True)
    )
    made = []
    day = timezone.localtime(event.starts_at).date()
    with transaction.atomic():
        for contact in contacts:
            if Invitation.objects.filter(event=event, contact=contact).exists():
                continue
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
                created_by=actor if actor.is_authenticated else None,
            )
            invitation = Invitation.objects.create(
                event=event,
                contact=contact,
                account_id=contact.account_id,
                activity=activity,
                invited_by=actor if actor.is_authenticated else None,
            )
            if mail and contact.pk in consenting and contact.email:
                from relatiebeheer.outbox.services import mail_enqueue

                subject, text = _invitation_text(event, contact)
                mail_enqueue(
                    key=f"event:{event.pk}:contact:{contact.pk}",
                    to=contact.email,
                    subject=subject,
                    text=text,
                    language=contact.language or "nl",
                    purpose="events",
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
    return made


def invitation_respond(*, actor, invitation: Invitation, version: int, status: str) -> Invitation:
    """Record the answer (RSVP) or the attendance. Attending makes the planned activity
    done (logged as a contact moment, with the cost per guest); declining or not coming
    cancels it."""
    require_account_writable(actor, invitation.account)
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
            if status == Invitation.Status.ATTENDED and activity.status != "done":
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
    return invitation


# --------------------------------------------------------------------------- settings

SETTINGS_FIELDS = (
    "weight_trust",
    "weight_satisfaction",
    "weight_alternatives",
    "weight_investment",
    "falling_points",
    "falling_days",
    "gap_months",
    "investment_norm",
)


def settings_update(
    *, actor, data: Mapping[str, Any], version: int | None = None
) -> LoyaltySettings:
    """Change the index weights and the thresholds (sales managers and administrators).

    ``version`` is the settings' version the editor saw; when given and someone saved in
    between, nothing is written and :class:`VersionConflict` carries the saved settings.
    """
    require_can_configure(actor)
    settings = LoyaltySettings.load()
    changed = apply_changes(settings, dict(data), SETTINGS_FIELDS)
    full_clean_or_raise(settings, exclude=["version"])
    if sum(settings.weights.values()) <= 0:
        raise InvalidInput({"weight_trust": [_("At least one weight must be above zero.")]})
    with transaction.atomic():
        saved = LoyaltySettings.objects.select_for_update().get(pk=settings.pk)
        if version is not None and saved.version != version:
            raise VersionConflict(current=saved)
        settings.version = saved.version + 1
        settings.save()
        audit_log(actor=actor, action="loyalty_settings.update", obj=settings, fields=changed)
    return settings


def incentive_idea_save(
    *, actor, idea: IncentiveIdea | None, data: Mapping[str, Any]
) -> IncentiveIdea:
    require_can_configure(actor)
    data = dict(data)
    if "interest" in data and not isinstance(data["interest"], Interest):
        data["interest"] = _interest(data["interest"])
        if data["interest"] is None:
            raise InvalidInput({"interest": [_("Name the interest it fits.")]})
    if idea is None:
        if not isinstance(data.get("interest"), Interest):
            raise InvalidInput({"interest": [_("Name the interest it fits.")]})
        idea = IncentiveIdea(interest=data["interest"])
    changed = apply_changes(idea, data, ("name", "interest", "typical_cost", "active"))
    full_clean_or_raise(idea)
    with transaction.atomic():
        idea.save()
        audit_log(actor=actor, action="incentive_idea.save", obj=idea, fields=changed)
    return idea


# --------------------------------------------------------------------------- programme

PROGRAMME_FIELDS = (
    "code",
    "name",
    "description",
    "active",
    "starts_on",
    "level",
    "period",
    "grace_days",
    "bonus_enabled",
    "bonus_mode",
    "bonus_period",
    "bonus_max_rate",
    "bonus_max_amount",
    "points_enabled",
    "points_per_euro",
    "points_per_order",
    "points_expiry_months",
    "points_confirm_on",
    "point_value",
    "card_scheme",
    "card_prefix",
)


def _lock_rules(programme: Programme, expected_version: int | None, record=None) -> None:
    """Lock the programme row; refuse when its rules changed since the editor opened them.

    Tiers, brackets, earn rules and rewards are edited as parts of their programme: every
    change to one of them bumps the programme's version, so the version the editor saw
    guards them all. ``record`` (the part as it is saved now) goes with the conflict.
    """
    saved = Programme.objects.select_for_update().get(pk=programme.pk)
    if expected_version is not None and saved.version != expected_version:
        current = type(record)._base_manager.filter(pk=record.pk).first() if record else None
        raise VersionConflict(current=current or saved)


def _bump(programme: Programme) -> None:
    """Any change to a programme's rules makes every stored status stale."""
    Programme.objects.filter(pk=programme.pk).update(version=F("version") + 1)
    programme.refresh_from_db(fields=["version"])


def _check_programme(programme: Programme) -> None:
    try:
        rules.CardNumbering(prefix=programme.card_prefix, scheme=programme.card_scheme)
    except rules.LoyaltyError as exc:
        raise InvalidInput({"card_prefix": [_("A prefix of at most 6 digits.")]}) from exc


def _check_rules(programme: Programme) -> None:
    """The tiers and brackets together must make a valid programme for the core."""
    tiers = list(programme.tiers.all())
    if tiers:
        try:
            rules.TierProgramme(
                tuple(rules.Tier(t.name, t.threshold, t.rank) for t in tiers),
                period=programme.period,
                grace_days=programme.grace_days,
            )
        except rules.LoyaltyError as exc:
            raise InvalidInput(
                {"threshold": [_("A higher tier needs a higher threshold than the tier below it.")]}
            ) from exc
    brackets = list(programme.brackets.all())
    for bracket in brackets:
        if bracket.rate > programme.bonus_max_rate:
            raise InvalidInput(
                {
                    "rate": [
                        _("No bonus rate may exceed the highest rate of %(rate)s.")
                        % {"rate": f"{programme.bonus_max_rate * 100:.2f} %"}
                    ]
                }
            )


def programme_save(
    *, actor, programme: Programme | None, data: Mapping[str, Any], version: int | None = None
) -> Programme:
    """Create a programme or change its settings (configurators only)."""
    require_can_configure(actor)
    creating = programme is None
    programme = programme or Programme()
    changed = apply_changes(programme, dict(data), PROGRAMME_FIELDS)
    full_clean_or_raise(programme, exclude=["version"] if creating else None)
    _check_programme(programme)
    with transaction.atomic():
        if creating:
            try:
                with transaction.atomic():
                    programme.save()
            except IntegrityError as exc:
                raise InvalidInput({"code": [_("A programme with this code exists.")]}) from exc
        else:
            versioned_update(programme, expected_version=version or 0, fields=changed)
            _check_rules(programme)
        audit_log(
            actor=actor,
            action="programme.create" if creating else "programme.update",
            obj=programme,
            fields=changed,
        )
    return programme


def tier_save(
    *,
    actor,
    programme: Programme,
    tier: Tier | None,
    data: Mapping[str, Any],
    benefits: Iterable[Mapping[str, str]] | None = None,
    programme_version: int | None = None,
) -> Tier:
    """Add or change a tier (and replace its entitlements when ``benefits`` is given)."""
    require_can_configure(actor)
    tier = tier or Tier(programme=programme)
    changed = apply_changes(tier, dict(data), ("name", "rank", "threshold"))
    full_clean_or_raise(tier)
    with transaction.atomic():
        _lock_rules(programme, programme_version, tier if tier.pk else None)
        try:
            with transaction.atomic():
                tier.save()
        except IntegrityError as exc:
            raise InvalidInput({"name": [_("Tier names and ranks are unique.")]}) from exc
        if benefits is not None:
            tier.benefits.all().delete()
            for item in benefits:
                benefit = Benefit(
                    tier=tier,
                    kind=item.get("kind", ""),
                    description=item.get("description", "") or "",
                )
                full_clean_or_raise(benefit, exclude=["tier"])
                benefit.save()
            changed.append("benefits")
        _check_rules(programme)
        _bump(programme)
        audit_log(actor=actor, action="tier.save", obj=tier, fields=changed)
    return tier


def bracket_save(
    *,
    actor,
    programme: Programme,
    bracket: BonusBracket | None,
    data: Mapping[str, Any],
    programme_version: int | None = None,
) -> BonusBracket:
    require_can_configure(actor)
    bracket = bracket or BonusBracket(programme=programme)
    changed = apply_changes(bracket, dict(data), ("lower_bound", "rate"))
    full_clean_or_raise(bracket)
    with transaction.atomic():
        _lock_rules(programme, programme_version, bracket if bracket.pk else None)
        try:
            with transaction.atomic():
                bracket.save()
        except IntegrityError as exc:
            raise InvalidInput(
                {"lower_bound": [_("Each bracket starts at its own amount.")]}
            ) from exc
        _check_rules(programme)
        _bump(programme)
        audit_log(actor=actor, action="bracket.save", obj=bracket, fields=changed)
    return bracket


def category_rule_save(
    *,
    actor,
    programme: Programme,
    rule: CategoryRule | None,
    data: Mapping[str, Any],
    programme_version: int | None = None,
) -> CategoryRule:
    require_can_configure(actor)
    rule = rule or CategoryRule(programme=programme)
    changed = apply_changes(rule, dict(data), ("category", "points_per_euro"))
    full_clean_or_raise(rule)
    with transaction.atomic():
        _lock_rules(programme, programme_version, rule if rule.pk else None)
        try:
            with transaction.atomic():
                rule.save()
        except IntegrityError as exc:
            raise InvalidInput({"category": [_("This category has a rule already.")]}) from exc
        _bump(programme)
        audit_log(actor=actor, action="earn_rule.save", obj=rule, fields=changed)
    return rule


def reward_save(
    *,
    actor,
    programme: Programme,
    reward: Reward | None,
    data: Mapping[str, Any],
    programme_version: int | None = None,
) -> Reward:
    require_can_configure(actor)
    reward = reward or Reward(programme=programme)
    changed = apply_changes(reward, dict(data), ("name", "points", "description", "active"))
    full_clean_or_raise(reward)
    with transaction.atomic():
        _lock_rules(programme, programme_version, reward if reward.pk else None)
        reward.save()
        _bump(programme)  # a reward is part of the rules the editor saw
        audit_log(actor=actor, action="reward.save", obj=reward, fields=changed)
    return reward


def config_delete(*, actor, obj, programme_version: int | None = None) -> None:
    """Remove a tier, bracket, earn rule or reward (a reward in use is deactivated)."""
    require_can_configure(actor)
    programme = obj.programme
    with transaction.atomic():
        _lock_rules(programme, programme_version, obj)
        audit_log(actor=actor, action=f"{obj._meta.model_name}.delete", obj=obj)
        if isinstance(obj, Reward):
            obj.active = False
            obj.save(update_fields=["active"])
        else:
            obj.delete()
        _bump(programme)


def programme_define(*, actor, definition: Mapping[str, Any]) -> Programme:
    """Create or replace a whole programme from one definition (the API's way).

    ``definition`` holds the programme's fields plus ``tiers`` (each with
    ``benefits``), ``brackets``, ``category_rules`` and ``rewards``; the programme is
    found by its ``code``. Tiers, brackets and rules are replaced; rewards are matched by
    name (missing ones are deactivated, so redemptions keep their reward).
    """
    require_can_configure(actor)
    definition = dict(definition)
    tiers = definition.pop("tiers", [])
    brackets = definition.pop("brackets", [])
    category_rules = definition.pop("category_rules", [])
    rewards = definition.pop("rewards", [])
    # Replacing: the version the caller read, when given, must still be the saved one.
    expected_version = definition.pop("version", None)
    code = definition.get("code")
    with transaction.atomic():
        programme = Programme.objects.select_for_update().filter(code=code).first()
        if programme is not None and expected_version not in (None, programme.version):
            raise VersionConflict(current=programme)
        if programme is None:
            programme = Programme()
            apply_changes(programme, definition, PROGRAMME_FIELDS)
            full_clean_or_raise(programme)
            _check_programme(programme)
            programme.save()
            action = "programme.create"
        else:
            apply_changes(programme, definition, PROGRAMME_FIELDS)
            full_clean_or_raise(programme)
            _check_programme(programme)
            programme.version += 1
            programme.save()
            action = "programme.replace"
        programme.tiers.all().delete()
        for index, item in enumerate(tiers):
            item = dict(item)
            benefits = item.pop("benefits", [])
            tier = Tier(programme=programme)
            apply_changes(tier, item, ("name", "rank", "threshold"))
            _full_clean_at(tier, f"tiers.{index}")
            tier.save()
            for b_index, benefit in enumerate(benefits):
                row = Benefit(tier=tier)
                apply_changes(row, dict(benefit), ("kind", "description"))
                _full_clean_at(row, f"tiers.{index}.benefits.{b_index}")
                row.save()
        programme.brackets.all().delete()
        for index, item in enumerate(brackets):
            row = BonusBracket(programme=programme)
            apply_changes(row, dict(item), ("lower_bound", "rate"))
            _full_clean_at(row, f"brackets.{index}")
            row.save()
        programme.category_rules.all().delete()
        for index, item in enumerate(category_rules):
            row = CategoryRule(programme=programme)
            apply_changes(row, dict(item), ("category", "points_per_euro"))
            _full_clean_at(row, f"category_rules.{index}")
            row.save()
        existing = {r.name: r for r in programme.rewards.all()}
        keep = set()
        for index, item in enumerate(rewards):
            item = dict(item)
            row = existing.get(item.get("name")) or Reward(programme=programme)
            apply_changes(row, item, ("name", "points", "description", "active"))
            _full_clean_at(row, f"rewards.{index}")
            row.save()
            keep.add(row.pk)
        programme.rewards.exclude(pk__in=keep).update(active=False)
        _check_rules(programme)
        audit_log(actor=actor, action=action, obj=programme, extra={"tiers": len(tiers)})
    return programme


def _full_clean_at(obj, prefix: str) -> None:
    try:
        full_clean_or_raise(obj, exclude=["programme", "tier"])
    except InvalidInput as exc:
        raise InvalidInput(
            {f"{prefix}.{field}": messages for field, messages in exc.errors.items()}
        ) from exc


# --------------------------------------------------------------------------- cards


def card_numbering(programme: Programme) -> rules.CardNumbering:
    return rules.CardNumbering(prefix=programme.card_prefix, scheme=programme.card_scheme)


def card_issue(
    *, actor, account: Account, programme: Programme, contact: Contact | None = None
) -> Card:
    """Issue a customer card: the programme's next sequence number plus a check digit."""
    require_account_writable(actor, account)
    if contact is not None and contact.account_id != account.pk:
        raise InvalidInput({"contact": [_("The card holder must be a contact of this account.")]})
    return _issue(actor, account, programme, contact, replaces=None)


def _issue(actor, account, programme, contact, *, replaces: Card | None) -> Card:
    numbering = card_numbering(programme)
    with transaction.atomic():
        Programme.objects.filter(pk=programme.pk).update(
            next_card_sequence=F("next_card_sequence") + 1
        )
        sequence = (
            Programme.objects.values_list("next_card_sequence", flat=True).get(pk=programme.pk) - 1
        )
        if sequence >= numbering.capacity:
            raise Conflict(_("This programme has no card numbers left."))
        card = Card.objects.create(
            programme=programme,
            account=account,
            contact=contact,
            number=numbering.generate(sequence),
            sequence=sequence,
            replaces=replaces,
        )
        audit_log(
            actor=actor,
            action="card.issue",
            obj=card,
            extra={"replaces": replaces.pk if replaces else None},
        )
    return card


def card_block(*, actor, card: Card, reason: str = "") -> Card:
    """Block a card (lost, stolen, misused); a blocked card cannot be used again."""
    require_account_writable(actor, card.account)
    if card.status != Card.Status.ACTIVE:
        raise Conflict(_("Only an active card can be blocked."))
    with transaction.atomic():
        updated = Card.objects.filter(pk=card.pk, status=Card.Status.ACTIVE).update(
            status=Card.Status.BLOCKED,
            blocked_on=timezone.localdate(),
            block_reason=(reason or "")[:200],
        )
        if not updated:
            raise Conflict(_("Only an active card can be blocked."))
        card.refresh_from_db()
        audit_log(actor=actor, action="card.block", obj=card)
    return card


def card_replace(*, actor, card: Card, reason: str = "") -> Card:
    """Replace a card: the old one stops (replaced) and a new number is issued."""
    require_account_writable(actor, card.account)
    with transaction.atomic():
        updated = Card.objects.filter(
            pk=card.pk, status__in=[Card.Status.ACTIVE, Card.Status.BLOCKED]
        ).update(
            status=Card.Status.REPLACED,
            blocked_on=card.blocked_on or timezone.localdate(),
            block_reason=(reason or card.block_reason or "")[:200],
        )
        if not updated or Card.objects.filter(replaces=card).exists():
            raise Conflict(_("This card was replaced already."))
        new = _issue(actor, card.account, card.programme, card.contact, replaces=card)
    card.refresh_from_db()
    return new


__all__ = [
    "Decimal",
    "binding_activity_create",
    "card_issue",
    "programme_define",
]
