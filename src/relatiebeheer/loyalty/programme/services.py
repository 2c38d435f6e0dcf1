"""Writes to the loyalty programme: its configuration, customer cards and points.

Every public function here is a declared writer (``common.writers``): keyword-only,
permission first, validated, one transaction with its audit row (ids and field names
only), the programme's or the points account's row locked before a rule that spans rows
is checked.

*Configuration* (programmes, tiers and entitlements, bonus brackets, earn rules,
rewards) declares ``accounts=False``: it changes no account's data. A rule change bumps
the programme's version, which makes every stored tier status of the programme stale
(``TierStatus.config_version``); after the commit the programme is evaluated again in the
background (:func:`relatiebeheer.loyalty.tasks.evaluate_programme_task`) rather than
through the "accounts changed" hook — every member may be affected, and the hook would
also make the customer value of accounts whose value did not change be recomputed.
Until that run the tier overview says the tiers are being recalculated; the account's
own pages compute its tier live and show the new rules at once.

*Cards and redemptions* change an account's data and fire the hook for it. Earning
(:func:`points_earn`) books points the orders already determine — loyalty's own derived
figure, like the evaluation that books them in bulk — and declares ``accounts=False``;
it writes no audit row either: the order it books from was audited by its own writer,
and the append-only ledger entry (with its source, time and author) is the record.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from django.db import IntegrityError, models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from relatiebeheer.audit.services import audit_log
from relatiebeheer.common import writers
from relatiebeheer.common.errors import Conflict, InvalidInput, VersionConflict
from relatiebeheer.common.services import apply_changes, full_clean_or_raise, versioned_update
from relatiebeheer.common.writers import writer
from relatiebeheer.core import loyalty_rules as rules
from relatiebeheer.hooks import accounts_changed
from relatiebeheer.loyalty.permissions import require_can_configure
from relatiebeheer.relations.models import Account, Contact
from relatiebeheer.relations.rules import require_account_writable
from relatiebeheer.sales.models import Order
from relatiebeheer.users.models import User

from . import ledger
from .models import (
    Benefit,
    BonusBracket,
    Card,
    CategoryRule,
    LedgerEntry,
    Programme,
    Reward,
    Tier,
)

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
TIER_FIELDS = ("name", "rank", "threshold")
BENEFIT_FIELDS = ("kind", "description")
BRACKET_FIELDS = ("lower_bound", "rate")
CATEGORY_RULE_FIELDS = ("category", "points_per_euro")
REWARD_FIELDS = ("name", "points", "description", "active")
REDEEM_PREFIX = "redeem:"

# --------------------------------------------------------------------------- configuration


def _reevaluate_after_commit(programme: Programme) -> None:
    """Queue the programme's evaluation once the rule change is committed."""
    from relatiebeheer.loyalty.tasks import evaluate_programme_task

    programme_id = programme.pk
    transaction.on_commit(lambda: evaluate_programme_task.enqueue(programme_id=programme_id))


def _lock_rules(
    programme: Programme, expected_version: int | None, record: models.Model | None = None
) -> None:
    """Lock the programme row; refuse when its rules changed since the editor opened them.

    Tiers, brackets, earn rules and rewards are edited as parts of their programme: every
    change to one of them bumps the programme's version, so the version the editor saw
    guards them all. ``record`` (the part as it is saved now) goes with the conflict.
    """
    saved = writers.lock(Programme.objects.filter(pk=programme.pk))[0]
    if expected_version is None:
        return
    writers.version_checked()
    if saved.version != expected_version:
        current = type(record)._base_manager.filter(pk=record.pk).first() if record else None
        raise VersionConflict(current=current or saved)


def _bump(programme: Programme) -> None:
    """Any change to a programme's rules makes every stored status stale."""
    Programme.objects.filter(pk=programme.pk).update(version=F("version") + 1)
    programme.refresh_from_db(fields=["version"])
    _reevaluate_after_commit(programme)


def _numbering(programme: Programme) -> rules.CardNumbering:
    return rules.CardNumbering(
        prefix=programme.card_prefix, scheme=rules.CardScheme(programme.card_scheme)
    )


def _check_programme(programme: Programme) -> None:
    try:
        _numbering(programme)
    except rules.LoyaltyError as exc:
        raise InvalidInput({"card_prefix": [_("A prefix of at most 6 digits.")]}) from exc


def _check_rules(programme: Programme) -> None:
    """The tiers and brackets together must make a valid programme for the core."""
    tiers = list(programme.tiers.all())
    if tiers:
        try:
            rules.TierProgramme(
                tuple(rules.Tier(t.name, t.threshold, t.rank) for t in tiers),
                period=rules.QualificationPeriod(programme.period),
                grace_days=programme.grace_days,
            )
        except rules.LoyaltyError as exc:
            raise InvalidInput(
                {"threshold": [_("A higher tier needs a higher threshold than the tier below it.")]}
            ) from exc
    for bracket in programme.brackets.all():
        if bracket.rate > programme.bonus_max_rate:
            raise InvalidInput(
                {
                    "rate": [
                        _("No bonus rate may exceed the highest rate of %(rate)s.")
                        % {"rate": f"{programme.bonus_max_rate * 100:.2f} %"}
                    ]
                }
            )


def _save_unique(obj: models.Model, field: str, message: str) -> None:
    """Save ``obj`` in a savepoint; a unique constraint it breaks is bad input on ``field``."""
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError as exc:
        raise InvalidInput({field: [message]}) from exc


@writer(accounts=False, version="version")
def programme_save(
    *,
    actor: User,
    programme: Programme | None,
    data: Mapping[str, Any],
    version: int | None = None,
) -> Programme:
    """Create a programme or change its settings (configurators only).

    A change needs the ``version`` the editor saw (a stale one is a conflict).
    """
    require_can_configure(actor)
    creating = programme is None
    programme = programme or Programme()
    changed = apply_changes(programme, dict(data), PROGRAMME_FIELDS)
    full_clean_or_raise(programme, exclude=["version"] if creating else None)
    _check_programme(programme)
    with transaction.atomic():
        if creating:
            _save_unique(programme, "code", _("A programme with this code exists."))
        else:
            versioned_update(programme, expected_version=version or 0, fields=changed)
            _check_rules(programme)
            _reevaluate_after_commit(programme)
        audit_log(
            actor=actor,
            action="programme.create" if creating else "programme.update",
            obj=programme,
            fields=changed,
        )
    return programme


@writer(accounts=False, version="programme_version", locks=("loyalty.programme",))
def tier_save(
    *,
    actor: User,
    programme: Programme,
    tier: Tier | None,
    data: Mapping[str, Any],
    benefits: Iterable[Mapping[str, str]] | None = None,
    programme_version: int | None = None,
) -> Tier:
    """Add or change a tier (and replace its entitlements when ``benefits`` is given)."""
    require_can_configure(actor)
    tier = tier or Tier(programme=programme)
    changed = apply_changes(tier, dict(data), TIER_FIELDS)
    full_clean_or_raise(tier)
    with transaction.atomic():
        _lock_rules(programme, programme_version, tier if tier.pk else None)
        _save_unique(tier, "name", _("Tier names and ranks are unique."))
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


def _save_part(
    *,
    actor: User,
    programme: Programme,
    part: Any,
    data: Mapping[str, Any],
    fields: Any,
    programme_version: int | None,
    action: str,
    save: Any,
    check_rules: bool = False,
) -> Any:
    """Save one part of a programme's rules (a bracket, an earn rule, a reward) under the
    programme's lock and version: the steps the three writers below share."""
    require_can_configure(actor)
    changed = apply_changes(part, dict(data), fields)
    full_clean_or_raise(part)
    with transaction.atomic():
        _lock_rules(programme, programme_version, part if part.pk else None)
        save(part)
        if check_rules:
            _check_rules(programme)
        _bump(programme)  # every part belongs to the rules the editor saw
        audit_log(actor=actor, action=action, obj=part, fields=changed)
    return part


@writer(accounts=False, version="programme_version", locks=("loyalty.programme",))
def bracket_save(
    *,
    actor: User,
    programme: Programme,
    bracket: BonusBracket | None,
    data: Mapping[str, Any],
    programme_version: int | None = None,
) -> BonusBracket:
    """Add or change a bonus bracket (no rate above the programme's highest rate)."""
    return _save_part(
        actor=actor,
        programme=programme,
        part=bracket or BonusBracket(programme=programme),
        data=data,
        fields=BRACKET_FIELDS,
        programme_version=programme_version,
        action="bracket.save",
        save=lambda b: _save_unique(b, "lower_bound", _("Each bracket starts at its own amount.")),
        check_rules=True,
    )


@writer(accounts=False, version="programme_version", locks=("loyalty.programme",))
def category_rule_save(
    *,
    actor: User,
    programme: Programme,
    rule: CategoryRule | None,
    data: Mapping[str, Any],
    programme_version: int | None = None,
) -> CategoryRule:
    """Add or change an earn rule for a product category."""
    return _save_part(
        actor=actor,
        programme=programme,
        part=rule or CategoryRule(programme=programme),
        data=data,
        fields=CATEGORY_RULE_FIELDS,
        programme_version=programme_version,
        action="earn_rule.save",
        save=lambda r: _save_unique(r, "category", _("This category has a rule already.")),
    )


@writer(accounts=False, version="programme_version", locks=("loyalty.programme",))
def reward_save(
    *,
    actor: User,
    programme: Programme,
    reward: Reward | None,
    data: Mapping[str, Any],
    programme_version: int | None = None,
) -> Reward:
    """Add or change a reward to redeem points for."""
    return _save_part(
        actor=actor,
        programme=programme,
        part=reward or Reward(programme=programme),
        data=data,
        fields=REWARD_FIELDS,
        programme_version=programme_version,
        action="reward.save",
        save=lambda r: r.save(),
    )


@writer(accounts=False, version="programme_version", locks=("loyalty.programme",))
def config_delete(
    *,
    actor: User,
    obj: Tier | BonusBracket | CategoryRule | Reward,
    programme_version: int | None = None,
) -> None:
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


def _full_clean_at(obj: models.Model, prefix: str) -> None:
    try:
        full_clean_or_raise(obj, exclude=["programme", "tier"])
    except InvalidInput as exc:
        raise InvalidInput(
            {f"{prefix}.{field}": messages for field, messages in exc.errors.items()}
        ) from exc


@writer(accounts=False, locks=("loyalty.programme",))
def programme_define(*, actor: User, definition: Mapping[str, Any]) -> Programme:
    """Create or replace a whole programme from one definition (the API's way).

    ``definition`` holds the programme's fields plus ``tiers`` (each with
    ``benefits``), ``brackets``, ``category_rules`` and ``rewards``; the programme is
    found by its ``code``. Tiers, brackets and rules are replaced; rewards are matched by
    name (missing ones are deactivated, so redemptions keep their reward). With
    ``version`` (the version the caller read), replacing refuses a programme that changed.
    """
    require_can_configure(actor)
    definition = dict(definition)
    tiers = definition.pop("tiers", [])
    brackets = definition.pop("brackets", [])
    category_rules = definition.pop("category_rules", [])
    rewards = definition.pop("rewards", [])
    expected_version = definition.pop("version", None)
    with transaction.atomic():
        found = writers.lock(Programme.objects.filter(code=definition.get("code")))
        programme = found[0] if found else None
        if programme is not None and expected_version is not None:
            writers.version_checked()
            if expected_version != programme.version:
                raise VersionConflict(current=programme)
        action = "programme.replace" if programme is not None else "programme.create"
        programme = programme or Programme()
        apply_changes(programme, definition, PROGRAMME_FIELDS)
        full_clean_or_raise(programme)
        _check_programme(programme)
        if programme.pk:
            programme.version += 1
        programme.save()
        programme.tiers.all().delete()
        for index, item in enumerate(tiers):
            item = dict(item)
            benefits = item.pop("benefits", [])
            tier = Tier(programme=programme)
            apply_changes(tier, item, TIER_FIELDS)
            _full_clean_at(tier, f"tiers.{index}")
            tier.save()
            for b_index, benefit in enumerate(benefits):
                row = Benefit(tier=tier)
                apply_changes(row, dict(benefit), BENEFIT_FIELDS)
                _full_clean_at(row, f"tiers.{index}.benefits.{b_index}")
                row.save()
        programme.brackets.all().delete()
        for index, item in enumerate(brackets):
            bracket = BonusBracket(programme=programme)
            apply_changes(bracket, dict(item), BRACKET_FIELDS)
            _full_clean_at(bracket, f"brackets.{index}")
            bracket.save()
        programme.category_rules.all().delete()
        for index, item in enumerate(category_rules):
            rule = CategoryRule(programme=programme)
            apply_changes(rule, dict(item), CATEGORY_RULE_FIELDS)
            _full_clean_at(rule, f"category_rules.{index}")
            rule.save()
        existing = {r.name: r for r in programme.rewards.all()}
        keep = set()
        for index, item in enumerate(rewards):
            item = dict(item)
            reward = existing.get(item.get("name")) or Reward(programme=programme)
            apply_changes(reward, item, REWARD_FIELDS)
            _full_clean_at(reward, f"rewards.{index}")
            reward.save()
            keep.add(reward.pk)
        programme.rewards.exclude(pk__in=keep).update(active=False)
        _check_rules(programme)
        _reevaluate_after_commit(programme)
        audit_log(actor=actor, action=action, obj=programme, extra={"tiers": len(tiers)})
    return programme


# --------------------------------------------------------------------------- cards


def _issue(
    actor: User,
    account: Account,
    programme: Programme,
    contact: Contact | None,
    *,
    replaces: Card | None,
) -> Card:
    """The programme's next sequence number plus a check digit, under its row lock."""
    numbering = _numbering(programme)
    with transaction.atomic():
        locked = writers.lock(Programme.objects.filter(pk=programme.pk))[0]
        sequence = locked.next_card_sequence
        if sequence >= numbering.capacity:
            raise Conflict(_("This programme has no card numbers left."))
        Programme.objects.filter(pk=programme.pk).update(next_card_sequence=sequence + 1)
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
        accounts_changed([account.pk])
    return card


@writer(locks=("loyalty.programme",))
def card_issue(
    *, actor: User, account: Account, programme: Programme, contact: Contact | None = None
) -> Card:
    """Issue a customer card: the programme's next sequence number plus a check digit."""
    require_account_writable(actor, account)
    if contact is not None and contact.account_id != account.pk:
        raise InvalidInput({"contact": [_("The card holder must be a contact of this account.")]})
    return _issue(actor, account, programme, contact, replaces=None)


@writer(locks=("loyalty.card",))
def card_block(*, actor: User, card: Card, reason: str = "") -> Card:
    """Block a card (lost, stolen, misused); a blocked card cannot be used again."""
    require_account_writable(actor, card.account)
    with transaction.atomic():
        locked = writers.lock(Card.objects.filter(pk=card.pk))
        if not locked or locked[0].status != Card.Status.ACTIVE:
            raise Conflict(_("Only an active card can be blocked."))
        Card.objects.filter(pk=card.pk).update(
            status=Card.Status.BLOCKED,
            blocked_on=timezone.localdate(),
            block_reason=(reason or "")[:200],
        )
        card.refresh_from_db()
        audit_log(actor=actor, action="card.block", obj=card)
        accounts_changed([card.account_id])
    return card


@writer(locks=("loyalty.card", "loyalty.programme"))
def card_replace(*, actor: User, card: Card, reason: str = "") -> Card:
    """Replace a card: the old one stops (replaced) and a new number is issued."""
    require_account_writable(actor, card.account)
    with transaction.atomic():
        locked = writers.lock(Card.objects.filter(pk=card.pk))
        replaceable = (Card.Status.ACTIVE, Card.Status.BLOCKED)
        if (
            not locked
            or locked[0].status not in replaceable
            or Card.objects.filter(replaces=card).exists()
        ):
            raise Conflict(_("This card was replaced already."))
        current = locked[0]
        Card.objects.filter(pk=card.pk).update(
            status=Card.Status.REPLACED,
            blocked_on=current.blocked_on or timezone.localdate(),
            block_reason=(reason or current.block_reason or "")[:200],
        )
        new = _issue(actor, card.account, card.programme, card.contact, replaces=card)
    card.refresh_from_db()
    return new


# --------------------------------------------------------------------------- points


@writer(locks=("loyalty.pointsaccount",))
def points_redeem(
    *,
    actor: User,
    account: Account,
    programme: Programme,
    reward: Reward | None = None,
    points: int | None = None,
    key: str | None = None,
    on: date | None = None,
) -> LedgerEntry:
    """Redeem points (for a reward, or a number of points), first-to-expire first.

    Never below zero: the points account row is locked, the ledger folded and the core
    refuses a redemption beyond what is available on ``on``. ``key`` makes a retry safe
    (the same key redeems once); without it every call is a new redemption.
    """
    require_account_writable(actor, account)
    if not programme.points_enabled:
        raise InvalidInput({"programme": [_("This programme has no points.")]})
    if reward is not None:
        if reward.programme_id != programme.pk or not reward.active:
            raise InvalidInput({"reward": [_("Choose a reward of this programme.")]})
        points = reward.points
    if not isinstance(points, int) or isinstance(points, bool) or points <= 0:
        raise InvalidInput({"points": [_("Redeem a whole number of points above zero.")]})
    on = on or timezone.localdate()
    key = key or f"{REDEEM_PREFIX}{uuid.uuid4().hex}"
    if not key.startswith(REDEEM_PREFIX):
        key = f"{REDEEM_PREFIX}{key}"
    key = key[:80]
    with transaction.atomic():
        pa = ledger.locked_points_account(programme, account.pk)
        state = ledger.ledger_state(pa)
        try:
            planned = rules.plan_redemption(state, key=key, points=points, on=on)
        except rules.LedgerError as exc:
            if exc.code == "insufficient_points":
                raise Conflict(
                    _("Not enough points: %(asked)s asked, %(available)s available.")
                    % {"asked": points, "available": exc.details.get("available", 0)},
                    code="insufficient_points",
                ) from exc
            raise InvalidInput({"key": [_("This key was used for another redemption.")]}) from exc
        if not planned:  # a retry of a redemption already booked
            writers.nothing_to_write()
            return LedgerEntry.objects.get(points_account=pa, key=key)
        ledger.append(pa, state, planned, reward=reward, actor=actor)
        entry = LedgerEntry.objects.get(points_account=pa, key=key)
        audit_log(
            actor=actor,
            action="points.redeem",
            obj=entry,
            account_id=account.pk,
            extra={"points": points, "reward_id": reward.pk if reward else None},
        )
        accounts_changed([account.pk])
    return entry


@writer(audit=False, accounts=False, locks=("loyalty.programme", "loyalty.pointsaccount"))
def points_earn(
    programme: Programme,
    order: Order,
    *,
    context: ledger.EarnContext | None = None,
    actor: User | None = None,
) -> ledger.Posting | None:
    """Book one order's points (idempotent: an order earns once, whatever retries).

    The single-order path (the bulk path is :func:`.bulk.points_sync`), serialised with
    the bulk earner by the programme's row lock, under the points account's lock. ``context``
    (:class:`~.ledger.EarnContext`) saves reading the rules for every call. Returns the
    posting, or ``None`` when the order does not earn (credit note, cancelled, before the
    programme, or booked already).
    """
    posting = ledger.earn_one(programme, order, context, actor=actor)
    if posting is None:
        writers.nothing_to_write()
    return posting
