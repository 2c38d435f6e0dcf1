"""Drivers pages: the account's loyalty index and drivers, competitor notes and trust
judgements, the falling list and the index settings."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from relatiebeheer.common.errors import InvalidInput, VersionConflict
from relatiebeheer.loyalty.pages import account_context, config_gate, form_page, int_param
from relatiebeheer.relations import selectors as relations
from relatiebeheer.relations.rules import require_account_writable
from relatiebeheer.web.views.common import add_service_errors, conflict_message, conflict_rows

from . import selectors, services
from .forms import CompetitorNoteForm, SettingsForm, TrustForm
from .models import DRIVERS, Driver, LoyaltySettings, Source, TrustJudgement
from .selectors import LoyaltyIndex

DRIVER_LABELS = dict(Driver.choices)
SOURCE_LABELS = dict(Source.choices)


def _parts(figure: LoyaltyIndex, driver: str) -> list[dict]:
    return [
        {
            "label": SOURCE_LABELS.get(part["source"], part["source"]),
            "mean": part["mean"],
            "readings": part["readings"],
            "share": part["share"],
        }
        for part in figure.parts(driver)
    ]


def _numbers(values: list) -> list[float | None]:
    return [float(v) if v is not None else None for v in values]


@login_required
def account_drivers(request, account_pk: int):
    account = relations.account_get(actor=request.user, pk=account_pk)
    figure = selectors.account_loyalty_index(account)
    history = selectors.driver_history(account)
    drivers = [
        {
            "key": key,
            "label": DRIVER_LABELS[key],
            "score": figure.driver(key),
            "parts": _parts(figure, key),
        }
        for key in DRIVERS
    ]
    context = account_context(request, account, "drivers")
    context.update(
        {
            "figure": figure,
            "drivers": drivers,
            "radar": {
                "labels": [str(DRIVER_LABELS[k]) for k in DRIVERS],
                "values": _numbers([figure.driver(k) for k in DRIVERS]),
            },
            "trend": {
                "labels": [row.as_of.isoformat() for row in history],
                "datasets": [
                    {
                        "label": str(_("Loyalty index")),
                        "values": _numbers([r.index for r in history]),
                    },
                    *[
                        {
                            "label": str(DRIVER_LABELS[k]),
                            "values": _numbers([getattr(r, k) for r in history]),
                        }
                        for k in DRIVERS
                    ],
                ],
            },
            "history": history[-12:][::-1],
            "notes": list(account.competitor_notes.order_by("-noted_on", "-id")[:20]),
            "judgements": list(
                TrustJudgement.objects.filter(account=account)
                .select_related("judged_by")
                .order_by("-judged_on", "-id")[:10]
            ),
            "note_form": CompetitorNoteForm(initial={"noted_on": timezone.localdate()}),
            "trust_form": TrustForm(),
            "weights": figure.weights or LoyaltySettings.load().weights,
        }
    )
    return render(request, "loyalty/drivers.html", context)


@login_required
def note_create(request, account_pk: int):
    account = relations.account_get(actor=request.user, pk=account_pk)
    if request.method == "POST":
        require_account_writable(request.user, account)
    form = CompetitorNoteForm(request.POST or None, initial={"noted_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            services.competitor_note_create(
                actor=request.user, account=account, data=form.changes()
            )
        except InvalidInput as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Competitor note saved."))
            return redirect("loyalty:account_drivers", account_pk=account.pk)
    return form_page(
        request,
        title=_("Competitor of %(account)s") % {"account": account.name},
        form=form,
        back=reverse("loyalty:account_drivers", args=[account.pk]),
        status=422 if form.is_bound else 200,
    )


@login_required
@require_POST
def trust_create(request, account_pk: int):
    account = relations.account_get(actor=request.user, pk=account_pk)
    require_account_writable(request.user, account)
    form = TrustForm(request.POST)
    if form.is_valid():
        services.trust_judge(
            actor=request.user,
            account=account,
            trust=form.cleaned_data["trust"],
            note=form.cleaned_data["note"],
        )
        messages.success(request, _("Judgement saved."))
    else:
        messages.error(request, _("Choose how much trust the account has in us."))
    return redirect("loyalty:account_drivers", account_pk=account.pk)


@login_required
def falling(request):
    settings = LoyaltySettings.load()
    return render(
        request,
        "loyalty/falling.html",
        {"falls": selectors.falling(actor=request.user, limit=200), "settings": settings},
    )


@login_required
def settings_edit(request):
    refused = config_gate(request)
    if refused:
        return refused
    settings = LoyaltySettings.load()
    form = SettingsForm(request.POST or None, instance=settings)
    seen_version = int_param(request.POST.get("version")) or settings.version
    theirs = None
    if request.method == "POST" and form.is_valid():
        try:
            services.settings_update(actor=request.user, data=form.changes(), version=seen_version)
        except InvalidInput as exc:
            add_service_errors(form, exc)
        except VersionConflict as exc:
            conflict_message(request, exc)
            theirs = conflict_rows(form, exc.current)
            seen_version = exc.current.version
        else:
            messages.success(request, _("Settings saved."))
            return redirect("loyalty:programmes")
    return form_page(
        request,
        title=_("Loyalty index and signals"),
        form=form,
        back=reverse("loyalty:programmes"),
        extra={"version": seen_version, "theirs": theirs},
    )
