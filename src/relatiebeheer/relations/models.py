"""Accounts, contacts, consent, contact moments, tasks and saved selections."""

from __future__ import annotations

import re

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from relatiebeheer.common.models import VersionedModel
from relatiebeheer.common.text import normalise_search
from relatiebeheer.users.access import account_visibility_q

from .validators import validate_kvk, validate_phone, validate_vat


class VisibleQuerySet(models.QuerySet):
    """Base for customer data: ``visible_to(user)`` is the only way views reach rows.

    ``account_path`` is the lookup from this model to its account ("" for Account).
    """

    account_path = "account__"

    def visible_to(self, user):
        q = account_visibility_q(user, self.account_path)
        return self if q is None else self.filter(q)


class AccountQuerySet(VisibleQuerySet):
    account_path = ""

    def active(self):
        return self.filter(archived=False)

    def search(self, text: str):
        """Accounts with, for every word typed, a word in their name, city, postal code
        or KvK number that starts with it ("bijenk amster" finds de Bijenkorf in
        Amsterdam). Served by the indexed ``SearchToken`` table, the same on SQLite and
        PostgreSQL."""
        qs = self
        for word in search_words(text)[:8]:
            upper = word[:-1] + chr(ord(word[-1]) + 1)
            matching = SearchToken.objects.filter(token__gte=word, token__lt=upper).values(
                "account_id"
            )
            qs = qs.filter(pk__in=matching)
        return qs


class BuyingGroup(models.Model):
    """A purchasing association (inkoopvereniging) several accounts buy through."""

    name = models.CharField(_("name"), max_length=200, unique=True)

    class Meta:
        verbose_name = _("buying group")
        verbose_name_plural = _("buying groups")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Account(VersionedModel):
    class Status(models.TextChoices):
        PROSPECT = "prospect", _("Prospect")
        CUSTOMER = "customer", _("Customer")
        KEY_ACCOUNT = "key_account", _("Key account")

    name = models.CharField(_("name"), max_length=200)
    kvk_number = models.CharField(
        _("KvK number"), max_length=8, blank=True, validators=[validate_kvk], db_index=True
    )
    vat_number = models.CharField(
        _("VAT number"), max_length=20, blank=True, validators=[validate_vat]
    )
    industry = models.CharField(_("industry"), max_length=100, blank=True, db_index=True)
    street = models.CharField(_("street and number"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=10, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    country = models.CharField(_("country"), max_length=2, default="NL")
    website = models.URLField(_("website"), blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PROSPECT
    )
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account manager"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_accounts",
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("head office"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="branches",
    )
    buying_group = models.ForeignKey(
        BuyingGroup,
        verbose_name=_("buying group"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="accounts",
    )
    customer_since = models.DateField(_("customer since"), null=True, blank=True)
    margin = models.DecimalField(
        _("profit margin (%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text=_(
            "The margin agreed with this account; the CLV uses it (else the default margin)."
        ),
    )
    notes = models.TextField(_("notes"), blank=True)
    external_id = models.CharField(_("external id"), max_length=64, blank=True)
    archived = models.BooleanField(_("archived"), default=False)
    # Normalised name, city, postal code and KvK number: see common.text.normalise_search.
    search_text = models.CharField(max_length=400, editable=False, default="")

    objects = AccountQuerySet.as_manager()

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        ordering = ["name", "id"]
        indexes = [
            # The list's default order over active accounts, with and without a manager
            # filter (partial, so "archived = false" needs no index column).
            models.Index(
                fields=["name", "id"],
                condition=models.Q(archived=False),
                name="account_active_name_idx",
            ),
            models.Index(
                fields=["manager", "name", "id"],
                condition=models.Q(archived=False),
                name="account_manager_name_idx",
            ),
            models.Index(fields=["status"]),
            models.Index(fields=["city"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                condition=~models.Q(external_id=""),
                name="account_external_id_unique",
            ),
            models.CheckConstraint(
                condition=~models.Q(parent=models.F("id")), name="account_not_own_parent"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def refresh_search_text(self) -> None:
        self.search_text = normalise_search(self.name, self.city, self.postal_code, self.kvk_number)


def search_words(*parts: object) -> list[str]:
    """The words search works on: normalised, split on anything but letters and digits."""
    text = normalise_search(*parts)
    return [w[:40] for w in re.split(r"[^a-z0-9]+", text) if w]


class SearchToken(models.Model):
    """One word of an account's name, city, postal code or KvK number, for prefix search.

    Kept in step by ``relations.search.refresh_search_tokens`` (services call it for
    every write; bulk loads rebuild it for the accounts they touched).
    """

    account = models.ForeignKey(
        "Account", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    token = models.CharField(max_length=40)

    class Meta:
        indexes = [models.Index(fields=["token", "account"], name="search_token_idx")]
        constraints = [
            models.UniqueConstraint(fields=["account", "token"], name="search_token_unique")
        ]

    def __str__(self) -> str:
        return self.token


class AccountShare(models.Model):
    """An account shared with another account manager (e.g. a colleague on holiday cover)."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="shares")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="shared_accounts"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("shared account")
        verbose_name_plural = _("shared accounts")
        constraints = [
            models.UniqueConstraint(fields=["account", "user"], name="account_share_unique")
        ]

    def __str__(self) -> str:
        return f"{self.account} → {self.user}"


class Interest(models.Model):
    """A personal interest of a contact (golf, tennis, wine …), used for social binding."""

    name = models.CharField(_("interest"), max_length=60, unique=True)

    class Meta:
        verbose_name = _("interest")
        verbose_name_plural = _("interests")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Contact(VersionedModel):
    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.CASCADE, related_name="contacts"
    )
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100)
    role = models.CharField(_("role"), max_length=100, blank=True)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True, validators=[validate_phone])
    language = models.CharField(
        _("preferred language"),
        max_length=5,
        choices=[("nl", "Nederlands"), ("en", "English")],
        default="nl",
    )
    interests = models.ManyToManyField(
        Interest, verbose_name=_("interests"), blank=True, related_name="contacts"
    )
    external_id = models.CharField(_("external id"), max_length=64, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    erased_at = models.DateTimeField(
        _("personal data erased"), null=True, blank=True, editable=False
    )
    # Set when an erasure starts, cleared when it is complete: "erasure pending".
    erasure_started_at = models.DateTimeField(
        _("erasure started"), null=True, blank=True, editable=False
    )

    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["last_name", "first_name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                condition=~models.Q(external_id=""),
                name="contact_external_id_unique",
            )
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def erasure_pending(self) -> bool:
        return self.erasure_started_at is not None and self.erased_at is None


class ConsentPurpose(models.TextChoices):
    SURVEYS = "surveys", _("Surveys")
    CAMPAIGNS = "campaigns", _("Newsletters and campaigns")
    EVENTS = "events", _("Event invitations")


class ConsentQuerySet(VisibleQuerySet):
    account_path = "contact__account__"


class ConsentRecord(models.Model):
    """The consent register: one row per statement, never updated.

    A contact's current consent for a purpose is their latest row for it; withdrawal is
    a new row with ``granted=False``. Every feature that mails people asks
    :func:`relatiebeheer.relations.selectors.contacts_with_consent`, never a field of
    its own.
    """

    class Source(models.TextChoices):
        WEB_FORM = "web_form", _("Web form")
        EMAIL = "email", _("By email")
        PHONE = "phone", _("By phone")
        IN_PERSON = "in_person", _("In person")
        IMPORT = "import", _("Import")
        API = "api", _("API")
        UNSUBSCRIBE_LINK = "unsubscribe_link", _("Unsubscribe link")

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(_("purpose"), max_length=20, choices=ConsentPurpose.choices)
    granted = models.BooleanField(_("granted"))
    text_version = models.CharField(_("text version consented to"), max_length=40, blank=True)
    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ConsentQuerySet.as_manager()

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consent register")
        ordering = ["-recorded_at", "-id"]
        indexes = [models.Index(fields=["contact", "purpose", "-recorded_at"])]

    def __str__(self) -> str:
        return f"{self.contact_id} {self.purpose} {'+' if self.granted else '-'}"


class Satisfaction(models.IntegerChoices):
    """The lesson's 4-point scale; 4 is best (see core.survey_scores for 0–100)."""

    VERY_GOOD = 4, _("very good")
    GOOD = 3, _("good")
    FAIR = 2, _("fair")
    POOR = 1, _("poor")


class Interaction(VersionedModel):
    """A contact moment (contactmoment): any contact outside the sale itself."""

    class Channel(models.TextChoices):
        PHONE = "phone", _("Phone")
        VISIT = "visit", _("Visit")
        EMAIL = "email", _("Email")
        VIDEO = "video", _("Video call")
        CHAT = "chat", _("Chat")
        EVENT = "event", _("Event")

    class Kind(models.TextChoices):
        QUESTION = "question", _("Question answered")
        LOOKED_INTO = "looked_into", _("Looked into something for the customer")
        PROACTIVE = "proactive", _("Proactive outreach")
        SERVICE = "service", _("Service contact")
        COMPLAINT = "complaint", _("Complaint")
        SALES = "sales", _("Sales conversation")
        EVENT = "event", _("Event")

    class Direction(models.TextChoices):
        INBOUND = "inbound", _("Inbound")
        OUTBOUND = "outbound", _("Outbound")

    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.CASCADE, related_name="interactions"
    )
    contacts = models.ManyToManyField(
        Contact, verbose_name=_("contacts"), blank=True, related_name="interactions"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="interactions",
    )
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    duration_minutes = models.PositiveIntegerField(_("duration (minutes)"), default=0)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    direction = models.CharField(
        _("direction"), max_length=10, choices=Direction.choices, default=Direction.OUTBOUND
    )
    subject = models.CharField(_("subject"), max_length=200)
    notes = models.TextField(_("notes"), blank=True)
    satisfaction = models.PositiveSmallIntegerField(
        _("satisfaction reading"), choices=Satisfaction.choices, null=True, blank=True
    )

    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("contact moment")
        verbose_name_plural = _("contact moments")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["account", "-occurred_at"]),
            models.Index(fields=["-occurred_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(satisfaction__isnull=True)
                | models.Q(satisfaction__gte=1, satisfaction__lte=4),
                name="interaction_satisfaction_range",
            )
        ]

    def __str__(self) -> str:
        return self.subject


class Task(VersionedModel):
    """A follow-up for a user, on an account."""

    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.CASCADE, related_name="tasks"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tasks",
    )
    title = models.CharField(_("task"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    done = models.BooleanField(_("done"), default=False)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    source_interaction = models.ForeignKey(
        Interaction,
        verbose_name=_("from contact moment"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tasks",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["done", "due_date", "id"]
        indexes = [
            models.Index(fields=["assignee", "done", "due_date"]),
            models.Index(fields=["account", "done"]),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_overdue(self) -> bool:
        return bool(not self.done and self.due_date and self.due_date < timezone.localdate())


class SavedSelection(models.Model):
    """A named account filter ("my key accounts in Amsterdam") that later features reuse.

    ``filters`` holds the account-list filter parameters; applying it always goes
    through ``Account.objects.visible_to(user)``, so sharing a selection never
    widens what anyone sees.
    """

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="selections"
    )
    name = models.CharField(_("name"), max_length=100)
    filters = models.JSONField(_("filters"), default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("saved selection")
        verbose_name_plural = _("saved selections")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="selection_name_unique")
        ]

    def __str__(self) -> str:
        return self.name
