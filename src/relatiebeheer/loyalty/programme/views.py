"""Programme pages: the tier overview, the account's programme, points and cards, and
the configuration of programmes, tiers, brackets, earn rules and rewards."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from relatiebeheer.common.errors import Conflict, InvalidInput, VersionConflict
from relatiebeheer.loyalty.binding.models import IncentiveIdea
from relatiebeheer.loyalty.drivers.models import LoyaltySettings
from relatiebeheer.loyalty.pages import account_context, config_gate, form_page, int_param
from relatiebeheer.loyalty.permissions import can_configure
from relatiebeheer.relations import selectors as relations
from relatiebeheer.relations.rules import require_account_writable
from relatiebeheer.users.access import can_change_data
from relatiebeheer.web.views.common import add_service_errors, conflict_message, conflict_rows

from . import selectors, services
from .barcode import barcode_svg
from .forms import (
    BracketForm,
    CardForm,
    ProgrammeForm,
    ReasonForm,
    RedeemForm,
    RewardForm,
    RuleForm,
    TierForm,
)
from .models import (
    BonusBracket,
    BonusSettlement,
    CategoryRule,
    PointsAccount,
    Programme,
    Reward,
    Tier,
    TierChange,
)


@login_required
def tiers(request):
    programmes = list(selectors.programmes())
    chosen = next((p for p in programmes if p.pk == int_param(request.GET.get("programme"))), None)
    chosen = chosen or next((p for p in programmes if p.active), None)
    overview = selectors.tier_overview(actor=request.user, programme=chosen) if chosen else None
    members = []
    if chosen:
        members = list(selectors.status_list(actor=request.user, programme_id=chosen.pk)[:200])
    return render(
        request,
        "loyalty/tiers.html",
        {"programmes": programmes, "programme": chosen, "overview": overview, "members": members},
    )


@login_required
def account_programme(request, account_pk: int):
    account = relations.account_get(actor=request.user, pk=account_pk)
    views = selectors.account_programmes(account)
    ledger = list(selectors.ledger_list(actor=request.user, account=account)[:50])
    context = account_context(request, account, "programme")
    context.update(
        {
            "views": views,
            "ledger": ledger,
            "changes": list(
                TierChange.objects.filter(account=account).select_related(
                    "from_tier", "to_tier", "programme"
                )[:20]
            ),
            "settlements": list(
                BonusSettlement.objects.filter(account=account).select_related("programme")[:20]
            ),
            "redeem_form": RedeemForm(initial={"key": uuid.uuid4().hex}),
            "card_form": CardForm(account=account),
        }
    )
    return render(request, "loyalty/programme.html", context)


@login_required
@require_POST
def redeem_create(request, account_pk: int):
    account = relations.account_get(actor=request.user, pk=account_pk)
    require_account_writable(request.user, account)
    form = RedeemForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        reward = data.get("reward")
        if reward is not None and reward.programme_id != data["programme"].pk:
            messages.error(request, _("Choose a reward of this programme."))
        else:
            try:
                services.points_redeem(
                    actor=request.user,
                    account=account,
                    programme=data["programme"],
                    reward=reward,
                    points=None if reward else data.get("points"),
                    key=data.get("key") or None,
                )
            except (Conflict, InvalidInput) as exc:
                detail = (
                    exc.detail
                    if isinstance(exc, Conflict)
                    else "; ".join(m for ms in exc.errors.values() for m in ms)
                )
                messages.error(request, str(detail))
            else:
                messages.success(request, _("Points redeemed."))
    else:
        messages.error(
            request, "; ".join(str(e) for errors in form.errors.values() for e in errors)
        )
    return redirect("loyalty:account_programme", account_pk=account.pk)


@login_required
@require_POST
def card_create(request, account_pk: int):
    account = relations.account_get(actor=request.user, pk=account_pk)
    require_account_writable(request.user, account)
    form = CardForm(request.POST, account=account)
    if form.is_valid():
        card = services.card_issue(
            actor=request.user,
            account=account,
            programme=form.cleaned_data["programme"],
            contact=form.cleaned_data["contact"],
        )
        messages.success(request, _("Card %(number)s issued.") % {"number": card.number})
        return redirect("loyalty:card", pk=card.pk)
    messages.error(request, _("Choose a programme."))
    return redirect("loyalty:account_programme", account_pk=account.pk)


@login_required
def card(request, pk: int):
    card = selectors.card_get(actor=request.user, pk=pk)
    return render(
        request,
        "loyalty/card.html",
        {
            "card": card,
            "account": card.account,
            "barcode": barcode_svg(
                card.number,
                scheme=card.programme.card_scheme,
                label=_("Card number %(number)s") % {"number": card.number},
            ),
            "reason_form": ReasonForm(),
            "can_edit": can_change_data(request.user),
            "replaced_by": type(card).objects.filter(replaces=card).first(),
        },
    )


@login_required
@require_POST
def card_block(request, pk: int):
    card = selectors.card_get(actor=request.user, pk=pk)
    form = ReasonForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        services.card_block(actor=request.user, card=card, reason=reason)
    except Conflict as exc:
        messages.error(request, str(exc.detail))
    else:
        messages.success(request, _("The card is blocked."))
    return redirect("loyalty:card", pk=card.pk)


@login_required
@require_POST
def card_replace(request, pk: int):
    card = selectors.card_get(actor=request.user, pk=pk)
    form = ReasonForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        new = services.card_replace(actor=request.user, card=card, reason=reason)
    except Conflict as exc:
        messages.error(request, str(exc.detail))
        return redirect("loyalty:card", pk=card.pk)
    messages.success(
        request, _("Card replaced: the new number is %(number)s.") % {"number": new.number}
    )
    return redirect("loyalty:card", pk=new.pk)


@login_required
def programme_list(request):
    return render(
        request,
        "loyalty/programmes.html",
        {
            "programmes": list(selectors.programmes()),
            "can_configure": can_configure(request.user) and can_change_data(request.user),
            "settings": LoyaltySettings.load(),
            "ideas": list(IncentiveIdea.objects.select_related("interest")),
            "points_accounts": PointsAccount.objects.count(),
        },
    )


def _programme(request, name="programme") -> Programme:
    programme = Programme.objects.filter(
        pk=int_param(request.GET.get(name) or request.POST.get(name))
    ).first()
    if programme is None:
        raise Http404
    return programme


@login_required
def programme_edit(request):
    refused = config_gate(request)
    if refused:
        return refused
    programme = Programme.objects.filter(pk=int_param(request.GET.get("id"))).first()
    form = ProgrammeForm(request.POST or None, instance=programme)
    theirs = None
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.programme_save(
                actor=request.user,
                programme=programme,
                data=form.changes(),
                version=int_param(request.POST.get("version")),
            )
        except InvalidInput as exc:
            add_service_errors(form, exc)
        except VersionConflict as exc:
            conflict_message(request, exc)
            theirs = conflict_rows(form, exc.current)
            programme.version = exc.current.version  # the next save is based on theirs
        else:
            messages.success(request, _("Programme saved."))
            return redirect(f"{reverse('loyalty:programmes')}#programme-{saved.pk}")
    return form_page(
        request,
        title=programme.name if programme else _("New loyalty programme"),
        form=form,
        back=reverse("loyalty:programmes"),
        extra={"version": programme.version if programme else None, "theirs": theirs},
    )


def _config_page(request, *, model, form_class, save, title):
    refused = config_gate(request)
    if refused:
        return refused
    programme = _programme(request)
    obj = model.objects.filter(pk=int_param(request.GET.get("id")), programme=programme).first()
    form = form_class(request.POST or None, instance=obj)
    # The programme's version when the editor opened the form guards all its parts.
    seen_version = int_param(request.POST.get("programme_version")) or programme.version
    theirs = None
    if request.method == "POST" and form.is_valid():
        try:
            save(programme, obj, form, seen_version)
        except InvalidInput as exc:
            add_service_errors(form, exc)
        except VersionConflict as exc:
            conflict_message(request, exc)
            theirs = conflict_rows(form, exc.current)
            seen_version = Programme.objects.get(pk=programme.pk).version
        else:
            messages.success(request, _("Saved."))
            return redirect(f"{reverse('loyalty:programmes')}#programme-{programme.pk}")
    return form_page(
        request,
        title=f"{programme.name}: {title}",
        form=form,
        back=reverse("loyalty:programmes"),
        extra={
            "hidden": {"programme": programme.pk, "programme_version": seen_version},
            "theirs": theirs,
        },
    )


@login_required
def tier_edit(request):
    return _config_page(
        request,
        model=Tier,
        form_class=TierForm,
        title=_("tier"),
        save=lambda p, obj, form, seen: services.tier_save(
            actor=request.user,
            programme=p,
            tier=obj,
            data=form.changes(),
            benefits=form.benefits(),
            programme_version=seen,
        ),
    )


@login_required
def bracket_edit(request):
    return _config_page(
        request,
        model=BonusBracket,
        form_class=BracketForm,
        title=_("bonus bracket"),
        save=lambda p, obj, form, seen: services.bracket_save(
            actor=request.user,
            programme=p,
            bracket=obj,
            data=form.changes(),
            programme_version=seen,
        ),
    )


@login_required
def rule_edit(request):
    return _config_page(
        request,
        model=CategoryRule,
        form_class=RuleForm,
        title=_("earn rule"),
        save=lambda p, obj, form, seen: services.category_rule_save(
            actor=request.user,
            programme=p,
            rule=obj,
            data=form.changes(),
            programme_version=seen,
        ),
    )


@login_required
def reward_edit(request):
    return _config_page(
        request,
        model=Reward,
        form_class=RewardForm,
        title=_("reward"),
        save=lambda p, obj, form, seen: services.reward_save(
            actor=request.user,
            programme=p,
            reward=obj,
            data=form.changes(),
            programme_version=seen,
        ),
    )


@login_required
@require_POST
def config_delete(request):
    refused = config_gate(request)
    if refused:
        return refused
    models = {"tier": Tier, "bracket": BonusBracket, "rule": CategoryRule, "reward": Reward}
    model = models.get(request.POST.get("kind", ""))
    obj = model.objects.filter(pk=int_param(request.POST.get("id"))).first() if model else None
    if obj is None:
        raise Http404
    try:
        services.config_delete(
            actor=request.user,
            obj=obj,
            programme_version=int_param(request.POST.get("programme_version")),
        )
    except VersionConflict:
        messages.error(
            request,
            _(
                "Someone else changed this programme after you opened the page; nothing was "
                "removed. Check the programme as it is now and try again."
            ),
        )
        return redirect("loyalty:programmes")
    messages.success(request, _("Removed."))
    return redirect("loyalty:programmes")
