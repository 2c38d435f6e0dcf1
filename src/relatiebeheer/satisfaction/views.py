"""Satisfaction pages: surveys (list, editor, results, export, sending), follow-ups, and the
public answer page reached through a single-use token."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.forms import formset_factory
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from relatiebeheer.audit.services import audit_log
from relatiebeheer.common.errors import InvalidInput, VersionConflict
from relatiebeheer.relations import selectors as relations
from relatiebeheer.relations.models import Contact, SavedSelection
from relatiebeheer.users.access import can_change_data, can_manage_portfolios

from . import ratelimit, selectors
from .answering.form import form_questions
from .answering.services import AlreadyAnswered, RateLimited, draft_save, response_submit
from .answering.tokens import TokenExpired, TokenUnknown, token_resolve
from .followups.services import followup_close
from .forms import FollowUpCloseForm, QuestionForm, SurveyForm, format_options
from .models import SatisfactionSettings, Survey
from .sending.services import InviteReport, invite, invite_selection
from .surveys.rules import require_survey_editor
from .surveys.services import survey_create as create_survey
from .surveys.services import survey_update

QuestionFormSet = formset_factory(QuestionForm, extra=0)
NEW_ROWS = 2


def _lang() -> str:
    return (get_language() or "nl")[:2]


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


# --- surveys ----------------------------------------------------------------------------


@login_required
def survey_list(request):
    surveys = list(selectors.survey_list(actor=request.user))
    return render(
        request,
        "satisfaction/survey_list.html",
        {
            "surveys": surveys,
            "can_edit_surveys": can_manage_portfolios(request.user),
            "open_followups": selectors.followup_list(actor=request.user).count(),
        },
    )


def _question_initial(survey: Survey | None, new_rows: int = NEW_ROWS) -> list[dict]:
    rows = []
    if survey is not None:
        for q in survey.questions.filter(archived=False).order_by("position", "id"):
            rows.append(
                {
                    "id": q.pk,
                    "position": q.position,
                    "kind": q.kind,
                    "text_nl": q.text_nl,
                    "text_en": q.text_en,
                    "required": q.required,
                    "tags": q.tags,
                    "options": format_options(q.choices),
                    "yes_no_unhappy": {True: "yes", False: "no"}.get(q.yes_no_unhappy, ""),
                }
            )
    start = len(rows)
    rows += [{"position": start + n + 1, "required": True} for n in range(new_rows)]
    return rows


def _merge_keys(survey: Survey | None, spec: dict) -> dict:
    """Keep the keys of existing single-choice options (matched by Dutch label)."""
    if survey is None or "id" not in spec or "choices" not in spec:
        return spec
    old = survey.questions.filter(pk=spec["id"]).values_list("choices", flat=True).first() or []
    by_label = {c.get("label_nl"): str(c["key"]) for c in old}
    used = {str(c["key"]) for c in old}
    next_key = max([int(k) for k in used if k.isdigit()] or [0]) + 1
    for option in spec["choices"]:
        key = by_label.get(option["label_nl"])
        if key is None:
            key = str(next_key)
            next_key += 1
        option["key"] = key
    return spec


def _survey_editor(request, survey: Survey | None):
    can_edit = can_manage_portfolios(request.user)
    if request.method == "POST":
        require_survey_editor(request.user)
        form = SurveyForm(request.POST, instance=survey)
        formset = QuestionFormSet(request.POST, prefix="q")
        if form.is_valid() and formset.is_valid():
            rows = []
            for n, qform in enumerate(formset.forms):
                spec = qform.spec()
                if spec is not None:
                    position = qform.cleaned_data.get("position") or (n + 1)
                    rows.append((position, n, _merge_keys(survey, spec)))
            specs = [spec for _p, _n, spec in sorted(rows, key=lambda r: (r[0], r[1]))]
            data = {k: form.cleaned_data[k] for k in SurveyForm.Meta.fields}
            try:
                if survey is None:
                    survey = create_survey(actor=request.user, data=data, questions=specs)
                    messages.success(request, _("Survey created."))
                else:
                    survey = Survey.objects.get(pk=survey.pk)
                    survey_update(
                        actor=request.user,
                        survey=survey,
                        version=form.cleaned_data.get("version") or survey.version,
                        data=data,
                        questions=specs,
                    )
                    messages.success(request, _("Survey saved."))
                return redirect("satisfaction:survey_edit", survey.pk)
            except VersionConflict:
                messages.error(
                    request,
                    _(
                        "Someone else saved this survey while you were editing it. Reload and try again."
                    ),
                )
            except InvalidInput as exc:
                for name, errors in exc.errors.items():
                    for error in errors:
                        form.add_error(None, f"{name}: {error}" if name != "__all__" else error)
        status = 422
    else:
        form = SurveyForm(instance=survey, initial={"version": survey.version if survey else None})
        formset = QuestionFormSet(
            initial=_question_initial(survey, NEW_ROWS if can_edit else 0), prefix="q"
        )
        status = 200
    return render(
        request,
        "satisfaction/survey_edit.html",
        {
            "survey": survey,
            "form": form,
            "formset": formset,
            "can_edit_surveys": can_edit,
            "archived": list(survey.questions.filter(archived=True)) if survey else [],
            "selections": SavedSelection.objects.filter(owner=request.user) if survey else [],
            "can_send": can_change_data(request.user),
        },
        status=status,
    )


@login_required
def survey_create(request):
    if request.method != "POST" and not can_manage_portfolios(request.user):
        messages.info(request, _("Only a sales manager or an administrator builds surveys."))
        return redirect("satisfaction:surveys")
    return _survey_editor(request, None)


@login_required
def survey_edit(request, pk: int):
    return _survey_editor(request, selectors.survey_get(actor=request.user, pk=pk))


@login_required
def survey_results(request, pk: int):
    survey = selectors.survey_get(actor=request.user, pk=pk)
    since, until = _date(request.GET.get("since")), _date(request.GET.get("until"))
    results = selectors.survey_results(
        actor=request.user, survey=survey, since=since, until=until, language=_lang()
    )
    charts = {
        "months": [m.isoformat() for m in results.months],
        "satisfaction": [
            None if p["score"] is None else float(p["score"]) for p in results.satisfaction_trend
        ],
        "questions": [
            {
                "id": r.question.pk,
                "labels": [label for _v, label, _n in r.labels],
                "counts": [n for _v, _label, n in r.labels],
                "headline": r.summary.headline_name,
                "trend": [None if t["headline"] is None else float(t["headline"]) for t in r.trend],
            }
            for r in results.questions
            if not r.question.kind_spec.free_text
        ],
    }
    return render(
        request,
        "satisfaction/results.html",
        {
            "survey": survey,
            "results": results,
            "charts": charts,
            "selections": SavedSelection.objects.filter(owner=request.user),
            "can_send": can_change_data(request.user),
        },
    )


def response_columns(survey: Survey, language: str):
    """The export's columns: the response, then one column per question (and its score)."""
    from django.utils.translation import gettext_lazy

    from relatiebeheer.exports import Column

    columns = [
        Column(gettext_lazy("Response"), lambda r: r.pk, "int"),
        Column(gettext_lazy("Submitted"), lambda r: r.submitted_at, "datetime"),
        Column(gettext_lazy("Account"), lambda r: r.account.name),
        Column(gettext_lazy("Contact"), lambda r: r.contact.full_name if r.contact else ""),
        Column(gettext_lazy("Language"), lambda r: r.language),
        Column(gettext_lazy("Unhappy"), lambda r: r.unhappy),
    ]
    for question in survey.questions.order_by("archived", "position", "id"):
        kind = question.kind_spec
        labels = dict(question.option_labels(language))

        def value(r, q=question, labels=labels, show_label=kind.export_labels):
            answer = r.answers_by_question.get(q.pk)
            if answer is None:
                return None
            return labels.get(answer.value, answer.value) if show_label else answer.value

        columns.append(Column(question.text(language), value, kind.export_type))
        if not kind.free_text:
            columns.append(
                Column(
                    f"{question.text(language)} (0–100)",
                    lambda r, q=question: getattr(r.answers_by_question.get(q.pk), "score", None),
                    "decimal",
                )
            )
    return columns


def response_rows(qs, chunk: int = 1000):
    """Responses with their answers attached, streamed in chunks (two queries each)."""
    last = None
    while True:
        page = qs.order_by("-id")
        if last is not None:
            page = page.filter(id__lt=last)
        batch = list(page[:chunk])
        if not batch:
            return
        answers = selectors.response_answers([r.pk for r in batch])
        for response in batch:
            response.answers_by_question = answers.get(response.pk, {})
            yield response
        last = batch[-1].pk


@login_required
def survey_export(request, pk: int, fmt: str):
    from relatiebeheer.exports import ExportTooLarge, export_response

    if fmt not in {"csv", "xlsx"}:
        raise Http404
    survey = selectors.survey_get(actor=request.user, pk=pk)
    since, until = _date(request.GET.get("since")), _date(request.GET.get("until"))
    qs = selectors.response_list(actor=request.user, survey_id=survey.pk, since=since, until=until)
    audit_log(
        actor=request.user,
        action="export.survey_responses",
        obj=survey,
        extra={"format": fmt},
    )
    try:
        return export_response(
            response_columns(survey, _lang()),
            response_rows(qs),
            fmt=fmt,
            lang=_lang(),
            filename=_("responses"),
        )
    except ExportTooLarge as exc:
        messages.error(request, str(exc))
        return redirect("satisfaction:survey_results", survey.pk)


def _report_message(request, report: InviteReport) -> None:
    messages.success(
        request,
        _(
            "%(invited)s invited; skipped: %(throttled)s invited recently, "
            "%(consent)s without consent, %(email)s without an email address."
        )
        % {
            "invited": len(report.invited),
            "throttled": len(report.throttled),
            "consent": len(report.no_consent),
            "email": len(report.no_email),
        },
    )


@login_required
@require_POST
def survey_send(request, pk: int):
    """Bulk invitations for one of the user's saved selections."""
    survey = selectors.survey_get(actor=request.user, pk=pk)
    from relatiebeheer.relations.rules import require_can_change

    require_can_change(request.user)
    selection = SavedSelection.objects.filter(
        owner=request.user, pk=request.POST.get("selection") or 0
    ).first()
    if selection is None:
        messages.error(request, _("Choose one of your saved selections."))
        return redirect("satisfaction:survey_results", survey.pk)
    try:
        report = invite_selection(actor=request.user, survey=survey, selection=selection)
    except InvalidInput as exc:
        messages.error(request, " ".join(m for ms in exc.errors.values() for m in ms))
    else:
        _report_message(request, report)
    return redirect("satisfaction:survey_results", survey.pk)


@login_required
@require_POST
def invite_create(request, account_pk: int):
    """Invite one contact of an account by hand (from the account page)."""
    account = relations.account_get(actor=request.user, pk=account_pk)
    from relatiebeheer.relations.rules import require_account_writable

    require_account_writable(request.user, account)
    contact = Contact.objects.filter(account=account, pk=request.POST.get("contact") or 0).first()
    survey = Survey.objects.filter(pk=request.POST.get("survey") or 0, active=True).first()
    if contact is None or survey is None:
        messages.error(request, _("Choose a contact and a survey."))
        return redirect("web:account", account.pk)
    try:
        report = invite(actor=request.user, survey=survey, contacts=[contact], source="manual")
    except InvalidInput as exc:
        messages.error(request, " ".join(m for ms in exc.errors.values() for m in ms))
    else:
        _report_message(request, report)
    return redirect("web:account", account.pk)


# --- follow-ups -------------------------------------------------------------------------


@login_required
def followup_list(request):
    mine = request.GET.get("mine") == "1"
    followups = list(
        selectors.followup_list(actor=request.user, assignee_id=request.user.pk if mine else None)[
            :300
        ]
    )
    recent = list(
        selectors.followup_list(actor=request.user, open_only=False).filter(
            closed_at__isnull=False
        )[:20]
    )
    return render(
        request,
        "satisfaction/followups.html",
        {"followups": followups, "recent": recent, "mine": mine, "today": timezone.localdate()},
    )


@login_required
def followup_detail(request, pk: int):
    followup = selectors.followup_get(actor=request.user, pk=pk)
    form = FollowUpCloseForm(request.POST or None)
    status = 200
    if request.method == "POST":
        from relatiebeheer.relations.rules import require_account_writable

        require_account_writable(request.user, followup.account)
        if form.is_valid():
            try:
                followup_close(
                    actor=request.user,
                    followup=followup,
                    outcome=form.cleaned_data["outcome"],
                    notes=form.cleaned_data.get("notes") or "",
                    send_check_back=form.cleaned_data.get("send_check_back") or False,
                )
            except InvalidInput as exc:
                for name, errors in exc.errors.items():
                    for error in errors:
                        form.add_error(name if name in form.fields else None, error)
            else:
                messages.success(request, _("Outcome recorded; the follow-up is closed."))
                return redirect("satisfaction:followups")
        status = 422
    response = followup.response
    answers = selectors.response_answers([response.pk]).get(response.pk, {})
    rows = []
    for question in response.survey.questions.order_by("position", "id"):
        answer = answers.get(question.pk)
        if answer is None:
            continue
        labels = dict(question.option_labels(_lang()))
        rows.append(
            {
                "question": question.text(_lang()),
                "answer": labels.get(answer.value, answer.value),
                "score": answer.score,
                "unhappy": answer.unhappy,
            }
        )
    return render(
        request,
        "satisfaction/followup.html",
        {
            "followup": followup,
            "rows": rows,
            "form": form,
            "can_edit": can_change_data(request.user),
            "today": timezone.localdate(),
        },
        status=status,
    )


# --- the public answer page -------------------------------------------------------------


def _public(request, template: str, context: dict, status: int, language: str | None = None):
    language = language or _lang()
    with translation.override(language):
        response = render(
            request, template, {**context, "public_language": language}, status=status
        )
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"  # the token must not leak to other sites
    response["Cache-Control"] = "no-store"
    return response


def _limited(request, language=None):
    return _public(request, "satisfaction/answer_limited.html", {}, 429, language)


def _option_value(value) -> str:
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return "" if value is None else str(value).strip().lower()


@csrf_exempt  # the unguessable token in the address is what authorises the request
@require_http_methods(["GET", "POST"])
def answer(request, token: str):
    """The public answer form: no login, works on a phone; drafts saved, final once."""
    config = SatisfactionSettings.cached()
    address = ratelimit.client_address(request)
    address_key = f"f:{address}"
    try:
        answer_token = token_resolve(token)
    except (TokenUnknown, TokenExpired) as exc:
        # Only unknown or expired links count against (and are refused for) an address:
        # a valid link is answered whatever its address did, so one person guessing
        # behind an office's shared address never locks out the colleagues there. The
        # links are 256 random bits, so the limit is against floods, not guessing.
        if (
            ratelimit.peek(address_key, ratelimit.ADDRESS_WINDOW)
            >= config.rate_limit_failures_per_address
        ):
            return _limited(request)
        ratelimit.hit(address_key, ratelimit.ADDRESS_WINDOW)
        expired = isinstance(exc, TokenExpired)
        return _public(
            request, "satisfaction/answer_gone.html", {"expired": expired}, 410 if expired else 404
        )
    invitation = answer_token.invitation
    language = invitation.language if invitation.language in {"nl", "en"} else "nl"
    if request.GET.get("lang") in {"nl", "en"}:
        language = request.GET["lang"]
    token_limit = (
        f"t:{answer_token.token_hash[:40]}",
        ratelimit.TOKEN_WINDOW,
        config.rate_limit_per_token,
    )
    submitting = request.method == "POST" and request.POST.get("action", "submit") != "draft"
    # A submission counts inside its own transaction (one write); everything else here.
    if not submitting and ratelimit.hit(*token_limit[:2]) > token_limit[2]:
        return _limited(request, language)
    survey = invitation.survey
    if invitation.is_completed:
        already = request.GET.get("thanks") != "1"
        return _public(
            request,
            "satisfaction/answer_done.html",
            {"survey": survey, "already": already},
            200,
            language,
        )
    questions = form_questions(survey)
    values = {f"q{k}": v for k, v in (invitation.draft or {}).items()}
    errors = {}
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "submit")
        if action == "draft":
            draft_save(token=answer_token, data=request.POST)
            if request.headers.get("X-Requested-With") == "fetch":
                return JsonResponse({"saved": True})
            values = {k: request.POST.get(k) for k in request.POST if k.startswith("q")}
            with translation.override(language):
                messages.info(request, _("Saved. You can finish later through the same link."))
        else:
            try:
                response_submit(token=answer_token, data=request.POST, rate_limit=token_limit)
            except RateLimited:
                return _limited(request, language)
            except InvalidInput as exc:
                errors = exc.errors
                values = {k: request.POST.get(k) for k in request.POST if k.startswith("q")}
                status = 422
            except AlreadyAnswered:
                return _public(
                    request,
                    "satisfaction/answer_done.html",
                    {"survey": survey, "already": True},
                    200,
                    language,
                )
            else:
                return redirect(reverse("satisfaction:answer", args=[token]) + "?thanks=1")
    fields = []
    for question in questions:
        name = f"q{question.pk}"
        current = values.get(name)
        fields.append(
            {
                "name": name,
                "question": question,
                "template": question.kind_spec.template,
                "text": question.text(language),
                "options": [
                    (_option_value(v), label, _option_value(current) == _option_value(v))
                    for v, label in question.option_labels(language)
                ],
                "value": current if isinstance(current, str) else "",
                "errors": errors.get(name, []),
            }
        )
    return _public(
        request,
        "satisfaction/answer.html",
        {
            "survey": survey,
            "title": survey.title(language),
            "intro": survey.intro(language),
            "fields": fields,
            "has_errors": bool(errors),
            "token": token,
            "first_name": invitation.contact_first_name,
        },
        status,
        language,
    )
