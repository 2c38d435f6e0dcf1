"""Binding: activities on the three levels, events and invitations, incentive ideas,
the rapport with each contact and the register of wishes."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from relatiebeheer.common.fields import MoneyField
from relatiebeheer.common.models import VersionedModel
from relatiebeheer.relations.models import VisibleQuerySet
from relatiebeheer.users.access import account_visibility_q, sees_all_accounts


class Level(models.TextChoices):
    """The three binding levels of the lesson."""

    FINANCIAL = "financial", _("Financial")
    SOCIAL = "social", _("Social")
    STRUCTURAL = "structural", _("Structural")


class ActivityKind(models.TextChoices):
    DISCOUNT = "discount", _("Discount")
    BONUS = "bonus", _("Bonus")
    TERMS = "terms", _("Better terms")
    ATTENTION = "attention", _("Personal attention")
    EVENT = "event", _("Event")
    INCENTIVE = "incentive", _("Incentive matched to an interest")
    DELIVERY = "delivery", _("Tailor-made delivery")
    ACCOUNT_MANAGER = "account_manager", _("Fixed account manager")
    EDI = "edi", _("EDI link")
    STOCK = "stock", _("Reserved stock")
    OTHER = "other", _("Other")


# The level each kind belongs to ("other" fits any level).
KIND_LEVEL = {
    ActivityKind.DISCOUNT: Level.FINANCIAL,
    ActivityKind.BONUS: Level.FINANCIAL,
    ActivityKind.TERMS: Level.FINANCIAL,
    ActivityKind.ATTENTION: Level.SOCIAL,
    ActivityKind.EVENT: Level.SOCIAL,
    ActivityKind.INCENTIVE: Level.SOCIAL,
    ActivityKind.DELIVERY: Level.STRUCTURAL,
    ActivityKind.ACCOUNT_MANAGER: Level.STRUCTURAL,
    ActivityKind.EDI: Level.STRUCTURAL,
    ActivityKind.STOCK: Level.STRUCTURAL,
}


class BindingActivity(VersionedModel):
    """Something done (or planned) to bind an account, on one of the three levels.

    Done activities may point at the contact moment that logged them; planned ones carry
    the day they are planned for.
    """

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    account = models.ForeignKey(
        "relations.Account",
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        related_name="binding_activities",
    )
    level = models.CharField(_("binding level"), max_length=12, choices=Level.choices)
    kind = models.CharField(_("kind"), max_length=20, choices=ActivityKind.choices)
    title = models.CharField(_("what"), max_length=200)
    notes = models.TextField(_("notes"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PLANNED
    )
    planned_on = models.DateField(_("planned for"), null=True, blank=True)
    done_on = models.DateField(_("done on"), null=True, blank=True)
    contact = models.ForeignKey(
        "relations.Contact",
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="binding_activities",
    )
    interest = models.ForeignKey(
        "relations.Interest",
        verbose_name=_("matched interest"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    interaction = models.ForeignKey(
        "relations.Interaction",
        verbose_name=_("contact moment"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="binding_activities",
    )
    event = models.ForeignKey(
        "loyalty.Event",
        verbose_name=_("event"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="activities",
    )
    cost = MoneyField(_("cost (excl. VAT)"), db_column="cost_cents", null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("binding activity")
        verbose_name_plural = _("binding activities")
        ordering = ["-done_on", "-planned_on", "-id"]
        indexes = [models.Index(fields=["account", "level", "done_on"], name="binding_acc_lvl")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="done") | Q(done_on__isnull=False), name="binding_done_has_date"
            ),
            models.CheckConstraint(
                condition=~Q(status="planned") | Q(planned_on__isnull=False),
                name="binding_planned_has_date",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def day(self):
        return self.done_on or self.planned_on


# --------------------------------------------------------------------------- personal side


class EventQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Events a user sees: managers all; others their own, shared ones, and events
        with an invitation for an account they see."""
        if not user or not user.is_authenticated or not user.is_active:
            return self.none()
        if sees_all_accounts(user):
            return self
        q = account_visibility_q(user, "invitations__account__")
        mine = Q(organiser=user) | Q(shared=True)
        ids = self.filter(q).values("pk") if q is not None else self.values("pk")
        return self.filter(mine | Q(pk__in=ids))


class Event(VersionedModel):
    """An event to invite contacts to (the lesson: the final of the tennis tournament a
    bank sponsors). ``shared`` events are open to every account manager's invitations."""

    name = models.CharField(_("name"), max_length=200)
    starts_at = models.DateTimeField(_("starts at"))
    location = models.CharField(_("location"), max_length=200, blank=True)
    description = models.TextField(_("description"), blank=True)
    interest = models.ForeignKey(
        "relations.Interest",
        verbose_name=_("appeals to the interest"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    capacity = models.PositiveIntegerField(_("places"), null=True, blank=True)
    cost_per_guest = MoneyField(
        _("cost per guest"), db_column="cost_per_guest_cents", null=True, blank=True
    )
    shared = models.BooleanField(
        _("open to colleagues"),
        default=False,
        help_text=_("Every account manager may invite their contacts."),
    )
    organiser = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("organiser"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = EventQuerySet.as_manager()

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["-starts_at", "-id"]

    def __str__(self) -> str:
        return self.name


class Invitation(VersionedModel):
    """A contact invited to an event, and their answer (RSVP)."""

    class Status(models.TextChoices):
        INVITED = "invited", _("Invited")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        ATTENDED = "attended", _("Attended")
        NO_SHOW = "no_show", _("Did not come")

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="invitations")
    contact = models.ForeignKey(
        "relations.Contact", on_delete=models.CASCADE, related_name="invitations"
    )
    account = models.ForeignKey(
        "relations.Account", on_delete=models.CASCADE, related_name="invitations"
    )
    status = models.CharField(
        _("answer"), max_length=10, choices=Status.choices, default=Status.INVITED
    )
    responded_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    mailed = models.BooleanField(_("invitation mailed"), default=False)
    activity = models.ForeignKey(
        BindingActivity, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["event", "contact__last_name", "id"]
        constraints = [models.UniqueConstraint(fields=["event", "contact"], name="invitation_once")]

    def __str__(self) -> str:
        return f"{self.event_id}:{self.contact_id}"


class IncentiveIdea(models.Model):
    """A gift or treat matched to a personal interest (tennis → tickets for the final)."""

    name = models.CharField(_("incentive"), max_length=200)
    interest = models.ForeignKey(
        "relations.Interest", verbose_name=_("interest"), on_delete=models.CASCADE, related_name="+"
    )
    typical_cost = MoneyField(
        _("typical cost"), db_column="typical_cost_cents", default=Decimal("0.00")
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("incentive idea")
        verbose_name_plural = _("incentive ideas")
        ordering = ["interest__name", "name"]

    def __str__(self) -> str:
        return self.name


class Rapport(models.Model):
    """The account manager's judgement of the personal relationship with a contact: is
    there rapport ("een klik")? Append-only; the latest judgement counts (yes/no on the
    0–100 scale of ``core.survey_scores``: yes 100, no 0)."""

    contact = models.ForeignKey(
        "relations.Contact", on_delete=models.CASCADE, related_name="rapports"
    )
    account = models.ForeignKey("relations.Account", on_delete=models.CASCADE, related_name="+")
    # The column keeps its first name, so today's databases need no migration of data.
    rapport = models.BooleanField(_("is there rapport?"), db_column="klik")
    note = models.CharField(_("note"), max_length=300, blank=True)
    judged_on = models.DateField(_("judged on"), default=timezone.localdate)
    judged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("rapport judgement")
        verbose_name_plural = _("rapport judgements")
        ordering = ["-judged_on", "-id"]
        indexes = [models.Index(fields=["contact", "-judged_on"], name="rapport_contact")]

    def __str__(self) -> str:
        return f"{self.contact_id} {'+' if self.rapport else '-'}"


class Wish(VersionedModel):
    """What the account needs, how and when it orders, and how we meet each wish."""

    class Aspect(models.TextChoices):
        ASSORTMENT = "assortment", _("What they need")
        ORDERING = "ordering", _("How they order")
        TIMING = "timing", _("When they order")
        DELIVERY = "delivery", _("Delivery")
        PAYMENT = "payment", _("Payment and terms")
        SERVICE = "service", _("Service")
        COMMUNICATION = "communication", _("Communication")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        MET = "met", _("Met")
        PARTLY = "partly", _("Partly met")
        PLANNED = "planned", _("Planned")
        NOT_MET = "not_met", _("Not met yet")

    account = models.ForeignKey(
        "relations.Account",
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        related_name="wishes",
    )
    aspect = models.CharField(_("aspect"), max_length=15, choices=Aspect.choices)
    wish = models.CharField(_("wish or buying behaviour"), max_length=300)
    how_we_meet = models.TextField(_("how we meet it"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.NOT_MET
    )
    level = models.CharField(
        _("binding level"), max_length=12, choices=Level.choices, default=Level.STRUCTURAL
    )

    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("wish")
        verbose_name_plural = _("wishes")
        ordering = ["aspect", "id"]

    def __str__(self) -> str:
        return self.wish
