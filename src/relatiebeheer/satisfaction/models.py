"""Surveys, invitations with single-use answer tokens, responses, answers and follow-ups.

Scores are never computed here: every scale maps to 0–100 in
:mod:`relatiebeheer.core.survey_scores`, and an answer stores that score when it is
given, so every feature that combines scores reads the same number.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from relatiebeheer.common.models import VersionedModel
from relatiebeheer.core import survey_scores as scores
from relatiebeheer.relations.models import VisibleQuerySet

from . import kinds


class Tag(models.TextChoices):
    """What a question measures; other features read answers by tag."""

    SATISFACTION = "satisfaction", _("Overall satisfaction")
    TRUST = "trust", _("Trust in us and our product")
    ADVICE = "advice_quality", _("Quality of advice")
    CLARITY = "clarity", _("Clarity of the explanation")
    RECOMMEND = "recommend", _("Would recommend us")
    ALTERNATIVES = "alternatives", _("Quality of the alternatives")
    INVESTMENT = "investment", _("Investment in the relationship")
    SERVICE = "service", _("Service")


_settings_cache: dict[str, tuple[float, object]] = {}


def forget_cached_settings() -> None:
    """This process sees a change of the settings at once (others within seconds)."""
    _settings_cache.clear()


class SatisfactionSettings(models.Model):
    """How surveys are sent and when an answer is unhappy. Exactly one row (``pk=1``)."""

    throttle_contact_days = models.PositiveIntegerField(
        _("at most one invitation per contact per (days)"), default=90
    )
    throttle_account_days = models.PositiveIntegerField(
        _("at most one invitation per account per (days)"), default=30
    )
    auto_send = models.BooleanField(_("invite automatically after contact moments"), default=True)
    auto_send_days = models.PositiveIntegerField(
        _("days after the contact moment"), default=3, validators=[MaxValueValidator(60)]
    )
    auto_send_kinds = models.JSONField(
        _("kinds of contact moment that lead to an invitation"),
        default=list,
        blank=True,
        help_text=_('Kinds such as "service", "complaint", "question".'),
    )
    auto_survey = models.ForeignKey(
        "Survey",
        verbose_name=_("survey sent automatically"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_('Empty: the default survey "after a service contact".'),
    )
    reminder_days = models.PositiveIntegerField(
        _("reminder after (days, 0 = none)"), default=7, validators=[MaxValueValidator(60)]
    )
    token_expiry_days = models.PositiveIntegerField(
        _("answer links expire after (days)"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )
    four_point_unhappy_at_most = models.PositiveSmallIntegerField(
        _("4-point: unhappy at or below"),
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(4)],
        help_text=_("1 slecht, 2 matig, 3 goed, 4 zeer goed"),
    )
    csat_unhappy_at_most = models.PositiveSmallIntegerField(
        _("CSAT: unhappy at or below"), default=2, validators=[MaxValueValidator(5)]
    )
    nps_unhappy_at_most = models.PositiveSmallIntegerField(
        _("NPS: unhappy at or below"), default=6, validators=[MaxValueValidator(10)]
    )
    grade_unhappy_below = models.PositiveSmallIntegerField(
        _("grade: unhappy below"), default=6, validators=[MaxValueValidator(10)]
    )
    unhappy_account_below = models.DecimalField(
        _("account unhappy below (score 0–100)"),
        max_digits=5,
        decimal_places=1,
        default=Decimal("50.0"),
        help_text=_('Accounts whose satisfaction is below this count as "revenue at risk".'),
    )
    followup_due_working_days = models.PositiveIntegerField(
        _("follow-up due in (working days)"), default=2, validators=[MaxValueValidator(30)]
    )
    check_back_survey = models.ForeignKey(
        "Survey",
        verbose_name=_("check-back survey"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_('Empty: the built-in short "check-back" survey.'),
    )
    rate_limit_per_token = models.PositiveIntegerField(
        _("answer page: requests per link per minute"), default=30
    )
    rate_limit_failures_per_address = models.PositiveIntegerField(
        _("answer page: unknown links per address per 10 minutes"), default=20
    )
    # Raised by every saved change (``surveys.services.settings_update``), so an
    # administrator's save does not overwrite a colleague's change unseen.
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    class Meta:
        verbose_name = _("satisfaction settings")
        verbose_name_plural = _("satisfaction settings")
        constraints = [
            models.CheckConstraint(condition=models.Q(pk=1), name="satisfaction_settings_one_row")
        ]

    def __str__(self) -> str:
        return str(_("Satisfaction settings"))

    def save(self, *args, **kwargs) -> None:
        super().save(*args, **kwargs)
        forget_cached_settings()

    @classmethod
    def load(cls) -> SatisfactionSettings:
        """The one row; made with the defaults the first time it is read (not a change
        anybody made, so no writer is involved)."""
        from relatiebeheer.common.writers import derived_writes

        obj = cls.objects.filter(pk=1).first()
        if obj is None:
            with derived_writes():
                obj, _created = cls.objects.get_or_create(
                    pk=1, defaults={"auto_send_kinds": ["service"]}
                )
        return obj

    @classmethod
    def cached(cls, seconds: float = 5.0) -> SatisfactionSettings:
        """The settings as loaded at most ``seconds`` ago in this process (hot paths such
        as the answer page); a change in the admin applies everywhere within seconds."""
        import time

        now = time.monotonic()
        hit = _settings_cache.get("row")
        if hit is None or now - hit[0] > seconds:
            hit = (now, cls.load())
            _settings_cache["row"] = hit
        return hit[1]

    @property
    def thresholds(self) -> scores.UnhappyThresholds:
        return scores.UnhappyThresholds(
            four_point_at_most=self.four_point_unhappy_at_most,
            csat_at_most=self.csat_unhappy_at_most,
            nps_at_most=self.nps_unhappy_at_most,
            grade_below=self.grade_unhappy_below,
        )


class Survey(VersionedModel):
    key = models.SlugField(
        _("key"),
        max_length=60,
        unique=True,
        help_text=_('A stable name for scripts, e.g. "after-service".'),
    )
    name = models.CharField(_("name"), max_length=200)
    title_nl = models.CharField(_("title (Dutch)"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=200)
    intro_nl = models.TextField(_("introduction (Dutch)"), blank=True)
    intro_en = models.TextField(_("introduction (English)"), blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def title(self, language: str) -> str:
        return self.title_en if language == "en" and self.title_en else self.title_nl

    def intro(self, language: str) -> str:
        return self.intro_en if language == "en" and self.intro_en else self.intro_nl


class Question(models.Model):
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveIntegerField(_("position"), default=0)
    kind = models.CharField(_("question type"), max_length=20, choices=kinds.choices)
    text_nl = models.CharField(_("question (Dutch)"), max_length=500)
    text_en = models.CharField(_("question (English)"), max_length=500)
    required = models.BooleanField(_("required"), default=True)
    # Stored as ",satisfaction,trust," so "contains ,trust," works in every database.
    tags_text = models.CharField(_("measures"), max_length=300, blank=True, default="")
    # Single choice: [{"key", "label_nl", "label_en", "score" (0–100 or null), "unhappy"}].
    choices = models.JSONField(_("options"), default=list, blank=True)
    # Yes/no: which answer is unhappy (None: neither).
    yes_no_unhappy = models.BooleanField(_("unhappy answer (yes/no)"), null=True, blank=True)
    archived = models.BooleanField(_("archived"), default=False)

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["survey", "position", "id"]
        indexes = [models.Index(fields=["survey", "position"])]

    def __str__(self) -> str:
        return self.text_nl

    @property
    def tags(self) -> list[str]:
        return [t for t in self.tags_text.split(",") if t]

    @tags.setter
    def tags(self, values) -> None:
        clean = sorted({str(v).strip().lower() for v in values if str(v).strip()})
        self.tags_text = f",{','.join(clean)}," if clean else ""

    def text(self, language: str) -> str:
        return self.text_en if language == "en" and self.text_en else self.text_nl

    @property
    def kind_spec(self) -> kinds.Kind:
        """The question's kind in the registry (``satisfaction.kinds``)."""
        return kinds.get(self.kind)

    @property
    def scale(self) -> scores.Scale:
        return self.kind_spec.scale_for(self)

    def option_labels(self, language: str) -> list[tuple[object, str]]:
        """``(value, label)`` for every answer option, in display order."""
        return self.kind_spec.option_labels(self, language)


class InvitationQuerySet(VisibleQuerySet):
    pass


class Invitation(models.Model):
    """One contact asked to fill in one survey. Answered at most once."""

    class Source(models.TextChoices):
        MANUAL = "manual", _("By hand")
        BULK = "bulk", _("Bulk (selection)")
        AUTO = "auto", _("After a contact moment")
        CHECK_BACK = "check_back", _("Check-back after a follow-up")
        API = "api", _("API")

    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="invitations")
    account = models.ForeignKey(
        "relations.Account", on_delete=models.CASCADE, related_name="survey_invitations"
    )
    contact = models.ForeignKey(
        "relations.Contact",
        null=True,
        on_delete=models.SET_NULL,
        related_name="survey_invitations",
    )
    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    interaction = models.ForeignKey(
        "relations.Interaction",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="survey_invitations",
    )
    followup = models.ForeignKey(
        "FollowUp", null=True, blank=True, on_delete=models.SET_NULL, related_name="check_backs"
    )
    language = models.CharField(_("language"), max_length=5, default="nl")
    created_at = models.DateTimeField(_("invited"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reminder_at = models.DateTimeField(_("reminded"), null=True, blank=True)
    completed_at = models.DateTimeField(_("answered"), null=True, blank=True)
    draft = models.JSONField(default=dict, blank=True)
    draft_saved_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["contact", "-created_at"]),
            models.Index(fields=["account", "-created_at"]),
            models.Index(fields=["survey", "created_at", "completed_at"]),
            models.Index(fields=["completed_at", "reminder_at", "created_at"]),
        ]
        constraints = [
            # Automatic sends are idempotent: one invitation per contact moment and contact.
            models.UniqueConstraint(
                fields=["interaction", "contact"],
                condition=models.Q(source="auto"),
                name="invitation_auto_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.survey} → {self.contact_id}"


class AnswerToken(models.Model):
    """A single-use link to an invitation's answer page. Each mail carries its own token.

    Only the SHA-256 of the token is stored, written when the mail is sent (the raw
    token exists only in that mail); ``token_hash`` stays empty until then.
    """

    class Kind(models.TextChoices):
        INVITATION = "invitation", _("Invitation")
        REMINDER = "reminder", _("Reminder")

    invitation = models.ForeignKey(Invitation, on_delete=models.CASCADE, related_name="tokens")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    token_hash = models.CharField(max_length=64, unique=True, null=True, editable=False)
    issued_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    message = models.ForeignKey(
        "outbox.OutboxMessage", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("answer link")
        verbose_name_plural = _("answer links")
        constraints = [
            models.UniqueConstraint(fields=["invitation", "kind"], name="answer_token_per_mail")
        ]

    def __str__(self) -> str:
        return f"{self.invitation_id}/{self.kind}"


class ResponseQuerySet(VisibleQuerySet):
    pass


class Response(models.Model):
    """A submitted survey: final, one per invitation (the unique constraint makes two
    simultaneous submissions store one)."""

    invitation = models.OneToOneField(
        Invitation, null=True, blank=True, on_delete=models.CASCADE, related_name="response"
    )
    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="responses")
    account = models.ForeignKey(
        "relations.Account", on_delete=models.CASCADE, related_name="survey_responses"
    )
    contact = models.ForeignKey(
        "relations.Contact",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="survey_responses",
    )
    submitted_at = models.DateTimeField(_("submitted"), default=timezone.now)
    language = models.CharField(max_length=5, default="nl")
    unhappy = models.BooleanField(_("unhappy"), default=False)

    objects = ResponseQuerySet.as_manager()

    class Meta:
        verbose_name = _("response")
        verbose_name_plural = _("responses")
        ordering = ["-submitted_at", "-id"]
        indexes = [
            models.Index(fields=["survey", "-submitted_at"]),
            models.Index(fields=["account", "-submitted_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.survey} ({self.submitted_at:%Y-%m-%d})"


class AnswerQuerySet(VisibleQuerySet):
    pass


class Answer(models.Model):
    """One answer. ``score`` is the 0–100 value from ``core.survey_scores`` (None for
    open text and choices without a score); survey, account, month and tags are copied
    from the response and question so results aggregate in one indexed pass."""

    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="answers")
    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="+")
    # A reverse name, so that an account merge (which moves every relation to Account)
    # moves the answers with their responses instead of deleting them with the account.
    account = models.ForeignKey(
        "relations.Account", on_delete=models.CASCADE, related_name="survey_answers"
    )
    kind = models.CharField(max_length=20, choices=kinds.choices)
    tags_text = models.CharField(max_length=300, blank=True, default="")
    submitted_at = models.DateTimeField()
    month = models.DateField(help_text="First day of the (local) month of submission.")
    value_int = models.SmallIntegerField(null=True, blank=True)
    value_bool = models.BooleanField(null=True, blank=True)
    value_choice = models.CharField(max_length=60, blank=True, default="")
    value_text = models.TextField(blank=True, default="")
    score = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    unhappy = models.BooleanField(default=False)

    objects = AnswerQuerySet.as_manager()

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        # A covering index: the results page's pass per account reads only this.
        indexes = [
            models.Index(
                fields=["survey", "question", "account", "month", "score"],
                name="answer_results_accounts",
            ),
            models.Index(fields=["question", "submitted_at"], name="answer_question_time"),
            models.Index(fields=["account", "submitted_at"], name="answer_account_time"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["response", "question"], name="answer_once"),
            models.CheckConstraint(
                condition=models.Q(score__isnull=True) | models.Q(score__gte=0, score__lte=100),
                name="answer_score_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.question_id}: {self.value}"

    @property
    def value(self):
        return kinds.get(self.kind).stored_value(self)


class AnswerCount(models.Model):
    """How many answers each value of a question got per month: the results page's
    distributions and trends for users who see every account, without a pass over the
    answers. Kept in the transaction that stores the answers and in the one that removes
    an account (``satisfaction.counts``); the figure check ``satisfaction.answer_counts``
    (``relatiebeheer check-figures``, daily in the worker) recounts them from the answers
    and repairs any difference."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="+")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="+")
    month = models.DateField()
    value_key = models.CharField(max_length=60, blank=True, default="")
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["question", "month", "value_key"], name="answer_count_unique"
            )
        ]
        indexes = [models.Index(fields=["survey", "month"])]

    def __str__(self) -> str:
        return f"{self.question_id} {self.month} {self.value_key}: {self.count}"


class FollowUpQuerySet(VisibleQuerySet):
    def open(self):
        return self.filter(closed_at__isnull=True)


class FollowUp(models.Model):
    """Closing the loop: an unhappy answer becomes a task for the account manager.

    It stays open (and on the dashboard) until its outcome is recorded.
    """

    class Outcome(models.TextChoices):
        RESOLVED = "resolved", _("Resolved: the customer is satisfied again")
        IMPROVED = "improved", _("Improved, still to watch")
        NOT_RESOLVED = "not_resolved", _("Not resolved")
        NO_CONTACT = "no_contact", _("Could not reach the customer")

    response = models.OneToOneField(Response, on_delete=models.CASCADE, related_name="followup")
    account = models.ForeignKey(
        "relations.Account", on_delete=models.CASCADE, related_name="satisfaction_followups"
    )
    task = models.OneToOneField(
        "relations.Task",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="satisfaction_followup",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=500)
    due_date = models.DateField(_("due date"))
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    overdue_notified_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=20, choices=Outcome.choices, blank=True, default=""
    )
    outcome_notes = models.TextField(_("what was done"), blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = FollowUpQuerySet.as_manager()

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["closed_at", "due_date", "id"]
        indexes = [
            models.Index(fields=["closed_at", "due_date"]),
            models.Index(fields=["assignee", "closed_at"]),
        ]

    def __str__(self) -> str:
        return self.reason

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @property
    def is_overdue(self) -> bool:
        return self.is_open and self.due_date < timezone.localdate()


class RateCounter(models.Model):
    """Fixed-window request counters for the public answer pages, kept in the database
    so every process and every app server shares them (no Redis needed)."""

    key = models.CharField(max_length=100)
    window = models.BigIntegerField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "window"], name="rate_counter_unique")
        ]
        indexes = [models.Index(fields=["window"])]

    def __str__(self) -> str:
        return f"{self.key}@{self.window}: {self.count}"


class AutoSendRecord(models.Model):
    """A contact moment handled by the automatic sender (invited or not), so every
    scheduler run, on any number of workers, handles it exactly once."""

    interaction = models.OneToOneField(
        "relations.Interaction", on_delete=models.CASCADE, related_name="+"
    )
    processed_at = models.DateTimeField(default=timezone.now)
    invited = models.PositiveIntegerField(default=0)
    skipped = models.CharField(max_length=200, blank=True, default="")

    def __str__(self) -> str:
        return f"{self.interaction_id}: {self.invited}"
