"""The invitation and reminder mails: written to the outbox with a token to be made at
send time (``answering.tokens.render_answer_link``)."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from relatiebeheer.outbox.services import mail_enqueue_rendered
from relatiebeheer.relations.models import Contact
from relatiebeheer.satisfaction.answering.tokens import ANSWER_RENDERER
from relatiebeheer.satisfaction.models import AnswerToken, Invitation, SatisfactionSettings
from relatiebeheer.users.models import User


def _mail_parts(
    kind: str, invitation: Invitation, contact: Contact, config: SatisfactionSettings
) -> tuple[str, str, str]:
    language = invitation.language
    survey = invitation.survey
    with translation.override(language):
        context = {
            "kind": kind,
            "contact": contact,
            "survey_title": survey.title(language),
            "intro": survey.intro(language),
            "days": config.token_expiry_days,
            "link": "%%answer_url%%",
        }
        subject = (
            _("Reminder: %(title)s") % {"title": survey.title(language)}
            if kind == AnswerToken.Kind.REMINDER
            else survey.title(language)
        )
        text = render_to_string("satisfaction/mail/invitation.txt", context)
        html = render_to_string("satisfaction/mail/invitation.html", context)
    return subject, text, html


def issue_mail(
    invitation: Invitation,
    contact: Contact,
    kind: str,
    config: SatisfactionSettings,
    actor: User | None,
) -> AnswerToken:
    """The invitation's mail of ``kind`` (invitation or reminder) with its own token,
    in the caller's transaction."""
    token = AnswerToken.objects.create(invitation=invitation, kind=kind)
    subject, text, html = _mail_parts(kind, invitation, contact, config)
    message = mail_enqueue_rendered(
        key=f"satisfaction.{kind}.{invitation.pk}",
        to=contact.email,
        subject=subject,
        text=text,
        html=html,
        language=invitation.language,
        purpose="surveys",
        contact=contact,
        account_id=invitation.account_id,
        actor=actor,
        renderer=ANSWER_RENDERER,
        renderer_args={"token_id": token.pk},
    )
    AnswerToken.objects.filter(pk=token.pk).update(message=message)
    return token
